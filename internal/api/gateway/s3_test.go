package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/sigv4"
)

type noS3 struct{ http.Handler }

func (noS3) WriteAuthFailure(http.ResponseWriter, *http.Request, *sigv4.Error) {}

// TestS3Routing: which requests the gateway hands to S3, and with which bucket from the Host.
func TestS3Routing(t *testing.T) {
	g := &Gateway{S3: noS3{}, S3Domain: "s3.us-east-1.localhost"}
	for _, tc := range []struct {
		host    string
		bucket  string
		matches bool
	}{
		{"s3.us-east-1.localhost:9324", "", true},
		{"S3.US-EAST-1.LOCALHOST", "", true},
		{"photos.s3.us-east-1.localhost:9324", "photos", true},
		{"my.dotted.bucket.s3.us-east-1.localhost", "my.dotted.bucket", true},
		{"127.0.0.1:9324", "", false},
		{"x.lambda-url.us-east-1.localhost", "", false},
		{"evil-s3.us-east-1.localhost", "", false},
		{"[::1]:9324", "", false},
		{"photos.s3.amazonaws.com", "", false}, // AWS's own hosts only with AWSHosts
	} {
		b, ok := g.s3Host(tc.host)
		if ok != tc.matches || b != tc.bucket {
			t.Errorf("s3Host(%q) = %q, %v; want %q, %v", tc.host, b, ok, tc.bucket, tc.matches)
		}
	}
	aws := &Gateway{S3: noS3{}, S3Domain: "s3.us-east-1.localhost", AWSHosts: true}
	for _, tc := range []struct {
		host    string
		bucket  string
		matches bool
	}{
		{"photos.s3.amazonaws.com", "photos", true},
		{"photos.s3.us-east-1.amazonaws.com:443", "photos", true},
		{"S3.US-EAST-1.AMAZONAWS.COM", "", true},
		{"photos.s3.us-east-1.localhost", "photos", true},
		{"lambda.us-east-1.amazonaws.com", "", false},
		{"123456789012.s3-control.us-east-1.amazonaws.com", "", false},
	} {
		b, ok := aws.s3Host(tc.host)
		if ok != tc.matches || b != tc.bucket {
			t.Errorf("with AWSHosts, s3Host(%q) = %q, %v; want %q, %v", tc.host, b, ok, tc.bucket, tc.matches)
		}
	}
	s3Signed := "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
	lambdaSigned := "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00"
	for _, tc := range []struct {
		method, target, auth string
		s3                   bool
	}{
		{"GET", "/bucket/key", s3Signed, true},
		{"PUT", "/bucket/a//b/../c", s3Signed, true},
		{"GET", "/", s3Signed, true},
		{"GET", "/2015-03-31/functions", lambdaSigned, false},
		{"GET", "/public-bucket/file.txt", "", true},
		{"GET", "/public-bucket/file.txt?X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00", "", true},
		{"GET", "/2015-03-31/functions", "", false},
		{"GET", "/metrics", "", false},
		{"GET", "/_sluice/health", "", false},
		{"POST", "/", "", false},
		{"GET", "/a/./b", "", false},         // not a bucket name: the gateway's own unknown operation
		{"GET", "/Bad_Bucket/x", "", false},  // idem
		{"POST", "/sts-like-form", "", true}, // an anonymous S3 call the handler refuses
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := g.isS3(r); got != tc.s3 {
			t.Errorf("isS3(%s %s, signed %v) = %v, want %v", tc.method, tc.target, tc.auth != "", got, tc.s3)
		}
	}
}

// TestReadS3BodyBudget: small S3 bodies are read within the memory budget, and past their limit not at all.
func TestReadS3BodyBudget(t *testing.T) {
	g := &Gateway{MaxBodyMemory: 100}
	req := func(body string) *http.Request {
		r := httptest.NewRequest("PUT", "/bkt?policy", strings.NewReader(body))
		return r.WithContext(context.WithValue(r.Context(), s3GatewayKey{}, g))
	}
	b, release, err := ReadS3Body(req(strings.Repeat("a", 60)), 80)
	if err != nil || len(b) != 60 {
		t.Fatalf("first body: %d bytes, %v", len(b), err)
	}
	if _, _, err := ReadS3Body(req(strings.Repeat("b", 60)), 80); !errors.Is(err, ErrS3BodyBusy) {
		t.Errorf("a second body while the first holds the budget: %v", err)
	}
	release()
	if g.inUse.Load() != 0 {
		t.Errorf("budget in use after release: %d", g.inUse.Load())
	}
	if _, _, err := ReadS3Body(req(strings.Repeat("c", 81)), 80); !errors.Is(err, ErrS3BodyTooLarge) || g.inUse.Load() != 0 {
		t.Errorf("a body past its limit: %v (in use %d)", err, g.inUse.Load())
	}
	b, release, err = ReadS3Body(req(strings.Repeat("d", 60)), 80)
	if err != nil || len(b) != 60 {
		t.Errorf("after release: %d bytes, %v", len(b), err)
	}
	release()
}
