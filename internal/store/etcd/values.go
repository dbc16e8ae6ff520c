package etcd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sluice-dev/sluice/internal/store"
)

// # Large values
//
// etcd refuses a request over --max-request-bytes (1.5 MiB by default), so a value larger than
// Config.MaxValueBytes is kept out of line: its bytes go, before the transaction commits, into chunks of at most
// MaxValueBytes under Prefix + ".values/<store key>/<id>/<n>" (one request each, id unique to the write), and the
// key itself holds a reference naming them. Reads — Get, Scan, watch events — follow the reference and check the
// chunks against the length and SHA-256 it records, so callers see the value itself.
//
// A stored value is tagged by its first bytes: one that does not start with 0x00 is the value; 0x00 0x00 + v is a
// value v that itself starts with 0x00; 0x00 0x01 + JSON is a reference. So every value round-trips.
//
// Chunks are immutable. Those no current value refers to (the key was overwritten or deleted, or a transaction
// wrote them and then re-ran or failed) are deleted by the sweep, which every store runs every Config.ValueGrace,
// once the write that made them is older than the grace; a read at an older snapshot or a watch replaying further back than that finds
// them gone and fails with store.ErrCompacted, which callers already handle by reading again.
const (
	tagEscaped byte = 0x00
	tagRef     byte = 0x01
)

// valueRef is what a key holds for a value kept out of line.
type valueRef struct {
	Chunks string `json:"chunks"` // the etcd prefix of the chunks
	Count  int    `json:"count"`
	Size   int    `json:"size"`
	Sum    string `json:"sha256"`
}

// valuesRoot is where the chunks of every store key live.
func (s *Store) valuesRoot() string { return s.cfg.Prefix + ".values/" }

// encodeValue turns a value into what the key stores, writing its chunks first when it is too large to inline.
func (s *Store) encodeValue(ctx context.Context, etcdKey string, v []byte) ([]byte, error) {
	if len(v) <= s.cfg.MaxValueBytes {
		if len(v) > 0 && v[0] == 0x00 {
			return append([]byte{0x00, tagEscaped}, v...), nil
		}
		return v, nil
	}
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	// The id starts with the write's time, which the sweep's grace is measured from.
	id := strconv.FormatInt(s.now().Unix(), 10) + "-" + hex.EncodeToString(nonce)
	sum := sha256.Sum256(v)
	ref := valueRef{Chunks: s.valuesRoot() + etcdKey[len(s.root):] + "/" + id + "/", Size: len(v), Sum: hex.EncodeToString(sum[:])}
	for off := 0; off < len(v); off += s.cfg.MaxValueBytes {
		chunk := v[off:min(off+s.cfg.MaxValueBytes, len(v))]
		// With the commit marker, as every write of the store's, so that watches reach its revision.
		if _, err := s.client.Txn(ctx).Then(clientv3.OpPut(fmt.Sprintf("%s%06d", ref.Chunks, ref.Count), string(chunk)), clientv3.OpPut(s.root, "")).Commit(); err != nil {
			return nil, fmt.Errorf("etcd store: write a large value's chunk: %w", err)
		}
		ref.Count++
	}
	b, _ := json.Marshal(ref)
	return append([]byte{0x00, tagRef}, b...), nil
}

// decodeValue returns the value a key's stored bytes stand for, reading its chunks when it is kept out of line.
func (s *Store) decodeValue(ctx context.Context, raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != 0x00 {
		return raw, nil
	}
	if raw[1] == tagEscaped {
		return raw[2:], nil
	}
	var ref valueRef
	if raw[1] != tagRef || json.Unmarshal(raw[2:], &ref) != nil {
		return nil, fmt.Errorf("etcd store: a value with an unknown tag %#x", raw[:2])
	}
	resp, err := s.client.Get(ctx, ref.Chunks, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("etcd store: read a large value: %w", err)
	}
	if len(resp.Kvs) != ref.Count {
		return nil, fmt.Errorf("etcd store: a large value's chunks were swept (%d of %d left): %w", len(resp.Kvs), ref.Count, store.ErrCompacted)
	}
	v := make([]byte, 0, ref.Size)
	for _, kv := range resp.Kvs {
		v = append(v, kv.Value...)
	}
	if sum := sha256.Sum256(v); len(v) != ref.Size || hex.EncodeToString(sum[:]) != ref.Sum {
		return nil, fmt.Errorf("etcd store: a large value's chunks do not match its reference (%d bytes, want %d)", len(v), ref.Size)
	}
	return v, nil
}

// sweepValues deletes the chunks no current value refers to and older than the grace, and reports how many
// chunk sets it deleted.
func (s *Store) sweepValues(ctx context.Context) (int, error) {
	root := s.valuesRoot()
	resp, err := s.client.Get(ctx, root, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return 0, err
	}
	sets := map[string]bool{} // chunk prefixes
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		if i := strings.LastIndexByte(k, '/'); i > 0 {
			sets[k[:i+1]] = true
		}
	}
	swept := 0
	cutoff := s.now().Add(-s.cfg.ValueGrace).Unix()
	for set := range sets {
		rest := strings.TrimSuffix(set[len(root):], "/")
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			continue
		}
		key, id := rest[:i], rest[i+1:]
		created, err := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64)
		if err != nil || created > cutoff {
			continue // young: its transaction may not have committed yet
		}
		cur, err := s.client.Get(ctx, s.root+key)
		if err != nil {
			return swept, err
		}
		if len(cur.Kvs) == 1 && bytes.HasPrefix(cur.Kvs[0].Value, []byte{0x00, tagRef}) {
			var ref valueRef
			if json.Unmarshal(cur.Kvs[0].Value[2:], &ref) == nil && ref.Chunks == set {
				continue // the key's current value
			}
		}
		if _, err := s.client.Txn(ctx).Then(clientv3.OpDelete(set, clientv3.WithPrefix()), clientv3.OpPut(s.root, "")).Commit(); err != nil {
			return swept, err
		}
		swept++
	}
	return swept, nil
}

// sweepLoop sweeps every grace period until the store closes.
func (s *Store) sweepLoop() {
	t := time.NewTicker(s.cfg.ValueGrace)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := s.sweepValues(ctx); err != nil {
			select {
			case <-s.done:
			default:
				// Nothing to report to: the next sweep retries.
			}
		}
		cancel()
	}
}
