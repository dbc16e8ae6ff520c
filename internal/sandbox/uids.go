package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Sandbox uids are what keeps environments apart (kill-by-uid, RLIMIT_NPROC, the Runtime API's peer check), so two
// Sluice servers on one host must never hand out the same uid. Each server leases a block of uids for its lifetime:
// an exclusive flock(2) on a file per block, which the kernel drops when the server exits, however it exits.
const (
	uidLeaseFirst  = 610000 // the first sandbox uid: far above the uids distributions give to people and daemons
	uidLeaseSize   = 16384  // uids per block: more environments than one host runs at once
	uidLeaseBlocks = 64
)

// UIDLease is a block of uids [Base, Base+Count) that no other Sluice server on this host uses while it is held.
type UIDLease struct {
	Base, Count uint32
	f           *os.File
}

// LeaseUIDs takes the first free block of sandbox uids on this host. The lock files live in /run/sluice (or, for
// a server that cannot write there, the temporary directory), the same place for every server on the host.
func LeaseUIDs() (*UIDLease, error) {
	dir := "/run/sluice"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		dir = filepath.Join(os.TempDir(), "sluice-uids")
		if err := os.MkdirAll(dir, 0o1777); err != nil {
			return nil, fmt.Errorf("sandbox: uid lease directory: %w", err)
		}
	}
	return leaseUIDsIn(dir)
}

func leaseUIDsIn(dir string) (*UIDLease, error) {
	for block := range uidLeaseBlocks {
		base := uint32(uidLeaseFirst + block*uidLeaseSize)
		f, err := os.OpenFile(filepath.Join(dir, "uids-"+strconv.FormatUint(uint64(base), 10)+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("sandbox: uid lease: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			f.Truncate(0)
			f.WriteString(strconv.Itoa(os.Getpid()) + "\n") // for people looking: which server holds the block
			return &UIDLease{Base: base, Count: uidLeaseSize, f: f}, nil
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sandbox: uid lease: %w", err)
		}
	}
	return nil, fmt.Errorf("sandbox: all %d blocks of sandbox uids are held by other Sluice servers on this host", uidLeaseBlocks)
}

// Release gives the block back (exiting does too).
func (l *UIDLease) Release() error { return l.f.Close() }
