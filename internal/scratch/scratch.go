// Package scratch owns the disk behind each execution environment's /tmp: a file system of its own, of the
// environment's EphemeralStorage size, so that a function filling /tmp gets ENOSPC at that size — and neither the
// host's disk nor another function notices. (A per-file limit cannot bound the total; a tmpfs would be bounded but
// charged to the function's memory, and Lambda's /tmp is not memory.)
//
// A volume is a sparse image file in the pool's directory, formatted ext4 without a journal (scratch space needs
// no crash consistency; the format takes ~2% of the size) — a sparse copy of a template formatted once per size —
// attached to a loop device with autoclear. The sandbox mounts the device at /tmp inside its private mount namespace, never on the host, so
// nothing is left mounted when a server dies. A volume serves one environment: Release closes the device (the
// kernel detaches it once the sandbox's namespace is gone) and deletes the image, so the space is returned and the
// next environment starts from a fresh file system.
//
// Copying, attaching and mounting cost 2–3 ms, mostly in the kernel, so the pool keeps spares of each size in use,
// refilled in the background; a cold start takes one in microseconds, and one that finds none makes its own. Needs root, /dev/loop-control and mkfs.ext4 (e2fsprogs).
package scratch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// FSType is the file system of every volume.
const FSType = "ext4"

// Spares kept per size: enough for a burst of cold starts of the default size while the refill catches up.
const (
	defaultSpares = 8
	otherSpares   = 1
	// DefaultSizeMB is Lambda's default EphemeralStorage, whose spares are made before anyone asks.
	DefaultSizeMB = 512
	// maxSizes bounds how many distinct sizes keep spares: the least recently used stop being refilled.
	maxSizes = 8
)

// workerNice is the scheduling priority of the pool's worker thread, which formats spares and lets volumes go: that
// work (a process to format, a file system's teardown in the kernel) must not take CPU from the cold starts and
// invocations it serves.
const workerNice = 10

// Volume is one environment's /tmp file system: Device holds it, formatted FSType, empty. Mount, when not nil, is
// the file system already mounted — detached, attached nowhere — so that a sandbox attaches it in microseconds
// (move_mount) instead of mounting the device on the cold start's path (a millisecond or more).
type Volume struct {
	Device string
	Mount  *os.File
	SizeMB int
	image  string
	loop   *os.File // holds the loop device attached (autoclear: detached after the last close and unmount)
	pool   *Pool    // whose worker lets it go, or nil
}

// Pool makes volumes and keeps spares.
type Pool struct {
	dir  string
	mkfs string
	log  *slog.Logger
	seq  atomic.Uint64

	tplMu     sync.Mutex
	templates map[int]bool // sizes whose template image is formatted

	mu      sync.Mutex
	spares  map[int][]*Volume
	wanted  map[int]int    // size → spares to keep
	lastUse map[int]uint64 // size → sequence number of its last Take, to drop the least recently used size
	uses    uint64
	closed  bool
	retired []*Volume // released by their environments, to be let go by the worker
	wake    chan struct{}
	done    chan struct{}
}

// Open prepares a pool in dir (removing what a previous server left there), checks that volumes can be made and
// attached on this host — an error says why not — and starts making spares of the default size.
func Open(dir string, log *slog.Logger) (*Pool, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("scratch volumes need root (loop devices and mounts)")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		return nil, errors.New("scratch volumes need mkfs.ext4 (Debian package e2fsprogs)")
	}
	if err := loopUsable(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("scratch: clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("scratch: %w", err)
	}
	p := &Pool{dir: dir, mkfs: mkfs, log: log, templates: map[int]bool{}, spares: map[int][]*Volume{}, wanted: map[int]int{DefaultSizeMB: defaultSpares},
		lastUse: map[int]uint64{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	// One volume now, to find out whether this host can make them at all.
	v, err := p.make(DefaultSizeMB)
	if err != nil {
		return nil, err
	}
	p.spares[DefaultSizeMB] = []*Volume{v}
	go p.refill()
	p.kick()
	return p, nil
}

// Take returns an empty volume of sizeMB: a spare if one is ready, else one made now (milliseconds).
func (p *Pool) Take(ctx context.Context, sizeMB int) (*Volume, error) {
	if sizeMB <= 0 {
		return nil, fmt.Errorf("scratch: invalid size %d MB", sizeMB)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("scratch: pool closed")
	}
	p.uses++
	p.lastUse[sizeMB] = p.uses
	if _, ok := p.wanted[sizeMB]; !ok {
		p.wanted[sizeMB] = otherSpares
		p.forgetOldSizesLocked()
	}
	var v *Volume
	if s := p.spares[sizeMB]; len(s) > 0 {
		v, p.spares[sizeMB] = s[len(s)-1], s[:len(s)-1]
	}
	p.mu.Unlock()
	p.kick()
	if v != nil {
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.make(sizeMB)
}

// forgetOldSizesLocked stops keeping spares for the least recently used sizes beyond maxSizes.
func (p *Pool) forgetOldSizesLocked() {
	for len(p.wanted) > maxSizes {
		oldest, at := 0, ^uint64(0)
		for size := range p.wanted {
			if size != DefaultSizeMB && p.lastUse[size] < at {
				oldest, at = size, p.lastUse[size]
			}
		}
		delete(p.wanted, oldest)
		delete(p.lastUse, oldest)
		p.retired = append(p.retired, p.spares[oldest]...)
		delete(p.spares, oldest)
	}
}

func (p *Pool) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// refill lets retired volumes go and keeps the wanted spares, one volume at a time (formatting is I/O and a process:
// no stampede), on a thread of its own at workerNice: the nice value is per thread, and the formatting process
// inherits its forking thread's.
func (p *Pool) refill() {
	defer close(p.done)
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, workerNice)
	for range p.wake {
		for {
			p.mu.Lock()
			retired := p.retired
			p.retired = nil
			p.mu.Unlock()
			for _, v := range retired {
				v.let()
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				return
			}
			size := 0
			for s, n := range p.wanted {
				if len(p.spares[s]) < n {
					size = s
					break
				}
			}
			p.mu.Unlock()
			if size == 0 {
				break
			}
			v, err := p.make(size)
			if err != nil {
				p.log.Warn("making a scratch volume", "size_mb", size, "err", err)
				break // the next Take tries again (and makes its own if need be)
			}
			p.mu.Lock()
			if p.closed || len(p.spares[size]) >= p.wanted[size] {
				p.mu.Unlock()
				v.let()
				continue
			}
			p.spares[size] = append(p.spares[size], v)
			p.mu.Unlock()
		}
	}
}

// Close releases the spares and stops the refill; volumes taken stay valid until released.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	spares, retired := p.spares, p.retired
	p.spares, p.retired = nil, nil
	close(p.wake)
	p.mu.Unlock()
	<-p.done
	for _, s := range spares {
		for _, v := range s {
			v.let()
		}
	}
	for _, v := range retired {
		v.let()
	}
}

// imageBytes is the size of a volume's image: the asked size plus what ext4 keeps for itself with the options below
// (inode tables and bitmaps, measured at 8 MB + 1.7%), so that the function can write at least sizeMB (and at most
// about 0.5% more).
func imageBytes(sizeMB int) int64 {
	mb := int64(sizeMB)
	return (mb + mb/50 + 16) << 20
}

// make copies a fresh image of sizeMB from its size's template and attaches and mounts it: a couple of milliseconds,
// mostly in the kernel, so that even a cold start that finds no spare pays little.
func (p *Pool) make(sizeMB int) (*Volume, error) {
	tpl, err := p.template(sizeMB)
	if err != nil {
		return nil, err
	}
	image := filepath.Join(p.dir, strconv.FormatUint(p.seq.Add(1), 10)+".img")
	if err := copySparse(tpl, image); err != nil {
		os.Remove(image)
		return nil, fmt.Errorf("scratch: %w", err)
	}
	dev, loop, err := attach(image)
	if err != nil {
		os.Remove(image)
		return nil, err
	}
	v := &Volume{Device: dev, SizeMB: sizeMB, image: image, loop: loop, pool: p}
	if v.Mount, err = mountDetached(dev); err != nil {
		p.log.Debug("scratch volume not pre-mounted; the sandbox mounts the device", "device", dev, "err", err)
	}
	return v, nil
}

// template returns the path of an empty, formatted image of sizeMB, formatting it the first time (a process and
// ~10 ms); volumes are sparse copies of it (the format writes a few hundred kilobytes, whatever the size).
func (p *Pool) template(sizeMB int) (string, error) {
	p.tplMu.Lock()
	defer p.tplMu.Unlock()
	path := filepath.Join(p.dir, "template-"+strconv.Itoa(sizeMB)+".img")
	if p.templates[sizeMB] {
		return path, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("scratch: %w", err)
	}
	err = f.Truncate(imageBytes(sizeMB)) // sparse: disk is used as the function writes
	f.Close()
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("scratch: %w", err)
	}
	// No journal (scratch data does not outlive the environment), no room to grow, no reserved blocks, lazily
	// initialised tables (a sparse image reads as zeros), no discard pass over the image.
	out, err := exec.Command(p.mkfs, "-q", "-F", "-m", "0", "-O", "^has_journal,^resize_inode", "-E", "lazy_itable_init=1,nodiscard", path).CombinedOutput()
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("scratch: mkfs.ext4: %v: %s", err, out)
	}
	p.templates[sizeMB] = true
	return path, nil
}

// Release gives the volume's space back, soon, on the pool's worker: the image is deleted and the loop device let go
// (the kernel detaches it once the sandbox that mounted it is gone). Call it once, after the environment's processes
// are dead.
func (v *Volume) Release() {
	if p := v.pool; p != nil {
		p.mu.Lock()
		if !p.closed {
			p.retired = append(p.retired, v)
			p.mu.Unlock()
			p.kick()
			return
		}
		p.mu.Unlock()
	}
	v.let()
}

// let closes the volume's handles and deletes its image. Closing the mount tears the file system down in the
// kernel, in the closing thread (milliseconds).
func (v *Volume) let() {
	if v.Mount != nil {
		v.Mount.Close()
		v.Mount = nil
	}
	if v.loop != nil {
		v.loop.Close()
		v.loop = nil
	}
	os.Remove(v.image)
}
