// Package logstore keeps function logs: per log group (one per function, /aws/lambda/<name>), an append-only file
// of JSON lines with bounded retention (two generations of at most MaxBytes/2 each). Logs are best effort: they
// are written without fsync, and appends are gathered for up to FlushDelay before they are written (readers of
// the store always see them), so a crash may lose the last lines, never the control plane's state.
package logstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// FlushDelay is how long appended events may wait in memory before they are written: a busy function's
// invocations then share one write instead of paying for one each.
const FlushDelay = 20 * time.Millisecond

// flushBytes is how much may wait before an append writes at once.
const flushBytes = 64 << 10

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

	mu     sync.Mutex
	groups map[string]*group
}

type group struct {
	name      string
	mu        sync.Mutex
	f         *os.File
	size      int64  // bytes in the current generation's file
	pending   []byte // appended, not yet written
	scheduled bool   // a flush is due within FlushDelay
	err       error  // what the last background write failed with, reported by the next call
}

// Open creates dir (0700) if needed.
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir, maxBytes: maxBytes, groups: map[string]*group{}}, nil
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

// Append writes events to a log group, rotating when the current generation is full.
func (s *Store) Append(logGroup string, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	g, err := s.group(logGroup)
	if err != nil {
		return err
	}
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = append(g.pending, buf...)
	if err := g.err; err != nil {
		g.err = nil
		return err
	}
	switch {
	case len(g.pending) >= flushBytes:
		return s.writeLocked(g)
	case !g.scheduled:
		g.scheduled = true
		time.AfterFunc(FlushDelay, func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if err := s.writeLocked(g); err != nil {
				g.err = err
			}
		})
	}
	return nil
}

// writeLocked writes what is pending, rotating when the current generation is full. g.mu must be held.
func (s *Store) writeLocked(g *group) error {
	g.scheduled = false
	if len(g.pending) == 0 {
		return nil
	}
	if g.f == nil || g.size+int64(len(g.pending)) > s.maxBytes/2 {
		if err := s.rotateLocked(g, g.f != nil); err != nil {
			return err // what is pending stays for the next attempt
		}
	}
	n, err := g.f.Write(g.pending)
	g.size += int64(n)
	g.pending = g.pending[:0]
	return err
}

// rotateLocked starts a new generation (full: the current file becomes the previous one) or, after a failed
// rotation left the group without a file, reopens the current one. g.mu must be held.
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

// flush writes what is pending for logGroup, so that reading its files sees every append.
func (s *Store) flush(logGroup string) error {
	s.mu.Lock()
	g, ok := s.groups[logGroup]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return s.writeLocked(g)
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
		g.mu.Lock()
		if err := s.writeLocked(g); err != nil && first == nil {
			first = err
		}
		g.mu.Unlock()
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
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
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

// Close writes what is pending and closes open files.
func (s *Store) Close() error {
	err := s.flushAll()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		g.mu.Lock()
		if g.f != nil {
			g.f.Close()
		}
		g.mu.Unlock()
	}
	s.groups = map[string]*group{}
	return err
}
