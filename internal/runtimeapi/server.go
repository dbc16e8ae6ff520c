// Package runtimeapi serves the Lambda Runtime API (2018-06-01) to one execution environment: the function process
// long-polls /runtime/invocation/next for an event and posts its result to /response or /error, or reports a fatal
// initialisation failure to /runtime/init/error. A runtime may stream its result: a /response POST with
// "Lambda-Runtime-Function-Response-Mode: streaming" and a chunked body (or any chunked body), whose bytes are
// handed on as they arrive and whose failure, if any, comes in the HTTP trailers Lambda-Runtime-Function-Error-Type
// and Lambda-Runtime-Function-Error-Body (base64). One Server per environment, on its own loopback port, because the
// API's paths carry no environment identity. Function processes share the host's loopback, so every server takes an
// admission check that decides, before anything is read, whether a connection comes from its own environment. The
// server knows nothing of pools or aliases: it hands over one invocation at a time and returns what the runtime
// answered.
package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// MaxResponseBytes is the largest response or error payload a runtime may post (AWS's figure, in its message).
// It bounds a streamed response too when the invocation is not streamed to its caller (a plain Invoke).
const MaxResponseBytes = 6291556

// MaxStreamedResponseBytes bounds a response streamed to its caller (InvokeWithResponseStream, a function URL in
// RESPONSE_STREAM mode): AWS's 200 MB. Lambda caps the bandwidth beyond the first 6 MB at 2 MB/s; Sluice does not.
const MaxStreamedResponseBytes = 200 << 20

// Header and trailer names of a streamed response.
const (
	ResponseModeHeader = "Lambda-Runtime-Function-Response-Mode"
	ErrorTypeTrailer   = "Lambda-Runtime-Function-Error-Type"
	ErrorBodyTrailer   = "Lambda-Runtime-Function-Error-Body"
)

// Invocation is one event handed to the runtime.
type Invocation struct {
	RequestID          string
	Payload            []byte
	Deadline           time.Time
	InvokedFunctionARN string
	TraceID            string
	ClientContext      string // decoded JSON text, for sync invokes that sent X-Amz-Client-Context
	CognitoIdentity    string
	// Stream, when set, takes a response whose body comes in pieces (streamed, or chunked) as the runtime sends
	// it, within MaxStreamedResponseBytes; without it, such a response is collected into Response.Payload like
	// any other, within MaxResponseBytes. A response posted with its Content-Length never goes to Stream.
	Stream Stream

	done chan Response
}

// Stream takes a streamed response as it arrives. Its methods are called from the Runtime API server's goroutine
// for the runtime's request, never concurrently, and always before the invocation's Response is delivered.
type Stream interface {
	// Begin is called once, when the runtime starts its response, with the response's Content-Type.
	Begin(contentType string)
	// Write is called with each piece of the body as it is read. Its error is ignored: the runtime's body is read
	// to its end whatever becomes of the bytes, so that a caller who went away does not stall the function.
	Write(p []byte) (int, error)
}

// NewInvocation returns an invocation ready to Deliver.
func NewInvocation(requestID string, payload []byte, deadline time.Time) *Invocation {
	return &Invocation{RequestID: requestID, Payload: payload, Deadline: deadline, done: make(chan Response, 1)}
}

// Done delivers the runtime's answer, exactly once.
func (i *Invocation) Done() <-chan Response { return i.done }

// Response is what the runtime answered.
type Response struct {
	Payload []byte
	// FunctionError is set when the runtime posted to /error, failed a streamed response in its trailers (or the
	// platform failed the invocation); Payload then holds the error document the caller receives.
	FunctionError bool
	ErrorType     string
	// ContentType is the Content-Type the runtime's response declared ("application/octet-stream" when none).
	ContentType string
	// Streamed is set when the runtime streamed its response and the invocation had a Stream: the bytes went
	// there (Written of them), and Payload holds only an error document, if any.
	Streamed bool
	Written  int64
	// Truncated is set when a streamed response broke off without its end (the connection failed: most likely
	// the runtime died). The answer is a Runtime.TruncatedResponse error; whoever waits for the invocation should
	// rather wait for the process to be seen gone.
	Truncated bool
}

// InitError is what a runtime reported to /runtime/init/error.
type InitError struct {
	ErrorType string
	Payload   []byte
}

// Server is one environment's Runtime API endpoint. It answers with fasthttp rather than net/http: every warm
// invocation is two exchanges with it (GET /next, POST /response), and net/http's per-request work — every header
// parsed into a map, a context and a background read per request — was most of the server's CPU per invocation
// (docs/benchmarks.md).
type Server struct {
	ln    net.Listener
	srv   *fasthttp.Server
	conns connSet

	pending chan *Invocation // at most one invocation waiting for /next
	// maxStreamed is MaxStreamedResponseBytes (tests lower it).
	maxStreamed int64

	mu        sync.Mutex
	current   *Invocation // delivered through /next, awaiting its answer
	finished  string      // request ID of the last answered invocation (a second answer is a state error)
	readyOnce sync.Once
	ready     chan struct{}
	initOnce  sync.Once
	initFail  chan struct{}
	initErr   InitError
	closed    chan struct{}
	closeOnce sync.Once
}

// Admit decides whether an accepted connection may talk to the server. A connection it refuses (non-nil error) is
// closed before a byte of it is read, so no event is handed out and no answer accepted through it.
type Admit func(net.Conn) error

// Limits of one environment's server. A runtime keeps one or two connections; the connection limit bounds what
// function code can make the server hold (goroutines, descriptors, buffers), and beyond it a connection gets 503.
const (
	maxConns       = 64
	maxHeaderBytes = 16 << 10 // fasthttp's read buffer, which bounds a request's header block
	// bufferedBody is the largest request body read whole before the handler runs; a longer one is handed to it
	// as a stream (within MaxResponseBytes or the streamed limit).
	bufferedBody = 64 << 10
)

// Listen binds a Runtime API server on a fresh loopback port; call Serve to start answering. admit (nil: everyone)
// vets every connection.
func Listen(admit Admit) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if admit != nil {
		ln = admittingListener{ln, admit}
	}
	s := &Server{ln: ln, pending: make(chan *Invocation, 1), maxStreamed: MaxStreamedResponseBytes, ready: make(chan struct{}),
		initFail: make(chan struct{}), closed: make(chan struct{})}
	s.srv = &fasthttp.Server{
		Handler:                      s.handle,
		Concurrency:                  maxConns,
		ReadBufferSize:               maxHeaderBytes,
		MaxRequestBodySize:           bufferedBody,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		// No read timeout: a streamed response may last as long as the function's timeout, and a connection
		// parked on /next waits for as long as the environment is idle.
		ConnState: s.conns.track,
		Logger:    quiet{}, // what function code sends must not reach the server's log
	}
	return s, nil
}

// admittingListener hands the HTTP server only the connections admit lets through.
type admittingListener struct {
	net.Listener
	admit Admit
}

func (l admittingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) == nil {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset: the refused caller sees its connection fail at once, nothing to wait for
		}
		c.Close()
	}
}

// connSet holds the server's open connections, so that Close can end them (fasthttp's own Shutdown waits for them).
type connSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (cs *connSet) track(c net.Conn, state fasthttp.ConnState) {
	if state != fasthttp.StateNew && state != fasthttp.StateClosed && state != fasthttp.StateHijacked {
		return // fasthttp reports every request's active and idle states too: no lock for those
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch state {
	case fasthttp.StateNew:
		if cs.closed {
			c.Close()
			return
		}
		if cs.conns == nil {
			cs.conns = map[net.Conn]struct{}{}
		}
		cs.conns[c] = struct{}{}
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		delete(cs.conns, c)
	}
}

func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for c := range cs.conns {
		c.Close()
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Close.
func (s *Server) Serve() { _ = s.srv.Serve(s.ln) }

// Close stops the server; a parked /next returns 500 so a runtime still alive exits.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ln.Close()
		s.conns.closeAll()
	})
}

// Ready is closed when the runtime first asks for an event: its initialisation is complete.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitFailed is closed when the runtime reported an initialisation error; InitError then returns it.
func (s *Server) InitFailed() <-chan struct{} { return s.initFail }

// InitError returns the reported initialisation error (valid once InitFailed is closed).
func (s *Server) InitError() InitError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Deliver queues inv for the runtime's next /next. The environment runs one invocation at a time, so a second
// Deliver before the first is answered is a programming error and panics.
func (s *Server) Deliver(inv *Invocation) {
	select {
	case s.pending <- inv:
	default:
		panic("runtimeapi: Deliver while an invocation is pending")
	}
}

// Abandon forgets the in-flight or pending invocation (after a timeout); a late answer then gets 400.
func (s *Server) Abandon() {
	select {
	case <-s.pending:
	default:
	}
	s.mu.Lock()
	if s.current != nil {
		s.finished = s.current.RequestID
		s.current = nil
	}
	s.mu.Unlock()
}

const prefix = "/2018-06-01/runtime/"

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	rest, ok := bytes.CutPrefix(path, []byte(prefix))
	if !ok {
		writeError(ctx, fasthttp.StatusNotFound, "InvalidURL", "Unknown path "+string(path))
		return
	}
	switch {
	case string(rest) == "invocation/next" && ctx.IsGet():
		s.next(ctx)
	case string(rest) == "init/error" && ctx.IsPost():
		s.initError(ctx)
	case bytes.HasPrefix(rest, []byte("invocation/")) && ctx.IsPost():
		id, kind, ok := bytes.Cut(rest[len("invocation/"):], []byte("/"))
		switch {
		case ok && string(kind) == "response" && (len(ctx.Request.Header.Peek(ResponseModeHeader)) > 0 || ctx.Request.Header.ContentLength() < 0):
			s.stream(ctx, string(id))
		case ok && string(kind) == "response":
			s.answer(ctx, string(id), false)
		case ok && string(kind) == "error":
			s.answer(ctx, string(id), true)
		default:
			writeError(ctx, fasthttp.StatusNotFound, "InvalidURL", "Unknown path "+string(path))
		}
	default:
		writeError(ctx, fasthttp.StatusNotFound, "InvalidURL", "Unknown path "+string(path))
	}
}

func (s *Server) next(ctx *fasthttp.RequestCtx) {
	s.readyOnce.Do(func() { close(s.ready) })
	var inv *Invocation
	select {
	case inv = <-s.pending:
	case <-s.closed:
		writeError(ctx, fasthttp.StatusInternalServerError, "Runtime.Shutdown", "The execution environment is shutting down")
		return
	}
	// Nothing reads a connection while its request waits here, so whether the runtime is still there is asked
	// only now: an event handed to a connection its runtime closed would be lost. The event goes back for the
	// runtime's next /next (or another one parked here).
	if peerGone(ctx.Conn()) {
		s.pending <- inv // the slot is free: this handler just emptied it, and Deliver waits for an answer
		ctx.SetConnectionClose()
		return
	}
	s.mu.Lock()
	s.current = inv
	s.mu.Unlock()
	h := &ctx.Response.Header // Set copies into the header's own buffers: no allocation per event
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	var deadline [20]byte
	h.SetBytesV("Lambda-Runtime-Deadline-Ms", strconv.AppendInt(deadline[:0], inv.Deadline.UnixMilli(), 10))
	if inv.InvokedFunctionARN != "" {
		h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.InvokedFunctionARN)
	}
	if inv.TraceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.TraceID)
	}
	if inv.ClientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.ClientContext)
	}
	if inv.CognitoIdentity != "" {
		h.Set("Lambda-Runtime-Cognito-Identity", inv.CognitoIdentity)
	}
	h.SetContentTypeBytes(jsonContentType)
	ctx.Response.SetBodyRaw(inv.Payload) // not copied: nothing changes an invocation's payload
}

// peerGone reports whether the other end of c has closed it, without reading anything it sent: one
// non-blocking MSG_PEEK.
func peerGone(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var b [1]byte
	raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = n == 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
		return true // never wait for readiness: this is a look, not a read
	})
	return gone
}

func (s *Server) answer(ctx *fasthttp.RequestCtx, id string, isError bool) {
	body, tooLarge, err := readLimited(ctx.RequestBodyStream(), ctx.Request.Header.ContentLength())
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "InvalidRequest", "Could not read the request body")
		return
	}
	inv := s.claim(ctx, id)
	if inv == nil {
		return
	}

	var resp Response
	switch {
	case tooLarge:
		resp = Response{FunctionError: true, ErrorType: "Function.ResponseSizeTooLarge",
			Payload: errorDocument("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size (6291556 bytes).")}
	case isError:
		resp = functionError(string(ctx.Request.Header.Peek("Lambda-Runtime-Function-Error-Type")), body)
	default:
		resp = Response{Payload: body, ContentType: contentType(ctx)}
	}
	inv.done <- resp
	if tooLarge {
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes).")
		ctx.SetConnectionClose() // its body was not read
		return
	}
	accepted(ctx)
}

// claim takes the invocation a runtime answers for, so that it is answered once; when id is not the invocation in
// flight it writes the refusal and returns nil.
func (s *Server) claim(ctx *fasthttp.RequestCtx, id string) *Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.current
	if inv == nil || inv.RequestID != id {
		if s.finished == id {
			writeError(ctx, fasthttp.StatusForbidden, "InvalidStateTransition", "Transition from Finished to Responded is not allowed")
		} else {
			writeError(ctx, fasthttp.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		}
		return nil
	}
	s.current, s.finished = nil, id
	return inv
}

// stream takes a response whose body comes in pieces: one the runtime says it streams
// ("Lambda-Runtime-Function-Response-Mode: streaming", a chunked body), or any chunked body (aws-lambda-go sends
// every response so, and streams a function URL's response that way without the header). With an invocation
// Stream, each piece goes there as it is read; without, the body is collected, as a whole response is. Either way
// the trailers may fail the response (Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body in
// base64). AWS's answers to the runtime: 202 once the body ended, 413 when it grew beyond the limit (the invocation
// fails with Function.ResponseSizeTooLarge), 400 when it broke off (Runtime.TruncatedResponse) or when the mode is
// not "streaming" (Runtime.InvalidResponseModeHeader).
func (s *Server) stream(ctx *fasthttp.RequestCtx, id string) {
	inv := s.claim(ctx, id)
	if inv == nil {
		return
	}
	header := &ctx.Request.Header
	if mode := header.Peek(ResponseModeHeader); len(mode) > 0 && string(mode) != "streaming" {
		inv.done <- Response{FunctionError: true, ErrorType: "Runtime.InvalidResponseModeHeader",
			Payload: errorDocument("Runtime.InvalidResponseModeHeader", "Invalid function response mode")}
		writeError(ctx, fasthttp.StatusBadRequest, "InvalidFunctionResponseMode", "Invalid function response mode")
		return
	}
	resp := Response{ContentType: contentType(ctx), Streamed: inv.Stream != nil}
	limit := int64(MaxResponseBytes)
	var readErr error
	tooLarge := false
	if inv.Stream == nil {
		resp.Payload, tooLarge, readErr = readLimited(ctx.RequestBodyStream(), -1)
	} else {
		limit = s.maxStreamed
		inv.Stream.Begin(resp.ContentType)
		resp.Written, tooLarge, readErr = copyLimited(inv.Stream, ctx.RequestBodyStream(), limit)
	}
	switch {
	case tooLarge:
		resp.FunctionError, resp.ErrorType = true, "Function.ResponseSizeTooLarge"
		resp.Payload = errorDocument("Function.ResponseSizeTooLarge", fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit))
	case readErr != nil:
		resp.FunctionError, resp.ErrorType, resp.Truncated = true, "Runtime.TruncatedResponse", true
		resp.Payload = errorDocument("Runtime.TruncatedResponse", "The function's response was truncated: "+readErr.Error())
	case len(header.PeekTrailer(ErrorTypeTrailer)) > 0:
		errorType := string(header.PeekTrailer(ErrorTypeTrailer))
		details, err := base64.StdEncoding.DecodeString(string(header.PeekTrailer(ErrorBodyTrailer)))
		if err != nil {
			details = nil // AWS ignores an error body it cannot decode
		}
		resp.FunctionError, resp.ErrorType, resp.Payload = true, errorType, functionError(errorType, details).Payload
	}
	inv.done <- resp
	switch {
	case tooLarge:
		writeError(ctx, fasthttp.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit))
		ctx.SetConnectionClose() // the rest of the body is not read
	case readErr != nil:
		writeError(ctx, fasthttp.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		ctx.SetConnectionClose()
	default:
		accepted(ctx)
	}
}

// copyLimited copies r to dst piece by piece, as each read returns, up to limit bytes; tooLarge reports that r had
// more (what fits was copied). dst's errors are ignored (see Stream).
func copyLimited(dst Stream, r io.Reader, limit int64) (written int64, tooLarge bool, err error) {
	buf := make([]byte, 32<<10)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			piece := buf[:n]
			if written+int64(n) > limit {
				piece, tooLarge = piece[:limit-written], true
			}
			if len(piece) > 0 {
				dst.Write(piece)
				written += int64(len(piece))
			}
			if tooLarge {
				return written, true, nil
			}
		}
		switch {
		case rerr == io.EOF:
			return written, false, nil
		case rerr != nil:
			return written, false, rerr
		}
	}
}

// contentType is the Content-Type of a runtime's response, "application/octet-stream" when it declared none.
func contentType(ctx *fasthttp.RequestCtx) string {
	if ct := ctx.Request.Header.ContentType(); len(ct) > 0 {
		return string(ct)
	}
	return "application/octet-stream"
}

func (s *Server) initError(ctx *fasthttp.RequestCtx) {
	body, _, _ := readLimited(ctx.RequestBodyStream(), ctx.Request.Header.ContentLength())
	resp := functionError(string(ctx.Request.Header.Peek("Lambda-Runtime-Function-Error-Type")), body)
	first := false
	s.initOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.initErr = InitError{ErrorType: resp.ErrorType, Payload: resp.Payload}
		s.mu.Unlock()
		close(s.initFail)
	})
	if !first {
		writeError(ctx, fasthttp.StatusForbidden, "InvalidStateTransition", "Transition from InitError to InitError is not allowed")
		return
	}
	accepted(ctx)
}

// functionError turns a posted error into the document the caller receives: the runtime's own JSON when it sent
// some, else one built from the error-type header.
func functionError(headerType string, body []byte) Response {
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && json.Unmarshal(trimmed, &doc) == nil {
		t := doc.ErrorType
		if t == "" {
			t = headerType
		}
		return Response{FunctionError: true, ErrorType: t, Payload: body}
	}
	if headerType == "" {
		headerType = "Runtime.Unknown"
	}
	msg := "Unknown application error occurred"
	if len(trimmed) > 0 {
		msg = string(trimmed)
	}
	return Response{FunctionError: true, ErrorType: headerType, Payload: errorDocument(headerType, msg)}
}

// errorDocument renders {"errorMessage":…,"errorType":…} as Lambda does.
func errorDocument(errorType, message string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{message, errorType})
	return b
}

// ErrorDocument is errorDocument for the platform's own failures (timeouts, crashes).
func ErrorDocument(errorType, message string) []byte { return errorDocument(errorType, message) }

// readLimited reads a posted payload, within MaxResponseBytes. size is the request's Content-Length (negative:
// unknown), so that a small payload of known size is read into one allocation of that size (a large one grows as
// its bytes arrive: a Content-Length alone reserves nothing).
func readLimited(r io.Reader, size int) (body []byte, tooLarge bool, err error) {
	if size > MaxResponseBytes {
		// Read what the limit allows before refusing, as net/http servers do, so that the runtime, still sending,
		// gets the 413 rather than a reset.
		_, err = io.Copy(io.Discard, io.LimitReader(r, MaxResponseBytes+1))
		return nil, err == nil, err
	}
	if size >= 0 && size <= bufferedBody {
		body = make([]byte, size)
		if _, err = io.ReadFull(r, body); err != nil {
			return nil, false, err
		}
		return body, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxResponseBytes {
		return nil, true, nil
	}
	return body, false, nil
}

var (
	jsonContentType = []byte("application/json")
	acceptedBody    = []byte(`{"status":"OK"}`)
)

// accepted answers 202 {"status":"OK"}, as the Runtime API acknowledges a response or an error.
func accepted(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.Response.Header.SetContentTypeBytes(jsonContentType)
	ctx.Response.SetBodyRaw(acceptedBody)
}

func writeError(ctx *fasthttp.RequestCtx, status int, errorType, message string) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(jsonContentType)
	ctx.Response.SetBodyRaw(errorDocument(errorType, message))
}
