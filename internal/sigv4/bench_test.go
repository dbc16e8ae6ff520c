package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// invokeRequest builds a server-side request shaped like what the Lambda
// client sends for Invoke, signed by aws-sdk-go-v2.
func invokeRequest(b *testing.B, body []byte) *http.Request {
	b.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9001/2015-03-31/functions/orders/invocations?Qualifier=live",
		strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	r.Header.Set("X-Amz-Log-Type", "None")
	r.Header.Set("Amz-Sdk-Invocation-Id", "9f6c2c1e-3b9a-4f8e-9a51-3f2f7c1d0a11")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 api/lambda#1.114.4")
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if err := signRegion(r, body, longTermCreds, testRegion); err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"orderId":"o-123","customer":"c-42","items":[` + strings.Repeat(`{"sku":"A1","qty":2},`, 45) + `{"sku":"Z9","qty":1}]}`)
	body = append(body, strings.Repeat(" ", 1024-len(body))...) // 1 KiB payload
	r := invokeRequest(b, body)
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	ctx := context.Background()
	if _, err := v.Verify(ctx, r, body); err != nil {
		b.Fatalf("Verify: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	body := []byte(`{"orderId":"o-123"}`)
	r := invokeRequest(b, body)
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, r, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
