package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sluice-dev/sluice/internal/store"
)

// Scan reads etcd in pages that grow from firstScanPage to maxScanPage keys: a scan that stops early costs little,
// one that visits everything costs few round trips.
const (
	firstScanPage = 32
	maxScanPage   = 1024
)

// tx is one run of a transaction closure: a snapshot at rev, what the closure read from it, and its buffered
// writes. All keys here are etcd keys (root + store key).
type tx struct {
	s        *Store
	ctx      context.Context
	readOnly bool

	rev int64 // the snapshot; 0 until the first read fixes it
	// storeRev is the store's revision at the snapshot: the last Sluice commit's (the commit marker's mod
	// revision), -1 until Revision reads it.
	storeRev int64
	reads    map[string]readValue // keys read at rev (by Get, Delete or Scan), missing ones included
	ranges   []keyRange           // ranges visited by Scan, each [start, end)
	writes   map[string]write

	// err is a failed read that the closure may have swallowed; it fails the transaction anyway.
	err error
	// stale: a read found rev compacted; the closure must run again on a fresh snapshot.
	stale bool
}

type readValue struct {
	value  []byte
	modRev int64 // 0: the key was missing
}

type keyRange struct{ start, end string }

type write struct {
	value   []byte
	deleted bool
}

func (s *Store) newTx(ctx context.Context, readOnly bool) *tx {
	return &tx{s: s, ctx: ctx, readOnly: readOnly, storeRev: -1, reads: map[string]readValue{}, writes: map[string]write{}}
}

// get reads from etcd at the snapshot, fixing the snapshot on the first read.
func (t *tx) get(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.err != nil {
		return nil, t.err
	}
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	resp, err := t.s.client.Get(t.ctx, key, opts...)
	if err != nil {
		if isCompacted(err) && !t.readOnly {
			t.stale = true
		}
		t.err = fmt.Errorf("etcd store: read at revision %d: %w", t.rev, err)
		return nil, t.err
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, nil
}

// Revision is the revision of the last Sluice commit at the snapshot, not the snapshot's etcd revision: writes
// outside the store (package cluster's elections and node records) advance etcd's revision without putting the
// commit marker, so no watch of the store delivers them, and a cache told to reach such a revision would wait for
// the next Sluice commit. The store's state at the snapshot is the state at that commit.
func (t *tx) Revision() int64 {
	if t.storeRev < 0 {
		// Fixes the snapshot too, if this is the first read; an error is reported when the transaction ends.
		resp, err := t.get(t.s.root)
		if err != nil {
			return 0
		}
		t.storeRev = t.rev // a store nobody committed to yet: the snapshot
		if len(resp.Kvs) == 1 {
			t.storeRev = resp.Kvs[0].ModRevision
		}
	}
	return t.storeRev
}

// lookup returns key's value at the snapshot, recording the read.
func (t *tx) lookup(key string) (readValue, error) {
	if r, ok := t.reads[key]; ok {
		return r, nil
	}
	resp, err := t.get(key)
	if err != nil {
		return readValue{}, err
	}
	var r readValue
	if len(resp.Kvs) == 1 {
		r = readValue{value: resp.Kvs[0].Value, modRev: resp.Kvs[0].ModRevision}
	}
	t.reads[key] = r
	return r, nil
}

func (t *tx) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, store.ErrNotFound
	}
	k := t.s.root + key
	if w, ok := t.writes[k]; ok {
		if w.deleted {
			return nil, store.ErrNotFound
		}
		return w.value, nil
	}
	r, err := t.lookup(k)
	if err != nil {
		return nil, err
	}
	if r.modRev == 0 {
		return nil, store.ErrNotFound
	}
	return t.decode(r.value)
}

// decode returns the value stored bytes stand for (values.go); a large value's chunks swept under an old
// snapshot make an Update run again, like a compacted read.
func (t *tx) decode(raw []byte) ([]byte, error) {
	v, err := t.s.decodeValue(t.ctx, raw)
	if err != nil {
		if errors.Is(err, store.ErrCompacted) && !t.readOnly {
			t.stale = true
		}
		t.err = err
		return nil, err
	}
	return v, nil
}

func (t *tx) Put(key string, value []byte) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if key == "" {
		return errReservedKey
	}
	t.writes[t.s.root+key] = write{value: slices.Clone(value)}
	return nil
}

func (t *tx) Delete(key string) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if key == "" {
		return errReservedKey
	}
	k := t.s.root + key
	// Whether the key exists decides whether the delete changes anything, so it is a read.
	if _, err := t.lookup(k); err != nil {
		return err
	}
	t.writes[k] = write{deleted: true}
	return nil
}

func (t *tx) Scan(prefix, after string, fn func(key string, value []byte) (bool, error)) error {
	start := t.s.root + prefix
	end := clientv3.GetPrefixRangeEnd(start)
	if after != "" && t.s.root+after >= start {
		start = t.s.root + after + "\x00"
	}
	if start == t.s.root {
		// Never include the commit marker: every commit changes it, so a range holding it would conflict with all.
		start = t.s.root + "\x00"
	}
	if start >= end {
		return nil
	}

	// The buffered writes inside the range, merged in key order with what etcd holds.
	var buffered []string
	for k := range t.writes {
		if k >= start && k < end {
			buffered = append(buffered, k)
		}
	}
	sort.Strings(buffered)

	// visited is how far the callback got; it bounds the range recorded as read.
	visited := ""
	stopped := false
	defer func() {
		if t.readOnly {
			return
		}
		rangeEnd := end
		if stopped {
			rangeEnd = visited + "\x00"
		}
		t.ranges = append(t.ranges, keyRange{start: start, end: rangeEnd})
	}()

	visit := func(k string, v []byte) (bool, error) {
		visited = k
		more, err := fn(k[len(t.s.root):], v)
		if !more || err != nil {
			stopped = true
		}
		return more, err
	}
	emitBufferedBefore := func(limit string, all bool) (bool, error) {
		for len(buffered) > 0 && (all || buffered[0] < limit) {
			k := buffered[0]
			buffered = buffered[1:]
			if w := t.writes[k]; !w.deleted {
				if more, err := visit(k, w.value); !more || err != nil {
					return false, err
				}
			}
		}
		return true, nil
	}

	cursor, page := start, int64(firstScanPage)
	for {
		resp, err := t.get(cursor, clientv3.WithRange(end), clientv3.WithLimit(page))
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			if more, err := emitBufferedBefore(k, false); !more || err != nil {
				return err
			}
			// Seen at the snapshot: a later delete of it must fail the commit (the range compare misses deletes).
			if _, ok := t.reads[k]; !ok && !t.readOnly {
				t.reads[k] = readValue{value: kv.Value, modRev: kv.ModRevision}
			}
			var v []byte
			if len(buffered) > 0 && buffered[0] == k {
				w := t.writes[k]
				buffered = buffered[1:]
				if w.deleted {
					continue
				}
				v = w.value // the transaction's own write
			} else if v, err = t.decode(kv.Value); err != nil {
				return err
			}
			if more, err := visit(k, v); !more || err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		cursor = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		page = min(page*2, maxScanPage)
	}
	_, err := emitBufferedBefore("", true)
	return err
}
