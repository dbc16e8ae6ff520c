package buckets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// TestDiskFull: with the blob directory on a 1 MiB file system, an upload that does not fit answers a clear 503 and
// stores nothing, what was acknowledged before reads back whole, and once space is freed uploads work again.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	s3dir := filepath.Join(dir, "s3")
	os.MkdirAll(s3dir, 0o700)
	if err := syscall.Mount("tmpfs", s3dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(s3dir, syscall.MNT_DETACH) })
	db, err := bolt.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blobstore.Open(s3dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, blobs: blobs, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = New(Options{Store: db, Blobs: blobstore.Single{Store: blobs}, Region: "us-east-1", Now: func() time.Time { return f.now }})
	f.bucket("full")
	kept := strings.Repeat("k", 300<<10)
	f.put("full", "kept", kept)
	big := bytes.Repeat([]byte("x"), 2<<20)
	_, err = f.svc.PutObject(ctx, "full", "big", ObjectMeta{}, Digests{}, PutConditions{}, bytes.NewReader(big), int64(len(big)))
	if faultCode(err) != s3.CodeServiceUnavailable || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("upload past the disk: %v, want 503 ServiceUnavailable naming the full disk", err)
	}
	if _, err := f.svc.GetObject(ctx, "full", "big", ""); faultCode(err) != s3.CodeNoSuchKey {
		t.Errorf("the refused upload is visible: %v", err)
	}
	if got, err := f.read("full", "kept", ""); err != nil || got != kept {
		t.Errorf("the object stored before: %d bytes, %v", len(got), err)
	}
	if entries, _ := os.ReadDir(filepath.Join(s3dir, "tmp")); len(entries) != 0 {
		t.Errorf("%d partial files left in tmp/", len(entries))
	}
	f.put("full", "small", "fits")
}
