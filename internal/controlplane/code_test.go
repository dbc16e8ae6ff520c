package controlplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/internal/codestore"
)

// blockingCode is a code store whose Extract waits for release (a package being fetched from a slow peer).
type blockingCode struct {
	*codestore.Store
	release chan struct{}
}

func (b blockingCode) Extract(sha string, lim codestore.Limits) (string, error) {
	<-b.release
	return b.Store.Extract(sha, lim)
}

// EnsureCode extracts a package this node holds but has not extracted (one another node settled), and stops
// waiting when its context ends.
func TestEnsureCode(t *testing.T) {
	code, err := codestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info, err := code.PutZip(makeZip(t, "ok"), codestore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := code.CodeDir(info.Sha256); ok {
		t.Fatal("extracted before EnsureCode")
	}
	t.Run("extracts", func(t *testing.T) {
		svc := New(Options{Code: code})
		dir, err := svc.EnsureCode(context.Background(), info.Sha256)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := code.CodeDir(info.Sha256); dir != want {
			t.Fatalf("dir %q, want %q", dir, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown package", func(t *testing.T) {
		svc := New(Options{Code: code})
		other, _ := codestore.Open(t.TempDir())
		missing, err := other.PutZip(makeZip(t, "elsewhere"), codestore.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EnsureCode(context.Background(), missing.Sha256); !errors.Is(err, codestore.ErrNotFound) {
			t.Fatalf("EnsureCode: %v, want ErrNotFound", err)
		}
	})
	t.Run("the caller stops waiting", func(t *testing.T) {
		other, _ := codestore.Open(t.TempDir())
		pending, err := other.PutZip(makeZip(t, "slow"), codestore.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		slow := blockingCode{Store: other, release: make(chan struct{})}
		svc := New(Options{Code: slow})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := svc.EnsureCode(ctx, pending.Sha256); !errors.Is(err, context.Canceled) {
			t.Fatalf("EnsureCode: %v, want context.Canceled", err)
		}
		close(slow.release) // the extraction goes on and lands for the next caller
		if dir, err := svc.EnsureCode(context.Background(), pending.Sha256); err != nil || dir == "" {
			t.Fatalf("EnsureCode after release: %q, %v", dir, err)
		}
	})
}
