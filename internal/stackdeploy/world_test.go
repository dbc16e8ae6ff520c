package stackdeploy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/iamapi"
	"github.com/sluice-dev/sluice/internal/api/logsapi"
	"github.com/sluice-dev/sluice/internal/api/s3api"
	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/blobstore"
	iampkg "github.com/sluice-dev/sluice/internal/iam"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// realWorld is the fake Lambda, CodeDeploy and STS of the other tests with Sluice's real S3 and IAM edges and
// services (over bbolt) behind the real gateway, which verifies every request's signature: what the S3, bucket
// policy and IAM policy handlers make is read back through the same APIs.
type realWorld struct {
	t      *testing.T
	cfg    aws.Config
	s3     *s3.Client
	iam    *iam.Client
	logs   *cloudwatchlogs.Client
	ids    *iampkg.Service
	stacks *memStacks
}

const worldAccount = "000000000000"

func newRealWorld(t *testing.T) *realWorld {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	blobs, err := blobstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyring(auth.RootCredentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, worldAccount)
	ids, err := iampkg.New(t.Context(), iampkg.Options{Store: db, Keyring: keys, AccountID: worldAccount, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	logFiles, err := logstore.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFiles.Close() })
	logsEdge := logsapi.New(logFiles, lambda.Account{Region: "us-east-1", ID: worldAccount}, quiet, logsapi.WithRegistry(logstore.NewRegistry(db, nil)))
	objects := buckets.New(buckets.Options{Store: db, Blobs: blobstore.Single{Store: blobs}, Region: "us-east-1", Logger: quiet})
	fake := newFakeAWS(t)
	rest := http.HandlerFunc(fake.serve)
	gw := &gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: keys},
		Services: map[string]http.Handler{"iam": iamapi.NewIAM(ids, quiet), "logs": logsEdge, "sts": rest, "lambda": rest, "codedeploy": rest, "monitoring": rest},
		S3:       s3api.New(objects, quiet), S3Domain: "s3.us-east-1.localhost",
		Authorizer: ids, GlobalServices: map[string]bool{"iam": true, "sts": true},
		Region: "us-east-1", Log: quiet,
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	return &realWorld{t: t, cfg: cfg, s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), iam: iam.NewFromConfig(cfg), logs: cloudwatchlogs.NewFromConfig(cfg),
		ids: ids, stacks: newMemStacks()}
}

func (w *realWorld) deploy(template string) (*Result, error) {
	w.t.Helper()
	return operate(w.t, Options{TemplateBody: []byte(template), Config: w.cfg, Stacks: w.stacks, Poll: time.Millisecond})
}

func (w *realWorld) delete() (*Result, error) {
	w.t.Helper()
	return operate(w.t, Options{Config: w.cfg, Stacks: w.stacks, Poll: time.Millisecond})
}

func (w *realWorld) ctx() context.Context { return w.t.Context() }
