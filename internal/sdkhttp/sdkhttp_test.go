package sdkhttp

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// closeCounter fails every Close after the first, as a body the SDK already closed may.
type closeCounter struct {
	io.Reader
	closes int
}

func (c *closeCounter) Close() error {
	c.closes++
	if c.closes > 1 {
		return errors.New("already closed")
	}
	return nil
}

type recordingClient struct{ body io.ReadCloser }

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	r.body = req.Body
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// Ensure the body the transport gets closes its underlying body once and never reports an error, however often
// it is closed; and requests without a body are left alone.
func TestRequestBodyClosesOnceQuietly(t *testing.T) {
	under := &closeCounter{Reader: strings.NewReader("{}")}
	base := &recordingClient{}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	req.Body = under
	if _, err := Wrap(base).Do(req); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := base.body.Close(); err != nil {
			t.Fatalf("close %d: %v", i+1, err)
		}
	}
	if under.closes != 1 {
		t.Errorf("underlying body closed %d times, want 1", under.closes)
	}

	empty, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if _, err := Wrap(base).Do(empty); err != nil {
		t.Fatal(err)
	}
	if base.body != nil && base.body != http.NoBody {
		t.Errorf("a request without a body was given one: %T", base.body)
	}
}
