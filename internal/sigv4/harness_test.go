package sigv4

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testAKID    = "AKIDEXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tempAKID    = "ASIATEMPEXAMPLE"
	tempSecret  = "tempSecretKeyEXAMPLE/abc+def"
	tempToken   = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars"
	expiredAKID = "ASIAEXPIREDEXAMPLE"
	brokenAKID  = "AKIABROKENSTORE"
	testRegion  = "us-east-1"
	testService = "lambda"
)

// signTime is when the SDK-signed test requests claim to be signed.
var signTime = time.Date(2024, 1, 1, 0, 10, 0, 0, time.UTC)

// memSource is an in-memory CredentialSource.
type memSource map[string]Credential

var errStoreDown = errors.New("bolt: database not open (secret detail)")

func (m memSource) LookupCredential(_ context.Context, id string) (Credential, error) {
	if id == brokenAKID {
		return Credential{}, errStoreDown
	}
	c, ok := m[id]
	if !ok {
		return Credential{}, fmt.Errorf("lookup %q: %w", id, ErrUnknownAccessKey)
	}
	return c, nil
}

func testCredentials() memSource {
	return memSource{
		testAKID: {
			AccessKeyID: testAKID, SecretAccessKey: testSecret,
			Principal: "arn:aws:iam::000000000000:user/tester",
		},
		tempAKID: {
			AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken,
			Expires:   signTime.Add(time.Hour),
			Principal: "arn:aws:sts::000000000000:assumed-role/deployer/session",
		},
		expiredAKID: {
			AccessKeyID: expiredAKID, SecretAccessKey: tempSecret, SessionToken: tempToken,
			Expires:   signTime.Add(-time.Minute),
			Principal: "arn:aws:sts::000000000000:assumed-role/deployer/old",
		},
	}
}

// result is what the test server reports about one verified request.
type result struct {
	Identity   Identity
	Code       string
	Status     int
	Message    string
	RequestURI string
}

func (r result) String() string {
	if r.Code == "" {
		return fmt.Sprintf("OK %+v", r.Identity)
	}
	return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message)
}

// verifyServer is a real HTTP server whose handler reads the body and calls
// Verify, so the verifier sees a request exactly as Go's server parses it.
type verifyServer struct {
	*httptest.Server
	mu  sync.Mutex
	now time.Time
	v   *Verifier
}

func newVerifyServer(t testing.TB) *verifyServer {
	t.Helper()
	return newVerifyServerWith(t, testCredentials(), signTime)
}

// realClockCredentials is testCredentials with the temporary credential
// valid around the real clock, for clients that sign with time.Now.
func realClockCredentials() memSource {
	creds := testCredentials()
	temp := creds[tempAKID]
	temp.Expires = time.Now().Add(time.Hour)
	creds[tempAKID] = temp
	return creds
}

// newVerifyServerWith starts a verifying server; a zero now means the real
// clock.
func newVerifyServerWith(t testing.TB, creds CredentialSource, now time.Time) *verifyServer {
	t.Helper()
	s := &verifyServer{now: now}
	s.v = &Verifier{Credentials: creds, Now: s.clock}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res := result{RequestURI: r.RequestURI}
		id, verr := s.v.Verify(r.Context(), r, body)
		if verr != nil {
			var e *Error
			if !errors.As(verr, &e) {
				http.Error(w, "Verify returned a non-*Error: "+verr.Error(), http.StatusInternalServerError)
				return
			}
			res.Code, res.Status, res.Message = e.Code, e.Status, e.Message
		} else {
			res.Identity = id
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now.IsZero() {
		return time.Now()
	}
	return s.now
}

// setNow sets the verifier's clock; a zero time means the real clock.
func (s *verifyServer) setNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t
}

// do sends a client request and decodes the verdict.
func (s *verifyServer) do(t testing.TB, req *http.Request) result {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	return decodeResult(t, resp)
}

// doRaw writes raw bytes to the server (for exact control over the request
// line and headers) and decodes the verdict. Host lines may use {{host}}.
func (s *verifyServer) doRaw(t testing.TB, raw string) result {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	return decodeResult(t, resp)
}

func decodeResult(t testing.TB, resp *http.Response) result {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("test server answered %d: %s", resp.StatusCode, b)
	}
	var res result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return res
}

func (s *verifyServer) hostPort() string { return s.Listener.Addr().String() }

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
