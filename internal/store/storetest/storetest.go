// Package storetest is the conformance suite every store.Store backend must pass. A backend's test calls
// Run with a factory that opens a fresh, empty store; Reopen (optional) reopens the same data to check durability;
// Compact (optional) drops watch history so the suite can check ErrCompacted.
//
// The suite covers transactions (this file), and revisions and watches (watch.go).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/store"
)

// Backend opens stores for the suite.
type Backend struct {
	// Open returns a fresh, empty store. The suite closes it.
	Open func(t *testing.T) store.Store
	// Reopen closes s and opens the same data again; nil skips the durability checks.
	Reopen func(t *testing.T, s store.Store) store.Store
	// Compact makes the events of revisions up to and including rev unavailable to Watch (etcd's Compact); nil
	// skips the ErrCompacted checks.
	Compact func(t *testing.T, s store.Store, rev int64)
}

// Run runs the whole suite.
func Run(t *testing.T, b Backend) {
	ctx := context.Background()
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t, b)
		err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("nope"); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get missing: got %v, want ErrNotFound", err)
		}
	})
	t.Run("PutGetDelete", func(t *testing.T) {
		s := open(t, b)
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("a/1", []byte("one")) })
		if got := get(t, s, "a/1"); got != "one" {
			t.Fatalf("get = %q, want one", got)
		}
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Delete("a/1") })
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Delete("a/1") }) // deleting twice is fine
		if got := get(t, s, "a/1"); got != "" {
			t.Fatalf("after delete get = %q", got)
		}
	})
	t.Run("ViewIsReadOnly", func(t *testing.T) {
		s := open(t, b)
		err := s.View(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
		if !errors.Is(err, store.ErrReadOnly) {
			t.Fatalf("Put in View: got %v, want ErrReadOnly", err)
		}
	})
	t.Run("RollbackOnError", func(t *testing.T) {
		s := open(t, b)
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Put("k", []byte("v")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update error = %v, want boom", err)
		}
		if got := get(t, s, "k"); got != "" {
			t.Fatalf("write of failed transaction is visible: %q", got)
		}
	})
	t.Run("ReadYourWrites", func(t *testing.T) {
		s := open(t, b)
		mustUpdate(t, s, func(tx store.Tx) error {
			if err := tx.Put("k", []byte("v")); err != nil {
				return err
			}
			v, err := tx.Get("k")
			if err != nil || string(v) != "v" {
				return fmt.Errorf("read own write: %q %v", v, err)
			}
			return nil
		})
	})
	t.Run("ScanOrderPrefixAfter", func(t *testing.T) {
		s := open(t, b)
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, k := range []string{"f/b", "f/a", "f/c", "g/a", "e/z", "f", "fa"} {
				if err := tx.Put(k, []byte(k)); err != nil {
					return err
				}
			}
			return nil
		})
		cases := []struct {
			prefix, after string
			limit         int
			want          []string
		}{
			{"f/", "", 0, []string{"f/a", "f/b", "f/c"}},
			{"f/", "f/a", 0, []string{"f/b", "f/c"}},
			{"f/", "f/aa", 0, []string{"f/b", "f/c"}},
			{"f/", "f/c", 0, nil},
			{"f/", "", 2, []string{"f/a", "f/b"}},
			{"f/", "e", 0, []string{"f/a", "f/b", "f/c"}},
			{"", "", 0, []string{"e/z", "f", "f/a", "f/b", "f/c", "fa", "g/a"}},
			{"h/", "", 0, nil},
		}
		for _, c := range cases {
			var got []string
			err := s.View(ctx, func(tx store.Tx) error {
				return tx.Scan(c.prefix, c.after, func(k string, v []byte) (bool, error) {
					if string(v) != k {
						return false, fmt.Errorf("value of %s = %q", k, v)
					}
					got = append(got, k)
					return c.limit == 0 || len(got) < c.limit, nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Scan(%q, after %q, limit %d) = %v, want %v", c.prefix, c.after, c.limit, got, c.want)
			}
		}
	})
	t.Run("SerializableIncrements", func(t *testing.T) {
		s := open(t, b)
		const workers, each = 8, 25
		stores := make([]store.Store, workers)
		for i := range stores {
			stores[i] = s
		}
		if err := IncrementConcurrently(ctx, stores, "counter", each); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "counter"); got != fmt.Sprint(workers*each) {
			t.Fatalf("counter = %s, want %d (lost updates)", got, workers*each)
		}
	})
	t.Run("DurableAcrossReopen", func(t *testing.T) {
		if b.Reopen == nil {
			t.Skip("backend has no Reopen")
		}
		s := b.Open(t)
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("durable", []byte("yes")) })
		s = b.Reopen(t, s)
		defer s.Close()
		if got := get(t, s, "durable"); got != "yes" {
			t.Fatalf("after reopen get = %q, want yes", got)
		}
	})
	t.Run("AnyValue", func(t *testing.T) {
		// Values are opaque bytes of any size (etcd refuses requests over 1.5 MiB: its backend keeps large values
		// out of line) and any content (a value may start with any byte, or be empty).
		big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16+3) // a little over 4 MiB
		big[len(big)/2] = 0x00
		values := map[string][]byte{"big": big, "nul": {0x00, 0x01, 'x'}, "nulnul": {0x00, 0x00}, "empty": {}, "plain": []byte("v")}
		s := open(t, b)
		ch := watch(t, s, "", 0)
		mustUpdate(t, s, func(tx store.Tx) error {
			for k, v := range values {
				if err := tx.Put(k, v); err != nil {
					return err
				}
			}
			return nil
		})
		check := func(how, k string, got []byte) {
			t.Helper()
			if !bytes.Equal(got, values[k]) {
				t.Errorf("%s %s: %d bytes, want the %d put", how, k, len(got), len(values[k]))
			}
		}
		for k := range values {
			check("Get", k, []byte(get(t, s, k)))
		}
		err := s.View(ctx, func(tx store.Tx) error {
			return tx.Scan("", "", func(k string, v []byte) (bool, error) { check("Scan", k, v); return true, nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range nextEvents(t, ch).Events {
			check("Watch", e.Key, e.Value)
		}
		// A large value replaced by a small one, and a small one by a large one, inside one transaction each.
		mustUpdate(t, s, func(tx store.Tx) error {
			if err := tx.Put("big", []byte("small now")); err != nil {
				return err
			}
			return tx.Put("plain", big)
		})
		values["big"], values["plain"] = []byte("small now"), big
		check("Get", "big", []byte(get(t, s, "big")))
		check("Get", "plain", []byte(get(t, s, "plain")))
	})
	runRevisions(t, b)
	runWatch(t, b)
}

func open(t *testing.T, b Backend) store.Store {
	t.Helper()
	s := b.Open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s store.Store, key string) string {
	t.Helper()
	var out string
	err := s.View(context.Background(), func(tx store.Tx) error {
		v, err := tx.Get(key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		out = string(v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// IncrementConcurrently runs one goroutine per store, each incrementing the JSON number at key each times in a
// read-modify-write Update, and returns the first error. Afterwards the key holds len(stores)*each unless the
// backend lost an update — across processes when the stores are separate clients of one backend.
func IncrementConcurrently(ctx context.Context, stores []store.Store, key string, each int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for _, s := range stores {
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, func(tx store.Tx) error {
					var n int
					if err := store.GetJSON(tx, key, &n); err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return store.PutJSON(tx, key, n+1)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}
