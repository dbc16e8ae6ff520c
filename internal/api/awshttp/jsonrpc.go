package awshttp

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/sluice-dev/sluice/internal/fault"
)

// JSONRPC writes the responses and errors of an AWS JSON protocol (awsJson1_0 / awsJson1_1): a JSON body with the
// protocol's content type, and errors as {"__type": code, "message": text} with x-amzn-ErrorType.
type JSONRPC struct {
	ContentType string // e.g. "application/x-amz-json-1.1"
	// InternalCode is the exception reported, without detail, for an error that is not a fault (HTTP 500).
	InternalCode string
	// Status gives the HTTP status of a fault code (nil: 400, and 500 for InternalCode).
	Status func(code string) int
	Log    *slog.Logger
}

// WriteJSON writes v with the given status.
func (p JSONRPC) WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"`+p.InternalCode+`","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.WriteHeader(status)
	w.Write(b)
}

// WriteError writes err; anything that is not a fault is logged and reported as InternalCode.
func (p JSONRPC) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	f, ok := fault.As(err)
	if !ok {
		p.Log.Error("internal error", "target", r.Header.Get("X-Amz-Target"), "request_id", RequestID(r.Context()), "err", err)
		f = fault.New(p.InternalCode, "An internal error occurred. Request ID: %s", RequestID(r.Context()))
	}
	status := http.StatusBadRequest
	switch {
	case p.Status != nil:
		status = p.Status(f.Code)
	case f.Code == p.InternalCode:
		status = http.StatusInternalServerError
	}
	p.WriteFault(w, status, f.Code, f.Message)
}

// WriteFault writes one error body (also what a gateway authentication failure looks like in this protocol).
func (p JSONRPC) WriteFault(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("x-amzn-ErrorType", code)
	p.WriteJSON(w, status, map[string]string{"__type": code, "message": message})
}
