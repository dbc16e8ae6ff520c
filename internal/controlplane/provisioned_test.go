package controlplane

import (
	"slices"
	"testing"

	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Ensure the state of a request sums the reports of every node keeping its environments.
func TestProvisionedStateSumsNodes(t *testing.T) {
	cases := []struct {
		name      string
		requested int
		reports   []ProvisionedReport
		want      ProvisionedState
	}{
		{"no node reported", 5, nil, ProvisionedState{Status: "IN_PROGRESS"}},
		{"one node of three ready", 5, []ProvisionedReport{{Ready: 2}, {}, {}}, ProvisionedState{Allocated: 2, Available: 2, Status: "IN_PROGRESS"}},
		{"every node ready", 5, []ProvisionedReport{{Ready: 2}, {Ready: 2}, {Ready: 1}}, ProvisionedState{Allocated: 5, Available: 5, Status: "READY"}},
		{"more nodes than environments", 1, []ProvisionedReport{{Ready: 1}, {}, {}}, ProvisionedState{Allocated: 1, Available: 1, Status: "READY"}},
		{"one node failed", 4, []ProvisionedReport{{Ready: 2}, {Failure: "FUNCTION_ERROR_INIT_FAILURE: boom"}},
			ProvisionedState{Allocated: 2, Available: 2, Status: "FAILED", Reason: "FUNCTION_ERROR_INIT_FAILURE: boom"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := provisionedState(c.requested, c.reports...); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// Ensure nodes' reports are kept apart — each node replaces only its own — summed by the API, dropped for nodes
// that left, and deleted with their configuration.
func TestReportProvisionedFromNodes(t *testing.T) {
	f := newFixture(t)
	f.start()
	f.create("fn", "v1")
	f.settle()
	if _, err := f.svc.PublishVersion(ctx(), lambda.Ref{Name: "fn"}, "", "", ""); err != nil {
		t.Fatal(err)
	}
	one := lambda.Ref{Name: "fn", Qualifier: "1"}
	if _, err := f.svc.PutProvisionedConcurrencyConfig(ctx(), one, 5); err != nil {
		t.Fatal(err)
	}
	state := func() ProvisionedState {
		t.Helper()
		v, err := f.svc.GetProvisionedConcurrencyConfig(ctx(), one)
		if err != nil {
			t.Fatal(err)
		}
		return v.State
	}
	keys := func() []string {
		t.Helper()
		var out []string
		if err := f.db.View(ctx(), func(tx store.Tx) error {
			return tx.Scan(provisionedReportPrefix("fn"), "", func(k string, _ []byte) (bool, error) {
				out = append(out, k)
				return true, nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	steps := []struct {
		name  string
		do    func() error
		ready int
		keys  []string
	}{
		{"node a reports its 2", func() error {
			return f.svc.ReportProvisionedFrom(ctx(), "a", "fn", map[string]ProvisionedReport{"1": {Ready: 2}})
		}, 2, []string{"pcstate/fn/1/a"}},
		{"node b its 2, and a stale qualifier", func() error {
			return f.svc.ReportProvisionedFrom(ctx(), "b", "fn", map[string]ProvisionedReport{"1": {Ready: 2}, "9": {Ready: 1}})
		}, 4, []string{"pcstate/fn/1/a", "pcstate/fn/1/b"}},
		{"node c its 1", func() error {
			return f.svc.ReportProvisionedFrom(ctx(), "c", "fn", map[string]ProvisionedReport{"1": {Ready: 1}})
		}, 5, []string{"pcstate/fn/1/a", "pcstate/fn/1/b", "pcstate/fn/1/c"}},
		{"node a reports nothing: only its report goes", func() error {
			return f.svc.ReportProvisionedFrom(ctx(), "a", "fn", map[string]ProvisionedReport{})
		}, 3, []string{"pcstate/fn/1/b", "pcstate/fn/1/c"}},
		{"node c left", func() error { return f.svc.DropProvisionedReports(ctx(), "c", "never-seen") }, 2, []string{"pcstate/fn/1/b"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := state(); got.Allocated != st.ready {
			t.Errorf("%s: %+v, want %d allocated", st.name, got, st.ready)
		}
		if got := keys(); !slices.Equal(got, st.keys) {
			t.Errorf("%s: stored reports %v, want %v", st.name, got, st.keys)
		}
	}
	if err := f.svc.DeleteProvisionedConcurrencyConfig(ctx(), one); err != nil {
		t.Fatal(err)
	}
	if got := keys(); len(got) != 0 {
		t.Fatalf("after the configuration was deleted: reports %v", got)
	}
}
