package cli

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// errorLine is the one line `sluice` prints for a failed command. An AWS API error reads as "Code: message"
// instead of the SDK's chain ("operation error Lambda: GetFunction, https response error StatusCode: 404,
// RequestID: …, ResourceNotFoundException: …"), which names the HTTP exchange rather than what to fix; the context
// the CLI and the deploy engine wrapped around it ("Fn: create: …") stays. --debug prints the whole chain instead.
func errorLine(err error) string {
	msg := err.Error()
	var api smithy.APIError
	if !errors.As(err, &api) {
		return msg
	}
	short := api.ErrorCode() + ": " + api.ErrorMessage()
	// The outermost operation error's text holds the HTTP details and the API error's own text: replace all of it.
	var op *smithy.OperationError
	if errors.As(err, &op) && strings.Contains(msg, op.Error()) {
		return strings.Replace(msg, op.Error(), short, 1)
	}
	if strings.Contains(msg, api.Error()) {
		return strings.Replace(msg, api.Error(), short, 1)
	}
	return msg
}

// debugLine is the whole chain, for --debug: err's text, and the text of the first cause an error in the chain
// replaced with advice of its own (interrupted, data dir in use) rather than quoted.
func debugLine(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if cause := errors.Unwrap(e); cause != nil && !strings.Contains(e.Error(), cause.Error()) {
			return err.Error() + " (cause: " + cause.Error() + ")"
		}
	}
	return err.Error()
}
