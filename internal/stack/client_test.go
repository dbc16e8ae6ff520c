package stack_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/stackapi"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
)

// session is the temporary credential the client signs with: the gateway accepts a request only if it carries
// the matching X-Amz-Security-Token among its signed headers.
var session = sigv4.Credential{AccessKeyID: "ASIAEXAMPLESESSION01", SecretAccessKey: "session-secret",
	SessionToken: "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars", Principal: "arn:aws:sts::000000000000:assumed-role/deployer/ci"}

type credentialSource map[string]sigv4.Credential

func (c credentialSource) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	if cred, ok := c[id]; ok {
		return cred, nil
	}
	return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
}

// headerLog remembers the signing headers of the requests that reach the server.
type headerLog struct {
	mu            sync.Mutex
	tokens, auths []string
}

func (l *headerLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.tokens = append(l.tokens, r.Header.Get("X-Amz-Security-Token"))
		l.auths = append(l.auths, r.Header.Get("Authorization"))
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// serve runs the real server side (gateway, SigV4 verification, the `sluice` service) answering DescribeCluster
// with describe, and returns its URL.
func serve(t *testing.T, describe func(context.Context) (cluster.Status, error), log *headerLog) string {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	var h http.Handler = &gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: credentialSource{session.AccessKeyID: session}},
		Services: map[string]http.Handler{"sluice": stackapi.New(quiet, describe)},
		Region:   "us-east-1",
		Log:      quiet,
	}
	if log != nil {
		h = log.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// describeTestCluster is the server side's answer to DescribeCluster in these tests.
func describeTestCluster(context.Context) (cluster.Status, error) {
	return cluster.Status{Mode: "cluster", Nodes: []cluster.NodeStatus{{Node: cluster.Node{Name: "n1", URL: "http://n1"}, InFlight: 3,
		Leading: []string{cluster.JobAlarms}}}, Leaders: map[string]string{cluster.JobAlarms: "n1"}}, nil
}

// Ensure DescribeCluster travels the wire whole: what the server's status says is what the client returns.
func TestClientDescribeCluster(t *testing.T) {
	got, err := stack.NewClient(sessionConfig(serve(t, describeTestCluster, nil))).DescribeCluster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := describeTestCluster(context.Background())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DescribeCluster: %+v, want %+v", got, want)
	}
}

func sessionConfig(endpoint string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(session.AccessKeyID, session.SecretAccessKey, session.SessionToken)}
}

// TestClientSignsSessionToken: the session token travels in X-Amz-Security-Token and is covered by the signature.
func TestClientSignsSessionToken(t *testing.T) {
	var log headerLog
	c := stack.NewClient(sessionConfig(serve(t, describeTestCluster, &log)))
	if _, err := c.DescribeCluster(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(log.tokens) != 1 || log.tokens[0] != session.SessionToken {
		t.Errorf("X-Amz-Security-Token %q, want %q", log.tokens, session.SessionToken)
	}
	if len(log.auths) != 1 || !strings.Contains(log.auths[0], "Credential="+session.AccessKeyID+"/") ||
		!strings.Contains(log.auths[0], "/us-east-1/sluice/aws4_request") || !strings.Contains(log.auths[0], "x-amz-security-token") {
		t.Errorf("Authorization %q: want the session key, the sluice scope and x-amz-security-token signed", log.auths)
	}
}

// recordingClient is an aws.HTTPClient that counts what it sends.
type recordingClient struct{ calls int }

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.calls++
	return http.DefaultClient.Do(r)
}

func TestClientErrors(t *testing.T) {
	ctx := t.Context()
	url := serve(t, describeTestCluster, nil)
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>upstream down</html>\n"))
	}))
	defer junk.Close()
	broken := serve(t, func(context.Context) (cluster.Status, error) { return cluster.Status{}, errDisk }, nil)

	for _, tc := range []struct {
		name    string
		cfg     func() aws.Config
		wantAPI *stack.APIError // nil: a plain error with wantText
		wantErr string
	}{
		{name: "no endpoint", cfg: func() aws.Config { c := sessionConfig(url); c.BaseEndpoint = nil; return c },
			wantErr: "no Sluice endpoint: set AWS_ENDPOINT_URL"},
		{name: "no credentials", cfg: func() aws.Config { c := sessionConfig(url); c.Credentials = nil; return c },
			wantErr: "no AWS credentials to sign Sluice requests with"},
		{name: "wrong session token", cfg: func() aws.Config {
			c := sessionConfig(url)
			c.Credentials = credentials.NewStaticCredentialsProvider(session.AccessKeyID, session.SecretAccessKey, "stolen")
			return c
		}, wantAPI: &stack.APIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid.", Status: 403}},
		{name: "missing session token", cfg: func() aws.Config {
			c := sessionConfig(url)
			c.Credentials = credentials.NewStaticCredentialsProvider(session.AccessKeyID, session.SecretAccessKey, "")
			return c
		}, wantAPI: &stack.APIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid.", Status: 403}},
		{name: "wrong region", cfg: func() aws.Config { c := sessionConfig(url); c.Region = "eu-west-1"; return c },
			wantAPI: &stack.APIError{Code: "InvalidSignatureException", Message: "Credential should be scoped to a valid region, not 'eu-west-1'. This endpoint serves 'us-east-1'.", Status: 403}},
		{name: "not a Sluice server", cfg: func() aws.Config { return sessionConfig(junk.URL) },
			wantAPI: &stack.APIError{Code: "Bad Gateway", Message: "<html>upstream down</html>", Status: 502}},
		{name: "internal failure", cfg: func() aws.Config { return sessionConfig(broken) },
			wantAPI: &stack.APIError{Code: "InternalFailure", Status: 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stack.NewClient(tc.cfg()).DescribeCluster(ctx)
			if tc.wantAPI == nil {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			var ae *stack.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v, want an *APIError", err, err)
			}
			if tc.wantAPI.Message == "" { // internal failures carry a request ID
				ae.Message = ""
			}
			if *ae != *tc.wantAPI {
				t.Errorf("got %+v, want %+v", *ae, *tc.wantAPI)
			}
		})
	}

	t.Run("custom HTTP client and trailing slash", func(t *testing.T) {
		hc := &recordingClient{}
		cfg := sessionConfig(url + "/")
		cfg.HTTPClient = hc
		if _, err := stack.NewClient(cfg).DescribeCluster(ctx); err != nil || hc.calls != 1 {
			t.Errorf("DescribeCluster = %v with %d calls through cfg.HTTPClient, want 1", err, hc.calls)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := stack.NewClient(sessionConfig(url)).DescribeCluster(cctx); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

var errDisk = errors.New("input/output error")
