package sigv4

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// tripwire is a request body that fails the test if anything reads it: the header phase must decide without it.
type tripwire struct{ t *testing.T }

func (b tripwire) Read([]byte) (int, error) {
	b.t.Error("the request body was read")
	return 0, errors.New("tripwire: body read")
}

func (tripwire) Close() error { return nil }

// serverRequest is a server-side request (RequestURI set, as net/http's server sets it) for an invoke of orders,
// signed by aws-sdk-go-v2 with creds at at; edit, if set, changes it after signing. Its body is a tripwire.
func serverRequest(t *testing.T, body string, creds aws.Credentials, at time.Time, payloadHash string, edit func(*http.Request)) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9324/2015-03-31/functions/orders/invocations", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if payloadHash == "" {
		payloadHash = hashHex([]byte(body))
	}
	if creds.AccessKeyID != "" {
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, testService, testRegion, at); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(r)
	}
	r.Body = tripwire{t}
	return r
}

func TestPrepareRefusesWithoutBody(t *testing.T) {
	const body = `{"orderId":"o-1"}`
	cases := []struct {
		name    string
		creds   aws.Credentials
		at      time.Time // signing time (default signTime)
		hash    string    // payload hash to sign (default the body's)
		edit    func(*http.Request)
		code    string
		status  int
		message string // substring
	}{
		{name: "unsigned", code: CodeMissingAuthenticationToken, status: 403, message: msgMissingToken},
		{name: "Authorization without a signature", creds: longTermCreds, edit: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, code: CodeIncompleteSignature, status: 400, message: "Authorization header requires 'Signature' parameter."},
		{name: "scope date is not the request's", creds: longTermCreds, edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "20240102T001000Z")
		}, code: CodeInvalidSignature, status: 403, message: "Date in Credential scope does not match"},
		{name: "outside the skew window", creds: longTermCreds, at: signTime.Add(-10 * time.Minute),
			code: CodeInvalidSignature, status: 403, message: "Signature expired:"},
		{name: "Host not signed", creds: longTermCreds, edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=x-extra;", 1))
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
		}, code: CodeInvalidSignature, status: 403, message: msgHostUnsigned},
		{name: "streaming payload hash", creds: longTermCreds, hash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}, code: CodeIncompleteSignature, status: 400, message: "Unsupported x-amz-content-sha256 value"},
		{name: "unknown access key", creds: aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: testSecret},
			code: CodeUnrecognizedClient, status: 403, message: msgInvalidToken},
		{name: "wrong session token", creds: aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: "other"},
			code: CodeUnrecognizedClient, status: 403, message: msgInvalidToken},
		{name: "expired session", creds: aws.Credentials{AccessKeyID: expiredAKID, SecretAccessKey: tempSecret, SessionToken: tempToken},
			code: CodeExpiredToken, status: 403, message: msgExpiredToken},
		{name: "credential store down", creds: aws.Credentials{AccessKeyID: brokenAKID, SecretAccessKey: testSecret},
			code: CodeServiceException, status: 500, message: msgInternal},
	}
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at.IsZero() {
				at = signTime
			}
			r := serverRequest(t, body, tc.creds, at, tc.hash, tc.edit)
			p, err := v.Prepare(context.Background(), r)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Prepare = %v, %v; want an *Error", p, err)
			}
			if e.Code != tc.code || e.Status != tc.status || !strings.Contains(e.Message, tc.message) {
				t.Errorf("Prepare: %d %s: %s\nwant %d %s containing %q", e.Status, e.Code, e.Message, tc.status, tc.code, tc.message)
			}
		})
	}
}

func TestPrepareThenVerify(t *testing.T) {
	const body = `{"orderId":"o-1"}`
	v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
	ctx := context.Background()

	t.Run("scope known before the body", func(t *testing.T) {
		p, err := v.Prepare(ctx, serverRequest(t, body, tempCreds, signTime, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		if p.Region() != testRegion || p.Service() != testService || p.AccessKeyID() != tempAKID || !p.NeedsBodyHash() {
			t.Errorf("Pending: region %q service %q key %q hash %v", p.Region(), p.Service(), p.AccessKeyID(), p.NeedsBodyHash())
		}
		id, err := p.VerifyHash(sha256.Sum256([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		if id.AccessKeyID != tempAKID || id.SessionToken != tempToken || id.Service != testService || id.Region != testRegion ||
			id.Principal != "arn:aws:sts::000000000000:assumed-role/deployer/session" {
			t.Errorf("Identity = %+v", id)
		}
		if _, err := p.Verify([]byte(body)); err != nil {
			t.Errorf("Verify(body) after VerifyHash: %v", err)
		}
	})

	t.Run("another body fails the body phase", func(t *testing.T) {
		p, err := v.Prepare(ctx, serverRequest(t, body, longTermCreds, signTime, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, verify := range []func() (Identity, error){
			func() (Identity, error) { return p.VerifyHash(sha256.Sum256([]byte(body + " "))) },
			func() (Identity, error) { return p.Verify([]byte(`{"orderId":"o-2"}`)) },
		} {
			var e *Error
			if _, err := verify(); !errors.As(err, &e) || e.Code != CodeInvalidSignature || e.Message != msgSignatureMismatch {
				t.Errorf("tampered body: %v, want %s", err, msgSignatureMismatch)
			}
		}
	})

	t.Run("a wrong secret passes the header phase", func(t *testing.T) {
		p, err := v.Prepare(ctx, serverRequest(t, body, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "wrong"}, signTime, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		var e *Error
		if _, err := p.Verify([]byte(body)); !errors.As(err, &e) || e.Message != msgSignatureMismatch {
			t.Errorf("wrong secret: %v, want %s", err, msgSignatureMismatch)
		}
	})

	t.Run("UNSIGNED-PAYLOAD needs no hash", func(t *testing.T) {
		r := serverRequest(t, body, longTermCreds, signTime, unsignedPayload, func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		})
		p, err := v.Prepare(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if p.NeedsBodyHash() {
			t.Error("NeedsBodyHash = true for UNSIGNED-PAYLOAD")
		}
		if _, err := p.VerifyHash([sha256.Size]byte{}); err != nil {
			t.Errorf("VerifyHash: %v", err)
		}
	})
}
