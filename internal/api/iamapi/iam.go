package iamapi

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/iam"
)

// NewIAM returns the IAM API handler. IAM checks a request's input before it authorizes it, so every operation
// names its resource with edge.ResourceOf: the function checks the members that name the resource (and the
// others IAM checks first) and returns the ARN the call is authorized on.
func NewIAM(svc *iam.Service, log *slog.Logger) *Handler {
	o := &iamOps{svc: svc}
	return newHandler(iamService, "iam", map[string]int{
		iam.CodeNoSuchEntity: 404, iam.CodeEntityAlreadyExists: 409, iam.CodeMalformedPolicy: 400,
		iam.CodeInvalidInput: 400, iam.CodeLimitExceeded: 409, iam.CodeDeleteConflict: 409,
		"UnmodifiableEntity": 400, "ConcurrentModification": 409, "OpenIdIdpCommunicationError": 400,
	}, log.With("component", "iamapi"),
		edge.Op("CreateRole", o.createRole, edge.ResourceOf(o.createRoleResource)),
		edge.Op("GetRole", o.getRole, edge.ResourceOf(o.roleResource)),
		edge.Op("ListRoles", o.listRoles, edge.ResourceOf(listResource)),
		edge.OpNoOutput("DeleteRole", o.deleteRole, edge.ResourceOf(o.roleResource)),
		edge.OpNoOutput("UpdateAssumeRolePolicy", o.updateAssumeRolePolicy, edge.ResourceOf(o.updateAssumeRolePolicyResource)),
		edge.OpNoOutput("PutRolePolicy", o.putRolePolicy, edge.ResourceOf(o.putRolePolicyResource)),
		edge.Op("GetRolePolicy", o.getRolePolicy, edge.ResourceOf(o.rolePolicyResource)),
		edge.OpNoOutput("DeleteRolePolicy", o.deleteRolePolicy, edge.ResourceOf(o.rolePolicyResource)),
		edge.Op("ListRolePolicies", o.listRolePolicies, edge.ResourceOf(o.listRolePoliciesResource)),
		edge.OpNoOutput("AttachRolePolicy", o.attachRolePolicy, edge.ResourceOf(o.attachRolePolicyResource)),
		edge.OpNoOutput("DetachRolePolicy", o.detachRolePolicy, edge.ResourceOf(o.attachRolePolicyResource)),
		edge.Op("ListAttachedRolePolicies", o.listAttachedRolePolicies, edge.ResourceOf(o.listAttachedRolePoliciesResource)),
		edge.Op("CreatePolicy", o.createPolicy, edge.ResourceOf(o.createPolicyResource)),
		edge.Op("GetPolicy", o.getPolicy, edge.ResourceOf(policyResource)),
		edge.OpNoOutput("DeletePolicy", o.deletePolicy, edge.ResourceOf(policyResource)),
		edge.Op("ListPolicies", o.listPolicies, edge.ResourceOf(listPoliciesResource)),
		edge.Op("CreatePolicyVersion", o.createPolicyVersion, edge.ResourceOf(createPolicyVersionResource)),
		edge.Op("GetPolicyVersion", o.getPolicyVersion, edge.ResourceOf(policyVersionResource)),
		edge.OpNoOutput("DeletePolicyVersion", o.deletePolicyVersion, edge.ResourceOf(policyVersionResource)),
		edge.Op("ListPolicyVersions", o.listPolicyVersions, edge.ResourceOf(listPolicyVersionsResource)),
		edge.Op("CreateOpenIDConnectProvider", o.createProvider, edge.ResourceOf(o.createProviderResource)),
		edge.Op("GetOpenIDConnectProvider", o.getProvider, edge.ResourceOf(providerResource)),
		edge.Op("ListOpenIDConnectProviders", o.listProviders, edge.ResourceOf(everything)),
		edge.OpNoOutput("DeleteOpenIDConnectProvider", o.deleteProvider, edge.ResourceOf(providerResource)),
		edge.Op("CreateUser", o.createUser, edge.ResourceOf(o.createUserResource)),
		edge.Op("GetUser", o.getUser, edge.ResourceOf(o.userOrCallerResource)),
		edge.Op("ListUsers", o.listUsers, edge.ResourceOf(listResource)),
		edge.OpNoOutput("DeleteUser", o.deleteUser, edge.ResourceOf(o.userResource)),
		edge.OpNoOutput("PutUserPolicy", o.putUserPolicy, edge.ResourceOf(o.putUserPolicyResource)),
		edge.Op("GetUserPolicy", o.getUserPolicy, edge.ResourceOf(o.userPolicyResource)),
		edge.OpNoOutput("DeleteUserPolicy", o.deleteUserPolicy, edge.ResourceOf(o.userPolicyResource)),
		edge.Op("ListUserPolicies", o.listUserPolicies, edge.ResourceOf(o.listUserPoliciesResource)),
		edge.Op("CreateAccessKey", o.createAccessKey, edge.ResourceOf(o.userOrCallerResource)),
		edge.OpNoOutput("DeleteAccessKey", o.deleteAccessKey, edge.ResourceOf(o.deleteAccessKeyResource)),
		edge.Op("ListAccessKeys", o.listAccessKeys, edge.ResourceOf(o.userOrCallerResource)),
	)
}

type iamOps struct{ svc *iam.Service }

// ---- shapes (members as in the IAM model) ----

type tagShape struct{ Key, Value *string }

type roleShape struct {
	Path, RoleName, RoleId, Arn string
	CreateDate                  time.Time
	AssumeRolePolicyDocument    *string
	Description                 *string
	MaxSessionDuration          *int
	Tags                        []tagShape
}

type userShape struct {
	Path, UserName, UserId, Arn string
	CreateDate                  time.Time
	Tags                        []tagShape
}

func tagsIn(in []tagShape) []iam.Tag {
	var out []iam.Tag
	for _, t := range in {
		out = append(out, iam.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

func tagsOut(in []iam.Tag) []tagShape {
	var out []tagShape
	for _, t := range in {
		out = append(out, tagShape{Key: optString(t.Key), Value: &t.Value})
	}
	return out
}

func roleOut(r iam.Role) roleShape {
	out := roleShape{Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: r.Created,
		AssumeRolePolicyDocument: optString(iam.EncodePolicy(r.TrustPolicy)), Description: optString(r.Description),
		MaxSessionDuration: &r.MaxSessionDuration, Tags: tagsOut(r.Tags)}
	return out
}

func userOut(u iam.User) userShape {
	return userShape{Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN, CreateDate: u.Created, Tags: tagsOut(u.Tags)}
}

// ---- roles ----

type createRoleInput struct {
	Path, RoleName, AssumeRolePolicyDocument, Description, PermissionsBoundary *string
	MaxSessionDuration                                                         *int
	Tags                                                                       []tagShape
}

func (o *iamOps) roleARN(name string) string {
	return "arn:aws:iam::" + o.svc.AccountID() + ":role/" + name
}

func (o *iamOps) userARN(name string) string {
	return "arn:aws:iam::" + o.svc.AccountID() + ":user/" + name
}

// role checks a role name and names the role.
func (o *iamOps) role(role *string) (string, error) {
	if err := check(required("roleName", role), name("roleName", role, 64)); err != nil {
		return "", err
	}
	return o.roleARN(*role), nil
}

// user checks a user name and names the user.
func (o *iamOps) user(user *string) (string, error) {
	if err := check(required("userName", user), name("userName", user, 64)); err != nil {
		return "", err
	}
	return o.userARN(*user), nil
}

// everything is the resource of an operation that names none.
func everything(context.Context, *struct{}) (string, error) { return "*", nil }

func (o *iamOps) createRoleResource(_ context.Context, in *createRoleInput) (string, error) {
	if err := check(
		required("roleName", in.RoleName), name("roleName", in.RoleName, 64),
		required("assumeRolePolicyDocument", in.AssumeRolePolicyDocument), document("assumeRolePolicyDocument", in.AssumeRolePolicyDocument),
		pathCheck("path", in.Path), intRange("maxSessionDuration", in.MaxSessionDuration, 3600, 43200),
		length("description", in.Description, 0, 1000),
	); err != nil {
		return "", err
	}
	if in.PermissionsBoundary != nil {
		return "", unsupported("PermissionsBoundary")
	}
	return o.roleARN(*in.RoleName), nil
}

func (o *iamOps) createRole(ctx context.Context, in *createRoleInput) (*struct{ Role roleShape }, error) {
	r, err := o.svc.CreateRole(ctx, iam.CreateRoleInput{Name: *in.RoleName, Path: str(in.Path), TrustPolicy: *in.AssumeRolePolicyDocument,
		Description: str(in.Description), MaxSessionDuration: num(in.MaxSessionDuration), Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &struct{ Role roleShape }{roleOut(r)}, nil
}

type roleNameInput struct{ RoleName *string }

func (o *iamOps) roleResource(_ context.Context, in *roleNameInput) (string, error) {
	return o.role(in.RoleName)
}

func (o *iamOps) getRole(ctx context.Context, in *roleNameInput) (*struct{ Role roleShape }, error) {
	r, err := o.svc.GetRole(ctx, *in.RoleName)
	if err != nil {
		return nil, err
	}
	return &struct{ Role roleShape }{roleOut(r)}, nil
}

type listInput struct {
	PathPrefix, Marker *string
	MaxItems           *int
}

// listResource checks a listing's page size; a listing acts on no resource in particular.
func listResource(_ context.Context, in *listInput) (string, error) {
	if err := check(intRange("maxItems", in.MaxItems, 1, 1000)); err != nil {
		return "", err
	}
	return "*", nil
}

type listRolesOutput struct {
	Roles       []roleShape
	IsTruncated bool
	Marker      *string
}

func (o *iamOps) listRoles(ctx context.Context, in *listInput) (*listRolesOutput, error) {
	roles, next, err := o.svc.ListRoles(ctx, str(in.PathPrefix), str(in.Marker), num(in.MaxItems))
	if err != nil {
		return nil, err
	}
	out := &listRolesOutput{Roles: []roleShape{}, IsTruncated: next != "", Marker: optString(next)}
	for _, r := range roles {
		out.Roles = append(out.Roles, roleOut(r))
	}
	return out, nil
}

func (o *iamOps) deleteRole(ctx context.Context, in *roleNameInput) error {
	return o.svc.DeleteRole(ctx, *in.RoleName)
}

type updateAssumeRolePolicyInput struct{ RoleName, PolicyDocument *string }

func (o *iamOps) updateAssumeRolePolicyResource(_ context.Context, in *updateAssumeRolePolicyInput) (string, error) {
	if err := check(required("policyDocument", in.PolicyDocument), document("policyDocument", in.PolicyDocument)); err != nil {
		return "", err
	}
	return o.role(in.RoleName)
}

func (o *iamOps) updateAssumeRolePolicy(ctx context.Context, in *updateAssumeRolePolicyInput) error {
	return o.svc.UpdateAssumeRolePolicy(ctx, *in.RoleName, *in.PolicyDocument)
}

type putRolePolicyInput struct{ RoleName, PolicyName, PolicyDocument *string }

func policyInput(policyName, doc *string) error {
	return check(required("policyName", policyName), name("policyName", policyName, 128),
		required("policyDocument", doc), document("policyDocument", doc))
}

func (o *iamOps) putRolePolicyResource(_ context.Context, in *putRolePolicyInput) (string, error) {
	if err := policyInput(in.PolicyName, in.PolicyDocument); err != nil {
		return "", err
	}
	return o.role(in.RoleName)
}

func (o *iamOps) putRolePolicy(ctx context.Context, in *putRolePolicyInput) error {
	return o.svc.PutRolePolicy(ctx, *in.RoleName, *in.PolicyName, *in.PolicyDocument)
}

type rolePolicyInput struct{ RoleName, PolicyName *string }

type getRolePolicyOutput struct{ RoleName, PolicyName, PolicyDocument string }

func policyName(policy *string) error {
	return check(required("policyName", policy), name("policyName", policy, 128))
}

func (o *iamOps) rolePolicyResource(_ context.Context, in *rolePolicyInput) (string, error) {
	if err := policyName(in.PolicyName); err != nil {
		return "", err
	}
	return o.role(in.RoleName)
}

func (o *iamOps) getRolePolicy(ctx context.Context, in *rolePolicyInput) (*getRolePolicyOutput, error) {
	doc, err := o.svc.GetRolePolicy(ctx, *in.RoleName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getRolePolicyOutput{RoleName: *in.RoleName, PolicyName: *in.PolicyName, PolicyDocument: iam.EncodePolicy(doc)}, nil
}

func (o *iamOps) deleteRolePolicy(ctx context.Context, in *rolePolicyInput) error {
	return o.svc.DeleteRolePolicy(ctx, *in.RoleName, *in.PolicyName)
}

type listRolePoliciesInput struct {
	RoleName, UserName, Marker *string
	MaxItems                   *int
}

type listPoliciesOutput struct {
	PolicyNames []string
	IsTruncated bool
	Marker      *string
}

func policyNames(names []string, next string) *listPoliciesOutput {
	if names == nil {
		names = []string{}
	}
	return &listPoliciesOutput{PolicyNames: names, IsTruncated: next != "", Marker: optString(next)}
}

func (o *iamOps) listRolePoliciesResource(_ context.Context, in *listRolePoliciesInput) (string, error) {
	if err := check(intRange("maxItems", in.MaxItems, 1, 1000)); err != nil {
		return "", err
	}
	return o.role(in.RoleName)
}

func (o *iamOps) listRolePolicies(ctx context.Context, in *listRolePoliciesInput) (*listPoliciesOutput, error) {
	names, next, err := o.svc.ListRolePolicies(ctx, *in.RoleName, str(in.Marker), num(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return policyNames(names, next), nil
}

// ---- OpenID Connect providers ----

type createProviderInput struct {
	Url            *string
	ClientIDList   []string
	ThumbprintList []string
	Tags           []tagShape
}

type createProviderOutput struct {
	OpenIDConnectProviderArn string
	Tags                     []tagShape
}

// createProviderResource checks the provider's URL; the provider has no ARN yet, so the call is authorized on
// every provider of the account.
func (o *iamOps) createProviderResource(_ context.Context, in *createProviderInput) (string, error) {
	if err := check(required("url", in.Url), length("url", in.Url, 1, 255)); err != nil {
		return "", err
	}
	return "arn:aws:iam::" + o.svc.AccountID() + ":oidc-provider/*", nil
}

func (o *iamOps) createProvider(ctx context.Context, in *createProviderInput) (*createProviderOutput, error) {
	p, err := o.svc.CreateOpenIDConnectProvider(ctx, *in.Url, in.ClientIDList, in.ThumbprintList, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &createProviderOutput{OpenIDConnectProviderArn: p.ARN, Tags: tagsOut(p.Tags)}, nil
}

type providerARNInput struct{ OpenIDConnectProviderArn *string }

type getProviderOutput struct {
	Url            string
	ClientIDList   []string
	ThumbprintList []string
	CreateDate     time.Time
	Tags           []tagShape
}

// providerResource checks a provider's ARN, which is the resource.
func providerResource(_ context.Context, in *providerARNInput) (string, error) {
	arn := in.OpenIDConnectProviderArn
	if err := check(required("openIDConnectProviderArn", arn), length("openIDConnectProviderArn", arn, 20, 2048)); err != nil {
		return "", err
	}
	return *arn, nil
}

func (o *iamOps) getProvider(ctx context.Context, in *providerARNInput) (*getProviderOutput, error) {
	p, err := o.svc.GetOpenIDConnectProvider(ctx, *in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	out := &getProviderOutput{Url: providerURLOut(p.URL), ClientIDList: p.ClientIDs, ThumbprintList: p.Thumbprints,
		CreateDate: p.Created, Tags: tagsOut(p.Tags)}
	if out.ClientIDList == nil {
		out.ClientIDList = []string{}
	}
	if out.ThumbprintList == nil {
		out.ThumbprintList = []string{}
	}
	return out, nil
}

// providerURLOut is the provider URL as GetOpenIDConnectProvider reports it: without the https:// scheme.
func providerURLOut(u string) string {
	if len(u) > 8 && u[:8] == "https://" {
		return u[8:]
	}
	return u
}

type providerEntry struct{ Arn string }

func (o *iamOps) listProviders(ctx context.Context, _ *struct{}) (*struct{ OpenIDConnectProviderList []providerEntry }, error) {
	ps, err := o.svc.ListOpenIDConnectProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := &struct{ OpenIDConnectProviderList []providerEntry }{[]providerEntry{}}
	for _, p := range ps {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, providerEntry{p.ARN})
	}
	return out, nil
}

func (o *iamOps) deleteProvider(ctx context.Context, in *providerARNInput) error {
	return o.svc.DeleteOpenIDConnectProvider(ctx, *in.OpenIDConnectProviderArn)
}

// ---- users and access keys ----

type createUserInput struct {
	Path, UserName, PermissionsBoundary *string
	Tags                                []tagShape
}

func (o *iamOps) createUserResource(_ context.Context, in *createUserInput) (string, error) {
	if err := check(pathCheck("path", in.Path)); err != nil {
		return "", err
	}
	if in.PermissionsBoundary != nil {
		return "", unsupported("PermissionsBoundary")
	}
	return o.user(in.UserName)
}

func (o *iamOps) createUser(ctx context.Context, in *createUserInput) (*struct{ User userShape }, error) {
	u, err := o.svc.CreateUser(ctx, *in.UserName, str(in.Path), tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &struct{ User userShape }{userOut(u)}, nil
}

type userNameInput struct{ UserName *string }

// callerUser fills in an omitted UserName with the calling user, as IAM does.
func (o *iamOps) callerUser(ctx context.Context, user **string) error {
	if *user != nil {
		return nil
	}
	if _, rest, ok := strings.Cut(callerPrincipal(ctx), ":user/"); ok {
		name := rest[strings.LastIndex(rest, "/")+1:]
		*user = &name
		return nil
	}
	return validation("Must specify userName when calling with non-User credentials")
}

func (o *iamOps) userResource(_ context.Context, in *userNameInput) (string, error) {
	return o.user(in.UserName)
}

// userOrCallerResource names the user a request names, or else the calling user (filled in for the handler).
func (o *iamOps) userOrCallerResource(ctx context.Context, in *userNameInput) (string, error) {
	if err := o.callerUser(ctx, &in.UserName); err != nil {
		return "", err
	}
	return o.user(in.UserName)
}

func (o *iamOps) getUser(ctx context.Context, in *userNameInput) (*struct{ User userShape }, error) {
	u, err := o.svc.GetUser(ctx, *in.UserName)
	if err != nil {
		return nil, err
	}
	return &struct{ User userShape }{userOut(u)}, nil
}

type listUsersOutput struct {
	Users       []userShape
	IsTruncated bool
	Marker      *string
}

func (o *iamOps) listUsers(ctx context.Context, in *listInput) (*listUsersOutput, error) {
	users, next, err := o.svc.ListUsers(ctx, str(in.PathPrefix), str(in.Marker), num(in.MaxItems))
	if err != nil {
		return nil, err
	}
	out := &listUsersOutput{Users: []userShape{}, IsTruncated: next != "", Marker: optString(next)}
	for _, u := range users {
		out.Users = append(out.Users, userOut(u))
	}
	return out, nil
}

func (o *iamOps) deleteUser(ctx context.Context, in *userNameInput) error {
	return o.svc.DeleteUser(ctx, *in.UserName)
}

type putUserPolicyInput struct{ UserName, PolicyName, PolicyDocument *string }

func (o *iamOps) putUserPolicyResource(_ context.Context, in *putUserPolicyInput) (string, error) {
	if err := policyInput(in.PolicyName, in.PolicyDocument); err != nil {
		return "", err
	}
	return o.user(in.UserName)
}

func (o *iamOps) putUserPolicy(ctx context.Context, in *putUserPolicyInput) error {
	return o.svc.PutUserPolicy(ctx, *in.UserName, *in.PolicyName, *in.PolicyDocument)
}

type userPolicyInput struct{ UserName, PolicyName *string }

type getUserPolicyOutput struct{ UserName, PolicyName, PolicyDocument string }

func (o *iamOps) userPolicyResource(_ context.Context, in *userPolicyInput) (string, error) {
	if err := policyName(in.PolicyName); err != nil {
		return "", err
	}
	return o.user(in.UserName)
}

func (o *iamOps) getUserPolicy(ctx context.Context, in *userPolicyInput) (*getUserPolicyOutput, error) {
	doc, err := o.svc.GetUserPolicy(ctx, *in.UserName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getUserPolicyOutput{UserName: *in.UserName, PolicyName: *in.PolicyName, PolicyDocument: iam.EncodePolicy(doc)}, nil
}

func (o *iamOps) deleteUserPolicy(ctx context.Context, in *userPolicyInput) error {
	return o.svc.DeleteUserPolicy(ctx, *in.UserName, *in.PolicyName)
}

func (o *iamOps) listUserPoliciesResource(_ context.Context, in *listRolePoliciesInput) (string, error) {
	if err := check(intRange("maxItems", in.MaxItems, 1, 1000)); err != nil {
		return "", err
	}
	return o.user(in.UserName)
}

func (o *iamOps) listUserPolicies(ctx context.Context, in *listRolePoliciesInput) (*listPoliciesOutput, error) {
	names, next, err := o.svc.ListUserPolicies(ctx, *in.UserName, str(in.Marker), num(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return policyNames(names, next), nil
}

type accessKeyShape struct {
	UserName, AccessKeyId, Status string
	SecretAccessKey               *string
	CreateDate                    time.Time
}

func (o *iamOps) createAccessKey(ctx context.Context, in *userNameInput) (*struct{ AccessKey accessKeyShape }, error) {
	k, err := o.svc.CreateAccessKey(ctx, *in.UserName)
	if err != nil {
		return nil, err
	}
	return &struct{ AccessKey accessKeyShape }{accessKeyShape{UserName: k.User, AccessKeyId: k.ID, Status: k.Status,
		SecretAccessKey: &k.Secret, CreateDate: k.Created}}, nil
}

type deleteAccessKeyInput struct{ UserName, AccessKeyId *string }

func (o *iamOps) deleteAccessKeyResource(ctx context.Context, in *deleteAccessKeyInput) (string, error) {
	if err := check(required("accessKeyId", in.AccessKeyId), length("accessKeyId", in.AccessKeyId, 16, 128)); err != nil {
		return "", err
	}
	if err := o.callerUser(ctx, &in.UserName); err != nil {
		return "", err
	}
	return o.user(in.UserName)
}

func (o *iamOps) deleteAccessKey(ctx context.Context, in *deleteAccessKeyInput) error {
	return o.svc.DeleteAccessKey(ctx, *in.UserName, *in.AccessKeyId)
}

type listAccessKeysOutput struct {
	AccessKeyMetadata []accessKeyShape
	IsTruncated       bool
}

func (o *iamOps) listAccessKeys(ctx context.Context, in *userNameInput) (*listAccessKeysOutput, error) {
	keys, err := o.svc.ListAccessKeys(ctx, *in.UserName)
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysOutput{AccessKeyMetadata: []accessKeyShape{}}
	for _, k := range keys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, accessKeyShape{UserName: k.User, AccessKeyId: k.ID, Status: k.Status, CreateDate: k.Created})
	}
	return out, nil
}

// ---- managed policies ----

type attachRolePolicyInput struct{ RoleName, PolicyArn *string }

func (o *iamOps) attachRolePolicyResource(_ context.Context, in *attachRolePolicyInput) (string, error) {
	if err := check(required("policyArn", in.PolicyArn), length("policyArn", in.PolicyArn, 20, 2048)); err != nil {
		return "", err
	}
	return o.role(in.RoleName)
}

func (o *iamOps) attachRolePolicy(ctx context.Context, in *attachRolePolicyInput) error {
	return o.svc.AttachRolePolicy(ctx, *in.RoleName, *in.PolicyArn)
}

func (o *iamOps) detachRolePolicy(ctx context.Context, in *attachRolePolicyInput) error {
	return o.svc.DetachRolePolicy(ctx, *in.RoleName, *in.PolicyArn)
}

type attachedPolicyShape struct{ PolicyName, PolicyArn string }

type listAttachedOutput struct {
	AttachedPolicies []attachedPolicyShape
	IsTruncated      bool
}

func (o *iamOps) listAttachedRolePoliciesResource(_ context.Context, in *listRolePoliciesInput) (string, error) {
	return o.role(in.RoleName)
}

func (o *iamOps) listAttachedRolePolicies(ctx context.Context, in *listRolePoliciesInput) (*listAttachedOutput, error) {
	arns, err := o.svc.ListAttachedRolePolicies(ctx, *in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &listAttachedOutput{AttachedPolicies: []attachedPolicyShape{}}
	for _, a := range arns {
		out.AttachedPolicies = append(out.AttachedPolicies, attachedPolicyShape{PolicyName: a[strings.LastIndex(a, "/")+1:], PolicyArn: a})
	}
	return out, nil
}
