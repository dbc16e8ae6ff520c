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

// Result is what Invoke answers.
type Result struct {
	StatusCode      int    // 200, 202 or 204
	Payload         []byte // the function's response or error document
	FunctionError   string // "Unhandled" when Payload is an error document
	ExecutedVersion string
	LogTail         []byte // the last 4 KB of the invocation's log (when asked for)

	started  time.Time     // when the function was handed the event
	duration time.Duration // how long it took to answer
}
