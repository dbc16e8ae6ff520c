package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signedCall sends one SigV4-signed request to the endpoint in cfg and returns the response body of a 200. It
// serves the calls whose answers carry Sluice's documented extensions (dead letters, deployment timelines), which
// the SDK's typed clients drop.
func signedCall(ctx context.Context, cfg aws.Config, service, method, path string, header map[string]string, body []byte) ([]byte, error) {
	if cfg.BaseEndpoint == nil {
		return nil, fmt.Errorf("no Sluice endpoint: set AWS_ENDPOINT_URL or --endpoint-url")
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
		return nil, err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Header.Get("x-amzn-ErrorType"), strings.TrimSpace(string(out)))
	}
	return out, nil
}
