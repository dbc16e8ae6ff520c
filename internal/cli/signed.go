package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluice-dev/sluice/internal/awsraw"
)

// signedCall sends one SigV4-signed request to the endpoint in cfg and returns the response body of a 200. It
// serves the calls whose answers carry Sluice's documented extensions (dead letters, deployment timelines), which
// the SDK's typed clients drop.
func signedCall(ctx context.Context, cfg aws.Config, service, method, path string, header map[string]string, body []byte) ([]byte, error) {
	resp, err := awsraw.Do(ctx, cfg, service, method, path, header, body)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Header.Get("x-amzn-ErrorType"), strings.TrimSpace(string(resp.Body)))
	}
	return resp.Body, nil
}
