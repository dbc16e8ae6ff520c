package iam

import (
	"context"
	"testing"
)

// TestCustomerManagedPolicies: a customer managed policy attached to a role grants what its default version
// allows, and a new default version takes effect at once; IAM's rules on versions, deletion and attachment hold.
func TestCustomerManagedPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateRole(ctx, CreateRoleInput{Name: "deploy", TrustPolicy: rootTrust})
	e.must(err)
	const v1 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	const v2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`
	p, err := e.svc.CreatePolicy(ctx, CreatePolicyInput{Name: "assets", Path: "/cdk/", Document: v1, Description: "read assets"})
	e.must(err)
	const arn = "arn:aws:iam::123456789012:policy/cdk/assets"
	if p.ARN != arn || p.DefaultVersion != "v1" || len(p.ID) != 21 || p.ID[:4] != "ANPA" {
		t.Fatalf("created %+v", p)
	}
	session := "arn:aws:sts::123456789012:assumed-role/deploy/ci"
	allowed := func(action string) bool { return e.svc.Authorize(ctx, session, "", action, "arn:aws:s3:::b/k") == nil }

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"duplicate", func() error {
			_, err := e.svc.CreatePolicy(ctx, CreatePolicyInput{Name: "ASSETS", Document: v1})
			return err
		}(), CodeEntityAlreadyExists},
		{"malformed", func() error {
			_, err := e.svc.CreatePolicy(ctx, CreatePolicyInput{Name: "bad", Document: `{}`})
			return err
		}(), CodeMalformedPolicy},
		{"attach a missing one", e.svc.AttachRolePolicy(ctx, "deploy", "arn:aws:iam::123456789012:policy/missing"), CodeNoSuchEntity},
		{"wrong path", e.svc.AttachRolePolicy(ctx, "deploy", "arn:aws:iam::123456789012:policy/assets"), CodeNoSuchEntity},
	} {
		if code(tc.err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.want)
		}
	}
	if allowed("s3:GetObject") {
		t.Fatal("allowed before the policy was attached")
	}
	e.must(e.svc.AttachRolePolicy(ctx, "deploy", arn))
	if !allowed("s3:GetObject") || allowed("s3:PutObject") {
		t.Error("v1 attached: want GetObject only")
	}
	if got, err := e.svc.GetPolicy(ctx, arn); err != nil || got.AttachmentCount != 1 {
		t.Errorf("attachments: %+v, %v", got, err)
	}
	if err := e.svc.DeletePolicy(ctx, arn); code(err) != CodeDeleteConflict {
		t.Errorf("deleting an attached policy: %v", err)
	}
	ver, err := e.svc.CreatePolicyVersion(ctx, arn, v2, true)
	e.must(err)
	if ver.ID != "v2" || !allowed("s3:PutObject") || allowed("s3:GetObject") {
		t.Errorf("v2 the default (%+v): want PutObject only", ver)
	}
	if err := e.svc.DeletePolicyVersion(ctx, arn, "v2"); code(err) != CodeDeleteConflict {
		t.Errorf("deleting the default version: %v", err)
	}
	for range 3 {
		_, err := e.svc.CreatePolicyVersion(ctx, arn, v1, false)
		e.must(err)
	}
	if _, err := e.svc.CreatePolicyVersion(ctx, arn, v1, false); code(err) != CodeLimitExceeded {
		t.Errorf("a sixth version: %v", err)
	}
	vs, err := e.svc.ListPolicyVersions(ctx, arn)
	e.must(err)
	if len(vs) != 5 || vs[0].ID != "v5" || !vs[3].IsDefault {
		t.Errorf("versions %+v", vs)
	}
	if v, err := e.svc.GetPolicyVersion(ctx, arn, "v1"); err != nil || v.Document != v1 || v.IsDefault {
		t.Errorf("v1 = %+v, %v", v, err)
	}
	local, _, err := e.svc.ListPolicies(ctx, "Local", false, "", "", 0)
	e.must(err)
	if len(local) != 1 || local[0].ARN != arn {
		t.Errorf("local policies %+v", local)
	}
	attachedOnly, _, err := e.svc.ListPolicies(ctx, "All", true, "", "", 0)
	e.must(err)
	if len(attachedOnly) != 1 {
		t.Errorf("attached policies %+v", attachedOnly)
	}

	// A restart reads the same policy and attachment.
	e.open()
	if e.svc.Authorize(ctx, session, "", "s3:PutObject", "arn:aws:s3:::b/k") != nil {
		t.Error("v2 no longer applies after a restart")
	}
	e.must(e.svc.DetachRolePolicy(ctx, "deploy", arn))
	if e.svc.Authorize(ctx, session, "", "s3:PutObject", "arn:aws:s3:::b/k") == nil {
		t.Error("allowed after the policy was detached")
	}
	if err := e.svc.DeletePolicy(ctx, arn); code(err) != CodeDeleteConflict {
		t.Errorf("deleting a policy with versions besides its default: %v", err)
	}
	for _, v := range []string{"v1", "v3", "v4", "v5"} {
		e.must(e.svc.DeletePolicyVersion(ctx, arn, v))
	}
	e.must(e.svc.DeletePolicy(ctx, arn))
	if _, err := e.svc.GetPolicy(ctx, arn); code(err) != CodeNoSuchEntity {
		t.Errorf("after the deletion: %v", err)
	}
	aws, err := e.svc.GetPolicy(ctx, "arn:aws:iam::aws:policy/AdministratorAccess")
	if err != nil || aws.Name != "AdministratorAccess" || aws.Path != "/" {
		t.Errorf("an AWS managed policy: %+v, %v", aws, err)
	}
}
