package oidc

import (
	"fmt"
	"net/http"
)

// STS error codes that this package returns in [Error.Code].
const (
	CodeInvalidIdentityToken  = "InvalidIdentityToken"
	CodeExpiredToken          = "ExpiredTokenException"
	CodeIDPCommunicationError = "IDPCommunicationError"
)

// Error is a verification failure as STS reports it: the error code, HTTP
// status and message to put on the wire.
//
// For IDPCommunicationError the underlying network or decoding error is
// available through errors.Unwrap for the caller's own logs.
type Error struct {
	Code    string
	Status  int
	Message string

	cause error
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the cause of an IDPCommunicationError, or nil.
func (e *Error) Unwrap() error { return e.cause }

func errInvalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidIdentityToken, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func errExpired(msg string) *Error {
	return &Error{Code: CodeExpiredToken, Status: http.StatusBadRequest, Message: msg}
}

// errIDP reports that the IdP could not be reached or answered nonsense. The
// message names the issuer (an admin-registered URL, not token content) so
// operators can tell which provider is failing.
func errIDP(issuer string, cause error) *Error {
	return &Error{
		Code:    CodeIDPCommunicationError,
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf("Couldn't retrieve verification key from your identity provider %s: %v", issuer, cause),
		cause:   cause,
	}
}

// quote formats an attacker-controlled value for a message, cut short so a
// crafted header cannot inflate responses or logs.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
