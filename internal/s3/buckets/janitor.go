package buckets

import (
	"context"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// LiveBlobs lists every blob a record names (versions and parts): what blobstore.Sweep must keep.
func (s *Service) LiveBlobs(ctx context.Context) (map[string]bool, error) {
	live := map[string]bool{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		clear(live)
		for _, root := range []string{verRoot, partRoot} {
			if err := tx.Scan(root, "", func(_ string, v []byte) (bool, error) {
				var r struct {
					Blob string `json:"blob"`
				}
				if err := jsonUnmarshal(v, &r); err != nil {
					return false, err
				}
				if r.Blob != "" {
					live[r.Blob] = true
				}
				return true, nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return live, err
}

// AbortStaleUploads aborts the multipart uploads older than the expiry (S3 keeps them until a lifecycle rule
// aborts them; Sluice bounds the disk they hold), those whose bucket is gone, and drops parts left behind by an
// upload that is gone. It returns how many uploads it aborted.
func (s *Service) AbortStaleUploads(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.expiry)
	var stale []Upload
	orphans := map[string]bool{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		stale = stale[:0]
		clear(orphans)
		if err := tx.Scan(upRoot, "", func(_ string, v []byte) (bool, error) {
			var u Upload
			if err := jsonUnmarshal(v, &u); err != nil {
				return false, err
			}
			bucketExists, err := store.Exists(tx, bucketKey(u.Bucket))
			if err != nil {
				return false, err
			}
			if !bucketExists || u.Initiated.Before(cutoff) {
				stale = append(stale, u)
			}
			return true, nil
		}); err != nil {
			return err
		}
		return tx.Scan(partRoot, "", func(k string, v []byte) (bool, error) {
			id, _, _ := strings.Cut(strings.TrimPrefix(k, partRoot), "/")
			if orphans[id] {
				return true, nil
			}
			var p Part
			if err := jsonUnmarshal(v, &p); err != nil {
				return false, err
			}
			ok, err := store.Exists(tx, upKey(p.Bucket, p.Key, id))
			if err == nil && !ok && p.LastModified.Before(s.now().Add(-time.Hour)) {
				orphans[id] = true
			}
			return true, err
		})
	})
	if err != nil {
		return 0, err
	}
	for _, u := range stale {
		if err := s.db.Update(ctx, func(tx store.Tx) error { return tx.Delete(upKey(u.Bucket, u.Key, u.UploadID)) }); err != nil {
			return 0, err
		}
		s.dropParts(ctx, u.UploadID)
	}
	for id := range orphans {
		s.dropParts(ctx, id)
	}
	return len(stale), nil
}
