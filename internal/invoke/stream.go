package invoke

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
)

// InvokeStream runs one invocation like Invoke, but hands the function's response to w as the function writes it
// (w.Write per piece, then w.Flush if w implements http.Flusher). It returns once the response is complete, with
// the same Result fields as Invoke (executed version, function error and its type, log tail) and the bytes written
// (Result.Streamed); Result.Payload then holds only an error document. A runtime that streams its response (the
// streaming mode header, or any chunked body) has each piece written as it arrives; for a function that does not
// stream (it posts its response whole, with a Content-Length) the whole response is written once at the end. A
// function error, or a timeout or crash, after bytes were written is reported in the Result, and the caller
// decides how to end its stream.
// Timeouts, crashes, concurrency admission, metrics and logs are Invoke's. A streamed response may be up to
// runtimeapi.MaxStreamedResponseBytes.
//
// w is written from another goroutine than the caller's, but never after InvokeStream returned, never
// concurrently. If w fails, the rest of the response is dropped and the function runs on, as on Lambda, where a
// caller who goes away does not stop the function. If w implements ResponseStarter, it is told the executed
// version and the response's Content-Type just before the first Write.
//
// req.Type is RequestResponse or DryRun (which writes nothing and answers 204, as Invoke does).
func (s *Service) InvokeStream(ctx context.Context, req Request, w io.Writer) (Result, error) {
	if req.Type == Event {
		return Result{}, errors.New("invoke: an Event invocation has no response to stream")
	}
	return s.invoke(ctx, req, w)
}

// StreamStart is what an InvokeStream writer learns before the response's first byte.
type StreamStart struct {
	ExecutedVersion string
	ContentType     string // the Content-Type the function's response declared ("application/octet-stream" when none)
}

// ResponseStarter is implemented by an InvokeStream writer that must know, before the first byte, what the
// Result will say of the response: InvokeWithResponseStream sends X-Amz-Executed-Version in its headers, a
// function URL parses the prelude of an "application/vnd.awslambda.http-integration-response".
type ResponseStarter interface {
	// StartResponse is called once, just before the first Write; a response without bytes never calls it.
	StartResponse(StreamStart)
}

// streamSink hands one invocation's response to an InvokeStream writer. It is the invocation's runtimeapi.Stream
// (the Runtime API server calls it as pieces arrive) and is also written by execute for a response posted in one
// piece. Once closed, it writes nothing more.
type streamSink struct {
	w       io.Writer
	version string

	mu          sync.Mutex
	contentType string
	started     bool // StartResponse was called
	closed      bool
	failed      bool // w failed: the rest is dropped
	written     int64
}

func newStreamSink(w io.Writer, version string) *streamSink {
	return &streamSink{w: w, version: version, contentType: "application/octet-stream"}
}

// Begin takes the response's Content-Type (runtimeapi.Stream).
func (k *streamSink) Begin(contentType string) {
	k.mu.Lock()
	k.contentType = contentType
	k.mu.Unlock()
}

// Write hands a piece of the response to w and flushes it (runtimeapi.Stream). It never fails: what cannot be
// written is dropped.
func (k *streamSink) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || k.failed || len(p) == 0 {
		return len(p), nil
	}
	if !k.started {
		k.started = true
		if rs, ok := k.w.(ResponseStarter); ok {
			rs.StartResponse(StreamStart{ExecutedVersion: k.version, ContentType: k.contentType})
		}
	}
	n, err := k.w.Write(p)
	k.written += int64(n)
	if err != nil {
		k.failed = true
		return len(p), nil
	}
	if f, ok := k.w.(http.Flusher); ok {
		f.Flush()
	}
	return len(p), nil
}

// close ends the sink's use of w, after a Write in progress, and returns the Content-Type and the bytes written.
func (k *streamSink) close() (contentType string, written int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	return k.contentType, k.written
}
