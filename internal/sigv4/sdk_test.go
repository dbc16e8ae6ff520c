package sigv4

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	longTermCreds = aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	tempCreds     = aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken}
)

const configARNTarget = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders/configuration?Qualifier=%24LATEST"

// reqSpec describes a client request before signing.
type reqSpec struct {
	method  string
	target  string // escaped path plus optional "?query", as it should go on the wire
	body    string
	headers [][2]string // added in order (repeated names become multiple values)
}

func (s *verifyServer) newRequest(t testing.TB, spec reqSpec) *http.Request {
	t.Helper()
	var body io.Reader
	if spec.body != "" {
		body = strings.NewReader(spec.body)
	}
	method := spec.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, s.URL+spec.target, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for _, h := range spec.headers {
		req.Header.Add(h[0], h[1])
	}
	return req
}

// sdkSign signs req in the header form with aws-sdk-go-v2's signer.
func sdkSign(t testing.TB, req *http.Request, body string, creds aws.Credentials, at time.Time, service string) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex([]byte(body)), service, testRegion, at); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// sdkPresign presigns req with aws-sdk-go-v2's signer and returns a request
// for the presigned URL carrying the headers the signature covers.
func sdkPresign(t testing.TB, req *http.Request, payloadHash string, creds aws.Credentials, at time.Time) *http.Request {
	t.Helper()
	signedURL, signedHeaders, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payloadHash, testService, testRegion, at)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	out, err := http.NewRequest(req.Method, signedURL, nil)
	if err != nil {
		t.Fatalf("new presigned request: %v", err)
	}
	for k, vs := range signedHeaders {
		if strings.EqualFold(k, "host") {
			continue
		}
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	return out
}

func TestVerifySDKSignedHeaderForm(t *testing.T) {
	s := newVerifyServer(t)
	cases := []struct {
		name    string
		spec    reqSpec
		creds   aws.Credentials
		service string
		at      time.Time // signing time; zero = signTime
		wantURI string    // the request target the server must have seen
	}{
		{
			name:    "GET configuration of an ARN with $LATEST qualifier",
			spec:    reqSpec{target: configARNTarget},
			wantURI: configARNTarget,
		},
		{
			name: "POST invoke with JSON body",
			spec: reqSpec{
				method: http.MethodPost,
				target: "/2015-03-31/functions/orders/invocations",
				body:   `{"orderId":"o-123","items":[{"sku":"A1","qty":2}],"note":"fragile   handle with care"}`,
				headers: [][2]string{
					{"Content-Type", "application/json"},
					{"X-Amz-Invocation-Type", "RequestResponse"},
					{"X-Amz-Log-Type", "Tail"},
					{"X-Amz-Client-Context", "eyJjdXN0b20iOnt9fQ=="},
				},
			},
		},
		{
			name: "PUT configuration",
			spec: reqSpec{
				method:  http.MethodPut,
				target:  "/2015-03-31/functions/orders/configuration",
				body:    `{"MemorySize":256,"Timeout":30,"Environment":{"Variables":{"A":"b c"}}}`,
				headers: [][2]string{{"Content-Type", "application/json"}},
			},
		},
		{
			name: "DELETE with encoded space and UTF-8 in the path",
			spec: reqSpec{method: http.MethodDelete, target: "/2015-03-31/functions/caf%C3%A9%20fn/aliases/live"},
		},
		{
			name: "query with repeated names, spaces, empty and bare values",
			spec: reqSpec{target: "/2015-03-31/functions/?Marker=a%20b+c&MaxItems=10&tag=z&tag=a&tag=a%2Fb&tag=a-b&empty=&bare&FunctionVersion=ALL&odd=%21%2A%27%28%29"},
		},
		{
			name: "headers with runs of spaces and repeated values",
			spec: reqSpec{
				target: "/2015-03-31/functions/orders",
				headers: [][2]string{
					{"X-Custom", "  a    b   c  "},
					{"X-Multi", "one"},
					{"X-Multi", "two  words"},
				},
			},
		},
		{
			name:  "temporary credentials with session token",
			spec:  reqSpec{method: http.MethodPost, target: "/2015-03-31/functions/orders/invocations", body: `{}`},
			creds: tempCreds,
		},
		{
			name:    "another service (sts form POST)",
			spec:    reqSpec{method: http.MethodPost, target: "/", body: "Action=GetCallerIdentity&Version=2011-06-15", headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}},
			service: "sts",
		},
		{
			name: "unnormalised path (the Go SDK signs it as sent)",
			spec: reqSpec{target: "/2015-03-31//functions/./orders/../orders/configuration"},
		},
		{
			name: "empty path",
			spec: reqSpec{target: ""},
		},
		{
			name: "request signed 5 minutes before the server clock (edge of skew)",
			spec: reqSpec{target: "/2015-03-31/functions/"},
			at:   signTime.Add(-5 * time.Minute),
		},
		{
			name: "request signed 5 minutes after the server clock (edge of skew)",
			spec: reqSpec{target: "/2015-03-31/functions/"},
			at:   signTime.Add(5 * time.Minute),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := tc.creds
			if creds.AccessKeyID == "" {
				creds = longTermCreds
			}
			service := tc.service
			if service == "" {
				service = testService
			}
			at := tc.at
			if at.IsZero() {
				at = signTime
			}
			req := s.newRequest(t, tc.spec)
			sdkSign(t, req, tc.spec.body, creds, at, service)
			res := s.do(t, req)
			if res.Code != "" {
				t.Fatalf("Verify failed: %v (request target %q)", res, res.RequestURI)
			}
			want := Identity{
				AccessKeyID:  creds.AccessKeyID,
				Principal:    testCredentials()[creds.AccessKeyID].Principal,
				Region:       testRegion,
				Service:      service,
				SessionToken: creds.SessionToken,
			}
			if res.Identity != want {
				t.Errorf("identity = %+v, want %+v", res.Identity, want)
			}
			if tc.wantURI != "" && res.RequestURI != tc.wantURI {
				t.Errorf("server saw request target %q, want %q", res.RequestURI, tc.wantURI)
			}
		})
	}
}

func TestVerifyContentSHA256Header(t *testing.T) {
	s := newVerifyServer(t)
	body := `{"hello":"world"}`
	cases := []struct {
		name     string
		header   string // X-Amz-Content-Sha256 sent and signed
		sendBody string // body actually sent
		code     string
		status   int
	}{
		{name: "hex hash of the body", header: hashHex([]byte(body)), sendBody: body},
		{name: "upper-case hex hash of the body", header: strings.ToUpper(hashHex([]byte(body))), sendBody: body},
		{name: "UNSIGNED-PAYLOAD", header: "UNSIGNED-PAYLOAD", sendBody: `{"anything":"goes"}`},
		{name: "hex hash of another body", header: hashHex([]byte(`{"hello":"there"}`)), sendBody: body, code: CodeInvalidSignature, status: 403},
		{name: "streaming payload is not supported", header: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", sendBody: body, code: CodeIncompleteSignature, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := s.newRequest(t, reqSpec{
				method:  http.MethodPost,
				target:  "/2015-03-31/functions/orders/invocations",
				body:    tc.sendBody,
				headers: [][2]string{{"X-Amz-Content-Sha256", tc.header}},
			})
			if err := v4.NewSigner().SignHTTP(context.Background(), longTermCreds, req, tc.header, testService, testRegion, signTime); err != nil {
				t.Fatal(err)
			}
			res := s.do(t, req)
			if res.Code != tc.code || (tc.code != "" && res.Status != tc.status) {
				t.Fatalf("got %v, want code %q status %d", res, tc.code, tc.status)
			}
		})
	}
}

func TestVerifySDKPresigned(t *testing.T) {
	s := newVerifyServer(t)
	cases := []struct {
		name    string
		target  string
		payload string
		creds   aws.Credentials
		now     time.Time
	}{
		{name: "UNSIGNED-PAYLOAD (S3 convention)", target: configARNTarget + "&X-Amz-Expires=300", payload: "UNSIGNED-PAYLOAD"},
		{name: "empty-body hash (what the SDK signs for other services)", target: "/2015-03-31/functions/orders?X-Amz-Expires=300", payload: hashHex(nil)},
		{name: "no X-Amz-Expires, inside the skew window", target: "/2015-03-31/functions/orders", payload: "UNSIGNED-PAYLOAD", now: signTime.Add(4 * time.Minute)},
		{name: "session token", target: "/2015-03-31/functions/orders?X-Amz-Expires=60", payload: "UNSIGNED-PAYLOAD", creds: tempCreds},
		{name: "valid long after the skew window while X-Amz-Expires allows", target: "/2015-03-31/functions/orders?X-Amz-Expires=3600", payload: "UNSIGNED-PAYLOAD", now: signTime.Add(59 * time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := tc.creds
			if creds.AccessKeyID == "" {
				creds = longTermCreds
			}
			now := tc.now
			if now.IsZero() {
				now = signTime
			}
			s.setNow(now)
			defer s.setNow(signTime)
			req := sdkPresign(t, s.newRequest(t, reqSpec{target: tc.target}), tc.payload, creds, signTime)
			if req.Header.Get("Authorization") != "" {
				t.Fatal("presigned request unexpectedly has an Authorization header")
			}
			res := s.do(t, req)
			if res.Code != "" {
				t.Fatalf("Verify failed: %v (target %q)", res, res.RequestURI)
			}
			if res.Identity.AccessKeyID != creds.AccessKeyID || res.Identity.SessionToken != creds.SessionToken {
				t.Errorf("identity = %+v", res.Identity)
			}
		})
	}
}

// negCase is a request that must be refused with Code and Status.
type negCase struct {
	name   string
	build  func(t *testing.T, s *verifyServer) *http.Request
	raw    func(s *verifyServer) string // alternative to build: exact bytes on the wire
	now    time.Time                    // server clock; zero = signTime
	code   string
	status int
	msg    string // exact message when set
	substr string // message substring when set
}

// signed returns a builder that signs spec with creds at the given time and
// then applies mutate.
func signed(spec reqSpec, creds aws.Credentials, at time.Time, mutate func(*http.Request)) func(*testing.T, *verifyServer) *http.Request {
	return func(t *testing.T, s *verifyServer) *http.Request {
		req := s.newRequest(t, spec)
		sdkSign(t, req, spec.body, creds, at, testService)
		if mutate != nil {
			mutate(req)
		}
		return req
	}
}

// replaceAuth returns a mutation that rewrites the Authorization header.
func replaceAuth(f func(old string) string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
}

func presigned(target string, at time.Time, mutate func(*http.Request)) func(*testing.T, *verifyServer) *http.Request {
	return func(t *testing.T, s *verifyServer) *http.Request {
		req := sdkPresign(t, s.newRequest(t, reqSpec{target: target}), "UNSIGNED-PAYLOAD", longTermCreds, at)
		if mutate != nil {
			mutate(req)
		}
		return req
	}
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
}

func editQuery(r *http.Request, f func(url.Values)) {
	q := r.URL.Query()
	f(q)
	r.URL.RawQuery = q.Encode()
}

func TestVerifyRejects(t *testing.T) {
	getConfig := reqSpec{target: configARNTarget}
	invoke := reqSpec{method: http.MethodPost, target: "/2015-03-31/functions/orders/invocations", body: `{"orderId":"o-1"}`,
		headers: [][2]string{{"X-Amz-Invocation-Type", "RequestResponse"}}}
	scopePrefix := "Credential=" + testAKID + "/20240101/us-east-1/lambda/"

	cases := []negCase{
		{
			name:  "wrong secret",
			build: signed(getConfig, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "not-the-secret"}, signTime, nil),
			code:  CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name:  "unknown access key",
			build: signed(getConfig, aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: testSecret}, signTime, nil),
			code:  CodeUnrecognizedClient, status: 403, msg: "The security token included in the request is invalid.",
		},
		{
			name:  "tampered body (same length)",
			build: signed(invoke, longTermCreds, signTime, func(r *http.Request) { setBody(r, `{"orderId":"o-2"}`) }),
			code:  CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "tampered path",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.URL.Path, r.URL.RawPath = "/2015-03-31/functions/other/configuration", ""
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "tampered path encoding (%3A sent as :)",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.URL.RawPath = ""
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "tampered query value",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.URL.RawQuery = "Qualifier=%241"
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "added query parameter",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.URL.RawQuery += "&Extra=1"
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "tampered signed header",
			build: signed(invoke, longTermCreds, signTime, func(r *http.Request) {
				r.Header.Set("X-Amz-Invocation-Type", "Event")
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "tampered method",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.Method = http.MethodDelete
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name:  "missing authentication",
			build: func(t *testing.T, s *verifyServer) *http.Request { return s.newRequest(t, getConfig) },
			code:  CodeMissingAuthenticationToken, status: 403, msg: "Missing Authentication Token",
		},
		{
			name: "malformed: no Signature",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return old[:strings.Index(old, ", Signature=")]
			})),
			code: CodeIncompleteSignature, status: 400, msg: "Authorization header requires 'Signature' parameter.",
		},
		{
			name: "malformed: not SigV4 at all, no date",
			build: func(t *testing.T, s *verifyServer) *http.Request {
				req := s.newRequest(t, getConfig)
				req.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
				return req
			},
			code: CodeIncompleteSignature, status: 400,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
		},
		{
			name: "malformed: missing equal-sign (space after Credential=)",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return strings.Replace(old, "Credential=", "Credential= ", 1)
			})),
			code: CodeIncompleteSignature, status: 400,
			msg: "'" + testAKID + "/20240101/us-east-1/lambda/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header.",
		},
		{
			name: "malformed: scope with four elements",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return strings.Replace(old, "/lambda/aws4_request", "/aws4_request", 1)
			})),
			code: CodeIncompleteSignature, status: 400,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + testAKID + "/20240101/us-east-1/aws4_request'",
		},
		{
			name: "malformed: bad scope terminator",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return strings.Replace(old, scopePrefix+"aws4_request", scopePrefix+"aws4_reqest", 1)
			})),
			code: CodeIncompleteSignature, status: 400,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'.",
		},
		{
			name: "malformed: unsupported algorithm",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return strings.Replace(old, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)
			})),
			code: CodeIncompleteSignature, status: 400, substr: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'",
		},
		{
			name: "malformed: X-Amz-Date not in basic format",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.Header.Set("X-Amz-Date", "2024-01-01T00:10:00Z")
			}),
			code: CodeIncompleteSignature, status: 400,
			msg: "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:10:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name: "host not among the signed headers",
			build: signed(getConfig, longTermCreds, signTime, replaceAuth(func(old string) string {
				return strings.Replace(old, "SignedHeaders=host;", "SignedHeaders=", 1)
			})),
			code: CodeInvalidSignature, status: 403, msg: msgHostUnsigned,
		},
		{
			name:  "skew: signed 6 minutes in the past",
			build: signed(getConfig, longTermCreds, signTime.Add(-6*time.Minute), nil),
			code:  CodeInvalidSignature, status: 403,
			msg: "Signature expired: 20240101T000400Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)",
		},
		{
			name:  "skew: signed 6 minutes in the future",
			build: signed(getConfig, longTermCreds, signTime.Add(6*time.Minute), nil),
			code:  CodeInvalidSignature, status: 403,
			msg: "Signature not yet current: 20240101T001600Z is still later than 20240101T001500Z (20240101T001000Z + 5 min.)",
		},
		{
			name:  "skew: AWS's own example, 10 minutes old",
			build: signed(getConfig, longTermCreds, signTime.Add(-10*time.Minute), nil),
			code:  CodeInvalidSignature, status: 403,
			msg: "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)",
		},
		{
			name:  "skew: AWS's own example, 10 minutes ahead",
			build: signed(getConfig, longTermCreds, signTime.Add(10*time.Minute), nil),
			code:  CodeInvalidSignature, status: 403,
			msg: "Signature not yet current: 20240101T002000Z is still later than 20240101T001500Z (20240101T001000Z + 5 min.)",
		},
		{
			name: "scope date does not match X-Amz-Date",
			build: signed(getConfig, longTermCreds, signTime, func(r *http.Request) {
				r.Header.Set("X-Amz-Date", "20240102T001000Z")
			}),
			now:  signTime.Add(24 * time.Hour),
			code: CodeInvalidSignature, status: 403,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240101' != '20240102', from '20240102T001000Z'.",
		},
		{
			name:  "expired session credential",
			build: signed(invoke, aws.Credentials{AccessKeyID: expiredAKID, SecretAccessKey: tempSecret, SessionToken: tempToken}, signTime, nil),
			code:  CodeExpiredToken, status: 403, msg: "The security token included in the request is expired",
		},
		{
			name:  "missing session token",
			build: signed(invoke, aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret}, signTime, nil),
			code:  CodeUnrecognizedClient, status: 403, msg: msgInvalidToken,
		},
		{
			name:  "wrong session token",
			build: signed(invoke, aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken + "x"}, signTime, nil),
			code:  CodeUnrecognizedClient, status: 403, msg: msgInvalidToken,
		},
		{
			name:  "session token sent with a long-term key",
			build: signed(invoke, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: tempToken}, signTime, nil),
			code:  CodeUnrecognizedClient, status: 403, msg: msgInvalidToken,
		},
		{
			name:  "credential store failure does not leak",
			build: signed(getConfig, aws.Credentials{AccessKeyID: brokenAKID, SecretAccessKey: testSecret}, signTime, nil),
			code:  CodeServiceException, status: 500, msg: msgInternal,
		},
		{
			name:  "presigned URL expired",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=300", signTime, nil),
			now:   signTime.Add(301 * time.Second),
			code:  CodeInvalidSignature, status: 403,
			msg: "Signature expired: 20240101T001000Z is now earlier than 20240101T001001Z (20240101T001501Z - 5 min.)",
		},
		{
			name:  "presigned URL not yet current",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=3600", signTime.Add(6*time.Minute), nil),
			code:  CodeInvalidSignature, status: 403, substr: "Signature not yet current: 20240101T001600Z",
		},
		{
			name:  "presigned without X-Amz-Expires past the skew window",
			build: presigned("/2015-03-31/functions/orders", signTime, nil),
			now:   signTime.Add(6 * time.Minute),
			code:  CodeInvalidSignature, status: 403, substr: "Signature expired: 20240101T001000Z",
		},
		{
			name: "presigned with X-Amz-Expires stretched after signing",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=300", signTime, func(r *http.Request) {
				editQuery(r, func(q url.Values) { q.Set("X-Amz-Expires", "3600") })
			}),
			now:  signTime.Add(10 * time.Minute),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "presigned with tampered signature",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=300", signTime, func(r *http.Request) {
				editQuery(r, func(q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) })
			}),
			code: CodeInvalidSignature, status: 403, msg: msgSignatureMismatch,
		},
		{
			name: "presigned without X-Amz-Signature",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=300", signTime, func(r *http.Request) {
				editQuery(r, func(q url.Values) { q.Del("X-Amz-Signature") })
			}),
			code: CodeIncompleteSignature, status: 400,
			msg: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.",
		},
		{
			name:  "presigned X-Amz-Expires over a week",
			build: presigned("/2015-03-31/functions/orders?X-Amz-Expires=604801", signTime, nil),
			code:  CodeIncompleteSignature, status: 400, substr: "X-Amz-Expires must be less than a week",
		},
	}
	runNegative(t, cases)
}

func runNegative(t *testing.T, cases []negCase) {
	t.Helper()
	s := newVerifyServer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = signTime
			}
			s.setNow(now)
			defer s.setNow(signTime)
			var res result
			if tc.raw != nil {
				res = s.doRaw(t, tc.raw(s))
			} else {
				res = s.do(t, tc.build(t, s))
			}
			if res.Code != tc.code || res.Status != tc.status {
				t.Fatalf("got %v, want %d %s", res, tc.status, tc.code)
			}
			if tc.msg != "" && res.Message != tc.msg {
				t.Errorf("message = %q\n          want %q", res.Message, tc.msg)
			}
			if tc.substr != "" && !strings.Contains(res.Message, tc.substr) {
				t.Errorf("message = %q, want it to contain %q", res.Message, tc.substr)
			}
			for _, secret := range []string{testSecret, tempSecret, "not-the-secret", "secret detail"} {
				if strings.Contains(res.Message, secret) {
					t.Errorf("message leaks %q: %q", secret, res.Message)
				}
			}
		})
	}
}

// signRegion signs req for testService in region at signTime (usable off
// the test goroutine).
func signRegion(req *http.Request, body []byte, creds aws.Credentials, region string) error {
	return v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex(body), testService, region, signTime)
}
