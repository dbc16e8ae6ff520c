package functionurl

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sluice-dev/sluice/internal/invoke"
)

// httpIntegration is the content type of a streamed response that starts with an HTTP prelude (Node's
// awslambda.HttpResponseStream.from): a JSON object {statusCode, headers, cookies}, 8 NUL bytes, then the body.
const httpIntegration = "application/vnd.awslambda.http-integration-response"

// preludeDelimiter ends the prelude.
var preludeDelimiter = make([]byte, 8)

// streamWriter turns a streamed invocation into the HTTP response of a RESPONSE_STREAM URL as the function writes
// it: the status and headers once known (from the prelude, or 200 with the function's content type), then each
// piece of the body flushed to the client at once. A JSON response (a function that does not stream, answering
// with a payload-2.0 object) is kept and mapped whole at the end, as a BUFFERED URL would.
type streamWriter struct {
	w       http.ResponseWriter
	started bool   // the status line went out
	mode    string // "prelude" (reading it), "stream", "json"
	pending []byte // the prelude read so far, or the whole JSON answer
	failed  bool   // the prelude was not valid: the rest is dropped and the request ends in a 502
}

func (s *streamWriter) StartResponse(st invoke.StreamStart) {
	switch st.ContentType {
	case httpIntegration:
		s.mode = "prelude"
	case "application/json":
		s.mode = "json"
	default:
		s.mode = "stream"
		s.w.Header().Set("Content-Type", st.ContentType)
		s.w.Header().Set(VersionHeader, st.ExecutedVersion)
		s.begin(http.StatusOK)
	}
	s.w.Header().Set(VersionHeader, st.ExecutedVersion)
}

func (s *streamWriter) begin(status int) {
	s.started = true
	s.w.WriteHeader(status)
}

func (s *streamWriter) Write(p []byte) (int, error) {
	switch s.mode {
	case "json":
		s.pending = append(s.pending, p...)
		return len(p), nil
	case "prelude":
		if s.failed {
			return len(p), nil
		}
		s.pending = append(s.pending, p...)
		i := bytes.Index(s.pending, preludeDelimiter)
		if i < 0 {
			if len(s.pending) > MaxPayload {
				s.failed = true
			}
			return len(p), nil
		}
		var prelude struct {
			StatusCode *int              `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Cookies    []string          `json:"cookies"`
		}
		if err := json.Unmarshal(s.pending[:i], &prelude); err != nil {
			s.failed = true
			return len(p), nil
		}
		status := http.StatusOK
		if prelude.StatusCode != nil && *prelude.StatusCode >= 100 && *prelude.StatusCode <= 599 {
			status = *prelude.StatusCode
		}
		for k, v := range prelude.Headers {
			s.w.Header().Set(k, v)
		}
		for _, c := range prelude.Cookies {
			s.w.Header().Add("Set-Cookie", c)
		}
		body := s.pending[i+len(preludeDelimiter):]
		s.pending, s.mode = nil, "stream"
		s.begin(status)
		if len(body) > 0 {
			if _, err := s.w.Write(body); err != nil {
				return 0, err
			}
		}
		s.flush()
		return len(p), nil
	}
	n, err := s.w.Write(p)
	s.flush()
	return n, err
}

func (s *streamWriter) flush() { _ = http.NewResponseController(s.w).Flush() }

// finish ends the response once the invocation is over: what was kept is answered now; a response whose status line
// already went out ends as it is (a function error after the first bytes cannot change the status any more).
func (s *streamWriter) finish(res invoke.Result) {
	if s.started {
		return
	}
	switch {
	case res.FunctionError != "" || s.failed || s.mode == "prelude":
		writeMessage(s.w, http.StatusBadGateway, "", internalError)
	case s.mode == "json":
		resp, ok := mapResponse(s.pending)
		if !ok || len(resp.body) > MaxPayload {
			writeMessage(s.w, http.StatusBadGateway, "", internalError)
			return
		}
		for k, vs := range resp.headers {
			s.w.Header()[k] = vs
		}
		for _, c := range resp.cookies {
			s.w.Header().Add("Set-Cookie", c)
		}
		s.w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
		s.w.WriteHeader(resp.status)
		_, _ = s.w.Write(resp.body)
	default: // a response without a byte
		s.w.WriteHeader(http.StatusOK)
	}
}
