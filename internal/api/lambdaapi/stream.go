package lambdaapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/invoke"
)

// invokeWithResponseStream is InvokeWithResponseStream: the invocation's response reaches the caller as the
// function writes it, as an event stream (application/vnd.amazon.eventstream) of PayloadChunk events, one per piece
// and flushed at once, ended by an InvokeComplete event that carries the function's error, if any, and the log
// tail. The status line and headers (200, X-Amz-Executed-Version) go out with the first piece, or with
// InvokeComplete; a request refused before the function runs (not found, throttled, ...) gets Invoke's error
// answers. DryRun answers 204 without a body.
func (h *Handler) invokeWithResponseStream(w http.ResponseWriter, r *http.Request) error {
	if h.invoker == nil {
		return fault.New("UnknownOperationException", "InvokeWithResponseStream is not available on this server")
	}
	req, err := h.decodeInvoke(r, true)
	if err != nil {
		return err
	}
	es := &eventStream{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
	res, err := h.invoker.InvokeStream(r.Context(), req, es)
	switch {
	case err != nil && !es.started:
		return err
	case err != nil: // the stream is under way: only an event can say so (InvokeStream does not fail once it wrote)
		h.log.Error("streamed invocation failed", "err", err)
		es.complete(invokeComplete{ErrorCode: fault.Service, ErrorDetails: "The invocation failed: " + err.Error()})
		return nil
	case res.StatusCode != http.StatusOK:
		w.WriteHeader(res.StatusCode) // DryRun's 204
		return nil
	}
	es.start(res.ExecutedVersion)
	var done invokeComplete
	if res.FunctionError != "" {
		done.ErrorCode, done.ErrorDetails = res.ErrorType, errorDetails(res.Payload)
		if done.ErrorCode == "" {
			done.ErrorCode = res.FunctionError
		}
	}
	if req.LogTail {
		done.LogResult = base64.StdEncoding.EncodeToString(res.LogTail)
	}
	es.complete(done)
	return nil
}

// invokeComplete is the InvokeWithResponseStreamCompleteEvent shape.
type invokeComplete struct {
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorDetails string `json:"ErrorDetails,omitempty"`
	LogResult    string `json:"LogResult,omitempty"`
}

// errorDetails is what InvokeComplete says of a function error: the error document's message, or the document
// itself when it has none.
func errorDetails(doc []byte) string {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(doc, &e) == nil && e.ErrorMessage != nil {
		return *e.ErrorMessage
	}
	return string(doc)
}

// eventStream writes an InvokeWithResponseStream answer. It is InvokeStream's writer: each Write is one
// PayloadChunk event, each Flush reaches the client.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	enc     *eventstream.Encoder
	started bool // the status line and headers are out
}

// StartResponse sends the status line and headers before the first piece (invoke.ResponseStarter).
func (e *eventStream) StartResponse(s invoke.StreamStart) { e.start(s.ExecutedVersion) }

func (e *eventStream) start(executedVersion string) {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "application/vnd.amazon.eventstream")
	if executedVersion != "" {
		h.Set("X-Amz-Executed-Version", executedVersion)
	}
	e.w.WriteHeader(http.StatusOK)
}

// Write sends p as one PayloadChunk event.
func (e *eventStream) Write(p []byte) (int, error) {
	e.start("")
	if err := e.enc.Encode(e.w, event("PayloadChunk", "application/octet-stream", p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush pushes what was written to the client.
func (e *eventStream) Flush() { e.rc.Flush() }

// complete ends the stream with its InvokeComplete event.
func (e *eventStream) complete(c invokeComplete) {
	payload, _ := json.Marshal(c)
	if err := e.enc.Encode(e.w, event("InvokeComplete", "application/json", payload)); err == nil {
		e.rc.Flush()
	}
}

// event is one event-stream message of the InvokeWithResponseStreamResponseEvent union.
func event(eventType, contentType string, payload []byte) eventstream.Message {
	return eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(eventType)},
			{Name: ":content-type", Value: eventstream.StringValue(contentType)},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		},
		Payload: payload,
	}
}
