package iamapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/iam"
)

// NewSTS returns the STS API handler. The edge authorizes none of STS's calls itself: internal/iam decides on
// them from the role's trust policy (AssumeRole, AssumeRoleWithWebIdentity) or lets any caller ask who it is
// (GetCallerIdentity).
func NewSTS(svc *iam.Service, log *slog.Logger) *Handler {
	o := &stsOps{svc: svc}
	return newHandler(stsService, "", map[string]int{
		iam.CodeInvalidIdentityToken: 400, iam.CodeExpiredToken: 400, iam.CodeIDPCommunication: 400,
		"IDPRejectedClaim": 403, iam.CodeMalformedPolicy: 400, "PackedPolicyTooLarge": 400,
		"RegionDisabledException": 403,
	}, log.With("component", "stsapi"),
		edge.Op("AssumeRoleWithWebIdentity", o.assumeRoleWithWebIdentity).AllowUnsigned(),
		edge.Op("AssumeRole", o.assumeRole),
		edge.Op("GetCallerIdentity", o.getCallerIdentity),
	)
}

type stsOps struct{ svc *iam.Service }

type credentialsShape struct {
	AccessKeyId, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

type assumedRoleUserShape struct{ AssumedRoleId, Arn string }

type policyDescriptor struct{ Arn *string }

type webIdentityInput struct {
	RoleArn, RoleSessionName, WebIdentityToken, ProviderId, Policy *string
	DurationSeconds                                                *int
	PolicyArns                                                     []policyDescriptor
}

type webIdentityOutput struct {
	Credentials                 credentialsShape
	SubjectFromWebIdentityToken string
	AssumedRoleUser             assumedRoleUserShape
	PackedPolicySize            *int
	Provider                    string
	Audience                    string
}

// secret checks the length of a member whose value must never be echoed back.
func secret(member string, v *string, min, max int) *violation {
	if l := length(member, v, min, max); l != nil {
		l.value = "***"
		return l
	}
	return nil
}

func sessionInput(roleARN, session, policy *string, duration *int, policyARNs []policyDescriptor) error {
	if err := check(required("roleArn", roleARN), length("roleArn", roleARN, 20, 2048),
		required("roleSessionName", session), sessionName("roleSessionName", session),
		intRange("durationSeconds", duration, 900, 43200), length("policy", policy, 1, 2048)); err != nil {
		return err
	}
	if len(policyARNs) > 0 {
		return unsupported("PolicyArns")
	}
	return nil
}

func (o *stsOps) assumeRoleWithWebIdentity(ctx context.Context, in *webIdentityInput) (*webIdentityOutput, error) {
	if err := check(required("webIdentityToken", in.WebIdentityToken), secret("webIdentityToken", in.WebIdentityToken, 4, 20000)); err != nil {
		return nil, err
	}
	if err := sessionInput(in.RoleArn, in.RoleSessionName, in.Policy, in.DurationSeconds, in.PolicyArns); err != nil {
		return nil, err
	}
	if in.ProviderId != nil {
		return nil, unsupported("ProviderId (OAuth 2.0 providers)")
	}
	s, err := o.svc.AssumeRoleWithWebIdentity(ctx, iam.WebIdentityInput{RoleARN: *in.RoleArn, RoleSessionName: *in.RoleSessionName,
		Token: *in.WebIdentityToken, DurationSeconds: num(in.DurationSeconds), Policy: str(in.Policy)})
	if err != nil {
		return nil, err
	}
	out := &webIdentityOutput{Credentials: credentials(s), SubjectFromWebIdentityToken: s.Subject,
		AssumedRoleUser: assumedRoleUserShape{AssumedRoleId: s.AssumedRoleID, Arn: s.AssumedRoleARN},
		Provider:        s.Provider, Audience: s.Audience}
	if in.Policy != nil {
		out.PackedPolicySize = &s.PackedPolicySize
	}
	return out, nil
}

func credentials(s iam.Session) credentialsShape {
	return credentialsShape{AccessKeyId: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Expiration: s.Expiration}
}

type assumeRoleInput struct {
	RoleArn, RoleSessionName, Policy, ExternalId, SerialNumber, TokenCode, SourceIdentity *string
	DurationSeconds                                                                       *int
	PolicyArns                                                                            []policyDescriptor
}

type assumeRoleOutput struct {
	Credentials      credentialsShape
	AssumedRoleUser  assumedRoleUserShape
	PackedPolicySize *int
}

func (o *stsOps) assumeRole(ctx context.Context, in *assumeRoleInput) (*assumeRoleOutput, error) {
	if err := sessionInput(in.RoleArn, in.RoleSessionName, in.Policy, in.DurationSeconds, in.PolicyArns); err != nil {
		return nil, err
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, unsupported("MFA (SerialNumber, TokenCode)")
	}
	id, _ := gateway.IdentityFrom(ctx)
	s, err := o.svc.AssumeRole(ctx, id.Principal, id.AccessKeyID, iam.AssumeRoleInput{RoleARN: *in.RoleArn,
		RoleSessionName: *in.RoleSessionName, DurationSeconds: num(in.DurationSeconds), Policy: str(in.Policy)})
	if err != nil {
		return nil, err
	}
	out := &assumeRoleOutput{Credentials: credentials(s), AssumedRoleUser: assumedRoleUserShape{AssumedRoleId: s.AssumedRoleID, Arn: s.AssumedRoleARN}}
	if in.Policy != nil {
		out.PackedPolicySize = &s.PackedPolicySize
	}
	return out, nil
}

type callerIdentityOutput struct{ UserId, Account, Arn string }

func (o *stsOps) getCallerIdentity(ctx context.Context, _ *struct{}) (*callerIdentityOutput, error) {
	c, err := o.svc.GetCallerIdentity(ctx, callerPrincipal(ctx))
	if err != nil {
		return nil, err
	}
	return &callerIdentityOutput{UserId: c.UserID, Account: c.Account, Arn: c.ARN}, nil
}
