package buckets

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/store"
)

// Upload is a multipart upload in progress.
type Upload struct {
	Bucket            string       `json:"bucket"`
	Key               string       `json:"key"`
	UploadID          string       `json:"uploadId"`
	Initiated         time.Time    `json:"initiated"`
	Meta              ObjectMeta   `json:"meta"`
	ChecksumAlgorithm s3.Algorithm `json:"checksumAlgorithm,omitempty"`
	ChecksumType      string       `json:"checksumType,omitempty"`
}

// Part is an uploaded part.
type Part struct {
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	Number       int       `json:"number"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	Blob         string    `json:"blob"`
	LastModified time.Time `json:"lastModified"`
	Checksum     string    `json:"checksum,omitempty"` // in the upload's algorithm
}

func loadUpload(tx store.Tx, bucket, key, id string) (Upload, error) {
	var u Upload
	if _, err := loadBucket(tx, bucket); err != nil {
		return u, err
	}
	if s3.CheckKey(key) != nil || strings.ContainsAny(id, "/\x00") || id == "" {
		return u, s3.ErrNoSuchUpload()
	}
	err := store.GetJSON(tx, upKey(bucket, key, id), &u)
	if errors.Is(err, store.ErrNotFound) {
		return u, s3.ErrNoSuchUpload()
	}
	return u, err
}

// CreateUpload starts a multipart upload.
func (s *Service) CreateUpload(ctx context.Context, bucket, key string, meta ObjectMeta, alg s3.Algorithm, checksumType string) (Upload, error) {
	if err := s3.CheckKey(key); err != nil {
		return Upload{}, err
	}
	switch {
	case checksumType != "" && checksumType != s3.FullObject && checksumType != s3.Composite:
		return Upload{}, s3.InvalidRequest("Value for x-amz-checksum-type header is invalid.")
	case checksumType != "" && alg == "":
		return Upload{}, s3.InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
	case checksumType == s3.FullObject && (alg == s3.SHA1 || alg == s3.SHA256):
		return Upload{}, s3.InvalidRequest("The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.", strings.ToLower(string(alg)))
	case checksumType == s3.Composite && alg == s3.CRC64NVME:
		return Upload{}, s3.InvalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
	}
	if alg != "" && checksumType == "" {
		checksumType = alg.DefaultType()
	}
	now := s.now().UTC()
	u := Upload{Bucket: bucket, Key: key, UploadID: newUploadID(now), Initiated: now, Meta: meta, ChecksumAlgorithm: alg, ChecksumType: checksumType}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		return store.PutJSON(tx, upKey(bucket, key, u.UploadID), u)
	})
	return u, err
}

// UploadPart stores a part from body; a part number uploaded again replaces the earlier part.
func (s *Service) UploadPart(ctx context.Context, bucket, key, id string, n int, d Digests, body io.Reader, size int64) (Part, error) {
	if err := s3.CheckPartNumber(n); err != nil {
		return Part{}, err
	}
	var u Upload
	if err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = loadUpload(tx, bucket, key, id)
		return err
	}); err != nil {
		return Part{}, err
	}
	if size > s.maxSize {
		return Part{}, s3.ErrEntityTooLarge()
	}
	if u.ChecksumAlgorithm != "" && d.Algorithm != "" && d.Algorithm != u.ChecksumAlgorithm {
		return Part{}, s3.InvalidRequest("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
			strings.ToLower(string(u.ChecksumAlgorithm)), strings.ToLower(string(d.Algorithm)))
	}
	if d.Algorithm == "" {
		d.Algorithm = u.ChecksumAlgorithm
	}
	if d.Algorithm == "" {
		d.Algorithm = s3.CRC64NVME
	}
	wr, err := s.writeBlob(ctx, body, s.maxSize, d)
	if err != nil {
		return Part{}, err
	}
	p := Part{Bucket: bucket, Key: key, Number: n, ETag: `"` + hex.EncodeToString(wr.md5) + `"`, Size: wr.blob.Size, Blob: wr.blob.SHA256,
		LastModified: s.now().UTC()}
	if u.ChecksumAlgorithm != "" {
		p.Checksum = wr.checksum
	}
	return p, s.commitPart(ctx, u, p)
}

func (s *Service) commitPart(ctx context.Context, u Upload, p Part) error {
	return s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := loadUpload(tx, u.Bucket, u.Key, u.UploadID); err != nil {
			return err
		}
		return store.PutJSON(tx, partKey(u.UploadID, p.Number), p)
	})
}

// UploadPartCopy stores a part from a range of an existing object (the whole object when rng is nil).
func (s *Service) UploadPartCopy(ctx context.Context, bucket, key, id string, n int, src CopySource, rng *s3.Range, cond s3.Conditions) (Part, Version, error) {
	if err := s3.CheckPartNumber(n); err != nil {
		return Part{}, Version{}, err
	}
	var u Upload
	var sv Version
	if err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		if u, err = loadUpload(tx, bucket, key, id); err != nil {
			return err
		}
		if _, err := loadBucket(tx, src.Bucket); err != nil {
			return err
		}
		sv, err = findVersion(tx, src.Bucket, src.Key, src.VersionID)
		return err
	}); err != nil {
		return Part{}, sv, err
	}
	if sv.DeleteMarker {
		return Part{}, sv, s3.ErrNoSuchKey()
	}
	if err := cond.Check(sv.ETag, sv.LastModified, false); err != nil {
		return Part{}, sv, err
	}
	start, length := int64(0), sv.Size
	if rng != nil {
		if rng.Start+rng.Length > sv.Size {
			return Part{}, sv, s3.InvalidArgument("Range specified is not valid for source object of size: %d", sv.Size)
		}
		start, length = rng.Start, rng.Length
	}
	if length > s.maxSize {
		return Part{}, sv, s3.InvalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: %d", s.maxSize)
	}
	f, err := s.OpenBlob(ctx, sv)
	if err != nil {
		return Part{}, sv, err
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return Part{}, sv, err
	}
	alg := u.ChecksumAlgorithm
	if alg == "" {
		alg = s3.CRC64NVME
	}
	wr, err := s.writeBlob(ctx, io.LimitReader(f, length), s.maxSize, Digests{Algorithm: alg})
	if err != nil {
		return Part{}, sv, err
	}
	p := Part{Bucket: bucket, Key: key, Number: n, ETag: `"` + hex.EncodeToString(wr.md5) + `"`, Size: wr.blob.Size, Blob: wr.blob.SHA256,
		LastModified: s.now().UTC()}
	if u.ChecksumAlgorithm != "" {
		p.Checksum = wr.checksum
	}
	return p, sv, s.commitPart(ctx, u, p)
}

// CompleteInput is a CompleteMultipartUpload.
type CompleteInput struct {
	Parts []s3.CompletedPart
	// PartChecksums are the parts' checksums the request lists (by part number), checked against the stored ones.
	PartChecksums map[int]string
	Conditions    PutConditions
}

// CompleteUpload assembles the named parts, in order, into the object's new version: their bytes are streamed into
// one blob (its full-object checksum computed on the way), then the version is committed and the upload removed in
// one transaction; the parts' records are dropped after.
func (s *Service) CompleteUpload(ctx context.Context, bucket, key, id string, in CompleteInput) (Version, error) {
	var u Upload
	uploaded := map[int]s3.UploadedPart{}
	parts := map[int]Part{}
	if err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		if u, err = loadUpload(tx, bucket, key, id); err != nil {
			return err
		}
		return tx.Scan(partPrefix(id), "", func(_ string, v []byte) (bool, error) {
			var p Part
			if err := jsonUnmarshal(v, &p); err != nil {
				return false, err
			}
			parts[p.Number] = p
			uploaded[p.Number] = s3.UploadedPart{PartNumber: p.Number, ETag: p.ETag, Size: p.Size}
			return true, nil
		})
	}); err != nil {
		return Version{}, err
	}
	ordered, err := s3.CheckCompletion(in.Parts, uploaded)
	if err != nil {
		return Version{}, err
	}
	var checksums []string
	var total int64
	for _, op := range ordered {
		p := parts[op.PartNumber]
		if want, ok := in.PartChecksums[p.Number]; ok && u.ChecksumAlgorithm != "" && want != p.Checksum {
			return Version{}, s3.ErrInvalidPart()
		}
		checksums = append(checksums, p.Checksum)
		total += p.Size
	}
	if total > MaxMultipartSize {
		return Version{}, s3.ErrEntityTooLarge()
	}
	alg := u.ChecksumAlgorithm
	if alg == "" {
		alg = s3.CRC64NVME
	}
	w, err := s.blobs.Create(MaxMultipartSize)
	if err != nil {
		return Version{}, diskError(err)
	}
	h := alg.New()
	sizes := make([]int64, 0, len(ordered))
	for _, op := range ordered {
		p := parts[op.PartNumber]
		f, err := s.blobs.Open(ctx, p.Blob)
		if err != nil {
			w.Abort()
			if errors.Is(err, blobstore.ErrNotFound) {
				return Version{}, s3.ErrInvalidPart()
			}
			return Version{}, err
		}
		_, err = io.Copy(io.MultiWriter(w, h), onlyReader{f})
		f.Close()
		if err != nil {
			w.Abort()
			return Version{}, diskError(err)
		}
		sizes = append(sizes, p.Size)
	}
	blob, err := w.Commit()
	if err != nil {
		return Version{}, diskError(err)
	}
	if err := s.blobs.Replicate(ctx, blob.SHA256); err != nil {
		return Version{}, err
	}
	v := Version{Key: key, Blob: blob.SHA256, Size: blob.Size, ETag: s3.MultipartETag(ordered), Meta: u.Meta, PartSizes: sizes,
		ChecksumAlgorithm: alg, Checksum: s3.Encode(h.Sum(nil)), ChecksumType: s3.FullObject}
	if u.ChecksumAlgorithm != "" && u.ChecksumType == s3.Composite {
		v.Checksum, v.ChecksumType = s3.CompositeChecksum(alg, checksums), s3.Composite
	}
	now := s.now().UTC()
	var out Version
	err = s.db.Update(ctx, func(tx store.Tx) error {
		b, err := loadBucket(tx, bucket)
		if err != nil {
			return err
		}
		if _, err := loadUpload(tx, bucket, key, id); err != nil {
			return err
		}
		hd, ok, err := loadHead(tx, bucket, key)
		if err != nil {
			return err
		}
		if err := in.Conditions.check(hd, ok); err != nil {
			return err
		}
		nv := v
		nv.LastModified = now
		if out, err = putVersion(tx, b, hd, nv); err != nil {
			return err
		}
		return tx.Delete(upKey(bucket, key, id))
	})
	if err != nil {
		return Version{}, err
	}
	s.dropParts(ctx, id)
	return out, nil
}

// AbortUpload removes an upload and its parts.
func (s *Service) AbortUpload(ctx context.Context, bucket, key, id string) error {
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := loadUpload(tx, bucket, key, id); err != nil {
			return err
		}
		return tx.Delete(upKey(bucket, key, id))
	})
	if err != nil {
		return err
	}
	s.dropParts(ctx, id)
	return nil
}

// dropParts deletes an upload's part records, a batch per transaction (an upload has up to 10,000 parts; etcd
// bounds a transaction's operations). What a failure leaves, the janitor drops.
func (s *Service) dropParts(ctx context.Context, id string) {
	for {
		n := 0
		err := s.db.Update(ctx, func(tx store.Tx) error {
			var keys []string
			if err := tx.Scan(partPrefix(id), "", func(k string, _ []byte) (bool, error) {
				keys = append(keys, k)
				return len(keys) < 100, nil
			}); err != nil {
				return err
			}
			n = len(keys)
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.log.Warn("dropping an upload's parts", "upload", id, "err", err)
			return
		}
		if n < 100 {
			return
		}
	}
}

// ListParts lists an upload's parts after a part number.
func (s *Service) ListParts(ctx context.Context, bucket, key, id string, after, max int) (Upload, []Part, bool, error) {
	var u Upload
	var parts []Part
	truncated := false
	err := s.db.View(ctx, func(tx store.Tx) error {
		parts, truncated = nil, false
		var err error
		if u, err = loadUpload(tx, bucket, key, id); err != nil {
			return err
		}
		start := ""
		if after > 0 {
			start = partKey(id, after)
		}
		return tx.Scan(partPrefix(id), start, func(_ string, v []byte) (bool, error) {
			if len(parts) >= max {
				truncated = true
				return false, nil
			}
			var p Part
			if err := jsonUnmarshal(v, &p); err != nil {
				return false, err
			}
			parts = append(parts, p)
			return true, nil
		})
	})
	return u, parts, truncated, err
}

// ListUploads lists a bucket's uploads in progress by key, then initiation.
func (s *Service) ListUploads(ctx context.Context, bucket string, in ListInput) ([]Upload, []string, bool, error) {
	var ups []Upload
	var prefixes []string
	truncated := false
	err := s.db.View(ctx, func(tx store.Tx) error {
		ups, prefixes, truncated = nil, nil, false
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		base := upPrefix(bucket)
		after := ""
		if in.After != "" {
			after = base + in.After + "\x00\xff"
			if in.VersionAfter != "" {
				after = upKey(bucket, in.After, in.VersionAfter)
			}
		}
		for {
			restart := ""
			err := tx.Scan(base+in.Prefix, after, func(k string, v []byte) (bool, error) {
				full := len(ups)+len(prefixes) >= in.MaxKeys
				key, _, _ := strings.Cut(k[len(base):], "\x00")
				if cp := commonPrefix(key, in.Prefix, in.Delimiter); cp != "" {
					if full {
						truncated = true
						return false, nil
					}
					prefixes = append(prefixes, cp)
					restart = base + cp + "\xff"
					return false, nil
				}
				if full {
					truncated = true
					return false, nil
				}
				var u Upload
				if err := jsonUnmarshal(v, &u); err != nil {
					return false, err
				}
				ups = append(ups, u)
				return true, nil
			})
			if err != nil || restart == "" {
				return err
			}
			after = restart
		}
	})
	return ups, prefixes, truncated, err
}
