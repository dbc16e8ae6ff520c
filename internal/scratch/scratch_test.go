package scratch

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func openPool(t *testing.T) *Pool {
	t.Helper()
	p, err := Open(filepath.Join(t.TempDir(), "scratch"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("no scratch volumes on this host: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestTakeGivesFreshVolumes: every volume is its own device, of the asked size, and Release returns its space.
func TestTakeGivesFreshVolumes(t *testing.T) {
	p := openPool(t)
	seen := map[string]bool{}
	var vols []*Volume
	for _, size := range []int{DefaultSizeMB, DefaultSizeMB, 600, 10240} {
		v, err := p.Take(t.Context(), size)
		if err != nil {
			t.Fatal(err)
		}
		if seen[v.Device] {
			t.Fatalf("device %s handed out twice", v.Device)
		}
		seen[v.Device] = true
		fi, err := os.Stat(v.image)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() < int64(size)<<20 {
			t.Errorf("image of a %d MB volume is only %d bytes", size, fi.Size())
		}
		// Sparse: formatting wrote a few MB at most, whatever the size.
		if used := fi.Sys().(*syscall.Stat_t).Blocks * 512; used > 64<<20 {
			t.Errorf("a fresh %d MB volume uses %d bytes of disk", size, used)
		}
		vols = append(vols, v)
	}
	for _, v := range vols {
		v.Release()
	}
	p.Close() // lets every released volume go before it returns
	for _, v := range vols {
		if _, err := os.Stat(v.image); !os.IsNotExist(err) {
			t.Errorf("Release left %s behind (%v)", v.image, err)
		}
	}
}

// TestConcurrentTakes: many cold starts at once each get a volume of their own (the kernel names the same free loop
// device to every caller who asks before one configures it).
func TestConcurrentTakes(t *testing.T) {
	p := openPool(t)
	const n = 48
	vols := make([]*Volume, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { vols[i], errs[i] = p.Take(t.Context(), DefaultSizeMB) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, v := range vols {
		if errs[i] != nil {
			t.Errorf("take %d: %v", i, errs[i])
			continue
		}
		if seen[v.Device] {
			t.Errorf("device %s handed out twice", v.Device)
		}
		seen[v.Device] = true
		defer v.Release()
	}
}

// TestOpenClearsLeftovers: a server's predecessor's images are removed when the pool opens.
func TestOpenClearsLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scratch")
	os.MkdirAll(dir, 0o700)
	stale := filepath.Join(dir, "7.img")
	os.WriteFile(stale, []byte("old"), 0o600)
	p, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("no scratch volumes on this host: %v", err)
	}
	defer p.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a previous server's image survived Open")
	}
}

func TestImageBytesLeavesRoomForTheFileSystem(t *testing.T) {
	for _, mb := range []int{512, 1024, 10240} {
		if got := imageBytes(mb); got < int64(mb)<<20+int64(mb)<<20/64 {
			t.Errorf("imageBytes(%d) = %d: no room for ext4's tables", mb, got)
		}
	}
}
