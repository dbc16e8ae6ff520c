package buckets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/store"
)

// Defaults of Options' limits.
const (
	DefaultMaxObjectSize = 5 << 30 // one PutObject, UploadPart or copy
	MaxMultipartSize     = 5 << 40 // an object assembled from parts
	DefaultUploadExpiry  = 7 * 24 * time.Hour
)

// Options configures a Service.
type Options struct {
	Store store.Store
	// Blobs holds the object bytes: blobstore.Single on one node, a blobstore/replica.Replica in a cluster.
	Blobs Blobs
	// Region is the region the endpoint serves (CreateBucket's LocationConstraint rule, GetBucketLocation).
	Region string
	// MaxObjectSize bounds one PutObject, UploadPart or CopyObject (0: 5 GiB, S3's limit).
	MaxObjectSize int64
	// UploadExpiry is how long a multipart upload may stay incomplete before the janitor aborts it (0: 7 days).
	UploadExpiry time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Blobs is where object bytes live.
type Blobs interface {
	// Create starts a blob of at most limit bytes on this node.
	Create(limit int64) (*blobstore.Writer, error)
	// Open opens a blob (in a cluster, fetched from a peer first when this node lacks it).
	Open(ctx context.Context, sha string) (*os.File, error)
	// Touch restarts a blob's grace period before a new record names it (blobstore.ErrNotFound: it is gone).
	Touch(ctx context.Context, sha string) error
	// Replicate makes a new blob durable on another node too before a record names it (a no-op alone).
	Replicate(ctx context.Context, sha string) error
}

// Service implements S3's buckets and objects.
type Service struct {
	db      store.Store
	blobs   Blobs
	region  string
	maxSize int64
	expiry  time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	policies map[string]*policy.Document // parsed bucket policies by their text
}

// New returns a Service.
func New(o Options) *Service {
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.UploadExpiry <= 0 {
		o.UploadExpiry = DefaultUploadExpiry
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{db: o.Store, blobs: o.Blobs, region: o.Region, maxSize: o.MaxObjectSize, expiry: o.UploadExpiry,
		now: o.Now, log: o.Logger.With("component", "s3"), policies: map[string]*policy.Document{}}
}

// Region is the region the service's buckets live in.
func (s *Service) Region() string { return s.region }

// Versioning states.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// Bucket is a bucket's record.
type Bucket struct {
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Region     string    `json:"region"`
	Versioning string    `json:"versioning,omitempty"` // "", Enabled, Suspended
	Policy     string    `json:"policy,omitempty"`
	// Documents are the configurations Sluice keeps as the caller wrote them, checked and re-encoded by the edge:
	// "encryption", "publicAccessBlock", "lifecycle", "tagging".
	Documents map[string]string `json:"documents,omitempty"`
}

// Document names.
const (
	DocEncryption        = "encryption"
	DocPublicAccessBlock = "publicAccessBlock"
	DocLifecycle         = "lifecycle"
	DocTagging           = "tagging"
)

// ListBuckets lists every bucket, by name.
func (s *Service) ListBuckets(ctx context.Context) ([]Bucket, error) {
	var out []Bucket
	err := s.db.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		return tx.Scan(bucketPrefix, "", func(_ string, v []byte) (bool, error) {
			var b Bucket
			if err := jsonUnmarshal(v, &b); err != nil {
				return false, err
			}
			out = append(out, b)
			return true, nil
		})
	})
	return out, err
}

// CreateBucket creates a bucket; constraint is CreateBucketConfiguration's LocationConstraint.
func (s *Service) CreateBucket(ctx context.Context, name, constraint string) error {
	if err := s3.CheckBucketName(name); err != nil {
		return err
	}
	if err := s3.CheckLocationConstraint(constraint, s.region); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.db.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, bucketKey(name)); err != nil || ok {
			if ok {
				// One account: a bucket that exists is the caller's. us-east-1 answers 200 for it, as AWS does.
				if s.region == "us-east-1" {
					return nil
				}
				return s3.ErrBucketAlreadyOwnedByYou()
			}
			return err
		}
		return store.PutJSON(tx, bucketKey(name), Bucket{Name: name, Created: now, Region: s.region})
	})
}

// GetBucket returns a bucket's record (HeadBucket, and every call that needs its configuration).
func (s *Service) GetBucket(ctx context.Context, name string) (Bucket, error) {
	var b Bucket
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		b, err = loadBucket(tx, name)
		return err
	})
	return b, err
}

func loadBucket(tx store.Tx, name string) (Bucket, error) {
	var b Bucket
	err := store.GetJSON(tx, bucketKey(name), &b)
	if errors.Is(err, store.ErrNotFound) {
		return b, s3.ErrNoSuchBucket()
	}
	return b, err
}

// DeleteBucket deletes an empty bucket (no version, no delete marker); its incomplete multipart uploads go with it.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	var uploads []string
	err := s.db.Update(ctx, func(tx store.Tx) error {
		uploads = uploads[:0]
		if _, err := loadBucket(tx, name); err != nil {
			return err
		}
		empty := true
		if err := tx.Scan(verPrefix(name), "", func(string, []byte) (bool, error) { empty = false; return false, nil }); err != nil {
			return err
		}
		if !empty {
			return s3.ErrBucketNotEmpty()
		}
		var keys []string // deleted after the scan: a store's cursor is not to be moved under
		if err := tx.Scan(upPrefix(name), "", func(k string, v []byte) (bool, error) {
			var u Upload
			if err := jsonUnmarshal(v, &u); err == nil {
				uploads = append(uploads, u.UploadID)
			}
			keys = append(keys, k)
			return len(keys) < 100, nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return tx.Delete(bucketKey(name))
	})
	if err != nil {
		return err
	}
	for _, id := range uploads {
		s.dropParts(ctx, id)
	}
	// Uploads beyond the first hundred are left to the janitor, which drops uploads whose bucket is gone.
	return nil
}

// UpdateBucket changes a bucket's record (its configuration) with fn, in one transaction.
func (s *Service) UpdateBucket(ctx context.Context, name string, fn func(*Bucket) error) error {
	return s.db.Update(ctx, func(tx store.Tx) error {
		b, err := loadBucket(tx, name)
		if err != nil {
			return err
		}
		if err := fn(&b); err != nil {
			return err
		}
		return store.PutJSON(tx, bucketKey(name), b)
	})
}

// BucketPolicy returns a bucket's policy, parsed (nil when it has none or the bucket does not exist).
func (s *Service) BucketPolicy(ctx context.Context, name string) (*policy.Document, error) {
	b, err := s.GetBucket(ctx, name)
	if fault.Is(err, s3.CodeNoSuchBucket) || err == nil && b.Policy == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	doc, ok := s.policies[b.Policy]
	s.mu.Unlock()
	if ok {
		return doc, nil
	}
	doc, err = policy.Parse(b.Policy, policy.Resource)
	if err != nil {
		return nil, nil // it parsed when it was put; a policy that no longer parses allows nothing
	}
	s.mu.Lock()
	if len(s.policies) > 1000 {
		clear(s.policies)
	}
	s.policies[b.Policy] = doc
	s.mu.Unlock()
	return doc, nil
}

// newVersionID is an opaque version ID that carries the version's sequence number, so that a read by version ID
// finds its record without a scan: 16 hex digits of the sequence, then 16 random ones.
func newVersionID(seq uint64) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%016x", seq) + hex.EncodeToString(r[:])
}

// seqOfVersionID reads the sequence number back; ok is false for an ID Sluice did not issue.
func seqOfVersionID(id string) (uint64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[:16], 16, 64)
	if err != nil {
		return 0, false
	}
	if _, err := hex.DecodeString(id[16:]); err != nil {
		return 0, false
	}
	return n, true
}

// newUploadID is an upload ID that sorts by initiation: the time in hex, then random hex.
func newUploadID(now time.Time) string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return strconv.FormatInt(now.UnixNano(), 16) + hex.EncodeToString(r[:])
}
