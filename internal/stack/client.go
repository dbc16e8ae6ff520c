package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluice-dev/sluice/internal/awsraw"
	"github.com/sluice-dev/sluice/internal/cluster"
)

// The wire contract of the server's `sluice` service (internal/api/stackapi). It is restated here rather than
// imported because the edge imports this package.
const (
	signingName  = "sluice"
	targetPrefix = "SluiceStacks_20261126."
	contentType  = "application/x-amz-json-1.1"
)

// Client calls the Sluice server's own `sluice` service, for the CLI (`sluice cluster status`): each call is one
// SigV4-signed request. Stacks are not read or written through it: `sluice deploy` and `sluice stack` use the
// CloudFormation API, like any CloudFormation client.
type Client struct {
	cfg aws.Config
}

// NewClient returns a client for the server at cfg.BaseEndpoint, signing with cfg.Credentials for cfg.Region and
// sending through cfg.HTTPClient (http.DefaultClient if nil).
func NewClient(cfg aws.Config) *Client {
	return &Client{cfg: cfg}
}

// APIError is an error the service answered with.
type APIError struct {
	Code    string // the exception name, e.g. AccessDeniedException
	Message string
	Status  int // the HTTP status
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// DescribeCluster asks the server for the cluster's status (the same service answers it).
func (c *Client) DescribeCluster(ctx context.Context) (cluster.Status, error) {
	var out struct{ Cluster cluster.Status }
	err := c.call(ctx, "DescribeCluster", struct{}{}, &out)
	return out.Cluster, err
}

// CreateSignInLink asks the server for a single-use web console sign-in link for the caller's own identity (the
// same service answers it); it returns the link and when it stops working.
func (c *Client) CreateSignInLink(ctx context.Context) (string, time.Time, error) {
	var out struct {
		SignInPath string
		Expiration float64
	}
	if err := c.call(ctx, "CreateSignInLink", struct{}{}, &out); err != nil {
		return "", time.Time{}, err
	}
	if !strings.HasPrefix(out.SignInPath, "/") {
		return "", time.Time{}, fmt.Errorf("CreateSignInLink: the server answered no sign-in path")
	}
	expires := time.UnixMilli(int64(out.Expiration * 1000))
	return strings.TrimSuffix(aws.ToString(c.cfg.BaseEndpoint), "/") + out.SignInPath, expires, nil
}

// call sends one operation and decodes a 200's body into out (nil: ignored).
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	if c.cfg.BaseEndpoint == nil {
		return errors.New("no Sluice endpoint: set AWS_ENDPOINT_URL")
	}
	if c.cfg.Credentials == nil {
		return errors.New("no AWS credentials to sign Sluice requests with")
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := awsraw.Do(ctx, c.cfg, signingName, http.MethodPost, "/",
		map[string]string{"X-Amz-Target": targetPrefix + op, "Content-Type": contentType}, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != http.StatusOK {
		return replyError(resp, resp.Body)
	}
	reply := resp.Body
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(reply, out); err != nil {
		return fmt.Errorf("%s: decode reply: %w", op, err)
	}
	return nil
}

// replyError turns an error reply into an *APIError. A reply that is not the protocol's (a proxy's HTML page, say)
// keeps its status and a bounded piece of its body.
func replyError(resp *awsraw.Response, reply []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(reply, &e)
	code := e.Type
	if code == "" {
		code = resp.Header.Get("X-Amzn-Errortype")
	}
	// Some AWS services qualify the name ("ns#Code") or append detail ("Code:http://..."): keep the name.
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	msg := e.Message
	if msg == "" {
		msg = e.Upper
	}
	if code == "" {
		code = http.StatusText(resp.Status)
		if msg == "" {
			msg = strings.TrimSpace(string(reply[:min(len(reply), 512)]))
		}
	}
	return &APIError{Code: code, Message: msg, Status: resp.Status}
}
