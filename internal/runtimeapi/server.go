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
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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

// Server is one environment's Runtime API endpoint.
type Server struct {
	ln  net.Listener
	srv *http.Server

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
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
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

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Close.
func (s *Server) Serve() { _ = s.srv.Serve(s.ln) }

// Close stops the server; a parked /next returns 500 so a runtime still alive exits.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
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

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "InvalidURL", "Unknown path "+r.URL.Path)
		return
	}
	switch {
	case rest == "invocation/next" && r.Method == http.MethodGet:
		s.next(w, r)
	case rest == "init/error" && r.Method == http.MethodPost:
		s.initError(w, r)
	case strings.HasPrefix(rest, "invocation/") && r.Method == http.MethodPost:
		id, kind, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		switch {
		case ok && kind == "response" && (r.Header.Get(ResponseModeHeader) != "" || r.ContentLength < 0):
			s.stream(w, r, id)
		case ok && kind == "response":
			s.answer(w, r, id, false)
		case ok && kind == "error":
			s.answer(w, r, id, true)
		default:
			writeError(w, http.StatusNotFound, "InvalidURL", "Unknown path "+r.URL.Path)
		}
	default:
		writeError(w, http.StatusNotFound, "InvalidURL", "Unknown path "+r.URL.Path)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.readyOnce.Do(func() { close(s.ready) })
	var inv *Invocation
	select {
	case inv = <-s.pending:
	case <-s.closed:
		writeError(w, http.StatusInternalServerError, "Runtime.Shutdown", "The execution environment is shutting down")
		return
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	s.current = inv
	s.mu.Unlock()
	h := w.Header()
	h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.RequestID}
	h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
	if inv.InvokedFunctionARN != "" {
		h["Lambda-Runtime-Invoked-Function-Arn"] = []string{inv.InvokedFunctionARN}
	}
	if inv.TraceID != "" {
		h["Lambda-Runtime-Trace-Id"] = []string{inv.TraceID}
	}
	if inv.ClientContext != "" {
		h["Lambda-Runtime-Client-Context"] = []string{inv.ClientContext}
	}
	if inv.CognitoIdentity != "" {
		h["Lambda-Runtime-Cognito-Identity"] = []string{inv.CognitoIdentity}
	}
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(inv.Payload))}
	w.WriteHeader(http.StatusOK)
	w.Write(inv.Payload)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, id string, isError bool) {
	body, tooLarge, err := readLimited(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Could not read the request body")
		return
	}
	inv := s.claim(w, id)
	if inv == nil {
		return
	}

	var resp Response
	switch {
	case tooLarge:
		resp = Response{FunctionError: true, ErrorType: "Function.ResponseSizeTooLarge",
			Payload: errorDocument("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size (6291556 bytes).")}
	case isError:
		resp = functionError(r.Header.Get("Lambda-Runtime-Function-Error-Type"), body)
	default:
		resp = Response{Payload: body, ContentType: contentType(r)}
	}
	inv.done <- resp
	if tooLarge {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes).")
		return
	}
	accepted(w)
}

// claim takes the invocation a runtime answers for, so that it is answered once; when id is not the invocation in
// flight it writes the refusal and returns nil.
func (s *Server) claim(w http.ResponseWriter, id string) *Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.current
	if inv == nil || inv.RequestID != id {
		if s.finished == id {
			writeError(w, http.StatusForbidden, "InvalidStateTransition", "Transition from Finished to Responded is not allowed")
		} else {
			writeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
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
func (s *Server) stream(w http.ResponseWriter, r *http.Request, id string) {
	inv := s.claim(w, id)
	if inv == nil {
		return
	}
	if mode := r.Header.Get(ResponseModeHeader); mode != "" && mode != "streaming" {
		inv.done <- Response{FunctionError: true, ErrorType: "Runtime.InvalidResponseModeHeader",
			Payload: errorDocument("Runtime.InvalidResponseModeHeader", "Invalid function response mode")}
		writeError(w, http.StatusBadRequest, "InvalidFunctionResponseMode", "Invalid function response mode")
		return
	}
	resp := Response{ContentType: contentType(r), Streamed: inv.Stream != nil}
	limit := int64(MaxResponseBytes)
	var readErr error
	tooLarge := false
	if inv.Stream == nil {
		resp.Payload, tooLarge, readErr = readLimited(r.Body)
	} else {
		limit = s.maxStreamed
		inv.Stream.Begin(resp.ContentType)
		resp.Written, tooLarge, readErr = copyLimited(inv.Stream, r.Body, limit)
	}
	switch {
	case tooLarge:
		resp.FunctionError, resp.ErrorType = true, "Function.ResponseSizeTooLarge"
		resp.Payload = errorDocument("Function.ResponseSizeTooLarge", fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit))
	case readErr != nil:
		resp.FunctionError, resp.ErrorType, resp.Truncated = true, "Runtime.TruncatedResponse", true
		resp.Payload = errorDocument("Runtime.TruncatedResponse", "The function's response was truncated: "+readErr.Error())
	case r.Trailer.Get(ErrorTypeTrailer) != "":
		errorType := r.Trailer.Get(ErrorTypeTrailer)
		details, err := base64.StdEncoding.DecodeString(r.Trailer.Get(ErrorBodyTrailer))
		if err != nil {
			details = nil // AWS ignores an error body it cannot decode
		}
		resp.FunctionError, resp.ErrorType, resp.Payload = true, errorType, functionError(errorType, details).Payload
	}
	inv.done <- resp
	switch {
	case tooLarge:
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", limit))
	case readErr != nil:
		writeError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
	default:
		accepted(w)
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
func contentType(r *http.Request) string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _, _ := readLimited(r.Body)
	resp := functionError(r.Header.Get("Lambda-Runtime-Function-Error-Type"), body)
	first := false
	s.initOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.initErr = InitError{ErrorType: resp.ErrorType, Payload: resp.Payload}
		s.mu.Unlock()
		close(s.initFail)
	})
	if !first {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "Transition from InitError to InitError is not allowed")
		return
	}
	accepted(w)
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

func readLimited(r io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxResponseBytes {
		return nil, true, nil
	}
	return body, false, nil
}

// jsonContentType is the Content-Type header value of the server's answers, shared: net/http copies a handler's
// header when it writes it, and nothing appends to this one.
var jsonContentType = []string{"application/json"}

// accepted answers 202 {"status":"OK"}, as the Runtime API acknowledges a response or an error.
func accepted(w http.ResponseWriter) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func writeError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorDocument(errorType, message))
}
