package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Credential is a secret the server knows for an access key id.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string    // non-empty for temporary (STS) credentials; then the request must carry a matching X-Amz-Security-Token
	Expires         time.Time // zero = never
	Principal       string    // opaque identity (e.g. an ARN) handed back on success
}

// CredentialSource finds the credential for an access key id. It returns
// ErrUnknownAccessKey (errors.Is) if none.
type CredentialSource interface {
	LookupCredential(ctx context.Context, accessKeyID string) (Credential, error)
}

// ErrUnknownAccessKey is returned (possibly wrapped) by a CredentialSource
// that has no credential for the access key id.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key id")

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is zero.
const DefaultMaxSkew = 5 * time.Minute

// Verifier checks AWS Signature Version 4 signatures. Set its exported
// fields before first use and do not copy it afterwards (it holds a cache of
// derived signing keys); it is safe for concurrent use.
type Verifier struct {
	Credentials CredentialSource
	Now         func() time.Time // nil => time.Now
	MaxSkew     time.Duration    // 0 => 5 minutes

	keys keyCache
}

// Identity is what a verified request proves.
type Identity struct {
	AccessKeyID, Principal, Region, Service string
	SessionToken                            string
}

// Verify checks r's SigV4 signature, in the header form (Authorization:
// AWS4-HMAC-SHA256 ...) or the query/presigned form (X-Amz-Algorithm etc).
//
// body is the full request body (the caller has already read it). It is
// hashed for the payload hash unless the X-Amz-Content-Sha256 header is
// present: then that value is used ("UNSIGNED-PAYLOAD" included), and a hex
// value must equal the body's hash. A presigned request without that header
// is accepted with either "UNSIGNED-PAYLOAD" (the S3 convention) or the
// body's hash (what botocore and the Go SDK sign for other services).
//
// Every error Verify returns is an *Error.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Identity, error) {
	id, err := v.verify(ctx, r, body)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (v *Verifier) verify(ctx context.Context, r *http.Request, body []byte) (Identity, *Error) {
	params := parseRawQuery(r.URL.RawQuery)

	var a authInfo
	var err *Error
	switch {
	case r.Header.Get(headerAuthorization) != "":
		a, err = parseAuthorizationHeader(r.Header.Get(headerAuthorization), r.Header)
	case hasQueryAuth(params):
		a, err = parseQueryAuth(params, r.Header)
	default:
		return Identity{}, errMissingToken()
	}
	if err != nil {
		return Identity{}, err
	}

	if day := a.amzDate[:len(scopeDateFormat)]; day != a.scopeDate {
		return Identity{}, errInvalidSignature(fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.scopeDate, day, a.amzDate))
	}
	now := v.now().UTC()
	if err := v.checkTime(&a, now); err != nil {
		return Identity{}, err
	}
	if !signsHost(a.signedHeaders) {
		return Identity{}, errInvalidSignature(msgHostUnsigned)
	}

	// The payload hash value, when the client states one.
	contentSHA := r.Header.Get(headerContentSHA256)
	if contentSHA != "" && contentSHA != unsignedPayload && !isSHA256Hex(contentSHA) {
		return Identity{}, errIncomplete("Unsupported x-amz-content-sha256 value '%s'; expected a hex SHA-256 of the payload or '%s'.",
			echo(contentSHA), unsignedPayload)
	}

	if v.Credentials == nil {
		return Identity{}, errInternal(errors.New("sigv4: Verifier has no CredentialSource"))
	}
	cred, lerr := v.Credentials.LookupCredential(ctx, a.accessKeyID)
	if lerr != nil {
		if errors.Is(lerr, ErrUnknownAccessKey) {
			return Identity{}, errInvalidToken()
		}
		return Identity{}, errInternal(lerr)
	}

	// Temporary credentials must present their session token, and long-term
	// ones must not present any.
	if cred.SessionToken != "" || a.token != "" {
		if subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(a.token)) != 1 {
			return Identity{}, errInvalidToken()
		}
	}

	// Payload hash candidates, kept off the heap.
	var bodyHex [2 * sha256.Size]byte
	if contentSHA != unsignedPayload {
		sum := sha256.Sum256(body)
		hex.Encode(bodyHex[:], sum[:])
	}
	var payloads [2][]byte
	np := 1
	switch {
	case contentSHA == unsignedPayload:
		payloads[0] = unsignedPayloadBytes
	case contentSHA != "":
		if !strings.EqualFold(contentSHA, string(bodyHex[:])) {
			return Identity{}, errSignatureMismatch()
		}
		payloads[0] = []byte(contentSHA)
	case a.presigned:
		payloads[0], payloads[1], np = unsignedPayloadBytes, bodyHex[:], 2
	default:
		payloads[0] = bodyHex[:]
	}

	ck := keyCacheKey{secret: cred.SecretAccessKey, date: a.scopeDate, region: a.region, service: a.service}
	signingKey, cached := v.keys.get(ck)
	if !cached {
		signingKey = deriveSigningKey(ck)
	}
	if !matchSignature(r, &a, params, payloads[:np], signingKey) {
		return Identity{}, errSignatureMismatch()
	}
	if !cached {
		v.keys.put(ck, signingKey)
	}

	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return Identity{}, errExpiredToken()
	}

	return Identity{
		AccessKeyID:  a.accessKeyID,
		Principal:    cred.Principal,
		Region:       a.region,
		Service:      a.service,
		SessionToken: a.token,
	}, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// checkTime enforces the clock-skew window and, for presigned requests that
// carry X-Amz-Expires, the expiry: a presigned URL is good from its
// X-Amz-Date (less the allowed skew) until X-Amz-Date + X-Amz-Expires.
func (v *Verifier) checkTime(a *authInfo, now time.Time) *Error {
	skew := v.maxSkew()
	if a.time.After(now.Add(skew)) {
		return errNotYetCurrent(a.amzDate, now, skew)
	}
	window := skew
	if a.presigned && a.expires >= 0 {
		window = time.Duration(a.expires) * time.Second
	}
	if a.time.Before(now.Add(-window)) {
		return errExpired(a.amzDate, now, window)
	}
	return nil
}

var unsignedPayloadBytes = []byte(unsignedPayload)

// matchSignature rebuilds the canonical request for each candidate canonical
// URI and payload hash and compares the resulting signature with the one the
// request carries, in constant time.
func matchSignature(r *http.Request, a *authInfo, params []queryParam, payloads [][]byte, signingKey []byte) bool {
	var want [sha256.Size]byte
	if len(a.signature) != hex.EncodedLen(len(want)) {
		return false
	}
	if _, err := hex.Decode(want[:], []byte(a.signature)); err != nil {
		return false
	}

	query := canonicalQuery(params, a.presigned)
	var headerBuf [512]byte
	headers, _ := appendCanonicalHeaders(headerBuf[:0], r, a.signedHeaders)
	uri1, uri2 := canonicalURIs(wirePath(r))

	// HMAC-SHA256 by hand (RFC 2104) so the hot path does not allocate: the
	// signing key is a 32-byte SHA-256 output, shorter than the block size.
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], signingKey)
	copy(opad[:], signingKey)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}

	var crBuf [1024]byte
	var stsBuf [256]byte
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], opad[:])

	ok := 0
	for _, uri := range [2]string{uri1, uri2} {
		if uri == "" {
			continue
		}
		for _, payload := range payloads {
			// METHOD\nURI\nQUERY\nHEADERS\nSIGNED\nPAYLOAD; headers already
			// ends each line with '\n'.
			cr := append(crBuf[:0], r.Method...)
			cr = append(cr, '\n')
			cr = append(cr, uri...)
			cr = append(cr, '\n')
			cr = append(cr, query...)
			cr = append(cr, '\n')
			cr = append(cr, headers...)
			cr = append(cr, '\n')
			cr = append(cr, a.signedHeaders...)
			cr = append(cr, '\n')
			cr = append(cr, payload...)
			crHash := sha256.Sum256(cr)

			// Inner HMAC input: ipad || string to sign.
			sts := append(stsBuf[:0], ipad[:]...)
			sts = append(sts, algorithm...)
			sts = append(sts, '\n')
			sts = append(sts, a.amzDate...)
			sts = append(sts, '\n')
			sts = append(sts, a.scopeDate...)
			sts = append(sts, '/')
			sts = append(sts, a.region...)
			sts = append(sts, '/')
			sts = append(sts, a.service...)
			sts = append(sts, '/')
			sts = append(sts, scopeTerminator...)
			sts = append(sts, '\n')
			sts = hex.AppendEncode(sts, crHash[:])
			inner := sha256.Sum256(sts)

			copy(outer[sha256.BlockSize:], inner[:])
			got := sha256.Sum256(outer[:])
			ok |= subtle.ConstantTimeCompare(got[:], want[:])
		}
	}
	return ok == 1
}

// signsHost reports whether "host" is in the SignedHeaders list.
func signsHost(signedHeaders string) bool {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(name, "host") {
			return true
		}
	}
	return false
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
