package server

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/cloudformation"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
)

// S3's housekeeping, on every node: blobs no record names are removed from this node's disk once untouched for
// blobGrace (a body being written lives in tmp/ until committed, so the grace only has to cover the moments between
// a commit or Touch and the record naming it); incomplete multipart uploads past their expiry are aborted (the
// aborts are idempotent, so nodes doing it at once do no harm).
const (
	janitorEvery = 10 * time.Minute
	blobGrace    = time.Hour
)

func s3Janitor(ctx context.Context, svc *buckets.Service, blobs *blobstore.Store, log *slog.Logger) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := svc.AbortStaleUploads(ctx); err != nil {
			log.Warn("s3: abort stale multipart uploads", "err", err)
		} else if n > 0 {
			log.Info("s3: aborted stale multipart uploads", "count", n)
		}
		if n, err := blobs.Sweep(blobGrace, func() (map[string]bool, error) { return svc.LiveBlobs(ctx) }); err != nil {
			log.Warn("s3: sweep blobs", "err", err)
		} else if n > 0 {
			log.Info("s3: removed blobs no object names", "count", n)
		}
		t.Reset(janitorEvery)
	}
}

// s3Packages reads Lambda deployment packages from S3 objects (Code.S3Bucket/S3Key/S3ObjectVersion).
type s3Packages struct{ svc *buckets.Service }

// s3Templates reads the templates CloudFormation's TemplateURLs name from S3, as the caller.
type s3Templates struct {
	svc   *buckets.Service
	authz interface {
		Authorize(ctx context.Context, principal, accessKeyID, action, resource string) error
	}
}

// maxTemplateObject bounds what is read of a template object (CloudFormation takes templates up to 1 MB by URL).
const maxTemplateObject = 1 << 20

func (t s3Templates) GetObject(ctx context.Context, caller cloudformation.Caller, bucket, key, version string) ([]byte, error) {
	action := "s3:GetObject"
	if version != "" {
		action = "s3:GetObjectVersion"
	}
	if err := t.authz.Authorize(ctx, caller.Principal, caller.AccessKeyID, action, "arn:aws:s3:::"+bucket+"/"+key); err != nil {
		return nil, err
	}
	return s3Packages{t.svc}.Package(ctx, bucket, key, version, maxTemplateObject)
}

func (p s3Packages) Package(ctx context.Context, bucket, key, version string, limit int64) ([]byte, error) {
	v, err := p.svc.GetObject(ctx, bucket, key, version)
	if err != nil {
		return nil, err
	}
	f, err := p.svc.OpenBlob(ctx, v)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}
