package sigv4

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// botocoreSign signs a request with botocore (SigV4Auth, or SigV4QueryAuth
// when expires > 0) and prints the prepared request as JSON.
const botocoreSign = `
import json, sys
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
creds = Credentials(spec["access_key"], spec["secret_key"], spec["token"] or None)
body = spec["body"].encode() if spec["body"] else None
req = AWSRequest(method=spec["method"], url=spec["url"], data=body, headers=dict(spec["headers"]))
if spec["expires"]:
    SigV4QueryAuth(creds, spec["service"], spec["region"], expires=spec["expires"]).add_auth(req)
else:
    SigV4Auth(creds, spec["service"], spec["region"]).add_auth(req)
p = req.prepare()
json.dump({"url": p.url, "headers": [[k, v] for k, v in p.headers.items()]}, sys.stdout)
`

type botoSpec struct {
	Method    string      `json:"method"`
	URL       string      `json:"url"`
	Body      string      `json:"body"`
	Headers   [][2]string `json:"headers"`
	AccessKey string      `json:"access_key"`
	SecretKey string      `json:"secret_key"`
	Token     string      `json:"token"`
	Service   string      `json:"service"`
	Region    string      `json:"region"`
	Expires   int         `json:"expires"`
}

type botoSigned struct {
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
}

func requireBotocore(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not available")
	}
	if err := exec.Command(py, "-c", "import botocore.auth").Run(); err != nil {
		t.Skip("botocore not available")
	}
	return py
}

// rawFromBotocore turns botocore's prepared request into exact wire bytes.
func rawFromBotocore(t *testing.T, method string, signed botoSigned, body string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(signed.URL, "http://")
	if !ok {
		t.Fatalf("unexpected url %q", signed.URL)
	}
	host, target := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, target = rest[:i], rest[i:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	hasHost, hasLen := false, false
	for _, h := range signed.Headers {
		switch strings.ToLower(h[0]) {
		case "host":
			hasHost = true
		case "content-length":
			hasLen = true
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if !hasHost {
		fmt.Fprintf(&b, "Host: %s\r\n", host)
	}
	if !hasLen && body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

// TestVerifyBotocoreSigned replays requests signed by botocore, the signer
// behind the AWS CLI and boto3. Skipped when botocore is not installed.
func TestVerifyBotocoreSigned(t *testing.T) {
	py := requireBotocore(t)
	s := newVerifyServerWith(t, realClockCredentials(), time.Time{}) // botocore signs with the real clock

	cases := []struct {
		name    string
		spec    botoSpec
		code    string
		wantURI string
	}{
		{
			name:    "GET configuration of an ARN with $LATEST qualifier",
			spec:    botoSpec{Method: "GET", URL: configARNTarget},
			wantURI: configARNTarget,
		},
		{
			name: "POST invoke with JSON body",
			spec: botoSpec{
				Method: "POST", URL: "/2015-03-31/functions/orders/invocations",
				Body:    `{"orderId": "o-1", "note": "x   y"}`,
				Headers: [][2]string{{"Content-Type", "application/json"}, {"X-Amz-Invocation-Type", "RequestResponse"}},
			},
		},
		{
			name: "PUT with query values that need encoding",
			spec: botoSpec{
				Method: "PUT", URL: "/2015-03-31/functions/orders/concurrency?tag=z&tag=a&Marker=a%20b%2Fc&empty=&bare",
				Body: `{"ReservedConcurrentExecutions": 5}`,
			},
		},
		{
			name: "path with dot segments and double slashes (botocore normalises)",
			spec: botoSpec{Method: "GET", URL: "/2015-03-31//functions/./orders/../orders/configuration/"},
		},
		{
			name: "temporary credentials",
			spec: botoSpec{Method: "GET", URL: "/2015-03-31/functions/orders", AccessKey: tempAKID, SecretKey: tempSecret, Token: tempToken},
		},
		{
			name: "presigned (SigV4QueryAuth)",
			spec: botoSpec{Method: "GET", URL: configARNTarget, Expires: 300},
		},
		{
			name: "presigned with session token",
			spec: botoSpec{Method: "GET", URL: "/2015-03-31/functions/orders", Expires: 60, AccessKey: tempAKID, SecretKey: tempSecret, Token: tempToken},
		},
		{
			name: "wrong secret",
			spec: botoSpec{Method: "GET", URL: "/2015-03-31/functions/orders", SecretKey: "wrong"},
			code: CodeInvalidSignature,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.URL = "http://" + s.hostPort() + spec.URL
			if spec.AccessKey == "" {
				spec.AccessKey = testAKID
			}
			if spec.SecretKey == "" {
				spec.SecretKey = testSecret
			}
			if spec.Headers == nil {
				spec.Headers = [][2]string{}
			}
			spec.Service, spec.Region = testService, testRegion
			in, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, "-c", botocoreSign)
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("botocore: %v\n%s", err, stderr.String())
			}
			var signed botoSigned
			if err := json.Unmarshal(out, &signed); err != nil {
				t.Fatalf("decode botocore output %q: %v", out, err)
			}
			res := s.doRaw(t, rawFromBotocore(t, spec.Method, signed, spec.Body))
			if res.Code != tc.code {
				t.Fatalf("got %v, want code %q (target %q)", res, tc.code, res.RequestURI)
			}
			if tc.wantURI != "" && res.RequestURI != tc.wantURI {
				t.Errorf("request target = %q, want %q", res.RequestURI, tc.wantURI)
			}
			if tc.code == "" && (res.Identity.AccessKeyID != spec.AccessKey || res.Identity.SessionToken != spec.Token) {
				t.Errorf("identity = %+v", res.Identity)
			}
		})
	}
}

// botocoreSignS3 signs with botocore's S3 signers (S3SigV4Auth: the path as sent, never normalised, and
// X-Amz-Content-SHA256; S3SigV4QueryAuth: presigned, UNSIGNED-PAYLOAD), as the AWS CLI and boto3 sign S3 calls.
const botocoreSignS3 = `
import json, sys
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
creds = Credentials(spec["access_key"], spec["secret_key"], spec["token"] or None)
body = spec["body"].encode() if spec["body"] else None
req = AWSRequest(method=spec["method"], url=spec["url"], data=body, headers=dict(spec["headers"]))
if spec["expires"]:
    S3SigV4QueryAuth(creds, "s3", spec["region"], expires=spec["expires"]).add_auth(req)
else:
    S3SigV4Auth(creds, "s3", spec["region"]).add_auth(req)
p = req.prepare()
json.dump({"url": p.url, "headers": [[k, v] for k, v in p.headers.items()]}, sys.stdout)
`

// TestVerifyBotocoreS3Signed replays S3 requests signed by botocore's S3 signers, with keys S3 keeps as they are
// ("//", "..", spaces, reserved characters).
func TestVerifyBotocoreS3Signed(t *testing.T) {
	py := requireBotocore(t)
	s := newVerifyServerWith(t, realClockCredentials(), time.Time{})
	for _, tc := range []struct {
		name string
		spec botoSpec
		code string
	}{
		{"a plain key", botoSpec{Method: "PUT", URL: "/bucket/key.txt", Body: "object"}, ""},
		{"dot segments and double slashes kept", botoSpec{Method: "PUT", URL: "/bucket/a//b/../c/./d", Body: "x"}, ""},
		{"escaped characters", botoSpec{Method: "GET", URL: "/bucket/caf%C3%A9%20menu%2Bplus%3Dequals~tilde"}, ""},
		{"a listing with query parameters", botoSpec{Method: "GET", URL: "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F"}, ""},
		{"presigned GET", botoSpec{Method: "GET", URL: "/bucket/shared%20file.txt", Expires: 300}, ""},
		{"wrong secret", botoSpec{Method: "GET", URL: "/bucket/key.txt", SecretKey: "wrong"}, CodeInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.URL = "http://" + s.hostPort() + spec.URL
			spec.AccessKey = testAKID
			if spec.SecretKey == "" {
				spec.SecretKey = testSecret
			}
			spec.Headers, spec.Region = [][2]string{}, testRegion
			in, _ := json.Marshal(spec)
			cmd := exec.Command(py, "-c", botocoreSignS3)
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("botocore: %v\n%s", err, stderr.String())
			}
			var signed botoSigned
			if err := json.Unmarshal(out, &signed); err != nil {
				t.Fatal(err)
			}
			res := s.doRaw(t, rawFromBotocore(t, spec.Method, signed, spec.Body))
			if res.Code != tc.code {
				t.Fatalf("got %v, want code %q (target %q)", res, tc.code, res.RequestURI)
			}
			if tc.code == "" && res.Identity.Service != "s3" {
				t.Errorf("identity %+v", res.Identity)
			}
		})
	}
}
