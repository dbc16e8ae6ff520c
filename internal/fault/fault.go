// Package fault owns Sluice's one domain error type. Domain and service code return *fault.Error values that say
// what went wrong in AWS's vocabulary (an exception name and its message); each wire protocol decides how to put
// that on the wire (status code, header, body shape). Any other error reaching an API edge is an internal fault.
package fault

import (
	"errors"
	"fmt"
)

// Error is a client-visible failure: Code is the AWS exception name (for example ResourceNotFoundException),
// Message the exact human text AWS would send.
type Error struct {
	Code    string
	Message string
	// Reason is set for throttling errors (TooManyRequestsException) to one of AWS's throttle reasons.
	Reason string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New returns a fault with a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// As returns the fault inside err, if any.
func As(err error) (*Error, bool) {
	var f *Error
	ok := errors.As(err, &f)
	return f, ok
}

// Is reports whether err is a fault with the given code.
func Is(err error, code string) bool {
	f, ok := As(err)
	return ok && f.Code == code
}

// AWS exception names used across services.
const (
	ResourceNotFound      = "ResourceNotFoundException"
	ResourceConflict      = "ResourceConflictException"
	InvalidParameterValue = "InvalidParameterValueException"
	PreconditionFailed    = "PreconditionFailedException"
	Validation            = "ValidationException"
	TooManyRequests       = "TooManyRequestsException"
	RequestTooLarge       = "RequestEntityTooLargeException"
	Service               = "ServiceException"
	InvalidRequestContent = "InvalidRequestContentException"
	CodeStorageExceeded   = "CodeStorageExceededException"
)

// NotFound, Conflict, InvalidParameter and the like are shorthands for the common Lambda faults.
func NotFound(format string, args ...any) *Error { return New(ResourceNotFound, format, args...) }
func Conflict(format string, args ...any) *Error { return New(ResourceConflict, format, args...) }
func InvalidParameter(format string, args ...any) *Error {
	return New(InvalidParameterValue, format, args...)
}
func Invalid(format string, args ...any) *Error { return New(Validation, format, args...) }
