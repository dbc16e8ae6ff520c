package invoke

import (
	"time"

	"github.com/sluice-dev/sluice/internal/lambda"
)

// Invocation types (X-Amz-Invocation-Type).
const (
	RequestResponse = "RequestResponse"
	Event           = "Event"
	DryRun          = "DryRun"
)

// Payload limits (reference §3.8): synchronous request and response, and asynchronous events.
const (
	MaxSyncPayload  = 6291456
	MaxAsyncPayload = 1048576
)

// Request is one Invoke call, decoded from the wire.
type Request struct {
	Ref           lambda.Ref
	Type          string
	Payload       []byte
	LogTail       bool   // X-Amz-Log-Type: Tail
	ClientContext string // decoded JSON text of X-Amz-Client-Context
	// StickyKey, for an alias with weights, pins the version: every invocation with the same key runs the same
	// version while the alias shifts between the same two versions (sticky canaries, a Sluice extension).
	StickyKey string
}

// Result is what Invoke (and InvokeStream) answers.
type Result struct {
	StatusCode int // 200, 202 or 204
	// Payload is the function's response or error document; for InvokeStream, only an error document (the
	// response went to the writer).
	Payload         []byte
	FunctionError   string // "Unhandled" when Payload is an error document
	ErrorType       string // with FunctionError: the error's type ("Error", "Runtime.ExitError", "Sandbox.Timedout", ...)
	ExecutedVersion string
	LogTail         []byte // the last 4 KB of the invocation's log (when asked for)
	// ContentType is the Content-Type the function's response declared ("application/octet-stream" when none).
	ContentType string
	// Streamed is how many bytes InvokeStream wrote to its writer (a function error can follow some).
	Streamed int64

	started  time.Time     // when the function was handed the event
	duration time.Duration // how long it took to answer
}
