package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	bolterrors "go.etcd.io/bbolt/errors"
)

func TestLockHolders(t *testing.T) {
	db := fileID{major: 0xfe, minor: 0, inode: 9994971}
	files := map[fileID]bool{db: true}
	for _, tc := range []struct {
		name  string
		locks string
		want  []int
	}{
		{"the holder", "1: FLOCK  ADVISORY  WRITE 19608 fe:00:9994971 0 EOF\n", []int{19608}},
		{"another file's holder", "1: FLOCK  ADVISORY  WRITE 19608 fe:00:745502 0 EOF\n", nil},
		{"another device's file", "1: FLOCK  ADVISORY  WRITE 19608 fe:01:9994971 0 EOF\n", nil},
		{"a waiter holds nothing", "1: FLOCK  ADVISORY  WRITE 19608 fe:00:9994971 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 4242 fe:00:9994971 0 EOF\n", []int{19608}},
		{"itself", "1: FLOCK  ADVISORY  WRITE 4242 fe:00:9994971 0 EOF\n", nil},
		{"outside our pid namespace", "2: OFDLCK ADVISORY  WRITE -1 fe:00:9994971 0 EOF\n", nil},
		{"a shared lock, twice", "1: FLOCK  ADVISORY  READ 7 fe:00:9994971 0 EOF\n2: FLOCK  ADVISORY  READ 7 fe:00:9994971 0 EOF\n", []int{7}},
	} {
		if got := lockHolders(strings.NewReader(tc.locks), files, 4242); !slices.Equal(got, tc.want) {
			t.Errorf("%s: lockHolders = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLockHoldersFindsARealLock takes an flock, as bbolt does on its file, and finds this process in /proc/locks.
func TestLockHoldersFindsARealLock(t *testing.T) {
	locks, err := os.Open("/proc/locks")
	if err != nil {
		t.Skip("no /proc/locks:", err)
	}
	defer locks.Close()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "sluice.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if got := lockHolders(locks, dataDirFiles(dir), -1); !slices.Equal(got, []int{os.Getpid()}) {
		t.Fatalf("lockHolders = %v, want this process %d", got, os.Getpid())
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	timeout := fmt.Errorf("open store %s: %w", filepath.Join(dir, "sluice.db"), bolterrors.ErrTimeout)
	err := dataDirInUse(dir, timeout)
	want := "the data dir " + dir + " is in use by another sluice serve"
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; stop it or pick another --data-dir") || !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("dataDirInUse(timeout) = %q, want %q…; stop it or pick another --data-dir", err, want)
	}
	other := errors.New("listen: address already in use")
	if got := dataDirInUse(dir, other); got != other {
		t.Errorf("dataDirInUse(%v) = %v, want it unchanged", other, got)
	}
	if got := dataDirInUse(dir, nil); got != nil {
		t.Errorf("dataDirInUse(nil) = %v", got)
	}
}
