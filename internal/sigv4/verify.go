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
// Verify is [Verifier.Prepare] followed by [Pending.Verify]; a server that
// must not read the body of a request it will refuse calls the two itself.
//
// Every error Verify returns is an *Error.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Identity, error) {
	var p Pending
	if err := v.prepare(ctx, r, &p); err != nil {
		return Identity{}, err
	}
	return p.Verify(body)
}

// Pending is a request whose signature passed every check its headers decide, waiting for its body: what is left
// is the payload hash and the signature itself. A Pending refers to its request, which must not change until the
// signature is verified.
type Pending struct {
	v          *Verifier
	r          *http.Request
	params     []queryParam
	a          authInfo
	cred       Credential
	contentSHA string // the X-Amz-Content-Sha256 header, "" if absent
}

// Prepare checks everything about r's signature that does not need the body, in the order AWS reports problems:
// the signature is present and well formed, its scope date matches the request time, the time is within the skew
// window (or a presigned URL's expiry), Host is signed, X-Amz-Content-Sha256 (if sent) is a hex SHA-256 or
// UNSIGNED-PAYLOAD, the access key is known, the session token matches the credential's, and the credential has
// not expired. The scope's region and service are then known ([Pending.Region], [Pending.Service]), so a server
// can refuse a request meant for another region or service before reading its body too.
//
// Every error Prepare returns is an *Error.
func (v *Verifier) Prepare(ctx context.Context, r *http.Request) (*Pending, error) {
	p := new(Pending)
	if err := v.prepare(ctx, r, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (v *Verifier) prepare(ctx context.Context, r *http.Request, p *Pending) *Error {
	p.v, p.r = v, r
	p.params = parseRawQuery(r.URL.RawQuery)

	var err *Error
	switch {
	case r.Header.Get(headerAuthorization) != "":
		p.a, err = parseAuthorizationHeader(r.Header.Get(headerAuthorization), r.Header)
	case hasQueryAuth(p.params):
		p.a, err = parseQueryAuth(p.params, r.Header)
	default:
		return errMissingToken()
	}
	if err != nil {
		return err
	}
	a := &p.a

	if day := a.amzDate[:len(scopeDateFormat)]; day != a.scopeDate {
		return errInvalidSignature(fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.scopeDate, day, a.amzDate))
	}
	now := v.now().UTC()
	if err := v.checkTime(a, now); err != nil {
		return err
	}
	if !signsHost(a.signedHeaders) {
		return errInvalidSignature(msgHostUnsigned)
	}

	// The payload hash value, when the client states one.
	p.contentSHA = r.Header.Get(headerContentSHA256)
	if c := p.contentSHA; c != "" && c != unsignedPayload && !isSHA256Hex(c) && !(a.service == s3Service && isStreaming(c)) {
		return errIncomplete("Unsupported x-amz-content-sha256 value '%s'; expected a hex SHA-256 of the payload or '%s'.",
			echo(c), unsignedPayload)
	}

	if v.Credentials == nil {
		return errInternal(errors.New("sigv4: Verifier has no CredentialSource"))
	}
	cred, lerr := v.Credentials.LookupCredential(ctx, a.accessKeyID)
	if lerr != nil {
		if errors.Is(lerr, ErrUnknownAccessKey) {
			return errUnknownKey()
		}
		return errInternal(lerr)
	}

	// Temporary credentials must present their session token, and long-term
	// ones must not present any.
	if cred.SessionToken != "" || a.token != "" {
		if subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(a.token)) != 1 {
			return errInvalidToken()
		}
	}
	// Reported only to a caller holding the session token, which is as secret as the key.
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return errExpiredToken()
	}
	p.cred = cred
	return nil
}

// Region is the region of the request's credential scope.
func (p *Pending) Region() string { return p.a.region }

// Service is the service of the request's credential scope.
func (p *Pending) Service() string { return p.a.service }

// AccessKeyID is the access key the request is signed with.
func (p *Pending) AccessKeyID() string { return p.a.accessKeyID }

// NeedsBodyHash reports whether verifying needs the body's SHA-256: false when the request declares its payload
// UNSIGNED-PAYLOAD.
func (p *Pending) NeedsBodyHash() bool { return p.contentSHA != unsignedPayload }

// Verify finishes verification with the request's full body. Every error it returns is an *Error.
func (p *Pending) Verify(body []byte) (Identity, error) {
	if !p.NeedsBodyHash() {
		return p.VerifyHash([sha256.Size]byte{})
	}
	return p.VerifyHash(sha256.Sum256(body))
}

// VerifyHash finishes verification with the SHA-256 of the request's full body, for a caller that hashed the body
// while reading it (the sum is ignored when NeedsBodyHash is false). Every error it returns is an *Error.
func (p *Pending) VerifyHash(bodySHA256 [sha256.Size]byte) (Identity, error) {
	id, err := p.verify(&bodySHA256)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (p *Pending) verify(sum *[sha256.Size]byte) (Identity, *Error) {
	a := &p.a
	// Payload hash candidates, kept off the heap.
	var bodyHex [2 * sha256.Size]byte
	if p.NeedsBodyHash() {
		hex.Encode(bodyHex[:], sum[:])
	}
	var payloads [2][]byte
	np := 1
	switch {
	case p.contentSHA == unsignedPayload:
		payloads[0] = unsignedPayloadBytes
	case p.contentSHA != "":
		if !strings.EqualFold(p.contentSHA, string(bodyHex[:])) {
			return Identity{}, errSignatureMismatch()
		}
		payloads[0] = []byte(p.contentSHA)
	case a.presigned:
		payloads[0], payloads[1], np = unsignedPayloadBytes, bodyHex[:], 2
	default:
		payloads[0] = bodyHex[:]
	}

	ck := keyCacheKey{secret: p.cred.SecretAccessKey, date: a.scopeDate, region: a.region, service: a.service}
	signingKey, cached := p.v.keys.get(ck)
	if !cached {
		signingKey = deriveSigningKey(ck)
	}
	if !matchSignature(p.r, a, p.params, payloads[:np], signingKey) {
		return Identity{}, errSignatureMismatch()
	}
	if !cached {
		p.v.keys.put(ck, signingKey)
	}

	return Identity{
		AccessKeyID:  a.accessKeyID,
		Principal:    p.cred.Principal,
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
		return errNotYetCurrent(a.amzDate, now, skew).kind(KindSkewed)
	}
	window, kind := skew, KindSkewed
	if a.presigned && a.expires >= 0 {
		window, kind = time.Duration(a.expires)*time.Second, KindExpiredRequest
	}
	if a.time.Before(now.Add(-window)) {
		return errExpired(a.amzDate, now, window).kind(kind)
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
	var uri1, uri2 string
	if a.service == s3Service {
		uri1, uri2 = s3CanonicalURIs(wirePath(r))
	} else {
		uri1, uri2 = canonicalURIs(wirePath(r))
	}

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
