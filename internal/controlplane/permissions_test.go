package controlplane

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:orders"

// permissionFixture is a settled function "orders" with version 1 and aliases "live" and "idle" on it, served by
// a Service whose store runs every Update closure twice (they must be re-runnable).
func permissionFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.svc = New(Options{Store: storetest.RerunUpdates(f.db), Code: f.svc.code, Account: f.svc.acct})
	f.start()
	f.create("orders", "v1")
	f.settle()
	ref := lambda.Ref{Name: "orders"}
	if _, err := f.svc.PublishVersion(ctx(), ref, "", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{"live", "idle"} {
		if _, err := f.svc.CreateAlias(ctx(), ref, CreateAliasInput{Name: alias, FunctionVersion: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// revisionOf reads the RevisionId of the record a policy of ref belongs to.
func (f *fixture) revisionOf(ref lambda.Ref) string {
	f.t.Helper()
	if ref.Qualifier != "" && !lambda.IsVersionNumber(ref.Qualifier) && ref.Qualifier != lambda.Latest {
		a, err := f.svc.GetAlias(ctx(), lambda.Ref{Name: ref.Name}, ref.Qualifier)
		if err != nil {
			f.t.Fatal(err)
		}
		return a.Alias.RevisionID
	}
	v, err := f.svc.GetFunctionConfiguration(ctx(), ref)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.RevisionID
}

func s3Grant(sid string) lambda.Permission {
	return lambda.Permission{StatementID: sid, Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceARN: "arn:aws:s3:::test-bucket"}
}

func s3Statement(sid, resource string) string {
	return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` +
		resource + `","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::test-bucket"}}}`
}

func policyDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
}

// TestPermissions runs AddPermission, RemovePermission and GetPolicy in order, each step checking its answer, that
// the policy's RevisionId moved with each change and only then, and that the RevisionId of the function, version
// or alias it belongs to never did.
func TestPermissions(t *testing.T) {
	f := permissionFixture(t)
	fn := lambda.Ref{Name: "orders"}
	v1 := lambda.Ref{Name: "orders", Qualifier: "1"}
	live := lambda.Ref{Name: "orders", Qualifier: "live"}
	idle := lambda.Ref{Name: "orders", Qualifier: "idle"}
	at := func(name, q string) lambda.Ref { return lambda.Ref{Name: name, Qualifier: q} }
	type step struct {
		name string
		op   string // add, remove, get
		ref  lambda.Ref
		p    lambda.Permission
		sid  string
		// revision is the RevisionId to send: "current" sends the policy's (the record's while there is no
		// policy), anything else is sent as it is.
		revision string
		// wantCode and wantMessage: the error; "" for success.
		wantCode, wantMessage string
		// want: AddPermission's statement or GetPolicy's document.
		want string
	}
	nf := fault.ResourceNotFound
	noPolicy := "The resource you requested does not exist."
	big := lambda.Permission{StatementID: "big", Action: "lambda:InvokeFunction", Principal: "*", SourceARN: "arn:aws:s3:::" + strings.Repeat("b", 20400)}
	bigStatement, err := f.svc.acct.Statement(big, fnARN)
	if err != nil {
		t.Fatal(err)
	}
	bigSize := len(policyDoc(s3Statement("s3", fnARN), s3Statement("s3_2", fnARN), bigStatement))
	steps := []step{
		{name: "get before any grant", op: "get", ref: fn, wantCode: nf, wantMessage: noPolicy},
		{name: "add to the function", op: "add", ref: fn, p: s3Grant("s3"), want: s3Statement("s3", fnARN)},
		{name: "get the function's", op: "get", ref: fn, want: policyDoc(s3Statement("s3", fnARN))},
		{name: "$LATEST reads the function's", op: "get", ref: at("orders", "$LATEST"), want: policyDoc(s3Statement("s3", fnARN))},
		{name: "the version has none of it", op: "get", ref: v1, wantCode: nf, wantMessage: noPolicy},
		{name: "statement IDs are unique", op: "add", ref: fn, p: s3Grant("s3"), wantCode: fault.ResourceConflict,
			wantMessage: "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement."},
		{name: "no policies for $LATEST", op: "add", ref: at("orders", "$LATEST"), p: s3Grant("x"), wantCode: fault.InvalidParameterValue,
			wantMessage: "We currently do not support adding policies for $LATEST."},
		{name: "function revision must match", op: "add", ref: fn, p: s3Grant("s3_2"), revision: "wrong", wantCode: fault.PreconditionFailed,
			wantMessage: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"},
		{name: "add with the function's revision", op: "add", ref: fn, p: s3Grant("s3_2"), revision: "current", want: s3Statement("s3_2", fnARN)},
		{name: "the same ID on the version", op: "add", ref: v1, p: s3Grant("s3"), revision: "current", want: s3Statement("s3", fnARN+":1")},
		{name: "get the version's", op: "get", ref: v1, want: policyDoc(s3Statement("s3", fnARN+":1"))},
		{name: "alias revision must match", op: "add", ref: live, p: s3Grant("s3"), revision: "wrong", wantCode: fault.PreconditionFailed,
			wantMessage: "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"},
		{name: "add to the alias with its revision", op: "add", ref: live, p: s3Grant("s3"), revision: "current", want: s3Statement("s3", fnARN+":live")},
		{name: "get the alias's", op: "get", ref: live, want: policyDoc(s3Statement("s3", fnARN+":live"))},
		{name: "the function's has both", op: "get", ref: fn, want: policyDoc(s3Statement("s3", fnARN), s3Statement("s3_2", fnARN))},
		{name: "a missing version", op: "add", ref: at("orders", "42"), p: s3Grant("x"), wantCode: nf,
			wantMessage: "Function not found: " + fnARN + ":42"},
		{name: "a missing alias", op: "add", ref: at("orders", "nope"), p: s3Grant("x"), wantCode: nf,
			wantMessage: "Cannot find alias arn: " + fnARN + ":nope"},
		{name: "a qualifier no alias can have", op: "add", ref: at("orders", "valid-with-$-but-doesnotexist"), p: s3Grant("x"), wantCode: nf,
			wantMessage: "Function not found: " + fnARN + ":valid-with-$-but-doesnotexist"},
		{name: "a missing function", op: "add", ref: at("missing", ""), p: s3Grant("x"), wantCode: nf,
			wantMessage: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing"},
		{name: "an invalid principal", op: "add", ref: fn, p: lambda.Permission{StatementID: "x", Action: "lambda:InvokeFunction", Principal: "invalid.nonaws.com"},
			wantCode: fault.InvalidParameterValue, wantMessage: "The provided principal was invalid. Please check the principal and try again."},
		{name: "too large a policy", op: "add", ref: fn, p: big, wantCode: "PolicyLengthExceededException",
			wantMessage: fmt.Sprintf("The final policy size (%d) is bigger than the limit (20480).", bigSize)},
		{name: "remove from a missing function", op: "remove", ref: at("missing", ""), sid: "s3", wantCode: nf,
			wantMessage: "No policy found for: arn:aws:lambda:us-east-1:000000000000:function:missing"},
		{name: "remove from a missing alias", op: "remove", ref: at("orders", "nope"), sid: "s3", wantCode: nf,
			wantMessage: "Cannot find alias arn: " + fnARN + ":nope"},
		{name: "remove from an alias without a policy", op: "remove", ref: idle, sid: "s3", wantCode: nf,
			wantMessage: "No policy is associated with the given resource."},
		{name: "remove a missing statement", op: "remove", ref: fn, sid: "non-existent", wantCode: nf,
			wantMessage: "Statement non-existent is not found in resource policy."},
		{name: "remove with a stale revision", op: "remove", ref: fn, sid: "s3", revision: "wrong", wantCode: fault.PreconditionFailed,
			wantMessage: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"},
		{name: "remove one", op: "remove", ref: fn, sid: "s3_2", revision: "current"},
		{name: "one left", op: "get", ref: fn, want: policyDoc(s3Statement("s3", fnARN))},
		{name: "remove the last", op: "remove", ref: fn, sid: "s3"},
		{name: "no policy left", op: "get", ref: fn, wantCode: nf, wantMessage: noPolicy},
		{name: "remove from the emptied policy", op: "remove", ref: fn, sid: "s3", wantCode: nf,
			wantMessage: "No policy is associated with the given resource."},
		{name: "get of a missing function", op: "get", ref: at("missing", ""), wantCode: nf, wantMessage: noPolicy},
		{name: "get of a missing version", op: "get", ref: at("orders", "77"), wantCode: nf, wantMessage: noPolicy},
		{name: "get of a missing alias", op: "get", ref: at("orders", "nope"), wantCode: nf, wantMessage: noPolicy},
	}
	// revisions reads the RevisionIds of ref's policy ("" without one) and of its record ("" when ref names
	// nothing).
	revisions := func(ref lambda.Ref) (policyRev, recordRev string) {
		t.Helper()
		exists := ref.Name == "orders" && ref.Qualifier != "42" && ref.Qualifier != "77" &&
			ref.Qualifier != "nope" && !strings.Contains(ref.Qualifier, "$-")
		if !exists {
			return "", ""
		}
		if view, err := f.svc.GetPolicy(ctx(), ref); err == nil {
			policyRev = view.RevisionID
		}
		return policyRev, f.revisionOf(ref)
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			policyBefore, recordBefore := revisions(st.ref)
			revision := st.revision
			if revision == "current" {
				revision = cmp.Or(policyBefore, recordBefore) // a record without a policy yet: the record's
			}
			var got string
			var err error
			switch st.op {
			case "add":
				got, err = f.svc.AddPermission(ctx(), st.ref, AddPermissionInput{Permission: st.p, RevisionID: revision})
			case "remove":
				err = f.svc.RemovePermission(ctx(), st.ref, st.sid, revision)
			case "get":
				var view PolicyView
				view, err = f.svc.GetPolicy(ctx(), st.ref)
				got = view.Policy
			}
			policyAfter, recordAfter := revisions(st.ref)
			if recordAfter != recordBefore {
				t.Errorf("%s changed the RevisionId of the policy's record: %q → %q", st.op, recordBefore, recordAfter)
			}
			if st.wantCode != "" {
				if fe := wantFault(t, err, st.wantCode); fe.Message != st.wantMessage {
					t.Fatalf("message %q\nwant    %q", fe.Message, st.wantMessage)
				}
				if policyAfter != policyBefore {
					t.Errorf("a refused %s changed the policy's RevisionId", st.op)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", st.op, err)
			}
			if st.want != "" && got != st.want {
				t.Fatalf("answer\n%s\nwant\n%s", got, st.want)
			}
			if moved := policyAfter != policyBefore; moved != (st.op != "get") {
				t.Errorf("%s: the policy's RevisionId %q → %q", st.op, policyBefore, policyAfter)
			}
		})
	}

	// Publishing a version gives $LATEST a new RevisionId but leaves its policy's (AWS, 2025).
	if _, err := f.svc.AddPermission(ctx(), fn, AddPermissionInput{Permission: s3Grant("s3")}); err != nil {
		t.Fatal(err)
	}
	policyBefore, recordBefore := revisions(fn)
	if _, err := f.svc.UpdateFunctionConfiguration(ctx(), fn, lambda.ConfigPatch{Description: ptr("v2")}, ""); err != nil {
		t.Fatal(err)
	}
	f.settle()
	if _, err := f.svc.PublishVersion(ctx(), fn, "", "", ""); err != nil {
		t.Fatal(err)
	}
	policyAfter, recordAfter := revisions(fn)
	if recordAfter == recordBefore || policyAfter != policyBefore {
		t.Fatalf("after publishing: function RevisionId %q → %q, policy's %q → %q; want only the function's to move",
			recordBefore, recordAfter, policyBefore, policyAfter)
	}
	if _, err := f.svc.AddPermission(ctx(), fn, AddPermissionInput{Permission: s3Grant("s3_3"), RevisionID: policyBefore}); err != nil {
		t.Fatalf("AddPermission with the policy's RevisionId after a publish: %v", err)
	}
}

// TestPoliciesGoWithTheirRecords deletes an alias, a version and the function, and checks their policies went too.
func TestPoliciesGoWithTheirRecords(t *testing.T) {
	f := permissionFixture(t)
	fn := lambda.Ref{Name: "orders"}
	for _, q := range []string{"", "1", "live", "idle"} {
		if _, err := f.svc.AddPermission(ctx(), lambda.Ref{Name: "orders", Qualifier: q}, AddPermissionInput{Permission: s3Grant("s3")}); err != nil {
			t.Fatal(q, err)
		}
	}
	keys := func() []string {
		var out []string
		if err := f.db.View(ctx(), func(tx store.Tx) error {
			return tx.Scan(policyRoot, "", func(k string, _ []byte) (bool, error) { out = append(out, k); return true, nil })
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"delete an alias", func() error { return f.svc.DeleteAlias(ctx(), fn, "idle") }, "policy/orders/$LATEST policy/orders/1 policy/orders/live"},
		{"delete the alias on the version, then the version", func() error {
			if err := f.svc.DeleteAlias(ctx(), fn, "live"); err != nil {
				return err
			}
			return f.svc.DeleteFunction(ctx(), lambda.Ref{Name: "orders", Qualifier: "1"})
		}, "policy/orders/$LATEST"},
		{"delete the function", func() error { return f.svc.DeleteFunction(ctx(), fn) }, ""},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := strings.Join(keys(), " "); got != st.want {
			t.Fatalf("after %s: policies %q, want %q", st.name, got, st.want)
		}
	}
	if _, err := f.svc.CreateAlias(ctx(), fn, CreateAliasInput{Name: "idle", FunctionVersion: "1"}); err == nil {
		t.Fatal("CreateAlias on a deleted function succeeded")
	}
}

// TestResourcePolicyAllows evaluates the same table from the store (no cache) and from the watch-fed cache.
func TestResourcePolicyAllows(t *testing.T) {
	type check struct {
		name       string
		ref        lambda.Ref
		action     string
		principal  string
		conditions map[string]string
		want       bool
	}
	fn := lambda.Ref{Name: "orders"}
	live := lambda.Ref{Name: "orders", Qualifier: "live"}
	grants := []struct {
		ref lambda.Ref
		p   lambda.Permission
	}{
		{fn, s3Grant("s3")},
		{fn, lambda.Permission{StatementID: "url-none", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"}},
		{fn, lambda.Permission{StatementID: "via_url", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}},
		{fn, lambda.Permission{StatementID: "role", Action: "lambda:GetFunction", Principal: "arn:aws:iam::000000000000:role/ops"}},
		{fn, lambda.Permission{StatementID: "account", Action: "lambda:*", Principal: "000000000000"}},
		{live, lambda.Permission{StatementID: "iam-url_alice", Action: "lambda:InvokeFunctionUrl", Principal: "arn:aws:iam::000000000000:user/alice", FunctionURLAuthType: "AWS_IAM"}},
		{live, lambda.Permission{StatementID: "sns", Action: "lambda:InvokeFunction", Principal: "sns.amazonaws.com", SourceAccount: "000000000000"}},
	}
	const bucket = "arn:aws:s3:::test-bucket"
	checks := []check{
		{"service with its source", fn, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": bucket}, true},
		{"service with another source", fn, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": "arn:aws:s3:::other"}, false},
		{"service without a source", fn, "lambda:InvokeFunction", "s3.amazonaws.com", nil, false},
		{"an empty value is absent", fn, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": ""}, false},
		{"the grant is the function's, not $LATEST's ARN", lambda.Ref{Name: "orders", Qualifier: "$LATEST"}, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": bucket}, true},
		{"a function grant does not reach the alias", live, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": bucket}, false},
		{"nor the version", lambda.Ref{Name: "orders", Qualifier: "1"}, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": bucket}, false},
		{"anonymous URL call, auth NONE", fn, "lambda:InvokeFunctionUrl", "", map[string]string{"lambda:FunctionUrlAuthType": "NONE"}, true},
		{"anonymous URL call, auth AWS_IAM", fn, "lambda:InvokeFunctionUrl", "", map[string]string{"lambda:FunctionUrlAuthType": "AWS_IAM"}, false},
		{"anonymous invoke via the URL", fn, "lambda:InvokeFunction", "", map[string]string{"lambda:InvokedViaFunctionUrl": "true"}, true},
		{"anonymous invoke not via the URL", fn, "lambda:InvokeFunction", "", nil, false},
		{"anonymous on the alias", live, "lambda:InvokeFunctionUrl", "", map[string]string{"lambda:FunctionUrlAuthType": "NONE"}, false},
		{"role named", fn, "lambda:GetFunction", "arn:aws:iam::000000000000:role/ops", nil, true},
		{"role session of the named role", fn, "lambda:GetFunction", "arn:aws:sts::000000000000:assumed-role/ops/s1", nil, true},
		{"session of another role", fn, "lambda:GetFunction", "arn:aws:sts::000000000000:assumed-role/orders/s1", nil, false},
		{"account grant: the root", fn, "lambda:DeleteFunction", "arn:aws:iam::000000000000:root", nil, true},
		{"account grant: not a role session", fn, "lambda:DeleteFunction", "arn:aws:sts::000000000000:assumed-role/ops/s1", nil, false},
		{"account grant: not a user", fn, "lambda:DeleteFunction", "arn:aws:iam::000000000000:user/alice", nil, false},
		{"the user on the alias's URL", live, "lambda:InvokeFunctionUrl", "arn:aws:iam::000000000000:user/alice", map[string]string{"lambda:FunctionUrlAuthType": "AWS_IAM"}, true},
		{"another user on the alias's URL", live, "lambda:InvokeFunctionUrl", "arn:aws:iam::000000000000:user/bob", map[string]string{"lambda:FunctionUrlAuthType": "AWS_IAM"}, false},
		{"condition keys fold case", live, "lambda:InvokeFunction", "sns.amazonaws.com", map[string]string{"AWS:SOURCEACCOUNT": "000000000000"}, true},
		{"an alias without a policy", lambda.Ref{Name: "orders", Qualifier: "idle"}, "lambda:InvokeFunction", "", nil, false},
		{"a missing function", lambda.Ref{Name: "missing"}, "lambda:InvokeFunction", "s3.amazonaws.com", map[string]string{"aws:SourceArn": bucket}, false},
	}
	f := permissionFixture(t)
	for _, g := range grants {
		if _, err := f.svc.AddPermission(ctx(), g.ref, AddPermissionInput{Permission: g.p}); err != nil {
			t.Fatal(g.p.StatementID, err)
		}
	}
	run := func(t *testing.T, svc *Service) {
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) {
				got, err := svc.ResourcePolicyAllows(ctx(), c.ref, c.action, c.principal, c.conditions)
				if err != nil || got != c.want {
					t.Fatalf("ResourcePolicyAllows = %v, %v; want %v", got, err, c.want)
				}
			})
		}
	}
	t.Run("store", func(t *testing.T) { run(t, f.svc) })
	cctx, cancel := context.WithCancel(ctx())
	defer cancel()
	if err := f.svc.StartPolicyCache(cctx); err != nil {
		t.Fatal(err)
	}
	t.Run("cache", func(t *testing.T) { run(t, f.svc) })
}

// TestPolicyCacheFollowsTheStore: a second Service on the same store (a cluster node) sees policies the first
// writes and removes once its cache applied the commit, and a call on it waits for that (read-your-writes).
func TestPolicyCacheFollowsTheStore(t *testing.T) {
	f := permissionFixture(t)
	progress := store.NewProgress()
	code, err := codestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	peer := New(Options{Store: f.db, Code: code, Account: f.svc.acct, Progress: progress})
	cctx, cancel := context.WithCancel(ctx())
	defer cancel()
	if err := peer.StartPolicyCache(cctx); err != nil {
		t.Fatal(err)
	}
	ref := lambda.Ref{Name: "orders", Qualifier: "live"}
	allowed := func() bool {
		t.Helper()
		var rev int64
		if err := f.db.View(ctx(), func(tx store.Tx) error { rev = tx.Revision(); return nil }); err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithTimeout(ctx(), 30*time.Second) // only stops a failing test from hanging
		defer stop()
		if err := progress.Wait(wctx, rev); err != nil {
			t.Fatalf("the peer's cache did not apply revision %d: %v", rev, err)
		}
		ok, err := peer.ResourcePolicyAllows(ctx(), ref, "lambda:InvokeFunctionUrl", "", map[string]string{"lambda:FunctionUrlAuthType": "NONE"})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name string
		do   func() error
		want bool
	}{
		{"nothing granted", func() error { return nil }, false},
		{"granted on the other node", func() error {
			_, err := f.svc.AddPermission(ctx(), ref, AddPermissionInput{Permission: lambda.Permission{StatementID: "url",
				Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"}})
			return err
		}, true},
		{"removed on the other node", func() error { return f.svc.RemovePermission(ctx(), ref, "url", "") }, false},
		{"granted again, then the alias deleted", func() error {
			if _, err := f.svc.AddPermission(ctx(), ref, AddPermissionInput{Permission: lambda.Permission{StatementID: "url",
				Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"}}); err != nil {
				return err
			}
			return f.svc.DeleteAlias(ctx(), lambda.Ref{Name: "orders"}, "live")
		}, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := allowed(); got != st.want {
			t.Fatalf("%s: allowed = %v, want %v", st.name, got, st.want)
		}
	}
}

// BenchmarkResourcePolicyAllows is the function URL's question per request, answered from the cache: an anonymous
// caller against a policy of three statements.
func BenchmarkResourcePolicyAllows(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	code, err := codestore.Open(filepath.Join(b.TempDir(), "code"))
	if err != nil {
		b.Fatal(err)
	}
	svc := New(Options{Store: db, Code: code, Account: lambda.Account{Region: "us-east-1", ID: "000000000000"}})
	if _, err := svc.CreateFunction(ctx(), CreateFunctionInput{Name: "orders", ZipFile: makeZip(b, "v1"),
		Config: lambda.ConfigPatch{Role: ptr(role), Runtime: ptr("provided.al2023"), Handler: ptr("bootstrap")}}); err != nil {
		b.Fatal(err)
	}
	ref := lambda.Ref{Name: "orders"}
	for _, p := range []lambda.Permission{s3Grant("s3"),
		{StatementID: "FunctionURLAllowPublicAccess", Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionURLAuthType: "NONE"},
		{StatementID: "FunctionURLInvokeAllowPublicAccess", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}} {
		if _, err := svc.AddPermission(ctx(), ref, AddPermissionInput{Permission: p}); err != nil {
			b.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx())
	defer cancel()
	if err := svc.StartPolicyCache(cctx); err != nil {
		b.Fatal(err)
	}
	cond := map[string]string{"lambda:FunctionUrlAuthType": "NONE"}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := svc.ResourcePolicyAllows(ctx(), ref, "lambda:InvokeFunctionUrl", "", cond); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
