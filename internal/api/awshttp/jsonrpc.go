package awshttp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

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

// Operation reads a JSON protocol request's operation from X-Amz-Target (prefix, e.g. "CodeDeploy_20141006.", then
// the name). ok is false for anything else, and shown is then what an "Unknown operation" error names: the target
// sent, or the method and path when there was none.
func Operation(r *http.Request, prefix string) (name, shown string, ok bool) {
	target := r.Header.Get("X-Amz-Target")
	name, ok = strings.CutPrefix(target, prefix)
	if target == "" {
		return name, r.Method + " " + r.URL.Path, false
	}
	return name, target, ok && r.Method == http.MethodPost
}
