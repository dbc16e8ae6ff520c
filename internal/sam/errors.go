package sam

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every *Error reporting a SAM feature that sluice deploy does not translate (yet):
// event sources, Serverless resource types other than Function, … Test with errors.Is.
var ErrUnsupported = errors.New("not supported by sluice deploy yet")

// Error is a problem with one resource (or section) of the template. Transform returns all of them joined with
// errors.Join, in logical ID order; errors.As finds the first.
type Error struct {
	// LogicalID names the resource, or the template section ("Transform", "Globals", "Resources").
	LogicalID string
	// Message says what is wrong, e.g. "property Events" for an unsupported property.
	Message string
	// Err is ErrUnsupported for a feature sluice deploy refuses, or nil for an invalid template.
	Err error
}

// Error returns "<LogicalID>: <Message>", followed by " is not supported by sluice deploy yet" for a refusal
// or ": <Err>" for another wrapped error.
func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.LogicalID + ": " + e.Message
	case errors.Is(e.Err, ErrUnsupported):
		return e.LogicalID + ": " + e.Message + " is " + e.Err.Error()
	default:
		return e.LogicalID + ": " + e.Message + ": " + e.Err.Error()
	}
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// invalid reports an invalid template.
func invalid(id, format string, args ...any) *Error {
	return &Error{LogicalID: id, Message: fmt.Sprintf(format, args...)}
}

// unsupported reports a feature sluice deploy refuses; what reads like "property Events".
func unsupported(id, format string, args ...any) *Error {
	return &Error{LogicalID: id, Message: fmt.Sprintf(format, args...), Err: ErrUnsupported}
}
