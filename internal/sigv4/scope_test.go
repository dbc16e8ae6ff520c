package sigv4

import (
	"net/http"
	"testing"
)

func TestClaimedService(t *testing.T) {
	cases := []struct {
		header, query, want string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00", "", "monitoring"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request,SignedHeaders=host,Signature=00", "", "lambda"},
		{"", "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=00", "sts"},
		{"Bearer x", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "http://h/?"+c.query, nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if got := ClaimedService(r); got != c.want {
			t.Errorf("ClaimedService(%q, %q) = %q, want %q", c.header, c.query, got, c.want)
		}
	}
}
