package iam

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/oidc/oidctest"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

const account = "123456789012"

type env struct {
	t    *testing.T
	db   store.Store
	keys *auth.Keyring
	svc  *Service
	now  time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "iam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, now: time.Now()}
	e.open()
	return e
}

// open (re)opens the service on the same store with a fresh keyring, as a restart does.
func (e *env) open() {
	e.t.Helper()
	e.keys = auth.NewKeyring(auth.RootCredentials{AccessKeyID: "AKIAROOT", SecretAccessKey: "s"}, account)
	svc, err := New(context.Background(), Options{Store: e.db, Keyring: e.keys, AccountID: account, Now: func() time.Time { return e.now }})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

const rootTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

func TestAuthorize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "deploy", TrustPolicy: rootTrust})
	e.must(err)
	e.must(e.svc.PutRolePolicy(ctx, "deploy", "p", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"lambda:Update*","Resource":"arn:aws:lambda:*:*:function:orders*"},
		{"Effect":"Deny","Action":"lambda:UpdateFunctionCode","Resource":"arn:aws:lambda:*:*:function:orders-frozen"}]}`))
	session := "arn:aws:sts::123456789012:assumed-role/deploy/ci"
	cases := []struct {
		principal, action, resource, want string
	}{
		{"arn:aws:iam::123456789012:root", "iam:DeleteRole", "*", ""},
		{session, "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:123456789012:function:orders:live", ""},
		{session, "lambda:updatefunctioncode", "arn:aws:lambda:us-east-1:123456789012:function:orders", ""},
		{session, "lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-1:123456789012:function:orders-frozen", "explicit deny"},
		{session, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:orders", "no identity-based policy allows the lambda:InvokeFunction action"},
		{session, "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:123456789012:function:payments", "no identity-based policy"},
		{"arn:aws:sts::123456789012:assumed-role/ghost/ci", "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:123456789012:function:orders", "no identity-based policy"},
		{"arn:aws:sts::999999999999:assumed-role/deploy/ci", "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:123456789012:function:orders", "no identity-based policy"},
	}
	for _, tc := range cases {
		err := e.svc.Authorize(ctx, tc.principal, "ASIAX", tc.action, tc.resource)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s %s: %v", tc.principal, tc.action, tc.resource, err)
		case tc.want != "" && (code(err) != CodeAccessDenied || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s %s: %v, want AccessDenied %q", tc.principal, tc.action, tc.resource, err, tc.want)
		}
	}
	// A policy change applies to live sessions at once.
	e.must(e.svc.DeleteRolePolicy(ctx, "deploy", "p"))
	if err := e.svc.Authorize(ctx, session, "ASIAX", "lambda:UpdateAlias", "arn:aws:lambda:us-east-1:123456789012:function:orders"); code(err) != CodeAccessDenied {
		t.Fatalf("after the policy was deleted: %v", err)
	}
	// Managed policies count too.
	e.must(e.svc.AttachRolePolicy(ctx, "deploy", "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"))
	if ok, _ := e.svc.RoleAllows(ctx, "arn:aws:iam::123456789012:role/deploy", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_pre"); !ok {
		t.Fatal("AWSCodeDeployRoleForLambda does not allow invoking CodeDeployHook_*")
	}
	if ok, _ := e.svc.RoleAllows(ctx, "arn:aws:iam::123456789012:role/deploy", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:smoke"); ok {
		t.Fatal("AWSCodeDeployRoleForLambda allows invoking any function")
	}
	if err := e.svc.AttachRolePolicy(ctx, "deploy", "arn:aws:iam::aws:policy/Nope"); code(err) != CodeNoSuchEntity {
		t.Fatalf("unknown managed policy: %v", err)
	}
}

// grants is a fake resource-policy source: the (principal, action, resource) triples it allows — with the
// condition "lambda:FunctionUrlAuthType": "AWS_IAM" for those under urlOnly; err fails every question; asked counts
// the questions.
type grants struct {
	allow, urlOnly map[[3]string]bool
	err            error
	asked          int
}

func (g *grants) ResourcePolicyAllows(_ context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	g.asked++
	k := [3]string{principal, action, resource}
	return g.allow[k] || g.urlOnly[k] && conditions["lambda:FunctionUrlAuthType"] == "AWS_IAM", g.err
}

// TestAuthorizeResourcePolicies: a call no identity-based policy allows is allowed when the resource's own policy
// allows the caller; an explicit deny is final; the resource's policy is not asked when it cannot matter.
func TestAuthorizeResourcePolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "app", TrustPolicy: rootTrust})
	e.must(err)
	e.must(e.svc.PutRolePolicy(ctx, "app", "p", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"lambda:GetFunction","Resource":"*"},
		{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`))
	session := "arn:aws:sts::123456789012:assumed-role/app/s"
	const orders = "arn:aws:lambda:us-east-1:123456789012:function:orders"
	g := &grants{allow: map[[3]string]bool{
		{session, "lambda:InvokeFunction", orders}:                              true,
		{session, "lambda:DeleteFunction", orders}:                              true,
		{session, "lambda:InvokeFunction", "*"}:                                 true,
		{"arn:aws:iam::123456789012:user/bob", "lambda:InvokeFunction", orders}: true,
	}}
	e.svc.UseResourcePolicies(g)
	cases := []struct {
		name, principal, action, resource string
		want                              string // "" allowed, else part of the AccessDenied message
		asked                             bool
	}{
		{"identity policy allows: not asked", session, "lambda:GetFunction", orders, "", false},
		{"resource policy allows", session, "lambda:InvokeFunction", orders, "", true},
		{"neither allows", session, "lambda:InvokeFunction", orders + ":live", "no identity-based policy allows the lambda:InvokeFunction action", true},
		{"explicit deny is final: not asked", session, "lambda:DeleteFunction", orders, "explicit deny", false},
		{"no resource: not asked", session, "lambda:InvokeFunction", "*", "no identity-based policy", false},
		{"a user without policies", "arn:aws:iam::123456789012:user/bob", "lambda:InvokeFunction", orders, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.asked
			err := e.svc.Authorize(ctx, tc.principal, "ASIAX", tc.action, tc.resource)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Authorize: %v", err)
			case tc.want != "" && (code(err) != CodeAccessDenied || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Authorize = %v, want AccessDenied %q", err, tc.want)
			}
			if asked := g.asked > before; asked != tc.asked {
				t.Fatalf("resource policy asked = %v, want %v", asked, tc.asked)
			}
		})
	}
	// A function URL request brings its condition keys to both kinds of policies.
	g.urlOnly = map[[3]string]bool{{session, "lambda:InvokeFunctionUrl", orders}: true}
	iamURL := map[string]string{"lambda:FunctionUrlAuthType": "AWS_IAM"}
	if err := e.svc.AuthorizeWith(ctx, session, "ASIAX", "lambda:InvokeFunctionUrl", orders, iamURL); err != nil {
		t.Fatalf("URL call the resource policy allows: %v", err)
	}
	if err := e.svc.AuthorizeWith(ctx, session, "ASIAX", "lambda:InvokeFunctionUrl", orders, nil); code(err) != CodeAccessDenied {
		t.Fatalf("URL action without the URL's condition keys: %v, want AccessDenied", err)
	}
	e.must(e.svc.PutRolePolicy(ctx, "app", "url", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"lambda:InvokeFunctionUrl","Resource":"*","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}]}`))
	other := "arn:aws:lambda:us-east-1:123456789012:function:other"
	if err := e.svc.AuthorizeWith(ctx, session, "ASIAX", "lambda:InvokeFunctionUrl", other, iamURL); err != nil {
		t.Fatalf("URL call an identity policy allows under the condition: %v", err)
	}
	if err := e.svc.AuthorizeWith(ctx, session, "ASIAX", "lambda:InvokeFunctionUrl", other, map[string]string{"lambda:FunctionUrlAuthType": "NONE"}); code(err) != CodeAccessDenied {
		t.Fatalf("URL call outside the identity policy's condition: %v, want AccessDenied", err)
	}

	g.err = fault.New("ServiceException", "store down")
	if err := e.svc.Authorize(ctx, session, "ASIAX", "lambda:InvokeFunction", orders); code(err) != "ServiceException" {
		t.Fatalf("a failing resource-policy source: %v, want its error", err)
	}
}

func TestEntities(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "Deploy", Path: "/ci/", TrustPolicy: rootTrust})
	e.must(err)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"names are unique case-insensitively", func() error {
			_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "deploy", TrustPolicy: rootTrust})
			return err
		}(), CodeEntityAlreadyExists},
		{"trust policy without principal", func() error {
			_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "x", TrustPolicy: `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`})
			return err
		}(), CodeMalformedPolicy},
		{"identity policy with a principal", e.svc.PutRolePolicy(ctx, "Deploy", "p", rootTrust), CodeMalformedPolicy},
		{"policy for a missing role", e.svc.PutRolePolicy(ctx, "ghost", "p", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), CodeNoSuchEntity},
		{"inline policies over 10240 characters", e.svc.PutRolePolicy(ctx, "Deploy", "big", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:lambda:*:*:function:`+strings.Repeat("a", 10300)+`"}]}`), CodeLimitExceeded},
	}
	for _, tc := range cases {
		if code(tc.err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.want)
		}
	}
	e.must(e.svc.PutRolePolicy(ctx, "Deploy", "p", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	if err := e.svc.DeleteRole(ctx, "Deploy"); code(err) != CodeDeleteConflict {
		t.Fatalf("delete a role with policies: %v", err)
	}
	r, ok, err := e.svc.RoleByARN(ctx, "arn:aws:iam::123456789012:role/ci/Deploy")
	if err != nil || !ok || r.ID[:4] != "AROA" || len(r.ID) != 21 {
		t.Fatalf("RoleByARN: %+v %v %v", r, ok, err)
	}
	if _, ok, _ := e.svc.RoleByARN(ctx, "arn:aws:iam::123456789012:role/Deploy"); ok {
		t.Fatal("a role ARN with the wrong path found the role")
	}

	// Users and their keys: the key works at once and stops at once.
	_, err = e.svc.CreateUser(ctx, "ci", "", nil)
	e.must(err)
	k, err := e.svc.CreateAccessKey(ctx, "ci")
	e.must(err)
	if c, err := e.keys.LookupCredential(ctx, k.ID); err != nil || c.Principal != "arn:aws:iam::123456789012:user/ci" {
		t.Fatalf("new key: %+v %v", c, err)
	}
	_, _ = e.svc.CreateAccessKey(ctx, "ci")
	if _, err := e.svc.CreateAccessKey(ctx, "ci"); code(err) != CodeLimitExceeded {
		t.Fatalf("third key: %v", err)
	}
	if err := e.svc.DeleteUser(ctx, "ci"); code(err) != CodeDeleteConflict {
		t.Fatalf("delete a user with keys: %v", err)
	}
	e.must(e.svc.DeleteAccessKey(ctx, "ci", k.ID))
	if _, err := e.keys.LookupCredential(ctx, k.ID); err == nil {
		t.Fatal("a deleted key still works")
	}
}

func TestAssumeRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "target", TrustPolicy: rootTrust, MaxSessionDuration: 7200})
	e.must(err)
	_, err = e.svc.CreateRole(ctx, CreateRoleInput{Name: "named", TrustPolicy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}`})
	e.must(err)
	for _, u := range []string{"alice", "bob"} {
		_, err := e.svc.CreateUser(ctx, u, "", nil)
		e.must(err)
	}
	alice, bob := "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/bob"
	e.must(e.svc.PutUserPolicy(ctx, "bob", "assume", `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/target"}]}`))
	cases := []struct {
		name, principal, role string
		duration              int
		want                  string
	}{
		{"root, account trust", "arn:aws:iam::123456789012:root", "target", 0, ""},
		{"account trust needs the caller's permission", alice, "target", 0, CodeAccessDenied},
		{"account trust and permission", bob, "target", 7200, ""},
		{"trust naming the caller suffices", alice, "named", 0, ""},
		{"trust naming someone else", bob, "named", 0, CodeAccessDenied},
		{"beyond MaxSessionDuration", bob, "target", 7201, CodeValidation},
		{"missing role", bob, "ghost", 0, CodeAccessDenied},
	}
	for _, tc := range cases {
		s, err := e.svc.AssumeRole(ctx, tc.principal, "AKIA", AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/" + tc.role,
			RoleSessionName: "s", DurationSeconds: tc.duration})
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		if tc.want == "" && (!strings.HasPrefix(s.AccessKeyID, "ASIA") || s.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/"+tc.role+"/s") {
			t.Errorf("%s: session %+v", tc.name, s)
		}
	}
}

func TestWebIdentitySessions(t *testing.T) {
	issuer, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer issuer.Close()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.svc.CreateOpenIDConnectProvider(ctx, issuer.URL, []string{"sts.amazonaws.com"}, nil, nil)
	e.must(err)
	host := strings.TrimPrefix(issuer.URL, "http://")
	_, err = e.svc.CreateRole(ctx, CreateRoleInput{Name: "gha", TrustPolicy: `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"` + p.ARN + `"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:sub":"repo:o/r:ref:refs/heads/main","` + host + `:aud":"sts.amazonaws.com"}}}]}`})
	e.must(err)
	assume := func(claims map[string]any, policy string) (Session, error) {
		return e.svc.AssumeRoleWithWebIdentity(ctx, WebIdentityInput{RoleARN: "arn:aws:iam::123456789012:role/gha", RoleSessionName: "run",
			Token: issuer.Sign(claims), DurationSeconds: 900, Policy: policy})
	}
	if _, err := assume(issuer.GitHubClaims("o/r", "refs/heads/dev"), ""); code(err) != CodeAccessDenied {
		t.Fatalf("another branch: %v", err)
	}
	s, err := assume(issuer.GitHubClaims("o/r", "refs/heads/main"), `{"Statement":[{"Effect":"Allow","Action":"lambda:Get*","Resource":"*"}]}`)
	e.must(err)
	if s.Subject != "repo:o/r:ref:refs/heads/main" || s.Audience != "sts.amazonaws.com" || s.Provider != p.ARN || s.PackedPolicySize == 0 {
		t.Fatalf("session %+v", s)
	}
	// The role allows nothing yet; once it does, the session policy still narrows it.
	e.must(e.svc.PutRolePolicy(ctx, "gha", "all", `{"Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"}]}`))
	if err := e.svc.Authorize(ctx, s.AssumedRoleARN, s.AccessKeyID, "lambda:GetFunction", "*"); err != nil {
		t.Fatalf("allowed by role and session policy: %v", err)
	}
	if err := e.svc.Authorize(ctx, s.AssumedRoleARN, s.AccessKeyID, "lambda:DeleteFunction", "*"); !strings.Contains(fmtErr(err), "no session policy allows") {
		t.Fatalf("outside the session policy: %v", err)
	}

	// Sessions survive a restart, session policy included, and are forgotten an hour after they expire.
	e.open()
	c, err := e.keys.LookupCredential(ctx, s.AccessKeyID)
	if err != nil || c.SessionToken != s.SessionToken || !c.Expires.Equal(s.Expiration) {
		t.Fatalf("after a restart: %+v %v", c, err)
	}
	if err := e.svc.Authorize(ctx, s.AssumedRoleARN, s.AccessKeyID, "lambda:DeleteFunction", "*"); err == nil {
		t.Fatal("the session policy was lost in the restart")
	}
	e.now = e.now.Add(15*time.Minute + auth.ExpiredGrace + time.Second)
	e.must(e.svc.SweepSessions(ctx))
	if _, err := e.keys.LookupCredential(ctx, s.AccessKeyID); err != sigv4.ErrUnknownAccessKey {
		t.Fatalf("swept session: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func BenchmarkAuthorizeRoleSession(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "iam.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	svc, err := New(ctx, Options{Store: db, Keyring: auth.NewKeyring(auth.RootCredentials{AccessKeyID: "AKIAROOT", SecretAccessKey: "s"}, account), AccountID: account})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateRole(ctx, CreateRoleInput{Name: "app", TrustPolicy: rootTrust}); err != nil {
		b.Fatal(err)
	}
	if err := svc.PutRolePolicy(ctx, "app", "p", `{"Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction","lambda:Get*"],"Resource":"arn:aws:lambda:*:*:function:orders*"}]}`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := svc.Authorize(ctx, "arn:aws:sts::123456789012:assumed-role/app/s", "ASIAX", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:orders:live"); err != nil {
			b.Fatal(err)
		}
	}
}

// A forward session (CloudFormation acting for its caller) never outlives the caller's own session.
func TestForwardSessionEndsWithTheCallers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "deployer", TrustPolicy: rootTrust})
	e.must(err)
	root := "arn:aws:iam::123456789012:root"
	caller, err := e.svc.AssumeRole(ctx, root, "AKIA", AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/deployer", RoleSessionName: "ci", DurationSeconds: 900})
	e.must(err)
	tests := []struct {
		name, key string
		ttl       time.Duration
		want      time.Duration // from now; 0: refused
	}{
		{"a long-term key: the service's ttl", "AKIANOTASESSION", 12 * time.Hour, 12 * time.Hour},
		{"a shorter ttl than the caller's", caller.AccessKeyID, 5 * time.Minute, 5 * time.Minute},
		{"capped at the caller's expiry", caller.AccessKeyID, 12 * time.Hour, 15 * time.Minute},
	}
	for _, tc := range tests {
		c, err := e.svc.ForwardSession(ctx, caller.AssumedRoleARN, tc.key, tc.ttl)
		e.must(err)
		if got := c.Expires.Sub(e.now); got < tc.want-time.Second || got > tc.want {
			t.Errorf("%s: expires in %v, want %v", tc.name, got, tc.want)
		}
	}
	e.now = e.now.Add(16 * time.Minute)
	if _, err := e.svc.ForwardSession(ctx, caller.AssumedRoleARN, caller.AccessKeyID, 12*time.Hour); err == nil {
		t.Error("a forward session minted from an expired caller session")
	}
}
