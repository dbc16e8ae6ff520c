package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Known answers from the AWS Signature Version 4 test suite (credentials
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY), replayed byte for
// byte over TCP. The 2015 suite uses service "service" and X-Amz-Date; the
// 2011 suite signs the Date header instead.
func TestVerifyAWSTestSuiteVectors(t *testing.T) {
	const (
		suite2015Date = "20150830T123600Z"
		vanillaSig    = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	)
	suite2015 := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	suite2011 := time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)

	req2015 := func(target, authFmt, sig string) string {
		auth := fmt.Sprintf(authFmt, "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "SignedHeaders=host;x-amz-date", "Signature="+sig)
		return "GET " + target + " HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Amz-Date: " + suite2015Date +
			"\r\nAuthorization: " + auth + "\r\nConnection: close\r\n\r\n"
	}
	const sdkFmt = "AWS4-HMAC-SHA256 %s, %s, %s"

	cases := []struct {
		name string
		now  time.Time
		raw  string
	}{
		{"get-vanilla", suite2015, req2015("/", sdkFmt, vanillaSig)},
		{"get-vanilla-query-order-key-case", suite2015, req2015("/?Param2=value2&Param1=value1", sdkFmt,
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")},
		{"get-relative-relative", suite2015, req2015("/example1/example2/../..", sdkFmt, vanillaSig)},
		{"get-slash-dot-slash", suite2015, req2015("/./", sdkFmt, vanillaSig)},
		{"get-slashes", suite2015, req2015("//example//", sdkFmt,
			"9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84")},
		{"authorization without spaces after commas", suite2015, req2015("/", "AWS4-HMAC-SHA256 %s,%s,%s", vanillaSig)},
		{"authorization with extra spaces", suite2015, req2015("/", "AWS4-HMAC-SHA256   %s ,  %s ,%s  ", vanillaSig)},
		{"get-vanilla signed over the Date header (2011 suite)", suite2011,
			"GET / HTTP/1.1\r\nDate: Mon, 09 Sep 2011 23:36:00 GMT\r\nHost: host.foo.com\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, " +
				"Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470\r\nConnection: close\r\n\r\n"},
	}
	s := newVerifyServer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.setNow(tc.now)
			defer s.setNow(signTime)
			res := s.doRaw(t, tc.raw)
			if res.Code != "" {
				t.Fatalf("got %v", res)
			}
			if res.Identity.AccessKeyID != testAKID {
				t.Errorf("identity = %+v", res.Identity)
			}
		})
	}

	// The same vector with one byte changed must fail.
	t.Run("get-vanilla with a different path", func(t *testing.T) {
		s.setNow(suite2015)
		defer s.setNow(signTime)
		if res := s.doRaw(t, req2015("/x", sdkFmt, vanillaSig)); res.Code != CodeInvalidSignature || res.Status != 403 {
			t.Fatalf("got %v", res)
		}
	})
}

func TestCanonicalURIs(t *testing.T) {
	cases := []struct {
		raw           string
		first, second string
	}{
		{"", "/", ""},
		{"/", "/", ""},
		{"/2015-03-31/functions/orders/invocations", "/2015-03-31/functions/orders/invocations", ""},
		{"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af/configuration",
			"/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A0%253Afunction%253Af/configuration", ""},
		{"/a/%24LATEST/b%20c/caf%C3%A9", "/a/%2524LATEST/b%2520c/caf%25C3%25A9", ""},
		{"/a:b/$x/~y_z.-", "/a%3Ab/%24x/~y_z.-", ""},
		{"/a/./b/../c", "/a/c", "/a/./b/../c"},
		{"//example//", "/example/", "//example//"},
		{"/example1/example2/../..", "/", "/example1/example2/../.."},
		{"/a/b/.", "/a/b", "/a/b/."},
		{"/..", "/", "/.."},
	}
	for _, tc := range cases {
		first, second := canonicalURIs(tc.raw)
		if first != tc.first || second != tc.second {
			t.Errorf("canonicalURIs(%q) = %q, %q; want %q, %q", tc.raw, first, second, tc.first, tc.second)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"Qualifier=%24LATEST", false, "Qualifier=%24LATEST"},
		{"b=2&a=1&a=0", false, "a=0&a=1&b=2"},
		{"Marker=a%20b&x=a+b", false, "Marker=a%20b&x=a%20b"},
		{"bare&empty=&=v", false, "=v&bare=&empty="},
		// Sorted after encoding: "a%2Fb" < "a-b" although '/' > '-'.
		{"k=a-b&k=a/b", false, "k=a%2Fb&k=a-b"},
		{"odd=%21%2A%27%28%29~", false, "odd=%21%2A%27%28%29~"},
		{"u=caf%C3%A9", false, "u=caf%C3%A9"},
		{"bad=%zz", false, "bad=%25zz"},
		{"a=1;b=2", false, "a=1%3Bb%3D2"},
		{"&&a=1&", false, "a=1"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", true, "X-Amz-Date=1"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", false, "X-Amz-Date=1&X-Amz-Signature=abc"},
	}
	for _, tc := range cases {
		if got := canonicalQuery(parseRawQuery(tc.raw), tc.presigned); got != tc.want {
			t.Errorf("canonicalQuery(%q, %v) = %q, want %q", tc.raw, tc.presigned, got, tc.want)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://fn.example:9000/x", strings.NewReader("abc"))
	r.Header.Set("X-Amz-Date", "20240101T001000Z")
	r.Header.Add("X-Multi", "  one  ")
	r.Header.Add("X-Multi", "two    three")
	r.Header["x_lower_odd"] = []string{"v"}
	r.Header["x-not-canonical"] = []string{"w"}
	r.Header.Del("Content-Length")
	got, host := appendCanonicalHeaders(nil, r, "content-length;host;x-amz-date;x-multi;x_lower_odd;x-not-canonical;x-absent")
	want := "content-length:3\nhost:fn.example:9000\nx-amz-date:20240101T001000Z\nx-multi:one,two three\nx_lower_odd:v\nx-not-canonical:w\nx-absent:\n"
	if string(got) != want || !host {
		t.Errorf("got %q (host %v)\nwant %q", got, host, want)
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	h := http.Header{"X-Amz-Date": {"20240101T001000Z"}}
	cred := "Credential=AKID/20240101/us-east-1/lambda/aws4_request"
	cases := []struct {
		header, msg string
	}{
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", "Authorization header requires 'Signature' parameter."},
		{"AWS4-HMAC-SHA256 Signature=ab", "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"AWS4-HMAC-SHA256", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"AWS AKID:c2lnbmF0dXJl", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request/x, SignedHeaders=host, Signature=ab",
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20240101/us-east-1/lambda/aws4_request/x'"},
		{"AWS4-HMAC-SHA256 Credential=AKID/2024011/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=ab",
			"Credential date must be in the yyyyMMdd format, got '2024011'."},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101//lambda/aws4_request, SignedHeaders=host, Signature=ab",
			"Credential should be scoped to a valid region, not ''."},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1//aws4_request, SignedHeaders=host, Signature=ab",
			"Credential should be scoped to a valid service, not ''."},
	}
	for _, tc := range cases {
		_, err := parseAuthorizationHeader(tc.header, h)
		if err == nil || err.Code != CodeIncompleteSignature || err.Status != 400 || err.Message != tc.msg {
			t.Errorf("parse(%q) = %v\nwant 400 %s: %s", tc.header, err, CodeIncompleteSignature, tc.msg)
		}
	}

	// A long client value is not echoed whole.
	long := "AWS4-HMAC-SHA256 " + strings.Repeat("x", 1000)
	if _, err := parseAuthorizationHeader(long, h); err == nil || len(err.Message) > 300 {
		t.Errorf("long header: %v", err)
	}
}

func TestVerifyClientSideRequest(t *testing.T) {
	// Verify also works on a request that never crossed the wire (no
	// RequestURI): the path comes from the URL's escaped form.
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1"+configARNTarget, nil)
	if err != nil {
		t.Fatal(err)
	}
	sdkSign(t, req, "", longTermCreds, signTime, testService)
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	id, err := v.Verify(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Principal != "arn:aws:iam::000000000000:user/tester" {
		t.Errorf("identity = %+v", id)
	}
}

func TestErrorType(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://h/", nil)
	sdkSign(t, req, "", aws.Credentials{AccessKeyID: brokenAKID, SecretAccessKey: "s"}, signTime, testService)
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	_, err := v.Verify(context.Background(), req, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not *Error", err)
	}
	if e.Code != CodeServiceException || e.Status != 500 {
		t.Errorf("got %v", e)
	}
	if strings.Contains(e.Error(), "secret detail") || strings.Contains(e.Message, "secret detail") {
		t.Errorf("message leaks the store error: %q", e.Error())
	}
	if !errors.Is(err, errStoreDown) {
		t.Errorf("cause not reachable with errors.Is")
	}
	if got := (&Error{Code: "C", Status: 400, Message: "m"}).Error(); got != "C: m" {
		t.Errorf("Error() = %q", got)
	}

	nilSource := Verifier{Now: func() time.Time { return signTime }}
	_, err = nilSource.Verify(context.Background(), req, nil)
	if !errors.As(err, &e) || e.Code != CodeServiceException {
		t.Errorf("no CredentialSource: %v", err)
	}
}

func TestKeyCacheBounded(t *testing.T) {
	var c keyCache
	for i := 0; i < 3*maxCachedKeys; i++ {
		k := keyCacheKey{secret: "s", date: "20240101", region: fmt.Sprint("r", i), service: "lambda"}
		c.put(k, deriveSigningKey(k))
	}
	if n := len(c.keys); n > maxCachedKeys {
		t.Errorf("cache holds %d keys, bound is %d", n, maxCachedKeys)
	}
	k := keyCacheKey{secret: "s", date: "20240101", region: "us-east-1", service: "lambda"}
	c.put(k, deriveSigningKey(k))
	if got, ok := c.get(k); !ok || string(got) != string(deriveSigningKey(k)) {
		t.Errorf("cached key missing or wrong")
	}
}

func TestVerifySecretRotationNotServedFromCache(t *testing.T) {
	creds := testCredentials()
	v := &Verifier{Credentials: creds, Now: func() time.Time { return signTime }}
	sign := func(secret string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://h/2015-03-31/functions/", nil)
		sdkSign(t, r, "", aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret}, signTime, testService)
		return r
	}
	if _, err := v.Verify(context.Background(), sign(testSecret), nil); err != nil {
		t.Fatalf("first: %v", err)
	}
	// Rotate the secret: the old signature must stop working at once.
	c := creds[testAKID]
	c.SecretAccessKey = "rotated-secret"
	creds[testAKID] = c
	if _, err := v.Verify(context.Background(), sign(testSecret), nil); err == nil {
		t.Fatal("old secret still accepted after rotation")
	}
	if _, err := v.Verify(context.Background(), sign("rotated-secret"), nil); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	body := []byte(`{"k":"v"}`)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				region := []string{"us-east-1", "eu-west-1"}[(g+i)%2]
				r := httptest.NewRequest(http.MethodPost, "http://h/2015-03-31/functions/orders/invocations", strings.NewReader(string(body)))
				creds := longTermCreds
				if i%3 == 0 {
					creds = aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "wrong"}
				}
				if err := signRegion(r, body, creds, region); err != nil {
					errs <- err
					return
				}
				_, err := v.Verify(context.Background(), r, body)
				if (err == nil) != (i%3 != 0) {
					errs <- fmt.Errorf("goroutine %d request %d: %v", g, i, err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
