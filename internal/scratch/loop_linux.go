package scratch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// attaching serializes this process's attaches: LOOP_CTL_GET_FREE names the same free device to every caller until
// one of them configures it, so concurrent cold starts would otherwise race for one device and all but one lose.
var attaching sync.Mutex

func loopUsable() error {
	f, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("scratch volumes need loop devices: %w", err)
	}
	return f.Close()
}

// attach binds image to a free loop device with autoclear, and returns the device and an open handle on it that
// keeps it attached until closed.
func attach(image string) (string, *os.File, error) {
	backing, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return "", nil, fmt.Errorf("scratch: %w", err)
	}
	defer backing.Close() // the loop device keeps its own reference
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return "", nil, fmt.Errorf("scratch: %w", err)
	}
	defer ctl.Close()
	attaching.Lock()
	defer attaching.Unlock()
	// Another process may take the free device between asking and configuring it: ask again.
	for range 64 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return "", nil, fmt.Errorf("scratch: no free loop device: %w", err)
		}
		dev := "/dev/loop" + strconv.Itoa(n)
		loop, err := os.OpenFile(dev, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", nil, fmt.Errorf("scratch: %w", err)
		}
		cfg := unix.LoopConfig{Fd: uint32(backing.Fd()), Info: unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}}
		err = unix.IoctlLoopConfigure(int(loop.Fd()), &cfg)
		if err == nil {
			return dev, loop, nil
		}
		loop.Close()
		if !errors.Is(err, unix.EBUSY) {
			return "", nil, fmt.Errorf("scratch: attach %s: %w", dev, err)
		}
	}
	return "", nil, errors.New("scratch: could not attach a loop device: all busy")
}

// mountDetached mounts dev (FSType) nosuid, nodev, noatime without attaching it anywhere (fsmount(2)): the result is
// a handle a sandbox can attach at its /tmp. ext4's background zeroing of inode tables is off: the image is sparse,
// so they read as zeros already.
func mountDetached(dev string) (*os.File, error) {
	fsfd, err := unix.Fsopen(FSType, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "source", dev); err != nil {
		return nil, fmt.Errorf("fsconfig source: %w", err)
	}
	if err := unix.FsconfigSetFlag(fsfd, "noinit_itable"); err != nil {
		return nil, fmt.Errorf("fsconfig noinit_itable: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("fsconfig create: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOATIME)
	if err != nil {
		return nil, fmt.Errorf("fsmount: %w", err)
	}
	// A fresh ext4 has lost+found: not something a function's empty /tmp shows.
	if err := unix.Unlinkat(mfd, "lost+found", unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		unix.Close(mfd)
		return nil, fmt.Errorf("remove lost+found: %w", err)
	}
	return os.NewFile(uintptr(mfd), dev+" (detached mount)"), nil
}

// copySparse copies the file src to a new file dst, data only: holes stay holes, and the data is copied in the
// kernel (copy_file_range).
func copySparse(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := out.Truncate(fi.Size()); err != nil {
		return err
	}
	ifd, ofd := int(in.Fd()), int(out.Fd())
	for off := int64(0); off < fi.Size(); {
		data, err := unix.Seek(ifd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return err
		}
		hole, err := unix.Seek(ifd, data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		for r, w := data, data; r < hole; {
			n, err := unix.CopyFileRange(ifd, &r, ofd, &w, int(hole-r), 0)
			if err != nil {
				return err
			}
			if n == 0 {
				return io.ErrUnexpectedEOF
			}
		}
		off = hole
	}
	return nil
}
