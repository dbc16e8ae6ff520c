// Package awsraw sends one SigV4-signed HTTP request with the credentials, region and endpoint of an SDK config.
// It serves what the SDK's typed clients cannot: Sluice's own `sluice` service (stack records) and answers whose
// documented Sluice extensions (deployment timelines, dead letters) the typed clients drop.
package awsraw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxReply bounds the body read from a reply.
const MaxReply = 64 << 20

// Response is a reply of any status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrNoEndpoint is returned when the config names no endpoint (no AWS_ENDPOINT_URL, no --endpoint-url).
var ErrNoEndpoint = errors.New("no Sluice endpoint: set AWS_ENDPOINT_URL or --endpoint-url")

// Do signs a request for service with cfg's credentials and region, sends it to cfg's endpoint + path, and returns
// the reply whatever its status. Transport, credential and signing failures are errors.
func Do(ctx context.Context, cfg aws.Config, service, method, path string, header map[string]string, body []byte) (*Response, error) {
	if cfg.BaseEndpoint == nil {
		return nil, ErrNoEndpoint
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials to sign the request with")
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(*cfg.BaseEndpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	var hc aws.HTTPClient = http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: reply}, nil
}
