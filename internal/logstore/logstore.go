// Package logstore keeps function logs: per log group (one per function, /aws/lambda/<name>), an append-only file
// of JSON lines with bounded retention (two generations of at most MaxBytes/2 each). Logs are best effort: they
// are written without fsync, and appends are gathered for up to FlushDelay before they are written (readers of
// the store always see them), so a crash may lose the last lines, never the control plane's state.
//
// # Locking
//
// Each group has two locks. Its short lock guards what is pending; Append (the invoke path) only encodes its
// events and adds them to the pending bytes under it, never touching a file. Its writer lock guards the file: a
// writer (the background flush FlushDelay after the first pending append, one started at once when flushBytes
// are pending, or a reader) takes the writer lock, takes everything pending under the short lock and writes it
// with the short lock released. So an append never waits for a write, one writer at a time keeps the lines of a
// group in append order, and a reader, which writes what is pending before it reads, sees every line appended
// before it started.
//
// # Errors
//
// A write that fails leaves what it could not write pending, ahead of later appends, for the next writer (as a
// failed rotation always did). A background write's error is logged with its group and counted (Stats); it is
// never returned by Append. A reader that forces a write gets that write's error. What is pending is bounded by
// maxPending: while a group cannot be written, appends beyond it are dropped, counted and reported by the
// Append whose events were dropped (ErrBacklogFull).
package logstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FlushDelay is how long appended events may wait in memory before they are written: a busy function's
// invocations then share one write instead of paying for one each.
const FlushDelay = 20 * time.Millisecond

// flushBytes is how much may wait before a write starts at once.
const flushBytes = 64 << 10

// maxPending bounds what a group keeps in memory while it cannot be written.
const maxPending = 4 << 20

// ErrBacklogFull is returned (wrapped) by Append when its events were dropped because its group's writes have
// been failing and maxPending bytes already wait.
var ErrBacklogFull = errors.New("log backlog full, events dropped")

// Event is one log line.
type Event struct {
	Timestamp     int64  `json:"t"` // Unix milliseconds
	IngestionTime int64  `json:"i"`
	Stream        string `json:"s"`
	Message       string `json:"m"`
}

// DefaultMaxBytes is the retention per log group.
const DefaultMaxBytes = 16 << 20

// Store holds every log group under one directory.
type Store struct {
	dir      string
	maxBytes int64
	log      *slog.Logger

	// Seams for tests: the file write and the flush timer.
	write     func(f *os.File, b []byte) (int, error)
	afterFunc func(d time.Duration, fn func())

	flushErrors   atomic.Int64
	droppedEvents atomic.Int64

	mu     sync.Mutex
	groups map[string]*group
}

type group struct {
	name string

	// wmu is the writer lock: held for a whole write, never by Append. Taken before mu, never after.
	wmu    sync.Mutex
	f      *os.File
	size   int64 // bytes in the current generation's file
	closed bool
	failed bool // the last background write failed (logged once until a write succeeds)

	// mu is the short lock: held only to change what follows.
	mu        sync.Mutex
	pending   []byte // appended, not yet written
	scheduled bool   // a background write is due (timer set or started)
}

// Stats counts what went wrong with background writes.
type Stats struct {
	FlushErrors   int64 // writes that failed (their lines stayed pending)
	DroppedEvents int64 // events Append dropped because maxPending bytes were waiting
}

// Open creates dir (0700) if needed. Background write errors are logged to slog.Default() until SetLogger.
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{
		dir: dir, maxBytes: maxBytes, log: slog.Default(), groups: map[string]*group{},
		write:     (*os.File).Write,
		afterFunc: func(d time.Duration, fn func()) { time.AfterFunc(d, fn) },
	}, nil
}

// SetLogger sets where background write errors are logged; call it before the store is used.
func (s *Store) SetLogger(log *slog.Logger) {
	if log != nil {
		s.log = log
	}
}

// Stats returns the store's error counters.
func (s *Store) Stats() Stats {
	return Stats{FlushErrors: s.flushErrors.Load(), DroppedEvents: s.droppedEvents.Load()}
}

// fileName maps a log group name to a file (slashes are not allowed in file names).
func (s *Store) fileName(logGroup string) string {
	return filepath.Join(s.dir, strings.ReplaceAll(strings.TrimPrefix(logGroup, "/"), "/", "_")+".log")
}

func (s *Store) group(logGroup string) (*group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.groups[logGroup]; ok {
		return g, nil
	}
	f, err := os.OpenFile(s.fileName(logGroup), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	g := &group{name: logGroup, f: f, size: fi.Size()}
	s.groups[logGroup] = g
	return g, nil
}

// Append adds events to a log group. It never writes: a background write follows within FlushDelay (at once
// when flushBytes are pending), and readers write what is pending first. Its error is about its own events
// (they could not be encoded, the group's file could not be opened, or ErrBacklogFull), never about an earlier
// background write.
func (s *Store) Append(logGroup string, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	g, err := s.group(logGroup)
	if err != nil {
		return err
	}
	size := 0
	for _, e := range events {
		size += len(e.Stream) + len(e.Message) + 64
	}
	buf := make([]byte, 0, size)
	for _, e := range events {
		buf = append(appendEvent(buf, e), '\n')
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) > 0 && len(g.pending)+len(buf) > maxPending {
		s.droppedEvents.Add(int64(len(events)))
		return fmt.Errorf("log group %s: %d events: %w", logGroup, len(events), ErrBacklogFull)
	}
	g.pending = append(g.pending, buf...)
	switch {
	case g.scheduled:
	case len(g.pending) >= flushBytes:
		g.scheduled = true
		go s.background(g)
	default:
		g.scheduled = true
		s.afterFunc(FlushDelay, func() { s.background(g) })
	}
	return nil
}

// background writes what is pending for g; an error is logged (once until a write succeeds) and counted, and
// what was not written stays pending for the next writer.
func (s *Store) background(g *group) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if err := s.writeLocked(g, true); err != nil {
		if !g.failed {
			s.log.Warn("write logs; lines kept pending", "group", g.name, "err", err)
		}
		g.failed = true
	}
}

// writeLocked writes what is pending, rotating when the current generation is full. g.wmu must be held, g.mu
// must not be. background clears the schedule so that the next append sets a new one.
func (s *Store) writeLocked(g *group, background bool) error {
	g.mu.Lock()
	if background {
		g.scheduled = false
	}
	buf := g.pending
	g.pending = nil
	g.mu.Unlock()
	if len(buf) == 0 || g.closed {
		return nil
	}
	n, err := s.writeFile(g, buf)
	if err != nil {
		s.flushErrors.Add(1)
		g.mu.Lock()
		g.pending = append(buf[n:], g.pending...) // ahead of what was appended meanwhile
		g.mu.Unlock()
		return fmt.Errorf("log group %s: %w", g.name, err)
	}
	g.mu.Lock()
	if g.pending == nil && cap(buf) <= 2*flushBytes {
		g.pending = buf[:0] // reuse the buffer when nothing was appended meanwhile
	}
	g.mu.Unlock()
	if g.failed {
		s.log.Info("writing logs again", "group", g.name)
		g.failed = false
	}
	return nil
}

// writeFile appends buf to g's current generation, rotating first when it is full, and returns how much of buf
// was written. g.wmu must be held.
func (s *Store) writeFile(g *group, buf []byte) (int, error) {
	if g.f == nil || g.size+int64(len(buf)) > s.maxBytes/2 {
		if err := s.rotateLocked(g, g.f != nil); err != nil {
			return 0, err
		}
	}
	n, err := s.write(g.f, buf)
	g.size += int64(n)
	return n, err
}

// rotateLocked starts a new generation (full: the current file becomes the previous one) or, after a failed
// rotation left the group without a file, reopens the current one. g.wmu must be held.
func (s *Store) rotateLocked(g *group, full bool) error {
	path := s.fileName(g.name)
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if full {
		g.f.Close()
		g.f = nil
		if err := os.Rename(path, path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	g.f, g.size = f, fi.Size()
	return nil
}

// flush writes what is pending for logGroup, so that reading its files sees every append; its error is this
// write's.
func (s *Store) flush(logGroup string) error {
	s.mu.Lock()
	g, ok := s.groups[logGroup]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return s.writeLocked(g, false)
}

// flushAll writes what is pending for every group.
func (s *Store) flushAll() error {
	s.mu.Lock()
	groups := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
	}
	s.mu.Unlock()
	var first error
	for _, g := range groups {
		g.wmu.Lock()
		if err := s.writeLocked(g, false); err != nil && first == nil {
			first = err
		}
		g.wmu.Unlock()
	}
	return first
}

// Query selects events.
type Query struct {
	StreamPrefix string   // only streams starting with this
	Streams      []string // only these streams (if non-empty)
	Start, End   int64    // Unix ms, inclusive start, exclusive end; 0 = unbounded
	Contains     string   // substring filter on the message ("" = all)
	After        int64    // skip this many matching events (pagination offset)
	Limit        int      // at most this many (0 = 10000)
	// FileOrder leaves a page in the order its events were appended rather than sorting it by time: a cluster
	// merges nodes' pages as prefixes of their files (Cluster.Page).
	FileOrder bool
}

// Find returns matching events in time order and the offset of the next page (0 when done).
func (s *Store) Find(logGroup string, q Query) ([]Event, int64, error) {
	if q.Limit <= 0 || q.Limit > 10000 {
		q.Limit = 10000
	}
	if err := s.flush(logGroup); err != nil {
		return nil, 0, err
	}
	var out []Event
	var skipped int64
	more := false
	path := s.fileName(logGroup)
	for _, p := range []string{path + ".1", path} {
		err := scan(p, func(e Event) bool {
			if !q.match(e) {
				return true
			}
			if skipped < q.After {
				skipped++
				return true
			}
			if len(out) == q.Limit {
				more = true
				return false
			}
			out = append(out, e)
			return true
		})
		if err != nil {
			return nil, 0, err
		}
		if more {
			break
		}
	}
	if !q.FileOrder {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	}
	if more {
		return out, q.After + int64(len(out)), nil
	}
	return out, 0, nil
}

func (q Query) match(e Event) bool {
	if q.StreamPrefix != "" && !strings.HasPrefix(e.Stream, q.StreamPrefix) {
		return false
	}
	if len(q.Streams) > 0 {
		found := false
		for _, s := range q.Streams {
			found = found || s == e.Stream
		}
		if !found {
			return false
		}
	}
	if q.Start != 0 && e.Timestamp < q.Start || q.End != 0 && e.Timestamp >= q.End {
		return false
	}
	return q.Contains == "" || strings.Contains(e.Message, q.Contains)
}

func scan(path string, fn func(Event) bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a torn last line after a crash
		}
		if !fn(e) {
			return nil
		}
	}
	return sc.Err()
}

// StreamInfo describes one log stream of a group.
type StreamInfo struct {
	Name                  string
	FirstEvent, LastEvent int64
	StoredBytes           int64
}

// Streams lists the streams of a group, newest last event first.
func (s *Store) Streams(logGroup string) ([]StreamInfo, error) {
	if err := s.flush(logGroup); err != nil {
		return nil, err
	}
	byName := map[string]*StreamInfo{}
	path := s.fileName(logGroup)
	for _, p := range []string{path + ".1", path} {
		if err := scan(p, func(e Event) bool {
			si, ok := byName[e.Stream]
			if !ok {
				si = &StreamInfo{Name: e.Stream, FirstEvent: e.Timestamp}
				byName[e.Stream] = si
			}
			si.LastEvent = max(si.LastEvent, e.Timestamp)
			si.StoredBytes += int64(len(e.Message))
			return true
		}); err != nil {
			return nil, err
		}
	}
	out := make([]StreamInfo, 0, len(byName))
	for _, si := range byName {
		out = append(out, *si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastEvent > out[j].LastEvent })
	return out, nil
}

// Close writes what is pending and closes open files. A background write due later finds its group closed and
// writes nothing.
func (s *Store) Close() error {
	err := s.flushAll()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		g.wmu.Lock()
		if g.f != nil {
			g.f.Close()
			g.f = nil
		}
		g.closed = true
		g.wmu.Unlock()
	}
	s.groups = map[string]*group{}
	return err
}
