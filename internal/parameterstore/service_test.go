package parameterstore

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/ssm"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

var key = bytes.Repeat([]byte{7}, 32)

type fixture struct {
	svc    *Service
	db     store.Store
	closer func() error
	path   string
	now    time.Time
}

// newFixture serves Parameter Store over a real bbolt file whose Update closures all run twice (they must be
// re-runnable, as etcd's are), with a clock the test steps.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "db"), now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f.open(t)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	if f.closer != nil {
		f.closer()
	}
	db, err := bolt.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.closer = db.Close
	t.Cleanup(func() { db.Close() })
	f.db = storetest.RerunUpdates(db)
	if f.svc, err = New(Options{Store: f.db, Key: key, Now: func() time.Time { return f.now }}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return "not a fault: " + err.Error()
}

func (f *fixture) put(t *testing.T, name, value, typ string, overwrite bool) PutResult {
	t.Helper()
	req := ssm.PutRequest{Name: name, Value: value, Overwrite: overwrite}
	if typ != "" {
		req.Type = &typ
	}
	res, err := f.svc.Put(context.Background(), req, "arn:aws:iam::000000000000:root")
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return res
}

func TestPutGetVersionsAndSelectors(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	if res := f.put(t, "/app/url", "v1", ssm.TypeString, false); res.Version != 1 || res.Tier != ssm.TierStandard {
		t.Fatalf("%+v", res)
	}
	f.now = f.now.Add(time.Minute)
	f.put(t, "/app/url", "v2", "", true)
	if _, _, err := f.svc.Label(ctx, "/app/url", ptr(int64(1)), []string{"stable"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value, selector string
		version               int64
		code                  string
	}{
		{name: "/app/url", value: "v2", version: 2},
		{name: "  /app/url ", value: "v2", version: 2}, // AWS trims the spaces around a name
		{name: "/app/url:1", value: "v1", version: 1, selector: ":1"},
		{name: "/app/url:stable", value: "v1", version: 1, selector: ":stable"},
		{name: "/app/url:3", code: ssm.CodeParameterVersionNotFound},
		{name: "/app/url:nolabel", code: ssm.CodeParameterVersionNotFound},
		{name: "/app/none", code: ssm.CodeParameterNotFound},
		{name: "app/url", code: ssm.CodeValidation},
	} {
		v, err := f.svc.Get(ctx, tc.name, false)
		if codeOf(err) != tc.code {
			t.Errorf("get %q: %v, want %q", tc.name, err, tc.code)
			continue
		}
		if err == nil && (v.Value != tc.value || v.Version != tc.version || v.Selector != tc.selector || v.Name != "/app/url") {
			t.Errorf("get %q: %+v", tc.name, v)
		}
	}
	v, _ := f.svc.Get(ctx, "/app/url:1", false)
	if !v.Modified.Equal(f.now.Add(-time.Minute)) {
		t.Errorf("version 1 modified %v", v.Modified)
	}
	if err := f.svc.Delete(ctx, "/app/none"); codeOf(err) != ssm.CodeParameterNotFound {
		t.Errorf("delete missing: %v", err)
	} else if err.(*fault.Error).Message != "" {
		t.Errorf("AWS sends no message: %q", err.(*fault.Error).Message)
	}
}

func TestSecureStringsAreSealed(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/db/pass", "s3cret", ssm.TypeSecureString, false)
	f.put(t, "/db/pass", "n3w", "", true)
	raw := ""
	_ = f.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan("ssm/", "", func(k string, v []byte) (bool, error) {
			raw += string(v)
			return true, nil
		})
	})
	if strings.Contains(raw, "s3cret") || strings.Contains(raw, "n3w") {
		t.Fatal("a SecureString value is in the store in plain text")
	}
	sealed, err := f.svc.Get(ctx, "/db/pass", false)
	if err != nil || sealed.Value == "n3w" || sealed.Value == "" {
		t.Fatalf("without decryption: %+v %v", sealed, err)
	}
	if plain, _ := f.svc.Get(ctx, "/db/pass", true); plain.Value != "n3w" {
		t.Errorf("decrypted %q", plain.Value)
	}
	if old, _ := f.svc.Get(ctx, "/db/pass:1", true); old.Value != "s3cret" {
		t.Errorf("version 1 decrypted %q", old.Value)
	}
	hist, _, err := f.svc.History(ctx, "/db/pass", true, 50, nil)
	if err != nil || len(hist) != 2 || hist[0].Value != "s3cret" || hist[1].Value != "n3w" || hist[0].KeyID != ssm.DefaultKeyID {
		t.Fatalf("history %+v %v", hist, err)
	}

	// A ciphertext moved to another parameter does not decrypt there: it is bound to its name and version.
	f.put(t, "/db/other", "x", ssm.TypeSecureString, false)
	_ = f.db.Update(ctx, func(tx store.Tx) error {
		var p ssm.Parameter
		if err := store.GetJSON(tx, paramKey("/db/other"), &p); err != nil {
			return err
		}
		p.Value = sealed.Value
		return store.PutJSON(tx, paramKey("/db/other"), p)
	})
	if _, err := f.svc.Get(ctx, "/db/other", true); err == nil {
		t.Error("a ciphertext moved to another parameter decrypted")
	}

	// Another server's key does not open them either; the same key after a restart does.
	other, _ := New(Options{Store: f.db, Key: bytes.Repeat([]byte{8}, 32)})
	if _, err := other.Get(ctx, "/db/pass", true); err == nil {
		t.Error("decrypted with another key")
	}
	f.open(t)
	if plain, err := f.svc.Get(ctx, "/db/pass", true); err != nil || plain.Value != "n3w" {
		t.Errorf("after reopening: %+v %v", plain, err)
	}
}

func TestHundredVersionsKept(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/v", "1", ssm.TypeString, false)
	for i := 2; i <= ssm.MaxVersions; i++ {
		f.put(t, "/v", fmt.Sprint(i), "", true)
	}
	if _, _, err := f.svc.Label(ctx, "/v", ptr(int64(1)), []string{"first"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Put(ctx, ssm.PutRequest{Name: "/v", Value: "101", Overwrite: true}, "me")
	if codeOf(err) != ssm.CodeMaxVersionLimitExceeded {
		t.Fatalf("101st version with version 1 labelled: %v", err)
	}
	if _, _, err := f.svc.Label(ctx, "/v", ptr(int64(50)), []string{"first"}); err != nil { // moves it
		t.Fatal(err)
	}
	f.put(t, "/v", "101", "", true)
	if _, err := f.svc.Get(ctx, "/v:1", false); codeOf(err) != ssm.CodeParameterVersionNotFound {
		t.Errorf("version 1 after the 101st: %v", err)
	}
	var all []HistoryEntry
	var token *string
	for {
		page, next, err := f.svc.History(ctx, "/v", false, 30, token)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		token = &next
	}
	if len(all) != ssm.MaxVersions || all[0].Version.Version != 2 || all[99].Version.Version != 101 || !slices.Equal(all[48].Labels, []string{"first"}) {
		t.Fatalf("history: %d entries, first %d", len(all), all[0].Version.Version)
	}
	keys := 0
	_ = f.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(versionsOf("/v"), "", func(string, []byte) (bool, error) { keys++; return true, nil })
	})
	if keys != ssm.MaxVersions {
		t.Errorf("%d version records kept", keys)
	}
}

func TestByPathAndDescribe(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	for _, n := range []string{"/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple", "/top", "plain"} {
		f.put(t, n, "v"+n, ssm.TypeString, false)
	}
	f.put(t, "/app/s", "secret", ssm.TypeSecureString, false)
	names := func(vs []Value) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	all := func(req ByPathRequest) []string {
		var out []string
		for {
			page, next, err := f.svc.ByPath(ctx, req)
			if err != nil {
				t.Fatalf("%+v: %v", req, err)
			}
			out = append(out, names(page)...)
			if next == "" {
				return out
			}
			req.NextToken = &next
		}
	}
	for _, tc := range []struct {
		req  ByPathRequest
		want []string
	}{
		{ByPathRequest{Path: "/app", Max: 10}, []string{"/app/a", "/app/b", "/app/s"}},
		{ByPathRequest{Path: "/app/", Max: 1}, []string{"/app/a", "/app/b", "/app/s"}},
		{ByPathRequest{Path: "/app", Recursive: true, Max: 2}, []string{"/app/a", "/app/b", "/app/s", "/app/sub/c", "/app/sub/deep/d"}},
		{ByPathRequest{Path: "/", Max: 10}, []string{"/apple", "/top"}},
		{ByPathRequest{Path: "/app", Recursive: true, Max: 10, Filters: []ssm.StringFilter{{Key: "Type", Values: []string{"SecureString"}}}}, []string{"/app/s"}},
		{ByPathRequest{Path: "/nothing", Max: 10}, nil},
	} {
		if got := all(tc.req); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.req, got, tc.want)
		}
	}
	page, _, _ := f.svc.ByPath(ctx, ByPathRequest{Path: "/app", Max: 10, Decrypt: true})
	if page[2].Value != "secret" {
		t.Errorf("decrypted by path: %q", page[2].Value)
	}
	// A token belongs to its request.
	_, next, _ := f.svc.ByPath(ctx, ByPathRequest{Path: "/app", Max: 1})
	if _, _, err := f.svc.ByPath(ctx, ByPathRequest{Path: "/app", Recursive: true, Max: 1, NextToken: &next}); codeOf(err) != ssm.CodeInvalidNextToken {
		t.Errorf("token of another request: %v", err)
	}
	if _, _, err := f.svc.ByPath(ctx, ByPathRequest{Path: "/app", Max: 1, NextToken: ptr("garbage")}); codeOf(err) != ssm.CodeInvalidNextToken {
		t.Errorf("garbage token: %v", err)
	}
	if _, _, err := f.svc.ByPath(ctx, ByPathRequest{Path: "app", Max: 1}); codeOf(err) != ssm.CodeValidation {
		t.Errorf("relative path: %v", err)
	}

	var described []string
	var token *string
	for {
		page, next, err := f.svc.Describe(ctx, DescribeRequest{Max: 3, NextToken: token,
			ParameterFilters: []ssm.StringFilter{{Key: "Name", Option: "BeginsWith", Values: []string{"/app"}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			described = append(described, p.Name)
		}
		if next == "" {
			break
		}
		token = &next
	}
	if want := []string{"/app/a", "/app/b", "/app/s", "/app/sub/c", "/app/sub/deep/d", "/apple"}; !slices.Equal(described, want) {
		t.Errorf("described %v, want %v", described, want)
	}
	page2, _, err := f.svc.Describe(ctx, DescribeRequest{Max: 50, ParameterFilters: []ssm.StringFilter{{Key: "Path", Values: []string{"/app/sub"}}}})
	if err != nil || len(page2) != 1 || page2[0].Name != "/app/sub/c" {
		t.Errorf("path filter: %+v %v", page2, err)
	}
}

func TestOneLevelNamesAreOneParameter(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/solo", "1", ssm.TypeString, false)
	if _, err := f.svc.Put(ctx, ssm.PutRequest{Name: "solo", Value: "2", Type: ptr(ssm.TypeString)}, "me"); codeOf(err) != ssm.CodeParameterAlreadyExists {
		t.Fatalf("solo beside /solo: %v", err)
	}
	f.put(t, "solo", "2", "", true)
	v, err := f.svc.Get(ctx, "solo", false)
	if err != nil || v.Name != "/solo" || v.Version != 2 {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestDeleteManyGetManyAndTags(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/a", "1", ssm.TypeString, false)
	f.put(t, "/b", "2", ssm.TypeString, false)
	found, invalid, err := f.svc.GetMany(ctx, []string{"/a", "/missing", "/b:7", "/a", "bad name"}, false)
	if err != nil || len(found) != 1 || !slices.Equal(invalid, []string{"/missing", "/b:7", "bad name"}) {
		t.Fatalf("found %+v invalid %v err %v", found, invalid, err)
	}
	if err := f.svc.AddTags(ctx, "/a", []ssm.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveTags(ctx, "/a", []string{"team", "absent"}); err != nil {
		t.Fatal(err)
	}
	if tags, err := f.svc.ListTags(ctx, "/a"); err != nil || len(tags) != 1 || tags[0] != (ssm.Tag{Key: "env", Value: "prod"}) {
		t.Errorf("tags %+v %v", tags, err)
	}
	if err := f.svc.AddTags(ctx, "/missing", nil); codeOf(err) != ssm.CodeInvalidResourceID {
		t.Errorf("tag a missing parameter: %v", err)
	}
	deleted, invalid, err := f.svc.DeleteMany(ctx, []string{"/a", "/missing", "/b"})
	if err != nil || !slices.Equal(deleted, []string{"/a", "/b"}) || !slices.Equal(invalid, []string{"/missing"}) {
		t.Fatalf("deleted %v invalid %v %v", deleted, invalid, err)
	}
	var left int
	_ = f.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan("ssm/", "", func(k string, _ []byte) (bool, error) {
			if k != countKey {
				left++
			}
			return true, nil
		})
	})
	if left != 0 {
		t.Errorf("%d records left after deleting everything", left)
	}
	c := counts{}
	_ = f.db.View(ctx, func(tx store.Tx) error { c, err = readCounts(tx); return err })
	if c != (counts{}) {
		t.Errorf("counts %+v", c)
	}
}

// TestConcurrentPutsMakeDistinctVersions: racing overwrites never make the same version twice.
func TestConcurrentPutsMakeDistinctVersions(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/race", "0", ssm.TypeString, false)
	const writers = 8
	versions := make(chan int64, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			res, err := f.svc.Put(ctx, ssm.PutRequest{Name: "/race", Value: fmt.Sprint(i), Overwrite: true}, "me")
			if err != nil {
				t.Error(err)
			}
			versions <- res.Version
		})
	}
	wg.Wait()
	close(versions)
	var got []int64
	for v := range versions {
		got = append(got, v)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != int64(i+2) {
			t.Fatalf("versions %v", got)
		}
	}
}

// TestCountsFollowTiers: the per-account counts behind ParameterLimitExceeded follow creations, tier upgrades and
// deletions.
func TestCountsFollowTiers(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.put(t, "/s1", "v", ssm.TypeString, false)
	f.put(t, "/s2", "v", ssm.TypeString, false)
	f.put(t, "/s2", "w", "", true) // same tier: no change
	if _, err := f.svc.Put(ctx, ssm.PutRequest{Name: "/s1", Value: "v", Overwrite: true, Tier: ptr(ssm.TierAdvanced)}, "me"); err != nil {
		t.Fatal(err)
	}
	f.put(t, "/s3", "v", ssm.TypeSecureString, false)
	if err := f.svc.Delete(ctx, "/s2"); err != nil {
		t.Fatal(err)
	}
	var c counts
	_ = f.db.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = readCounts(tx)
		return err
	})
	if c != (counts{Standard: 1, Advanced: 1}) {
		t.Errorf("counts %+v, want 1 Standard and 1 Advanced", c)
	}
}
