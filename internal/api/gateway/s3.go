package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// S3 serves Amazon S3's REST API. Its requests bypass the body budget: object bodies stream, under the read
// deadline, from the connection to the handler, which must read them to io.EOF before acting on them (the
// signature over the payload is checked as they are read; see sigv4.Payload).
type S3 interface {
	http.Handler
	// WriteAuthFailure answers a request whose signature failed, in S3's words.
	WriteAuthFailure(w http.ResponseWriter, r *http.Request, err *sigv4.Error)
}

type s3BucketKey struct{}

// S3Bucket is the bucket a virtual-hosted request's Host names ("" for a path-style request, whose bucket is the
// path's first segment).
func S3Bucket(r *http.Request) (string, bool) {
	b, ok := r.Context().Value(s3BucketKey{}).(string)
	return b, ok
}

// s3Host reads an S3 host: "<bucket>.<domain>" (virtual-hosted) or "<domain>" itself (path-style), with or
// without a port; with AWSHosts, S3's own hosts in amazonaws.com too (s3.AWSHost).
func (g *Gateway) s3Host(host string) (bucket string, ok bool) {
	if g.S3 == nil {
		return "", false
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	if g.AWSHosts {
		if bucket, ok := s3.AWSHost(host); ok {
			return bucket, true
		}
	}
	if g.S3Domain == "" {
		return "", false
	}
	if host == g.S3Domain {
		return "", true
	}
	if b, found := strings.CutSuffix(host, "."+g.S3Domain); found && b != "" {
		return b, true
	}
	return "", false
}

// lambdaDated matches the first segment of every path Lambda's API serves ("/2015-03-31/...").
var lambdaDated = regexp.MustCompile(`^/\d{4}-\d{2}-\d{2}(/|$)`)

// isS3 reports whether a request for the main endpoint is S3's: it is signed for s3, or it is an unsigned request
// whose path starts with a valid bucket name no other API's path starts with (an anonymous path-style request to a
// public bucket). Anything else unsigned keeps the gateway's own answers.
func (g *Gateway) isS3(r *http.Request) bool {
	if g.S3 == nil || r.Method == http.MethodConnect {
		return false
	}
	if sigv4.Signed(r) {
		return sigv4.ClaimedService(r) == "s3"
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") || p == "/metrics" || lambdaDated.MatchString(p) {
		return false
	}
	bucket, _, _ := strings.Cut(p[1:], "/")
	return s3.CheckBucketName(bucket) == nil
}

// serveS3 authenticates an S3 request from its headers and hands it on with its body unread: r.Body becomes the
// verifying payload reader (signed requests) or the raw body under the read deadline (anonymous ones, which the
// handler authorizes against the bucket policy alone).
func (g *Gateway) serveS3(w http.ResponseWriter, r *http.Request, virtualBucket string, virtual bool) {
	start := time.Now()
	r = awshttp.WithRequestID(w, r)
	aw := g.guard(w, r)
	aw.replace = nil // S3 answers its own statuses, 304 included
	w.Header().Set("x-amz-request-id", awshttp.RequestID(r.Context()))
	ctx := r.Context()
	if virtual {
		ctx = context.WithValue(ctx, s3BucketKey{}, virtualBucket)
	}
	if g.Authorizer != nil {
		ctx = context.WithValue(ctx, authorizerKey{}, g.Authorizer)
	}
	ctx = context.WithValue(ctx, s3GatewayKey{}, g)
	rc := http.NewResponseController(aw)
	defer rc.SetReadDeadline(time.Time{})
	body := io.Reader(&pacedReader{r: r.Body, deadline: rc.SetReadDeadline, start: time.Now(), now: time.Now,
		timeout: g.readTimeout(), rate: g.minReadRate()})
	if sigv4.Signed(r) {
		p, err := g.Verifier.Prepare(ctx, r)
		if err == nil && p.Region() != g.Region {
			err = &sigv4.Error{Code: "AuthorizationHeaderMalformed", Status: http.StatusBadRequest, Kind: sigv4.KindMalformed,
				Message: "The authorization header is malformed; the region '" + p.Region() + "' is wrong; expecting '" + g.Region + "'"}
		}
		if err == nil && !p.Presigned() && p.ContentSHA256() == "" {
			err = &sigv4.Error{Code: "InvalidRequest", Status: http.StatusBadRequest, Kind: sigv4.KindOther,
				Message: "Missing required header for this request: x-amz-content-sha256"}
		}
		var id sigv4.Identity
		var payload *sigv4.Payload
		if err == nil {
			id, payload, err = p.VerifyStreaming(body)
		}
		if err != nil {
			if r.ContentLength != 0 {
				aw.Header().Set("Connection", "close")
			}
			se, _ := err.(*sigv4.Error)
			if se == nil {
				se = &sigv4.Error{Code: "InternalError", Status: 500, Kind: sigv4.KindInternal, Message: "internal error"}
			}
			g.S3.WriteAuthFailure(aw, r.WithContext(ctx), se)
			g.logS3(r, aw, start)
			return
		}
		ctx = context.WithValue(ctx, identityKey{}, id)
		body = payload
		ctx = context.WithValue(ctx, s3PayloadKey{}, payload)
	}
	r.Body = io.NopCloser(body)
	g.S3.ServeHTTP(aw, r.WithContext(ctx))
	g.logS3(r, aw, start)
}

type s3PayloadKey struct{}

type s3GatewayKey struct{}

// Why ReadS3Body did not read a body.
var (
	ErrS3BodyTooLarge = errors.New("gateway: S3 request body larger than its operation takes")
	ErrS3BodyBusy     = errors.New("gateway: request body memory budget exhausted")
)

// ReadS3Body reads the whole body of an S3 request whose operation takes a small one (an XML configuration, a
// DeleteObjects list, a policy), at most limit bytes, holding them within the gateway's memory budget: the body's
// declared size (limit when it declares none) is taken from the budget before anything is read, and release gives
// it back. ErrS3BodyBusy when the budget cannot hold it now; ErrS3BodyTooLarge past limit; a verification failure
// of the signed payload as read.
func ReadS3Body(r *http.Request, limit int64) (body []byte, release func(), err error) {
	g, _ := r.Context().Value(s3GatewayKey{}).(*Gateway)
	n := limit + 1
	if r.ContentLength >= 0 && r.ContentLength < n {
		n = r.ContentLength + 1 // aws-chunked: the encoded length bounds the payload
	}
	release = func() {}
	if g != nil {
		if !g.acquire(n) {
			return nil, release, ErrS3BodyBusy
		}
		release = func() { g.inUse.Add(-n) }
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(n, 64<<10)))
	if _, err := io.Copy(buf, io.LimitReader(r.Body, limit+1)); err != nil {
		release()
		return nil, func() {}, err
	}
	if int64(buf.Len()) > limit {
		release()
		return nil, func() {}, ErrS3BodyTooLarge
	}
	return buf.Bytes(), release, nil
}

// S3Payload is the verifying reader of a signed S3 request's body (its trailers, its decoded length), nil for an
// anonymous request.
func S3Payload(r *http.Request) *sigv4.Payload {
	p, _ := r.Context().Value(s3PayloadKey{}).(*sigv4.Payload)
	return p
}

func (g *Gateway) logS3(r *http.Request, aw *answerWriter, start time.Time) {
	g.Log.Debug("s3 request", "method", r.Method, "host", r.Host, "path", r.URL.Path, "status", aw.status,
		"payload", r.Header.Get("X-Amz-Content-Sha256"), "encoding", r.Header.Get("Content-Encoding"),
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "request_id", awshttp.RequestID(r.Context()))
}
