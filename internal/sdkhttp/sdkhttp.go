// Package sdkhttp owns the HTTP client Sluice's own aws-sdk-go-v2 callers use (the CLI, the tests, the
// benchmarks): the SDK's, with request bodies whose Close runs once and never fails.
//
// Why: net/http's transport closes a request body after writing it, and if that Close fails it tears down the
// connection — even while the response is still being read from it. The SDK may close the body itself once the
// response headers are in, so against a server that answers as fast as Sluice on loopback, the transport's Close
// sometimes fails and a 200 response dies mid-body with "use of closed network connection" (aws-sdk-go-v2 issue
// 2737). The SDK's default retryer retries such calls, which repeats a call the server already carried out; a
// client without retries (tests, load generators) reports a failure that never happened on the server.
package sdkhttp

import (
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// sdkDefault is the SDK's default client, shared so its connections are reused.
var sdkDefault = awshttp.NewBuildableClient()

// Client wraps an SDK HTTP client so the request bodies it sends close once, quietly.
type Client struct {
	// Base sends the requests (nil: the SDK's default client).
	Base aws.HTTPClient
}

// Wrap returns base with quiet request-body closes (base nil: the SDK's default client).
func Wrap(base aws.HTTPClient) Client { return Client{Base: base} }

// Do sends r with its body wrapped.
func (c Client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &closeOnce{ReadCloser: r.Body}
	}
	if c.Base == nil {
		return sdkDefault.Do(r)
	}
	return c.Base.Do(r)
}

type closeOnce struct {
	io.ReadCloser
	once sync.Once
}

func (b *closeOnce) Close() error {
	b.once.Do(func() { b.ReadCloser.Close() })
	return nil
}
