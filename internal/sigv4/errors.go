package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AWS error codes that Verify returns in [Error.Code].
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeExpiredToken               = "ExpiredTokenException"
	CodeServiceException           = "ServiceException"
)

// Messages AWS puts on the wire for the fixed-text errors.
const (
	msgMissingToken      = "Missing Authentication Token"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgInternal     = "The service encountered an internal error while authenticating the request. Please try again."
	msgHostUnsigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
)

// Error is returned by Verify; it carries the AWS error code, HTTP status and
// message that the server puts on the wire.
//
// For CodeServiceException (a credential lookup failure) the underlying error
// is available through errors.Unwrap for the caller's own logs; it is never
// part of Message or Error().
type Error struct {
	Code    string
	Status  int
	Message string
	// Kind says what went wrong in terms every service can name in its own words (S3 calls a mismatch
	// SignatureDoesNotMatch where Lambda says InvalidSignatureException).
	Kind Kind

	cause error
}

// Kind classifies a verification failure.
type Kind int

// The kinds of failure.
const (
	KindOther           Kind = iota
	KindMissing              // the request carries no signature
	KindMalformed            // the signature's parts are missing or malformed
	KindMismatch             // the signature (or a chunk's, or the trailer's) is not the one the key makes
	KindUnknownKey           // the access key is not known
	KindBadToken             // the session token does not belong to the key
	KindExpiredToken         // the session has expired
	KindExpiredRequest       // a presigned URL past its X-Amz-Expires
	KindSkewed               // the request time is outside the clock-skew window
	KindContentMismatch      // the body's SHA-256 is not the X-Amz-Content-Sha256 the request declared
	KindIncompleteBody       // a streamed body ended early, was longer than declared, or its chunk encoding is broken
	KindInternal             // the credential lookup failed
)

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the internal cause of a ServiceException, or nil.
func (e *Error) Unwrap() error { return e.cause }

func newError(status int, code, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

func (e *Error) kind(k Kind) *Error { e.Kind = k; return e }

func errMissingToken() *Error {
	return newError(http.StatusForbidden, CodeMissingAuthenticationToken, msgMissingToken).kind(KindMissing)
}

func errIncomplete(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, CodeIncompleteSignature, fmt.Sprintf(format, args...)).kind(KindMalformed)
}

func errInvalidSignature(msg string) *Error {
	return newError(http.StatusForbidden, CodeInvalidSignature, msg).kind(KindMalformed)
}

func errSignatureMismatch() *Error {
	return errInvalidSignature(msgSignatureMismatch).kind(KindMismatch)
}

func errUnknownKey() *Error {
	return newError(http.StatusForbidden, CodeUnrecognizedClient, msgInvalidToken).kind(KindUnknownKey)
}

func errInvalidToken() *Error {
	return newError(http.StatusForbidden, CodeUnrecognizedClient, msgInvalidToken).kind(KindBadToken)
}

func errExpiredToken() *Error {
	return newError(http.StatusForbidden, CodeExpiredToken, msgExpiredToken).kind(KindExpiredToken)
}

func errInternal(cause error) *Error {
	e := newError(http.StatusInternalServerError, CodeServiceException, msgInternal).kind(KindInternal)
	e.cause = cause
	return e
}

// errExpired is AWS's "Signature expired" message: the request time is
// earlier than now minus the allowed window.
func errExpired(amzDate string, now time.Time, window time.Duration) *Error {
	return errInvalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
		amzDate, now.Add(-window).Format(amzDateFormat), now.Format(amzDateFormat), humanDuration(window)))
}

// errNotYetCurrent is AWS's message for a request time too far in the future.
func errNotYetCurrent(amzDate string, now time.Time, window time.Duration) *Error {
	return errInvalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
		amzDate, now.Add(window).Format(amzDateFormat), now.Format(amzDateFormat), humanDuration(window)))
}

// humanDuration renders a window the way AWS does ("5 min"), falling back to
// seconds when the window is not a whole number of minutes.
func humanDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", int64(d/time.Minute))
	}
	return fmt.Sprintf("%d sec", int64(d/time.Second))
}

// maxEcho bounds how much of a client-supplied value is echoed in a message.
const maxEcho = 128

// echo returns a client-supplied value shortened for inclusion in a message.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}

// joinSentences joins AWS-style sentences ("... parameter.") with spaces.
func joinSentences(s []string) string { return strings.Join(s, " ") }
