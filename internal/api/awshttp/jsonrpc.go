package awshttp

import (
	"encoding/json"
	"net/http"
	"strings"
)

// JSONRPC writes the responses and errors of an AWS JSON protocol (awsJson1_0 / awsJson1_1): a JSON body with the
// protocol's content type, and errors as {"__type": code, "message": text} with x-amzn-ErrorType. edge.JSON11
// speaks the JSON 1.1 services' protocol with it.
type JSONRPC struct {
	ContentType string // e.g. "application/x-amz-json-1.1"
	// InternalCode is the exception reported, without detail, for a response that does not encode (HTTP 500).
	InternalCode string
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
