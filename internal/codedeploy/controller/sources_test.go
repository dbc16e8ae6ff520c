package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

type roles struct {
	allow bool
	err   error
	asked []string
	// byARN holds the roles RoleByARN finds.
	byARN map[string]iam.Role
}

func (r *roles) RoleByARN(_ context.Context, arn string) (iam.Role, bool, error) {
	role, ok := r.byARN[arn]
	return role, ok, r.err
}

func (r *roles) RoleAllows(_ context.Context, role, action, resource string) (bool, error) {
	r.asked = append(r.asked, role+" "+action+" "+resource)
	return r.allow, r.err
}

func TestAuthorizedHooksAsksTheServiceRole(t *testing.T) {
	ctx := context.Background()
	acct := lambda.Account{Region: "us-east-1", ID: "123456789012"}
	const role = "arn:aws:iam::123456789012:role/cd"
	for _, tc := range []struct {
		name        string
		roles       roles
		invoked     bool
		notAuth     bool
		wantErrText string
	}{
		{name: "allowed", roles: roles{allow: true}, invoked: true},
		{name: "refused", roles: roles{}, notAuth: true,
			wantErrText: `role "arn:aws:iam::123456789012:role/cd" may not perform lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_pre`},
		{name: "policy read fails", roles: roles{err: errors.New("disk")}, wantErrText: "disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var invoked []string
			h := AuthorizedHooks{Roles: &tc.roles, Account: acct, Invoke: func(_ context.Context, fn string, payload []byte) error {
				invoked = append(invoked, fn+" "+string(payload))
				return nil
			}}
			err := h.InvokeAsync(ctx, role, "CodeDeployHook_pre", []byte(`{}`))
			if got, want := len(invoked) == 1, tc.invoked; got != want {
				t.Fatalf("invoked %v, want %v (err %v)", invoked, want, err)
			}
			if got := errors.Is(err, ErrHookNotAuthorized); got != tc.notAuth {
				t.Fatalf("errors.Is(%v, ErrHookNotAuthorized) = %v, want %v", err, got, tc.notAuth)
			}
			if tc.wantErrText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErrText)) {
				t.Fatalf("err %v, want it to say %q", err, tc.wantErrText)
			}
			want := role + " lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_pre"
			if len(tc.roles.asked) != 1 || tc.roles.asked[0] != want {
				t.Fatalf("asked %q, want %q", tc.roles.asked, want)
			}
		})
	}
}

const (
	codeDeployTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	lambdaTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// serviceRoles is an IAM with three roles: one CodeDeploy may assume, one only Lambda may, and one whose trust
// policy names CodeDeploy but denies it.
func serviceRoles() *roles {
	role := func(name, trust string) iam.Role {
		return iam.Role{Name: name, Path: "/", ARN: "arn:aws:iam::000000000000:role/" + name, TrustPolicy: trust}
	}
	denied := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"},` +
		`{"Effect":"Deny","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	r := &roles{allow: true, byARN: map[string]iam.Role{}}
	for _, x := range []iam.Role{role("cd", codeDeployTrust), role("fn", lambdaTrust), role("denied", denied)} {
		r.byARN[x.ARN] = x
	}
	return r
}

func TestCheckServiceRole(t *testing.T) {
	h := AuthorizedHooks{Roles: serviceRoles()}
	for _, tc := range []struct {
		name, role string
		invalid    bool
	}{
		{name: "trusts codedeploy", role: "arn:aws:iam::000000000000:role/cd"},
		{name: "missing", role: "arn:aws:iam::000000000000:role/nobody", invalid: true},
		{name: "trusts only lambda", role: "arn:aws:iam::000000000000:role/fn", invalid: true},
		{name: "denies codedeploy", role: "arn:aws:iam::000000000000:role/denied", invalid: true},
		{name: "not a role ARN", role: "codedeploy", invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.CheckServiceRole(context.Background(), tc.role)
			if !tc.invalid {
				if err != nil {
					t.Fatalf("CheckServiceRole(%s) = %v, want nil", tc.role, err)
				}
				return
			}
			var f *fault.Error
			want := "AWS CodeDeploy does not have the permissions required to assume the role " + tc.role + "."
			if !errors.As(err, &f) || f.Code != "InvalidRoleException" || f.Message != want {
				t.Fatalf("CheckServiceRole(%s) = %v, want InvalidRoleException: %s", tc.role, err, want)
			}
		})
	}
}

func TestPrewarmSize(t *testing.T) {
	for _, tc := range []struct {
		need   int
		weight float64
		want   int
	}{
		{0, 0.1, 1}, {1, 0.1, 1}, {10, 0.1, 1}, {11, 0.1, 2}, {20, 0.25, 5}, {7, 1, 7}, {3, 0, 1},
	} {
		if got := PrewarmSize(tc.need, tc.weight); got != tc.want {
			t.Errorf("PrewarmSize(%d, %v) = %d, want %d", tc.need, tc.weight, got, tc.want)
		}
	}
}

type warmer struct {
	envs, inFlight int
	started        string
}

func (w *warmer) Environments(function, version string) int {
	if function == "orders" && version == "3" {
		return w.envs
	}
	return 0
}
func (w *warmer) InFlight(string) int { return w.inFlight }
func (w *warmer) Prewarm(function, version string, n int) int {
	w.started = function + ":" + version
	return n
}

func TestPrewarmWithSizesFromTheBusierOfPoolAndInFlight(t *testing.T) {
	for _, tc := range []struct{ envs, inFlight, want int }{{40, 3, 4}, {3, 40, 4}, {0, 0, 1}} {
		w := &warmer{envs: tc.envs, inFlight: tc.inFlight}
		if got := PrewarmWith(w)(context.Background(), "orders", "3", "4", 0.1); got != tc.want || w.started != "orders:4" {
			t.Errorf("envs %d in flight %d: started %d of %s, want %d of orders:4", tc.envs, tc.inFlight, got, w.started, tc.want)
		}
	}
}

func TestMetricsExposureCountsTheTargetThroughTheAlias(t *testing.T) {
	store := metrics.NewStore(metrics.Options{})
	start := time.Now().Add(-10 * time.Second).Truncate(time.Second)
	record := func(name, version, resource string, at time.Time, v float64) {
		store.Record(metrics.NewMetricID("AWS/Lambda", name, metrics.Dimension{Name: "ExecutedVersion", Value: version},
			metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: resource}),
			metrics.Sample{Value: v, Count: 1, Unit: "Count", At: at})
	}
	record("Invocations", "4", "orders:live", start.Add(time.Second), 1)
	record("Invocations", "4", "orders:live", start.Add(2*time.Second), 1)
	record("Errors", "4", "orders:live", start.Add(2*time.Second), 1)
	record("Invocations", "3", "orders:live", start.Add(2*time.Second), 1)  // the other version
	record("Invocations", "4", "orders:other", start.Add(2*time.Second), 1) // another alias
	record("Invocations", "4", "orders:live", start.Add(-5*time.Second), 1) // before the deployment
	inv, errs, err := MetricsExposure(store)(context.Background(), "orders", "live", "4", start, time.Time{})
	if err != nil || inv != 2 || errs != 1 {
		t.Fatalf("exposure = %d invocations, %d errors, %v; want 2, 1, nil", inv, errs, err)
	}
	inv, _, err = MetricsExposure(store)(context.Background(), "orders", "live", "4", start, start.Add(2*time.Second))
	if err != nil || inv != 1 {
		t.Fatalf("exposure until start+2s = %d invocations, %v; want 1", inv, err)
	}
}
