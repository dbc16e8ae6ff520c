package buckets

import (
	"context"
	"strings"

	"github.com/sluice-dev/sluice/internal/store"
)

// ListInput is a listing's parameters (ListObjects, ListObjectsV2, ListObjectVersions).
type ListInput struct {
	Prefix, Delimiter string
	// After: list keys strictly after it (ListObjects' marker, V2's start-after or continuation).
	After string
	// VersionAfter, with After, resumes a version listing after that version of After (version-id-marker).
	VersionAfter string
	MaxKeys      int
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects        []Version // latest versions (ListObjects) or every version and delete marker (ListObjectVersions)
	Latest         []bool    // for versions: whether each is its key's latest
	CommonPrefixes []string
	Truncated      bool
	// Next is where the next page starts: the last key or common prefix returned (and NextVersion its version).
	Next, NextVersion string
}

// skipAfter is the store key after which a scan resumes past cursor: when cursor is a common prefix of this
// listing (it ends with the delimiter, below the prefix), past everything under it too (no UTF-8 key holds 0xFF).
func skipAfter(base, prefix, delimiter, cursor string) string {
	if cursor == "" || cursor < prefix && !strings.HasPrefix(prefix, cursor) {
		return ""
	}
	if rest, ok := strings.CutPrefix(cursor, prefix); ok && delimiter != "" && rest != "" && strings.Index(rest, delimiter) == len(rest)-len(delimiter) {
		return base + cursor + "\xff"
	}
	return base + cursor
}

// commonPrefix is the common prefix key rolls up into, "" for none.
func commonPrefix(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
		return key[:len(prefix)+i+len(delimiter)]
	}
	return ""
}

// ListObjects lists a bucket's keys whose latest version is not a delete marker, in key order, rolling keys up into
// common prefixes at the delimiter.
func (s *Service) ListObjects(ctx context.Context, bucket string, in ListInput) (ListResult, error) {
	var res ListResult
	err := s.db.View(ctx, func(tx store.Tx) error {
		res = ListResult{}
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		if in.MaxKeys <= 0 {
			return nil
		}
		base := objPrefix(bucket)
		after := skipAfter(base, in.Prefix, in.Delimiter, in.After)
		for {
			restart := ""
			err := tx.Scan(base+in.Prefix, after, func(k string, v []byte) (bool, error) {
				var h head
				if err := jsonUnmarshal(v, &h); err != nil {
					return false, err
				}
				if h.Latest.DeleteMarker {
					return true, nil
				}
				full := len(res.Objects)+len(res.CommonPrefixes) >= in.MaxKeys
				key := k[len(base):]
				if cp := commonPrefix(key, in.Prefix, in.Delimiter); cp != "" {
					if full {
						res.Truncated = true
						return false, nil
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					res.Next, restart = cp, base+cp+"\xff"
					return false, nil
				}
				if full {
					res.Truncated = true
					return false, nil
				}
				res.Objects = append(res.Objects, h.Latest)
				res.Next = key
				return true, nil
			})
			if err != nil || restart == "" {
				return err
			}
			after = restart
		}
	})
	return res, err
}

// ListVersions lists every version and delete marker, by key and newest first within a key.
func (s *Service) ListVersions(ctx context.Context, bucket string, in ListInput) (ListResult, error) {
	var res ListResult
	err := s.db.View(ctx, func(tx store.Tx) error {
		res = ListResult{}
		if _, err := loadBucket(tx, bucket); err != nil {
			return err
		}
		if in.MaxKeys <= 0 {
			return nil
		}
		base := verPrefix(bucket)
		after := ""
		switch {
		case in.After != "" && in.VersionAfter != "":
			h, _, err := loadHead(tx, bucket, in.After)
			if err != nil {
				return err
			}
			if seq, err := versionSeq(h, in.VersionAfter); err == nil {
				after = verKey(bucket, in.After, seq)
			} else {
				after = keyVersions(bucket, in.After) + "\xff"
			}
		case in.After != "":
			if sa := skipAfter("", in.Prefix, in.Delimiter, in.After); strings.HasSuffix(sa, "\xff") {
				after = base + sa
			} else if sa != "" {
				after = keyVersions(bucket, in.After) + "\xff"
			}
		}
		heads := map[string]uint64{}
		for {
			restart := ""
			err := tx.Scan(base+in.Prefix, after, func(k string, v []byte) (bool, error) {
				key := splitVersionKey(k[len(base):])
				full := len(res.Objects)+len(res.CommonPrefixes) >= in.MaxKeys
				if cp := commonPrefix(key, in.Prefix, in.Delimiter); cp != "" {
					if full {
						res.Truncated = true
						return false, nil
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					res.Next, res.NextVersion, restart = cp, "", base+cp+"\xff"
					return false, nil
				}
				if full {
					res.Truncated = true
					return false, nil
				}
				var ver Version
				if err := jsonUnmarshal(v, &ver); err != nil {
					return false, err
				}
				latest, ok := heads[key]
				if !ok {
					h, _, err := loadHead(tx, bucket, key)
					if err != nil {
						return false, err
					}
					latest = h.Latest.Seq
					clear(heads)
					heads[key] = latest
				}
				res.Objects = append(res.Objects, ver)
				res.Latest = append(res.Latest, ver.Seq == latest)
				res.Next, res.NextVersion = key, ver.VersionID
				return true, nil
			})
			if err != nil || restart == "" {
				return err
			}
			after = restart
		}
	})
	return res, err
}
