package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/awsraw"
)

// signedCall sends one SigV4-signed request to the endpoint in cfg and returns the response body of a 200. It
// serves the calls whose answers carry Sluice's documented extensions (dead letters, deployment timelines), which
// the SDK's typed clients drop. Any other answer is an API error, as the SDK would have returned it.
func signedCall(ctx context.Context, cfg aws.Config, service, method, path string, header map[string]string, body []byte) ([]byte, error) {
	resp, err := awsraw.Do(ctx, cfg, service, method, path, header, body)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, apiError(resp.Status, resp.Header.Get("x-amzn-ErrorType"), resp.Body)
	}
	return resp.Body, nil
}

// apiError reads an AWS JSON protocol error: the code from the x-amzn-ErrorType header or the body's __type (either
// may carry a namespace or a URL), the message from the body's message field.
func apiError(status int, errorType string, body []byte) *smithy.GenericAPIError {
	var doc struct {
		Type    string `json:"__type"`
		Message string `json:"message"` // encoding/json also matches the "Message" some services send
	}
	text := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &doc) == nil && doc.Message != "" {
		text = doc.Message
	}
	code := firstNonEmpty(errorType, doc.Type, http.StatusText(status))
	code, _, _ = strings.Cut(code, ":") // "Code:http://internal.amazon.com/…"
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:] // "com.amazonaws.codedeploy#Code"
	}
	return &smithy.GenericAPIError{Code: code, Message: text}
}
