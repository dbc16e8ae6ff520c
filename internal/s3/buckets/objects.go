package buckets

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/store"
)

// NullVersion is the version ID of an object written while versioning was never enabled or is suspended.
const NullVersion = "null"

// Tag is one key/value of a tag set, in the order the caller gave.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// ObjectMeta is what a write sets beside the bytes.
type ObjectMeta struct {
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	Expires            string            `json:"expires,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"` // x-amz-meta-* without the prefix, lower case
	Tags               []Tag             `json:"tags,omitempty"`
}

// Version is one version of an object, or a delete marker.
type Version struct {
	Key          string     `json:"key"`
	VersionID    string     `json:"versionId"`
	Seq          uint64     `json:"seq"`
	DeleteMarker bool       `json:"deleteMarker,omitempty"`
	LastModified time.Time  `json:"lastModified"`
	Blob         string     `json:"blob,omitempty"` // hex SHA-256 of the bytes, the blobstore name
	Size         int64      `json:"size"`
	ETag         string     `json:"etag,omitempty"` // quoted
	Meta         ObjectMeta `json:"meta"`
	// ChecksumAlgorithm, Checksum and ChecksumType: the flexible checksum the object carries (S3 computes
	// CRC64NVME when the upload named none).
	ChecksumAlgorithm s3.Algorithm `json:"checksumAlgorithm,omitempty"`
	Checksum          string       `json:"checksum,omitempty"`
	ChecksumType      string       `json:"checksumType,omitempty"`
	// PartSizes are the sizes of the parts of an object assembled by a multipart upload (GetObject's partNumber).
	PartSizes []int64 `json:"partSizes,omitempty"`
}

// head is s3/obj/<bucket>/<key>: the key's latest version and its counters.
type head struct {
	Seq     uint64  `json:"seq"`     // the last sequence number issued for the key
	NullSeq uint64  `json:"nullSeq"` // the null version's sequence number, 0 when there is none
	Latest  Version `json:"latest"`
}

func loadHead(tx store.Tx, bucket, key string) (head, bool, error) {
	var h head
	err := store.GetJSON(tx, objKey(bucket, key), &h)
	if errors.Is(err, store.ErrNotFound) {
		return h, false, nil
	}
	return h, err == nil, err
}

// Digests are the integrity checks a write declares: Content-MD5 and one flexible checksum, sent in a header or
// (aws-chunked bodies) in a trailer read once the body has been.
type Digests struct {
	ContentMD5 string       // base64, "" when absent
	Algorithm  s3.Algorithm // "" when the request names none
	Value      string       // the checksum from the header, "" when it comes in a trailer or not at all
	Trailer    func() string
}

// check validates the declared values' form before the body is read.
func (d Digests) check() error {
	if d.ContentMD5 != "" {
		if b, err := base64.StdEncoding.DecodeString(d.ContentMD5); err != nil || len(b) != md5.Size {
			return s3.ErrInvalidDigest()
		}
	}
	if d.Algorithm != "" && d.Value != "" {
		return d.Algorithm.CheckValue(d.Value)
	}
	return nil
}

// written is a body streamed into a blob, with its digests.
type written struct {
	blob     blobstore.Blob
	md5      []byte
	alg      s3.Algorithm
	checksum string
}

// writeBlob streams body into a new blob of at most limit bytes, computing its MD5 and the checksum, then checks
// both against what d declared; nothing is committed unless every check passes.
func (s *Service) writeBlob(ctx context.Context, body io.Reader, limit int64, d Digests) (written, error) {
	if err := d.check(); err != nil {
		return written{}, err
	}
	alg := d.Algorithm
	if alg == "" {
		alg = s3.CRC64NVME
	}
	w, err := s.blobs.Create(limit)
	if err != nil {
		return written{}, diskError(err)
	}
	m, c := md5.New(), alg.New()
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(io.MultiWriter(w, m, c), onlyReader{body}, buf); err != nil {
		w.Abort()
		if errors.Is(err, blobstore.ErrTooLarge) {
			return written{}, s3.ErrEntityTooLarge()
		}
		return written{}, diskError(err)
	}
	out := written{md5: m.Sum(nil), alg: alg, checksum: s3.Encode(c.Sum(nil))}
	if d.ContentMD5 != "" && d.ContentMD5 != base64.StdEncoding.EncodeToString(out.md5) {
		w.Abort()
		return written{}, s3.ErrBadDigest()
	}
	if d.Algorithm != "" {
		want := d.Value
		if want == "" && d.Trailer != nil {
			want = d.Trailer()
			if err := d.Algorithm.CheckValue(want); err != nil {
				w.Abort()
				return written{}, err
			}
		}
		if want != "" && want != out.checksum {
			w.Abort()
			return written{}, d.Algorithm.Mismatch()
		}
	}
	if out.blob, err = w.Commit(); err != nil {
		return written{}, diskError(err)
	}
	if err := s.blobs.Replicate(ctx, out.blob.SHA256); err != nil {
		return written{}, err
	}
	return out, nil
}

// onlyReader hides a reader's WriterTo so that io.CopyBuffer uses the buffer.
type onlyReader struct{ io.Reader }

// diskError passes client faults and reading errors through and names a full disk.
func diskError(err error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
	if isNoSpace(err) {
		return fault.New(s3.CodeServiceUnavailable, "The server has no space left to store the request's data; nothing was stored. Please try again later.")
	}
	return err
}

// PutConditions are a conditional write's headers (If-Match, If-None-Match: *).
type PutConditions struct {
	IfMatch, IfNoneMatch string
}

func (c PutConditions) check(h head, exists bool) error {
	live := exists && !h.Latest.DeleteMarker
	switch {
	case c.IfNoneMatch != "" && live:
		return s3.ErrPreconditionFailed()
	case c.IfMatch != "" && !live:
		return s3.ErrNoSuchKey()
	case c.IfMatch != "" && strings.Trim(c.IfMatch, `"`) != "*" && strings.Trim(c.IfMatch, `"`) != strings.Trim(h.Latest.ETag, `"`):
		return s3.ErrPreconditionFailed()
	}
	return nil
}

// PutObject stores body as key's new version: the bucket and the conditions are checked before the body is read
// and again when the version is committed, which happens only once the bytes are durable and every declared
// digest matched.
func (s *Service) PutObject(ctx context.Context, bucket, key string, meta ObjectMeta, d Digests, cond PutConditions, body io.Reader, size int64) (Version, error) {
	if err := s3.CheckKey(key); err != nil {
		return Version{}, err
	}
	if size > s.maxSize {
		return Version{}, s3.ErrEntityTooLarge()
	}
	if err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		h, ok, err := loadHead(tx, bucket, key)
		if err != nil {
			return err
		}
		return cond.check(h, ok)
	}); err != nil {
		return Version{}, err
	}
	wr, err := s.writeBlob(ctx, body, s.maxSize, d)
	if err != nil {
		return Version{}, err
	}
	v := Version{Key: key, Blob: wr.blob.SHA256, Size: wr.blob.Size, ETag: `"` + hex.EncodeToString(wr.md5) + `"`, Meta: meta,
		ChecksumAlgorithm: wr.alg, Checksum: wr.checksum, ChecksumType: s3.FullObject}
	return s.commitVersion(ctx, bucket, v, cond)
}

// commitVersion writes v as the key's new version (its ID, sequence and time set here).
func (s *Service) commitVersion(ctx context.Context, bucket string, v Version, cond PutConditions) (Version, error) {
	now := s.now().UTC()
	var out Version
	err := s.db.Update(ctx, func(tx store.Tx) error {
		b, err := loadBucket(tx, bucket)
		if err != nil {
			return err
		}
		h, ok, err := loadHead(tx, bucket, v.Key)
		if err != nil {
			return err
		}
		if err := cond.check(h, ok); err != nil {
			return err
		}
		nv := v
		nv.LastModified = now
		out, err = putVersion(tx, b, h, nv)
		return err
	})
	return out, err
}

// putVersion adds v as the latest version of its key under the bucket's versioning: a new version ID when
// versioning is enabled, else the null version, replacing the previous null version.
func putVersion(tx store.Tx, b Bucket, h head, v Version) (Version, error) {
	h.Seq++
	v.Seq = h.Seq
	if b.Versioning == VersioningEnabled {
		v.VersionID = newVersionID(v.Seq)
	} else {
		v.VersionID = NullVersion
		if h.NullSeq != 0 {
			if err := tx.Delete(verKey(b.Name, v.Key, h.NullSeq)); err != nil {
				return v, err
			}
		}
		h.NullSeq = v.Seq
	}
	if err := store.PutJSON(tx, verKey(b.Name, v.Key, v.Seq), v); err != nil {
		return v, err
	}
	h.Latest = v
	return v, store.PutJSON(tx, objKey(b.Name, v.Key), h)
}

// GetObject returns the version a read names: the latest (a delete marker answers NoSuchKey with the marker
// returned), or the version ID given (a delete marker answers MethodNotAllowed).
func (s *Service) GetObject(ctx context.Context, bucket, key, versionID string) (Version, error) {
	var v Version
	err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		var err error
		v, err = findVersion(tx, bucket, key, versionID)
		return err
	})
	if err != nil {
		return v, err
	}
	switch {
	case v.DeleteMarker && versionID == "":
		return v, s3.ErrNoSuchKey()
	case v.DeleteMarker:
		return v, s3.ErrMethodNotAllowed()
	}
	return v, nil
}

// findVersion reads a version of key ("" for the latest).
func findVersion(tx store.Tx, bucket, key, versionID string) (Version, error) {
	if err := s3.CheckKey(key); err != nil {
		if versionID == "" {
			return Version{}, s3.ErrNoSuchKey()
		}
		return Version{}, err
	}
	h, ok, err := loadHead(tx, bucket, key)
	if err != nil {
		return Version{}, err
	}
	if versionID == "" {
		if !ok {
			return Version{}, s3.ErrNoSuchKey()
		}
		return h.Latest, nil
	}
	seq, err := versionSeq(h, versionID)
	if err != nil {
		return Version{}, err
	}
	var v Version
	err = store.GetJSON(tx, verKey(bucket, key, seq), &v)
	if errors.Is(err, store.ErrNotFound) || err == nil && v.VersionID != versionID {
		return Version{}, s3.ErrNoSuchVersion()
	}
	return v, err
}

// versionSeq finds the sequence number a version ID names.
func versionSeq(h head, versionID string) (uint64, error) {
	if versionID == NullVersion {
		if h.NullSeq == 0 {
			return 0, s3.ErrNoSuchVersion()
		}
		return h.NullSeq, nil
	}
	seq, ok := seqOfVersionID(versionID)
	if !ok {
		return 0, s3.InvalidArgument("Invalid version id specified")
	}
	return seq, nil
}

// OpenBlob opens the bytes of a version.
func (s *Service) OpenBlob(ctx context.Context, v Version) (io.ReadSeekCloser, error) {
	f, err := s.blobs.Open(ctx, v.Blob)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, fault.New(s3.CodeInternalError, "The bytes of this object are on no live server.")
	}
	return f, err
}

// DeleteResult is what a DeleteObject did.
type DeleteResult struct {
	VersionID    string // the version removed or the delete marker added ("" for an unversioned bucket's object)
	DeleteMarker bool   // a delete marker was added, or the version removed was one
}

// DeleteObject deletes key: without a version ID, by adding a delete marker (versioning enabled or suspended) or
// removing the object (never versioned); with one, by removing that version. Deleting what is not there succeeds.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	now := s.now().UTC()
	var res DeleteResult
	err := s.db.Update(ctx, func(tx store.Tx) error {
		res = DeleteResult{}
		b, err := loadBucket(tx, bucket)
		if err != nil {
			return err
		}
		if s3.CheckKey(key) != nil {
			return nil
		}
		h, ok, err := loadHead(tx, bucket, key)
		if err != nil {
			return err
		}
		if versionID != "" {
			seq, err := versionSeq(h, versionID)
			if fault.Is(err, s3.CodeNoSuchVersion) {
				return nil
			}
			if err != nil {
				return err
			}
			return removeVersion(tx, bucket, key, h, seq, versionID, &res)
		}
		if b.Versioning == "" {
			if ok && h.NullSeq != 0 {
				err := removeVersion(tx, bucket, key, h, h.NullSeq, NullVersion, &res)
				res.VersionID = "" // an object of a bucket never versioned has no version ID to report
				return err
			}
			return nil
		}
		marker, err := putVersion(tx, b, h, Version{Key: key, DeleteMarker: true, LastModified: now})
		res = DeleteResult{VersionID: marker.VersionID, DeleteMarker: true}
		return err
	})
	return res, err
}

// removeVersion deletes one version record and moves the head to the newest one left (or removes it).
func removeVersion(tx store.Tx, bucket, key string, h head, seq uint64, versionID string, res *DeleteResult) error {
	var v Version
	err := store.GetJSON(tx, verKey(bucket, key, seq), &v)
	if errors.Is(err, store.ErrNotFound) || err == nil && v.VersionID != versionID {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.Delete(verKey(bucket, key, seq)); err != nil {
		return err
	}
	*res = DeleteResult{VersionID: versionID, DeleteMarker: v.DeleteMarker}
	if seq == h.NullSeq {
		h.NullSeq = 0
	}
	var next *Version
	if err := tx.Scan(keyVersions(bucket, key), "", func(_ string, b []byte) (bool, error) {
		next = new(Version)
		return false, jsonUnmarshal(b, next)
	}); err != nil {
		return err
	}
	if next == nil {
		return tx.Delete(objKey(bucket, key))
	}
	h.Latest = *next
	return store.PutJSON(tx, objKey(bucket, key), h)
}

// CopySource names the object a copy reads.
type CopySource struct {
	Bucket, Key, VersionID string
}

// CopyInput is a CopyObject.
type CopyInput struct {
	Source     CopySource
	Bucket     string
	Key        string
	Replace    bool       // x-amz-metadata-directive: REPLACE (Meta is the new metadata); COPY keeps the source's
	Meta       ObjectMeta // with Replace
	ReplaceTag bool       // x-amz-tagging-directive: REPLACE (Meta.Tags)
	Conditions s3.Conditions
	// Checksum, when set, asks for the copy to carry this algorithm's checksum instead of the source's.
	Checksum s3.Algorithm
}

// CopyObject makes a new version of the destination from a source version, sharing its bytes (the blob is
// touched, so no sweep can take it away meanwhile).
func (s *Service) CopyObject(ctx context.Context, in CopyInput) (src, dst Version, err error) {
	if err := s3.CheckKey(in.Key); err != nil {
		return src, dst, err
	}
	if err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := loadBucket(tx, in.Source.Bucket); err != nil {
			return err
		}
		if _, err := loadBucket(tx, in.Bucket); err != nil {
			return err
		}
		var err error
		src, err = findVersion(tx, in.Source.Bucket, in.Source.Key, in.Source.VersionID)
		return err
	}); err != nil {
		return src, dst, err
	}
	if src.DeleteMarker {
		if in.Source.VersionID != "" {
			return src, dst, s3.InvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return src, dst, s3.ErrNoSuchKey()
	}
	if err := in.Conditions.Check(src.ETag, src.LastModified, false); err != nil {
		return src, dst, err
	}
	if src.Size > s.maxSize {
		return src, dst, s3.InvalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: %d", s.maxSize)
	}
	if in.Source.Bucket == in.Bucket && in.Source.Key == in.Key && in.Source.VersionID == "" && !in.Replace && !in.ReplaceTag && in.Checksum == "" {
		return src, dst, s3.InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	v := src
	v.PartSizes = nil
	v.DeleteMarker = false
	if in.Replace {
		tags := v.Meta.Tags
		v.Meta = in.Meta
		v.Meta.Tags = tags
	}
	if in.ReplaceTag {
		v.Meta.Tags = in.Meta.Tags
	}
	v.Key = in.Key
	if in.Checksum != "" && in.Checksum != src.ChecksumAlgorithm || src.ChecksumType == s3.Composite {
		alg := in.Checksum
		if alg == "" {
			alg = src.ChecksumAlgorithm
		}
		sum, err := s.checksumOf(ctx, src, alg)
		if err != nil {
			return src, dst, err
		}
		v.ChecksumAlgorithm, v.Checksum, v.ChecksumType = alg, sum, s3.FullObject
	}
	if err := s.blobs.Touch(ctx, src.Blob); err != nil {
		return src, dst, diskError(err)
	}
	dst, err = s.commitVersion(ctx, in.Bucket, v, PutConditions{})
	return src, dst, err
}

// checksumOf computes a version's full-object checksum with alg, reading its bytes.
func (s *Service) checksumOf(ctx context.Context, v Version, alg s3.Algorithm) (string, error) {
	f, err := s.OpenBlob(ctx, v)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := alg.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return s3.Encode(h.Sum(nil)), nil
}

// SetTags replaces the tag set of a version (the latest when versionID is ""), in place: tags are the one thing of
// a version that changes. It returns the version tagged.
func (s *Service) SetTags(ctx context.Context, bucket, key, versionID string, tags []Tag) (Version, error) {
	var out Version
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		v, err := findVersion(tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		if v.DeleteMarker {
			if versionID == "" {
				return s3.ErrNoSuchKey()
			}
			return s3.ErrMethodNotAllowed()
		}
		v.Meta.Tags = tags
		if err := store.PutJSON(tx, verKey(bucket, key, v.Seq), v); err != nil {
			return err
		}
		h, _, err := loadHead(tx, bucket, key)
		if err != nil {
			return err
		}
		if h.Latest.Seq == v.Seq {
			h.Latest = v
			if err := store.PutJSON(tx, objKey(bucket, key), h); err != nil {
				return err
			}
		}
		out = v
		return nil
	})
	return out, err
}
