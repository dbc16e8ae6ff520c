package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestChunkedAWSExample checks the decoder against the worked example of AWS's "Transferring Payload in Multiple
// Chunks" page: 66,560 bytes of 'a' in a 65,536-byte chunk and a 1,024-byte one, signed with the documentation's key.
func TestChunkedAWSExample(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	v := &Verifier{
		Credentials: memSource{"AKIAIOSFODNN7EXAMPLE": {AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret, Principal: "p"}},
		Now:         func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) },
	}
	body := "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
		strings.Repeat("a", 65536) + "\r\n" +
		"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
		strings.Repeat("a", 1024) + "\r\n" +
		"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
	r, _ := http.NewRequest(http.MethodPut, "http://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.RequestURI = "/examplebucket/chunkObject.txt"
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("X-Amz-Content-Sha256", StreamingSigned)
	r.ContentLength = 66824
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
		"Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	p, err := v.Prepare(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	_, pl, err := p.VerifyStreaming(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(pl)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat("a", 66560) {
		t.Fatalf("decoded %d bytes, want 66560 'a'", len(got))
	}
}

// chunkedRequest is a PUT signed by aws-sdk-go-v2's SigV4 signer declaring mode, with its body aws-chunked into
// pieces of size bytes, each signed by the SDK's stream signer (whose string to sign, given no event headers, is
// S3's chunk string to sign), then trailers as listed.
type chunkedRequest struct {
	mode     string
	payload  []byte
	size     int
	trailers [][2]string
}

func (c chunkedRequest) build(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	r, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:9324/bucket/a%20key//..", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(c.payload)))
	r.Header.Set("X-Amz-Content-Sha256", c.mode)
	var names []string
	for _, tr := range c.trailers {
		names = append(names, tr[0])
	}
	if len(names) > 0 {
		r.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, r, c.mode, "s3", testRegion, signTime); err != nil {
		t.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	seed, _ := hex.DecodeString(auth[strings.LastIndex(auth, "=")+1:])
	stream := v4.NewStreamSigner(creds, "s3", testRegion, seed)
	var body bytes.Buffer
	prev := hex.EncodeToString(seed)
	for off := 0; ; off += c.size {
		off = min(off, len(c.payload))
		piece := c.payload[off:min(off+c.size, len(c.payload))]
		if c.mode == StreamingUnsignedTrailer {
			fmt.Fprintf(&body, "%x\r\n", len(piece))
		} else {
			sig, err := stream.GetSignature(context.Background(), nil, piece, signTime)
			if err != nil {
				t.Fatal(err)
			}
			prev = hex.EncodeToString(sig)
			fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(piece), prev)
		}
		if len(piece) == 0 {
			break
		}
		body.Write(piece)
		body.WriteString("\r\n")
	}
	var text strings.Builder
	for _, tr := range c.trailers {
		fmt.Fprintf(&body, "%s:%s\r\n", tr[0], tr[1])
		text.WriteString(tr[0] + ":" + tr[1] + "\n")
	}
	if c.mode == StreamingSignedTrailer {
		// The trailer's signature, as AWS's "trailing headers" page defines it (the SDK has no signer for it).
		sum := sha256.Sum256([]byte(text.String()))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + signTime.Format(amzDateFormat) + "\n" + signTime.Format(scopeDateFormat) +
			"/" + testRegion + "/s3/aws4_request\n" + prev + "\n" + hex.EncodeToString(sum[:])
		key := deriveSigningKey(keyCacheKey{secret: testSecret, date: signTime.Format(scopeDateFormat), region: testRegion, service: "s3"})
		m := hmac.New(sha256.New, key)
		m.Write([]byte(sts))
		fmt.Fprintf(&body, "x-amz-trailer-signature:%x\r\n", m.Sum(nil))
	}
	body.WriteString("\r\n")
	r.RequestURI = "/bucket/a%20key//.."
	return r, body.Bytes()
}

func TestChunkedModes(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes
	crc := [2]string{"x-amz-checksum-crc32", "AAAAAA=="}
	for _, tc := range []struct {
		name   string
		req    chunkedRequest
		tamper func([]byte) []byte
		kind   Kind
	}{
		{name: "signed", req: chunkedRequest{mode: StreamingSigned, payload: payload, size: 65536}},
		{name: "signed small chunks", req: chunkedRequest{mode: StreamingSigned, payload: payload, size: 8192}},
		{name: "signed trailer", req: chunkedRequest{mode: StreamingSignedTrailer, payload: payload, size: 65536, trailers: [][2]string{crc}}},
		{name: "unsigned trailer", req: chunkedRequest{mode: StreamingUnsignedTrailer, payload: payload, size: 65536, trailers: [][2]string{crc}}},
		{name: "signed: a byte changed", req: chunkedRequest{mode: StreamingSigned, payload: payload, size: 65536},
			tamper: func(b []byte) []byte { b[200] ^= 1; return b }, kind: KindMismatch},
		{name: "signed: the last chunk dropped", req: chunkedRequest{mode: StreamingSigned, payload: payload, size: 65536},
			tamper: func(b []byte) []byte { return b[:bytes.Index(b, []byte("\r\n3880;"))+2] }, kind: KindIncompleteBody},
		{name: "signed trailer: trailer value changed", req: chunkedRequest{mode: StreamingSignedTrailer, payload: payload, size: 65536, trailers: [][2]string{crc}},
			tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("AAAAAA=="), []byte("AAAAAB=="), 1) }, kind: KindMismatch},
		{name: "unsigned trailer: undeclared trailer", req: chunkedRequest{mode: StreamingUnsignedTrailer, payload: payload, size: 65536, trailers: [][2]string{crc}},
			tamper: func(b []byte) []byte {
				return bytes.Replace(b, []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-sha1:"), 1)
			}, kind: KindIncompleteBody},
		{name: "unsigned trailer: chunk size lies", req: chunkedRequest{mode: StreamingUnsignedTrailer, payload: payload, size: 65536, trailers: [][2]string{crc}},
			tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("10000\r\n"), []byte("10001\r\n"), 1) }, kind: KindIncompleteBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := tc.req.build(t)
			if tc.tamper != nil {
				body = tc.tamper(body)
			}
			v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
			p, err := v.Prepare(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			id, pl, err := p.VerifyStreaming(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("VerifyStreaming: %v", err)
			}
			if id.Service != "s3" || id.AccessKeyID != testAKID {
				t.Errorf("identity %+v", id)
			}
			got, err := io.ReadAll(pl)
			if tc.kind != KindOther {
				var se *Error
				if !errors.As(err, &se) || se.Kind != tc.kind {
					t.Fatalf("read: %v, want an error of kind %d", err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("decoded %d bytes, want the %d sent", len(got), len(payload))
			}
			if len(tc.req.trailers) > 0 && pl.Trailer().Get("X-Amz-Checksum-Crc32") != "AAAAAA==" {
				t.Errorf("trailer %v", pl.Trailer())
			}
		})
	}
}

// TestStreamingHexPayload: a hex X-Amz-Content-Sha256 is signed before the body is read and checked at its end.
func TestStreamingHexPayload(t *testing.T) {
	body := []byte("object bytes")
	sum := sha256.Sum256(body)
	for _, tc := range []struct {
		name string
		sent []byte
		want Kind
	}{
		{"intact", body, KindOther},
		{"tampered", []byte("object bytez"), KindContentMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:9324/bucket/key", nil)
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "s3", testRegion, signTime); err != nil {
				t.Fatal(err)
			}
			r.RequestURI = "/bucket/key"
			v := &Verifier{Credentials: testCredentials(), Now: func() time.Time { return signTime }}
			p, err := v.Prepare(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			_, pl, err := p.VerifyStreaming(bytes.NewReader(tc.sent))
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(pl)
			var se *Error
			switch {
			case tc.want == KindOther && err != nil:
				t.Fatalf("read: %v", err)
			case tc.want != KindOther && (!errors.As(err, &se) || se.Kind != tc.want || se.Code != "XAmzContentSHA256Mismatch"):
				t.Fatalf("read: %v, want XAmzContentSHA256Mismatch", err)
			}
		})
	}
}

// TestS3CanonicalURI: S3 keys keep "//", "." and ".." segments; the path is encoded once whatever the client escaped.
func TestS3CanonicalURI(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"/bucket/a//b/../c", "/bucket/a//b/../c"},
		{"/bucket/a%20b", "/bucket/a%20b"},
		{"/bucket/a+b=c", "/bucket/a%2Bb%3Dc"},
		{"/bucket/%7Etilde", "/bucket/~tilde"},
		{"/bucket/caf%C3%A9", "/bucket/caf%C3%A9"},
		{"/bucket/a%2Fb", "/bucket/a/b"},
	} {
		if got, _ := s3CanonicalURIs(tc.raw); got != tc.want {
			t.Errorf("s3CanonicalURIs(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
