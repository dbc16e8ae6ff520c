package stack_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// clock is a fake time source the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// openBolt opens a fresh bbolt store that is closed when the test ends.
func openBolt(t *testing.T) store.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// opener returns a fresh, empty stack.Store whose records are stamped by now.
type opener func(t *testing.T, now func() time.Time) stack.Store

func TestStore(t *testing.T) {
	runSuite(t, func(t *testing.T, now func() time.Time) stack.Store {
		return stack.NewStore(openBolt(t), stack.WithClock(now))
	})
}

// TestStoreRerunnable: the same suite on a store that runs every Update closure twice (the first run rolled back),
// as a backend that retries transactions does.
func TestStoreRerunnable(t *testing.T) {
	runSuite(t, func(t *testing.T, now func() time.Time) stack.Store {
		return stack.NewStore(storetest.RerunUpdates(openBolt(t)), stack.WithClock(now))
	})
}

// TestStoreDurable: a record written by one store (with the real clock) is read by the next one opened on the
// same file.
func TestStoreDurable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	put, err := stack.NewStore(db).Put(ctx, stack.Stack{Name: "orders", Status: stack.StatusCreateComplete})
	if err != nil {
		t.Fatal(err)
	}
	if !put.Created.Equal(put.Updated) || put.Created.IsZero() {
		t.Errorf("first write: created %v, updated %v; want one non-zero instant", put.Created, put.Updated)
	}
	db.Close()
	db, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := stack.NewStore(db).Get(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, put) {
		t.Errorf("after reopen got %+v, want %+v", got, put)
	}
}

// record is a stack with a bit of everything the record carries.
func record(name string) stack.Stack {
	return stack.Stack{
		Name:           name,
		Status:         stack.StatusCreateInProgress,
		Owner:          "ci-runner-7 pid 4242 2026-11-26T09:00:00Z",
		Parameters:     map[string]string{"Stage": "prod"},
		TemplateSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Resources: map[string]stack.ResourceState{
			"OrdersFunction": {
				Type:       "AWS::Lambda::Function",
				PhysicalID: "orders-OrdersFunction-1A2B3C",
				Properties: map[string]any{"MemorySize": float64(256), "Environment": map[string]any{"Variables": map[string]any{"TABLE": "orders"}}, "Layers": []any{"a", "b"}},
				Attributes: map[string]string{"Arn": "arn:aws:lambda:us-east-1:000000000000:function:orders-OrdersFunction-1A2B3C"},
				DependsOn:  []string{"OrdersRole"},
			},
			"Bucket": {Type: "AWS::S3::Bucket", PhysicalID: "orders-bucket", Retain: true},
		},
		Outputs:     map[string]string{"Api": "http://127.0.0.1:9324/orders"},
		Deployments: map[string]string{"OrdersFunctionAliaslive": "d-RPCR1U3TW"},
		Superseded: []stack.Superseded{{LogicalID: "OrdersRole", Resource: stack.ResourceState{Type: "AWS::IAM::Role", PhysicalID: "orders-OrdersRole-9Z8Y7X",
			Properties: map[string]any{"Path": "/old/"}}, Retain: true}},
		Cleanup: []stack.Removal{
			{LogicalID: "OrdersVersion1", Type: "AWS::Lambda::Version", PhysicalID: "arn:aws:lambda:us-east-1:000000000000:function:orders:1",
				Why: stack.RemovalRemoved, Outcome: stack.OutcomeDeleted},
			{LogicalID: "Bucket", Type: "AWS::S3::Bucket", PhysicalID: "orders-bucket-old", Why: stack.RemovalReplaced, Outcome: stack.OutcomeRetained,
				Reason: "UpdateReplacePolicy: Retain"},
		},
	}
}

// runSuite is the contract every stack.Store passes: the server's store over bbolt and the HTTP client over the
// server's API. Errors are compared by message too, so both give people the same text.
func runSuite(t *testing.T, open opener) {
	t.Run("CreateGetUpdate", func(t *testing.T) {
		ctx, c := t.Context(), newClock()
		s := open(t, c.Now)
		t0 := c.Now()
		created, err := s.Put(ctx, record("orders"))
		if err != nil {
			t.Fatal(err)
		}
		want := record("orders")
		want.Revision, want.Created, want.Updated = 1, t0, t0
		if !reflect.DeepEqual(created, want) {
			t.Fatalf("Put returned\n%+v\nwant\n%+v", created, want)
		}
		if got := mustGet(t, s, "orders"); !reflect.DeepEqual(got, created) {
			t.Fatalf("Get returned\n%+v\nwant\n%+v", got, created)
		}

		t1 := c.Advance(time.Minute)
		next := created
		next.Status, next.Owner = stack.StatusCreateComplete, ""
		next.Created = time.Time{} // the store keeps the stored one whatever the caller sends
		updated, err := s.Put(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := updated.Revision, int64(2); got != want {
			t.Errorf("revision %d, want %d", got, want)
		}
		if !updated.Created.Equal(t0) || !updated.Updated.Equal(t1) {
			t.Errorf("created %v updated %v, want %v %v", updated.Created, updated.Updated, t0, t1)
		}
		if got := mustGet(t, s, "orders"); !reflect.DeepEqual(got, updated) {
			t.Errorf("Get returned\n%+v\nwant\n%+v", got, updated)
		}
	})

	t.Run("StoredFormNormalised", func(t *testing.T) {
		// Put returns what Get will: empty maps dropped, numbers as float64, times in UTC.
		s := open(t, func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CET", 3600)) })
		in := stack.Stack{Name: "empty", Status: stack.StatusCreateComplete, Parameters: map[string]string{},
			Resources: map[string]stack.ResourceState{"F": {Type: "AWS::Lambda::Function", Properties: map[string]any{"Timeout": 3}}}}
		got, err := s.Put(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Parameters != nil || got.Resources["F"].Properties["Timeout"] != float64(3) || got.Updated.Location() != time.UTC {
			t.Errorf("stored %+v", got)
		}
		if again := mustGet(t, s, "empty"); !reflect.DeepEqual(again, got) {
			t.Errorf("Get returned %+v, want %+v", again, got)
		}
	})

	t.Run("PutConflicts", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			// stored is the revision the stack is brought to first (0: never created; -1: created then deleted).
			stored   int64
			put      int64
			wantRev  int64 // on success
			wantErr  error
			wantText string
		}{
			{name: "create", stored: 0, put: 0, wantRev: 1},
			{name: "next revision", stored: 3, put: 3, wantRev: 4},
			{name: "stale revision", stored: 3, put: 2, wantErr: stack.ErrConflict, wantText: "Stack orders was changed by another deploy (revision 3, expected 2)"},
			{name: "future revision", stored: 3, put: 7, wantErr: stack.ErrConflict, wantText: "Stack orders was changed by another deploy (revision 3, expected 7)"},
			{name: "create over existing", stored: 1, put: 0, wantErr: stack.ErrConflict, wantText: "Stack orders was created by another deploy (revision 1, expected none)"},
			{name: "update of missing", stored: 0, put: 2, wantErr: stack.ErrConflict, wantText: "Stack orders does not exist (expected revision 2)"},
			{name: "update of deleted", stored: -1, put: 1, wantErr: stack.ErrConflict, wantText: "Stack orders was deleted by another deploy (expected revision 1)"},
			{name: "recreate after delete continues revisions", stored: -1, put: 0, wantRev: 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				s := open(t, newClock().Now)
				var before stack.Stack
				switch {
				case tc.stored < 0:
					st := mustPut(t, s, stack.Stack{Name: "orders", Status: stack.StatusCreateComplete})
					if err := s.Delete(ctx, "orders", st.Revision); err != nil {
						t.Fatal(err)
					}
				case tc.stored > 0:
					for range tc.stored {
						before = mustPut(t, s, stack.Stack{Name: "orders", Revision: before.Revision, Status: stack.StatusUpdateComplete})
					}
				}
				got, err := s.Put(ctx, stack.Stack{Name: "orders", Revision: tc.put, Status: stack.StatusUpdateInProgress})
				if tc.wantErr == nil {
					if err != nil || got.Revision != tc.wantRev {
						t.Fatalf("Put = revision %d, %v; want revision %d", got.Revision, err, tc.wantRev)
					}
					return
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Put error %v, want %v", err, tc.wantErr)
				}
				if tc.wantText != "" && err.Error() != tc.wantText {
					t.Errorf("Put error %q, want %q", err, tc.wantText)
				}
				if tc.stored > 0 {
					if after := mustGet(t, s, "orders"); !reflect.DeepEqual(after, before) {
						t.Errorf("a refused Put changed the record: %+v, was %+v", after, before)
					}
				}
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			create   bool
			revision int64
			wantErr  error
			wantText string
		}{
			{name: "current revision", create: true, revision: 1},
			{name: "stale revision", create: true, revision: 0, wantErr: stack.ErrConflict, wantText: "Stack orders was changed by another deploy (revision 1, expected 0)"},
			{name: "other revision", create: true, revision: 2, wantErr: stack.ErrConflict, wantText: "Stack orders was changed by another deploy (revision 1, expected 2)"},
			{name: "missing", revision: 1, wantErr: stack.ErrNotFound, wantText: "Stack with id orders does not exist"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				s := open(t, newClock().Now)
				if tc.create {
					mustPut(t, s, stack.Stack{Name: "orders", Status: stack.StatusCreateComplete})
				}
				err := s.Delete(ctx, "orders", tc.revision)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("Delete error %v, want %v", err, tc.wantErr)
				}
				if err != nil && err.Error() != tc.wantText {
					t.Errorf("Delete error %q, want %q", err, tc.wantText)
				}
				_, getErr := s.Get(ctx, "orders")
				if deleted := errors.Is(getErr, stack.ErrNotFound); deleted != (tc.wantErr == nil || !tc.create) {
					t.Errorf("after Delete, Get error %v", getErr)
				}
			})
		}
	})

	t.Run("GetMissing", func(t *testing.T) {
		_, err := open(t, newClock().Now).Get(t.Context(), "nope")
		if !errors.Is(err, stack.ErrNotFound) || err.Error() != "Stack with id nope does not exist" {
			t.Errorf("Get missing: %v", err)
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx, c := t.Context(), newClock()
		s := open(t, c.Now)
		if l, err := s.List(ctx); err != nil || l == nil || len(l) != 0 {
			t.Fatalf("empty List = %#v, %v; want an empty, non-nil slice", l, err)
		}
		for _, name := range []string{"orders", "B", "a-b", "ab", "a"} {
			c.Advance(time.Second)
			st := record(name)
			if name == "ab" {
				st.Status, st.Reason, st.Resources = stack.StatusUpdateFailed, "Resource OrdersFunction failed", nil
			}
			mustPut(t, s, st)
		}
		gone := mustPut(t, s, stack.Stack{Name: "gone", Status: stack.StatusCreateComplete})
		if err := s.Delete(ctx, "gone", gone.Revision); err != nil {
			t.Fatal(err)
		}
		l, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t0 := newClock().Now()
		at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		want := []stack.Summary{
			{Name: "B", Status: stack.StatusCreateInProgress, Updated: at(2), Resources: 2},
			{Name: "a", Status: stack.StatusCreateInProgress, Updated: at(5), Resources: 2},
			{Name: "a-b", Status: stack.StatusCreateInProgress, Updated: at(3), Resources: 2},
			{Name: "ab", Status: stack.StatusUpdateFailed, Reason: "Resource OrdersFunction failed", Updated: at(4), Resources: 0},
			{Name: "orders", Status: stack.StatusCreateInProgress, Updated: at(1), Resources: 2},
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("List =\n%+v\nwant\n%+v", l, want)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		// Deploys that read the same revision race to write the next one: exactly one wins.
		ctx := t.Context()
		s := open(t, newClock().Now)
		base := mustPut(t, s, stack.Stack{Name: "orders", Status: stack.StatusCreateComplete})
		const writers = 8
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				next := base
				next.Owner = string(rune('a' + i))
				_, err := s.Put(ctx, next)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, stack.ErrConflict):
				t.Errorf("loser got %v, want ErrConflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d writers won, want 1", won)
		}
		if got := mustGet(t, s, "orders"); got.Revision != 2 {
			t.Errorf("revision %d after the race, want 2", got.Revision)
		}
	})
}

func mustGet(t *testing.T, s stack.Store, name string) stack.Stack {
	t.Helper()
	st, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustPut(t *testing.T, s stack.Store, st stack.Stack) stack.Stack {
	t.Helper()
	out, err := s.Put(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
