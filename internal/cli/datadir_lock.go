package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sluice-dev/sluice/internal/server"
)

// dataDirInUse turns the store's "timeout" — bbolt waited in vain for the lock another server holds on its file —
// into what happened and what to do, naming the holder when /proc/locks shows it.
func dataDirInUse(dataDir string, err error) error {
	if !errors.Is(err, bolterrors.ErrTimeout) && !errors.Is(err, server.ErrDataDirInUse) {
		return err
	}
	holder := ""
	if f, oerr := os.Open("/proc/locks"); oerr == nil {
		pids := lockHolders(f, dataDirFiles(dataDir), os.Getpid())
		f.Close()
		if len(pids) > 0 {
			holder = fmt.Sprintf(" (pid %s)", strings.Trim(fmt.Sprint(pids), "[]"))
		}
	}
	return &dataDirInUseError{msg: fmt.Sprintf("the data dir %s is in use by another sluice serve%s; stop it or pick another --data-dir", dataDir, holder), err: err}
}

type dataDirInUseError struct {
	msg string
	err error
}

func (e *dataDirInUseError) Error() string { return e.msg }
func (e *dataDirInUseError) Unwrap() error { return e.err }

// fileID is a file as /proc/locks names it: device major and minor, and inode.
type fileID struct {
	major, minor uint64
	inode        uint64
}

// dataDirFiles identifies the files directly in dataDir: the store's file is among them, whatever its name.
func dataDirFiles(dataDir string) map[fileID]bool {
	ids := map[fileID]bool{}
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dataDir, e.Name()))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			dev := uint64(st.Dev)
			// Linux's dev_t encoding (glibc's gnu_dev_major/gnu_dev_minor).
			ids[fileID{major: (dev>>8)&0xfff | (dev>>32)&^0xfff, minor: dev&0xff | (dev>>12)&^0xff, inode: st.Ino}] = true
		}
	}
	return ids
}

// lockHolders reads /proc/locks ("1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF") and returns the pids, other than
// self, that hold a lock on one of files. Waiters ("1: -> FLOCK …") hold nothing; pid 0 is outside our namespace.
func lockHolders(locks io.Reader, files map[fileID]bool, self int) []int {
	var pids []int
	seen := map[int]bool{}
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] == "->" {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		dev := strings.Split(f[5], ":")
		if err != nil || pid <= 0 || pid == self || seen[pid] || len(dev) != 3 {
			continue
		}
		major, err1 := strconv.ParseUint(dev[0], 16, 64)
		minor, err2 := strconv.ParseUint(dev[1], 16, 64)
		inode, err3 := strconv.ParseUint(dev[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || !files[fileID{major, minor, inode}] {
			continue
		}
		seen[pid] = true
		pids = append(pids, pid)
	}
	return pids
}
