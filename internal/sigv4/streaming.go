package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// S3 signs differently from every other service: its canonical URI is the path encoded once, never normalised,
// and its payload may be declared UNSIGNED-PAYLOAD or streamed in signed (or unsigned) aws-chunked chunks with
// trailing checksums. Everything here is used only for requests scoped to the s3 service.

const s3Service = "s3"

// The X-Amz-Content-Sha256 values of aws-chunked uploads.
const (
	// StreamingSigned: each chunk signed, chained from the request's signature.
	StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingSignedTrailer: signed chunks, then trailing headers signed after the last chunk.
	StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer: unsigned chunks, then trailing headers (a checksum) unsigned.
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	// UnsignedPayload: the body is not covered by the signature.
	UnsignedPayload = unsignedPayload
)

const (
	headerDecodedLength = "X-Amz-Decoded-Content-Length"
	headerTrailer       = "X-Amz-Trailer"
	trailerSignature    = "x-amz-trailer-signature"
	emptySHA256Hex      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	maxChunkLine   = 4096 // a chunk header or trailer line
	maxTrailers    = 16
	bufferedReader = 64 << 10
)

// isStreaming reports whether an X-Amz-Content-Sha256 value announces an aws-chunked body.
func isStreaming(v string) bool {
	return v == StreamingSigned || v == StreamingSignedTrailer || v == StreamingUnsignedTrailer
}

// s3CanonicalURIs returns the canonical URI of an S3 request: its path decoded and encoded once more, every byte
// but unreserved characters and '/' percent-encoded, with nothing removed (S3 keys may hold "//", "." and ".."
// segments). Clients differ on which reserved characters they escape on the wire, and every one signs this form;
// the path exactly as sent is the second candidate, for a client that signs what it sent.
func s3CanonicalURIs(raw string) (first, second string) {
	if raw == "" {
		raw = "/"
	}
	decoded, err := pathUnescape(raw)
	if err != nil {
		return raw, ""
	}
	first = escapePath(decoded)
	if first != raw {
		second = raw
	}
	return first, second
}

// pathUnescape decodes %XX escapes (not '+', which is a plus in a path).
func pathUnescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errIncomplete("malformed escape in path")
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", errIncomplete("malformed escape in path")
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), nil
}

// ContentSHA256 is the X-Amz-Content-Sha256 header the request declares ("" if none).
func (p *Pending) ContentSHA256() string { return p.contentSHA }

// Presigned reports whether the request is signed in the query string.
func (p *Pending) Presigned() bool { return p.a.presigned }

// VerifyStreaming verifies the signature over the payload hash the request declares (X-Amz-Content-Sha256; for a
// presigned request without it, UNSIGNED-PAYLOAD) before a byte of the body is read, as S3 does, and returns the
// caller's identity and a Payload that reads the body and checks it against that declaration as it goes: a hex
// SHA-256 is compared at the end of the body; aws-chunked bodies are decoded, each chunk's signature checked at the
// chunk's end and the trailer's after the last one. A Read that finds the body is not what was signed fails with an
// *Error (KindContentMismatch, KindMismatch or KindIncompleteBody), so a consumer that reads to io.EOF has read an
// intact body and must discard what it read on any other error.
func (p *Pending) VerifyStreaming(body io.Reader) (Identity, *Payload, error) {
	declared := p.contentSHA
	if declared == "" {
		declared = unsignedPayload
	}
	id, err := p.verifyDeclared(declared)
	if err != nil {
		return Identity{}, nil, err
	}
	pl := &Payload{decodedLength: -1}
	switch {
	case declared == unsignedPayload:
		pl.r = body
	case isStreaming(declared):
		c, err := p.newChunkReader(body, declared)
		if err != nil {
			return Identity{}, nil, err
		}
		pl.r, pl.chunks = c, c
		pl.decodedLength = c.decodedLength
	default:
		pl.r = &hashedReader{r: body, h: sha256.New(), want: strings.ToLower(declared)}
	}
	return id, pl, nil
}

// verifyDeclared checks the signature with declared as the payload hash.
func (p *Pending) verifyDeclared(declared string) (Identity, *Error) {
	a := &p.a
	signingKey := p.signingKey()
	if !matchSignature(p.r, a, p.params, [][]byte{[]byte(declared)}, signingKey) {
		return Identity{}, errSignatureMismatch()
	}
	return Identity{AccessKeyID: a.accessKeyID, Principal: p.cred.Principal, Region: a.region, Service: a.service,
		SessionToken: a.token}, nil
}

func (p *Pending) signingKey() []byte {
	ck := keyCacheKey{secret: p.cred.SecretAccessKey, date: p.a.scopeDate, region: p.a.region, service: p.a.service}
	key, ok := p.v.keys.get(ck)
	if !ok {
		key = deriveSigningKey(ck)
	}
	return key
}

// Payload is a request body being read and checked against what its signature declared.
type Payload struct {
	r             io.Reader
	chunks        *chunkReader
	decodedLength int64
}

// Read reads the payload (decoded, for an aws-chunked body).
func (pl *Payload) Read(b []byte) (int, error) { return pl.r.Read(b) }

// Chunked reports whether the body is aws-chunked (Content-Encoding: aws-chunked).
func (pl *Payload) Chunked() bool { return pl.chunks != nil }

// DecodedLength is the payload's length an aws-chunked request declares (X-Amz-Decoded-Content-Length), -1 when it
// does not or the body is not chunked.
func (pl *Payload) DecodedLength() int64 { return pl.decodedLength }

// Trailer returns the trailing headers of an aws-chunked body (canonical names), once Read has returned io.EOF.
func (pl *Payload) Trailer() http.Header {
	if pl.chunks == nil {
		return nil
	}
	return pl.chunks.trailer
}

// hashedReader passes a body through and fails at its end if its SHA-256 is not the declared one.
type hashedReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	err  error
}

func (h *hashedReader) Read(b []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(b)
	h.h.Write(b[:n])
	if err == io.EOF {
		var sum [sha256.Size]byte
		got := hex.EncodeToString(h.h.Sum(sum[:0]))
		if subtle.ConstantTimeCompare([]byte(got), []byte(h.want)) != 1 {
			h.err = errContentMismatch()
			return n, h.err
		}
	}
	if err != nil {
		h.err = err
	}
	return n, err
}

func errContentMismatch() *Error {
	return newError(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
		"The provided 'x-amz-content-sha256' header does not match what was computed.").kind(KindContentMismatch)
}

func errIncompleteBody(msg string) *Error {
	return newError(http.StatusBadRequest, "IncompleteBody", msg).kind(KindIncompleteBody)
}

// chunkReader decodes an aws-chunked body:
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n ...]\r\n
//
// checking each chunk's signature (signed modes: HMAC of "AWS4-HMAC-SHA256-PAYLOAD", the date, the scope, the
// previous signature, the empty hash and the chunk's hash, chained from the request's own signature) when the
// chunk ends, then the trailer's ("AWS4-HMAC-SHA256-TRAILER" over the trailing lines). Only the trailers the
// request announced in X-Amz-Trailer may come. Memory is one buffered reader, whatever the chunks' sizes.
type chunkReader struct {
	br            *bufio.Reader
	signed        bool
	trailers      bool
	declared      map[string]bool // trailer names announced in X-Amz-Trailer (lower case)
	key           []byte
	amzDate       string
	scope         string
	prevSig       string
	decodedLength int64

	left    int64 // bytes of the current chunk not yet read
	inChunk bool
	chunkH  hash.Hash
	sig     string // the current chunk's signature
	total   int64
	trailer http.Header
	err     error
}

func (p *Pending) newChunkReader(body io.Reader, mode string) (*chunkReader, *Error) {
	a := &p.a
	c := &chunkReader{
		br:            bufio.NewReaderSize(body, bufferedReader),
		signed:        mode != StreamingUnsignedTrailer,
		trailers:      mode != StreamingSigned,
		key:           p.signingKey(),
		amzDate:       a.amzDate,
		scope:         a.scopeDate + "/" + a.region + "/" + a.service + "/" + scopeTerminator,
		prevSig:       strings.ToLower(a.signature),
		decodedLength: -1,
		chunkH:        sha256.New(),
	}
	if v := p.r.Header.Get(headerDecodedLength); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, errIncompleteBody("X-Amz-Decoded-Content-Length is not a length: '" + echo(v) + "'")
		}
		c.decodedLength = n
	}
	if c.trailers {
		c.declared = map[string]bool{}
		for _, t := range strings.Split(p.r.Header.Get(headerTrailer), ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				c.declared[t] = true
			}
		}
	}
	return c, nil
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if !c.inChunk {
		if err := c.startChunk(); err != nil {
			c.err = err
			return 0, err
		}
		if !c.inChunk { // the last chunk and the trailers have been read
			c.err = io.EOF
			return 0, io.EOF
		}
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.br.Read(b)
	c.left -= int64(n)
	c.total += int64(n)
	if c.signed {
		c.chunkH.Write(b[:n])
	}
	if err != nil {
		if err == io.EOF {
			err = errIncompleteBody("The request body terminated unexpectedly")
		}
		c.err = err
		return n, err
	}
	if c.left == 0 {
		if err := c.endChunk(); err != nil {
			c.err = err
			return n, err
		}
	}
	return n, nil
}

// startChunk reads a chunk header; a zero-size chunk is the last one, after which the trailers are read.
func (c *chunkReader) startChunk() error {
	line, err := c.line()
	if err == io.EOF {
		return errIncompleteBody("The request body terminated unexpectedly: the last chunk is missing")
	}
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, perr := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if perr != nil || size < 0 || len(sizeHex) > 16 {
		return errIncompleteBody("Invalid chunk size: '" + echo(sizeHex) + "'")
	}
	c.sig = ""
	if c.signed {
		v, ok := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature=")
		if !ok || len(v) != 2*sha256.Size {
			return errIncompleteBody("A chunk has no chunk-signature")
		}
		c.sig = strings.ToLower(v)
	}
	if c.decodedLength >= 0 && c.total+size > c.decodedLength {
		return errIncompleteBody("The chunks are longer than X-Amz-Decoded-Content-Length")
	}
	c.chunkH.Reset()
	if size > 0 {
		c.left, c.inChunk = size, true
		return nil
	}
	if err := c.checkChunkSignature(); err != nil {
		return err
	}
	if c.decodedLength >= 0 && c.total != c.decodedLength {
		return errIncompleteBody("You did not provide the number of bytes specified by the X-Amz-Decoded-Content-Length HTTP header")
	}
	return c.readTrailers()
}

// endChunk reads the CRLF after a chunk's data and checks the chunk's signature.
func (c *chunkReader) endChunk() error {
	c.inChunk = false
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return errIncompleteBody("A chunk's data does not end with CRLF")
	}
	return c.checkChunkSignature()
}

func (c *chunkReader) checkChunkSignature() error {
	if !c.signed {
		return nil
	}
	var sum [sha256.Size]byte
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prevSig + "\n" + emptySHA256Hex + "\n" +
		hex.EncodeToString(c.chunkH.Sum(sum[:0]))
	return c.checkSignature(sts, c.sig)
}

func (c *chunkReader) checkSignature(stringToSign, sent string) error {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(stringToSign))
	want := hex.EncodeToString(m.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sent)) != 1 {
		return errSignatureMismatch()
	}
	c.prevSig = want
	return nil
}

// readTrailers reads what follows the last chunk: nothing but CRLF, or (trailer modes) the announced trailing
// headers, the trailer signature in the signed mode, and a blank line.
func (c *chunkReader) readTrailers() error {
	c.trailer = http.Header{}
	var signed strings.Builder
	sig := ""
	for n := 0; ; n++ {
		line, err := c.line()
		if err != nil {
			if err == io.EOF || isIncomplete(err) {
				// Some clients end the body right after the trailers, without the blank line.
				if n > 0 || !c.trailers {
					break
				}
			}
			return err
		}
		if line == "" {
			break
		}
		if !c.trailers || n >= maxTrailers {
			return errIncompleteBody("Unexpected data after the last chunk")
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" {
			return errIncompleteBody("Malformed trailing header")
		}
		if name == trailerSignature {
			sig = strings.ToLower(value)
			continue
		}
		if !c.declared[name] {
			return errIncompleteBody("The trailing header " + echo(name) + " was not announced in x-amz-trailer")
		}
		c.trailer.Set(textproto.CanonicalMIMEHeaderKey(name), value)
		signed.WriteString(name + ":" + value + "\n")
	}
	if c.trailers {
		for name := range c.declared {
			if c.trailer.Get(name) == "" {
				return errIncompleteBody("The trailing header " + echo(name) + " announced in x-amz-trailer did not come")
			}
		}
	}
	if c.signed && c.trailers {
		if sig == "" {
			return errSignatureMismatch()
		}
		sum := sha256.Sum256([]byte(signed.String()))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prevSig + "\n" + hex.EncodeToString(sum[:])
		if err := c.checkSignature(sts, sig); err != nil {
			return err
		}
	}
	return nil
}

func isIncomplete(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == KindIncompleteBody
}

// line reads one CRLF-terminated line of at most maxChunkLine bytes, without its CRLF.
func (c *chunkReader) line() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(b) > maxChunkLine:
		return "", errIncompleteBody("A chunk header or trailer line is too long")
	case err == io.EOF && len(b) == 0:
		return "", io.EOF
	case err != nil:
		return "", errIncompleteBody("The request body terminated unexpectedly")
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	return string(b), nil
}
