package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	paths := map[store.Store]string{}
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Store {
			p := filepath.Join(t.TempDir(), "sluice.db")
			s, err := bolt.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			paths[s] = p
			return s
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			p := paths[s]
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := bolt.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			return s2
		},
	})
}
