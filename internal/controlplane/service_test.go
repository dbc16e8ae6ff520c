package controlplane

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

const role = "arn:aws:iam::000000000000:role/test"

// fixture is a Service on a real bbolt file and code store; the processor runs only when started.
type fixture struct {
	t     *testing.T
	dir   string
	opts  Options // Store, Code and Account are filled in by open
	db    store.Store
	svc   *Service
	stop  context.CancelFunc
	ended chan struct{}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	f.open()
	t.Cleanup(f.close)
	return f
}

func (f *fixture) open() {
	db, err := bolt.Open(filepath.Join(f.dir, "db"))
	if err != nil {
		f.t.Fatal(err)
	}
	code, err := codestore.Open(filepath.Join(f.dir, "code"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.db = db
	o := f.opts
	o.Store, o.Code, o.Account = db, code, lambda.Account{Region: "us-east-1", ID: "000000000000"}
	f.svc = New(o)
}

// start runs the processor in the background.
func (f *fixture) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.ended = cancel, make(chan struct{})
	go func() { f.svc.Run(ctx); close(f.ended) }()
}

// settle waits for the processor to drain its queue.
func (f *fixture) settle() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.svc.WaitSettled(ctx); err != nil {
		f.t.Fatal("processor did not settle:", err)
	}
}

func (f *fixture) close() {
	if f.stop != nil {
		f.stop()
		<-f.ended
		f.stop = nil
	}
	f.db.Close()
}

func makeZip(t testing.TB, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	fw, err := w.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corruptZip passes the cheap structural checks but fails extraction (its CRC does not match).
func corruptZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fw, err := w.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("#!/bin/sh\necho original\n"))
	w.Close()
	b := buf.Bytes()
	i := bytes.Index(b, []byte("original"))
	b[i] = 'X' // flip stored data after the CRC was computed
	return b
}

func ctx() context.Context { return context.Background() }

func (f *fixture) create(name, content string) FunctionView {
	f.t.Helper()
	v, err := f.svc.CreateFunction(ctx(), CreateFunctionInput{
		Name: name, ZipFile: makeZip(f.t, content),
		Config: lambda.ConfigPatch{Role: ptr(role), Runtime: ptr("provided.al2023"), Handler: ptr("bootstrap")},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func wantFault(t *testing.T, err error, code string) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	return fe
}

func TestCreateSettlesFromPendingToActive(t *testing.T) {
	f := newFixture(t)
	v := f.create("orders", "v1")
	if v.Status.State != lambda.StatePending || v.Status.StateReasonCode != "Creating" || v.Status.LastUpdateStatus != "" {
		t.Fatalf("create status = %+v, want Pending/Creating without LastUpdateStatus", v.Status)
	}
	// While Pending, updates and publishes are refused.
	_, err := f.svc.UpdateFunctionCode(ctx(), lambda.Ref{Name: "orders"}, UpdateFunctionCodeInput{ZipFile: makeZip(t, "v2")})
	wantFault(t, err, fault.ResourceConflict)
	_, err = f.svc.PublishVersion(ctx(), lambda.Ref{Name: "orders"}, "", "", "")
	wantFault(t, err, fault.ResourceConflict)

	f.start()
	f.settle()
	got, err := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.State != lambda.StateActive || got.Status.LastUpdateStatus != lambda.UpdateSuccessful {
		t.Fatalf("settled status = %+v", got.Status)
	}
	if got.RevisionID == v.RevisionID {
		t.Fatal("RevisionId must change when creation completes")
	}
	if _, ok := f.svc.code.CodeDir(got.Config.CodeSha256); !ok {
		t.Fatal("package was not extracted")
	}
}

func TestUpdateInProgressBlocksAndSettles(t *testing.T) {
	f := newFixture(t)
	f.create("orders", "v1")
	f.start()
	f.settle()
	f.stop()
	<-f.ended
	f.stop = nil

	v, err := f.svc.UpdateFunctionCode(ctx(), lambda.Ref{Name: "orders"}, UpdateFunctionCodeInput{ZipFile: makeZip(t, "v2")})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status.LastUpdateStatus != lambda.UpdateInProgress {
		t.Fatalf("update status = %+v", v.Status)
	}
	_, err = f.svc.UpdateFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"}, lambda.ConfigPatch{Description: ptr("x")}, "")
	fe := wantFault(t, err, fault.ResourceConflict)
	if want := "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:orders"; fe.Message != want {
		t.Fatalf("message = %q", fe.Message)
	}
	f.start()
	f.settle()
	got, _ := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	if got.Status.LastUpdateStatus != lambda.UpdateSuccessful || got.Config.CodeSha256 != v.Config.CodeSha256 {
		t.Fatalf("after settle: %+v", got)
	}
}

func TestFailedUpdateKeepsPreviousCode(t *testing.T) {
	f := newFixture(t)
	f.start()
	before := f.create("orders", "v1")
	f.settle()
	_, err := f.svc.UpdateFunctionCode(ctx(), lambda.Ref{Name: "orders"}, UpdateFunctionCodeInput{ZipFile: corruptZip(t)})
	if err != nil {
		t.Fatal(err)
	}
	f.settle()
	got, _ := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	if got.Status.LastUpdateStatus != lambda.UpdateFailed || got.Status.LastUpdateStatusReasonCode != "InvalidZipFileException" {
		t.Fatalf("status = %+v, want Failed/InvalidZipFileException", got.Status)
	}
	if got.Config.CodeSha256 != before.Config.CodeSha256 || got.Status.State != lambda.StateActive {
		t.Fatalf("previous code not in effect: %+v", got)
	}
	// A failed update does not block the next one.
	if _, err := f.svc.UpdateFunctionCode(ctx(), lambda.Ref{Name: "orders"}, UpdateFunctionCodeInput{ZipFile: makeZip(t, "v3")}); err != nil {
		t.Fatal(err)
	}
}

func TestFailedCreateIsFailedState(t *testing.T) {
	f := newFixture(t)
	f.start()
	_, err := f.svc.CreateFunction(ctx(), CreateFunctionInput{Name: "broken", ZipFile: corruptZip(t),
		Config: lambda.ConfigPatch{Role: ptr(role), Runtime: ptr("provided.al2023"), Handler: ptr("bootstrap")}})
	if err != nil {
		t.Fatal(err)
	}
	f.settle()
	got, _ := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "broken"})
	if got.Status.State != lambda.StateFailed || got.Status.StateReasonCode != "InvalidZipFileException" {
		t.Fatalf("status = %+v", got.Status)
	}
}

func TestInvalidPackageRejectedSynchronously(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateFunction(ctx(), CreateFunctionInput{Name: "x", ZipFile: []byte("not a zip"),
		Config: lambda.ConfigPatch{Role: ptr(role), Runtime: ptr("provided.al2023"), Handler: ptr("bootstrap")}})
	fe := wantFault(t, err, fault.InvalidParameterValue)
	if fe.Message != "Could not unzip uploaded file. Please check your file, then try to upload again." {
		t.Fatalf("message = %q", fe.Message)
	}
	list, _, _ := f.svc.ListFunctions(ctx(), "", 0, false)
	if len(list) != 0 {
		t.Fatalf("a rejected create left %d functions", len(list))
	}
}

func TestPublishIdempotentAndNumbersNeverReused(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("orders", "v1")
	f.settle()
	ref := lambda.Ref{Name: "orders"}
	v1, err := f.svc.PublishVersion(ctx(), ref, "", "", "")
	if err != nil || v1.Version != "1" {
		t.Fatalf("first publish = %v, %v", v1.Version, err)
	}
	again, _ := f.svc.PublishVersion(ctx(), ref, "", "ignored", "")
	if again.Version != "1" || again.RevisionID != v1.RevisionID || again.Config.Description != "" {
		t.Fatalf("idempotent publish = %+v", again)
	}
	if _, err := f.svc.UpdateFunctionConfiguration(ctx(), ref, lambda.ConfigPatch{Description: ptr("new")}, ""); err != nil {
		t.Fatal(err)
	}
	f.settle()
	v2, _ := f.svc.PublishVersion(ctx(), ref, "", "", "")
	if v2.Version != "2" {
		t.Fatalf("description change published %q, want 2", v2.Version)
	}
	if err := f.svc.DeleteFunction(ctx(), ref); err != nil {
		t.Fatal(err)
	}
	f.create("orders", "again")
	f.settle()
	v3, _ := f.svc.PublishVersion(ctx(), ref, "", "", "")
	if v3.Version != "3" {
		t.Fatalf("after delete and re-create, publish = %q, want 3 (numbers are never reused)", v3.Version)
	}
}

func TestPublishPreconditions(t *testing.T) {
	f := newFixture(t)
	f.start()
	v := f.create("orders", "v1")
	f.settle()
	latest, _ := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	_, err := f.svc.PublishVersion(ctx(), lambda.Ref{Name: "orders"}, "wrong", "", "")
	wantFault(t, err, fault.InvalidParameterValue)
	_, err = f.svc.PublishVersion(ctx(), lambda.Ref{Name: "orders"}, "", "", v.RevisionID) // stale: settling changed it
	wantFault(t, err, fault.PreconditionFailed)
	pub, err := f.svc.PublishVersion(ctx(), lambda.Ref{Name: "orders"}, latest.Config.CodeSha256, "", latest.RevisionID)
	if err != nil || pub.Version != "1" {
		t.Fatal(pub.Version, err)
	}
	after, _ := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	if after.RevisionID == latest.RevisionID {
		t.Fatal("publishing must change $LATEST's RevisionId")
	}
}

func TestAliasLifecycle(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("orders", "v1")
	f.settle()
	ref := lambda.Ref{Name: "orders"}
	f.svc.PublishVersion(ctx(), ref, "", "", "")
	f.svc.UpdateFunctionCode(ctx(), ref, UpdateFunctionCodeInput{ZipFile: makeZip(t, "v2")})
	f.settle()
	f.svc.PublishVersion(ctx(), ref, "", "", "")

	a, err := f.svc.CreateAlias(ctx(), ref, CreateAliasInput{Name: "live", FunctionVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateAlias(ctx(), ref, CreateAliasInput{Name: "live", FunctionVersion: "1"})
	wantFault(t, err, fault.ResourceConflict)

	canary := &lambda.Routing{AdditionalVersionWeights: map[string]float64{"2": 0.1}}
	b, err := f.svc.UpdateAlias(ctx(), ref, "live", UpdateAliasInput{Routing: canary, RevisionID: a.Alias.RevisionID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateAlias(ctx(), ref, "live", UpdateAliasInput{FunctionVersion: ptr("2"), RevisionID: a.Alias.RevisionID})
	wantFault(t, err, fault.PreconditionFailed)

	// Deleting a referenced version names the alias.
	err = f.svc.DeleteFunction(ctx(), lambda.Ref{Name: "orders", Qualifier: "2"})
	if fe := wantFault(t, err, fault.ResourceConflict); fe.Message != "Unable to delete version because the following aliases reference it: [live]" {
		t.Fatalf("message = %q", fe.Message)
	}

	// Reaching the configuration through the alias gives the primary version under the alias ARN.
	view, err := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders", Qualifier: "live"})
	if err != nil || view.Version != "1" || view.ARN != "arn:aws:lambda:us-east-1:000000000000:function:orders:live" {
		t.Fatalf("via alias = %+v, %v", view, err)
	}

	// Promote: clear routing and move the pointer.
	c, err := f.svc.UpdateAlias(ctx(), ref, "live", UpdateAliasInput{FunctionVersion: ptr("2"),
		Routing: &lambda.Routing{AdditionalVersionWeights: map[string]float64{}}, RevisionID: b.Alias.RevisionID})
	if err != nil || c.Alias.FunctionVersion != "2" || len(c.Alias.Routing.AdditionalVersionWeights) != 0 {
		t.Fatalf("promote = %+v, %v", c, err)
	}
	if err := f.svc.DeleteFunction(ctx(), lambda.Ref{Name: "orders", Qualifier: "1"}); err != nil {
		t.Fatal("version 1 is no longer referenced:", err)
	}
	if err := f.svc.DeleteAlias(ctx(), ref, "nope"); err != nil {
		t.Fatal("DeleteAlias of a missing alias must succeed:", err)
	}
	_, err = f.svc.GetAlias(ctx(), ref, "nope")
	if fe := wantFault(t, err, fault.ResourceNotFound); fe.Message != "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:orders:nope" {
		t.Fatalf("message = %q", fe.Message)
	}
}

func TestListFunctionsPagination(t *testing.T) {
	f := newFixture(t)
	f.start()
	const n = 13
	for i := range n {
		f.create(fmt.Sprintf("fn-%02d", i), fmt.Sprint(i))
	}
	f.settle()
	for i := range 3 { // fn-00..02 get two versions each
		ref := lambda.Ref{Name: fmt.Sprintf("fn-%02d", i)}
		f.svc.PublishVersion(ctx(), ref, "", "", "")
		f.svc.UpdateFunctionConfiguration(ctx(), ref, lambda.ConfigPatch{Description: ptr("d")}, "")
		f.settle()
		f.svc.PublishVersion(ctx(), ref, "", "", "")
	}
	for _, c := range []struct {
		all  bool
		size int
		want int
	}{{false, 4, n}, {false, 50, n}, {true, 4, n + 6}, {true, 1, n + 6}, {true, 3, n + 6}} {
		seen := map[string]bool{}
		var order []string
		marker := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("pagination does not terminate")
			}
			items, next, err := f.svc.ListFunctions(ctx(), marker, c.size, c.all)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > c.size {
				t.Fatalf("page of %d items, max %d", len(items), c.size)
			}
			for _, it := range items {
				key := it.Name + ":" + it.Version
				if seen[key] {
					t.Fatalf("%s listed twice", key)
				}
				seen[key] = true
				order = append(order, key)
			}
			if next == "" {
				break
			}
			marker = next
		}
		if len(seen) != c.want {
			t.Fatalf("all=%v size=%d: listed %d, want %d: %v", c.all, c.size, len(seen), c.want, order)
		}
		if c.all && order[0] != "fn-00:$LATEST" || c.all && order[1] != "fn-00:1" {
			t.Fatalf("order = %v", order[:3])
		}
	}
}

func TestConcurrencyAndAccountSettings(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("a", "a")
	f.create("b", "b")
	f.settle()
	if _, err := f.svc.PutFunctionConcurrency(ctx(), lambda.Ref{Name: "a"}, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PutFunctionConcurrency(ctx(), lambda.Ref{Name: "a"}, 300); err != nil {
		t.Fatal("re-reserving replaces, not adds:", err)
	}
	_, err := f.svc.PutFunctionConcurrency(ctx(), lambda.Ref{Name: "b"}, 601)
	wantFault(t, err, fault.InvalidParameterValue)
	_, err = f.svc.PutFunctionConcurrency(ctx(), lambda.Ref{Name: "b", Qualifier: "1"}, 1)
	wantFault(t, err, fault.InvalidParameterValue)
	s, _ := f.svc.GetAccountSettings(ctx())
	if s.UnreservedConcurrentExecutions != 700 || s.FunctionCount != 2 || s.TotalCodeSize <= 0 {
		t.Fatalf("settings = %+v", s)
	}
	if err := f.svc.DeleteFunction(ctx(), lambda.Ref{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	s, _ = f.svc.GetAccountSettings(ctx())
	if s.UnreservedConcurrentExecutions != 1000 || s.FunctionCount != 1 {
		t.Fatalf("after delete settings = %+v", s)
	}
}

func TestPendingWorkResumesAfterRestart(t *testing.T) {
	f := newFixture(t)
	f.create("orders", "v1") // processor not running: stays Pending
	f.close()
	f.open()
	f.start()
	f.settle()
	got, err := f.svc.GetFunctionConfiguration(ctx(), lambda.Ref{Name: "orders"})
	if err != nil || got.Status.State != lambda.StateActive {
		t.Fatalf("after restart = %+v, %v", got.Status, err)
	}
}

// assumableRoles is a RoleChecker: the roles each service principal may assume.
type assumableRoles map[string][]string

func (r assumableRoles) ServiceCanAssume(_ context.Context, roleARN, principal string) (bool, error) {
	return slices.Contains(r[principal], roleARN), nil
}

func TestExecutionRoleMustBeAssumableByLambda(t *testing.T) {
	const (
		lambdaRole = "arn:aws:iam::000000000000:role/fn"
		otherRole  = "arn:aws:iam::000000000000:role/cd"
		missing    = "arn:aws:iam::000000000000:role/missing"
	)
	f := newFixture(t)
	f.close()
	f.opts.ExecutionRoles = assumableRoles{lambdaPrincipal: {lambdaRole}, "codedeploy.amazonaws.com": {otherRole}}
	f.open()
	const refused = "The role defined for the function cannot be assumed by Lambda."
	cases := []struct{ role, want string }{
		{lambdaRole, ""},
		{otherRole, refused},
		{missing, refused},
	}
	for i, c := range cases {
		name := fmt.Sprintf("fn%d", i)
		_, err := f.svc.CreateFunction(ctx(), CreateFunctionInput{Name: name, ZipFile: makeZip(t, "v1"),
			Config: lambda.ConfigPatch{Role: ptr(c.role), Runtime: ptr("provided.al2023"), Handler: ptr("bootstrap")}})
		if c.want == "" {
			if err != nil {
				t.Fatalf("create with %s: %v", c.role, err)
			}
			continue
		}
		if fe := wantFault(t, err, fault.InvalidParameterValue); fe.Message != c.want {
			t.Errorf("create with %s: %q, want %q", c.role, fe.Message, c.want)
		}
	}
	f.start()
	f.settle()
	// Changing the role is checked the same way; other updates do not look at it.
	_, err := f.svc.UpdateFunctionConfiguration(ctx(), lambda.Ref{Name: "fn0"}, lambda.ConfigPatch{Role: ptr(missing)}, "")
	if fe := wantFault(t, err, fault.InvalidParameterValue); fe.Message != refused {
		t.Errorf("update to a missing role: %q", fe.Message)
	}
	if _, err := f.svc.UpdateFunctionConfiguration(ctx(), lambda.Ref{Name: "fn0"}, lambda.ConfigPatch{Description: ptr("d")}, ""); err != nil {
		t.Errorf("update without a role: %v", err)
	}
}
