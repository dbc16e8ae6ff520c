package modelcheck

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
)

// FromREST gathers a REST-JSON request's input members — path labels, query parameters, headers and the JSON
// body's members — into the document Check validates. body is called only when the shape has members in the body
// (never for Invoke's payload), and its reader is scanned, not buffered: blob members (a function's zip) are
// skipped over, not held. ok is false when the body is not a JSON object: the operation's decoder reports that.
func FromREST(input *Shape, r *http.Request, body func() io.Reader) (doc map[string]any, ok bool) {
	doc = map[string]any{}
	var fields map[string]any
	if HasBodyMembers(input) {
		br := bufio.NewReader(body())
		if _, err := br.Peek(1); err == nil { // an empty body has no members
			var err error
			if fields, err = decodeBody(input, br); err != nil {
				return nil, false
			}
		}
	}
	q := r.URL.Query()
	for _, m := range input.Members {
		switch m.Location {
		case "uri":
			if v := r.PathValue(m.LocationName); v != "" {
				doc[m.Name] = v
			}
		case "querystring":
			vs, ok := q[m.LocationName]
			if !ok {
				continue
			}
			if m.Shape.Kind == List {
				items := make([]any, len(vs))
				for i, v := range vs {
					items[i] = v
				}
				doc[m.Name] = items
				continue
			}
			doc[m.Name] = scalarFromText(m.Shape, vs[0])
		case "header":
			if v := r.Header.Get(m.LocationName); v != "" {
				doc[m.Name] = scalarFromText(m.Shape, v)
			}
		case "":
			if v, ok := fields[m.Name]; ok {
				doc[m.Name] = v
			}
		}
	}
	return doc, true
}

// scalarFromText types a parameter that travels as text: numbers as json.Number (text that is not a number
// stays a string, which the numeric checks skip and the operation refuses its way).
func scalarFromText(s *Shape, v string) any {
	switch s.Kind {
	case Integer, Long, Float, Double:
		if _, err := json.Number(v).Float64(); err == nil {
			return json.Number(v)
		}
	}
	return v
}

// HasBodyMembers reports whether a REST input shape has members in a JSON body.
func HasBodyMembers(s *Shape) bool {
	for _, m := range s.Members {
		if m.Location == "" {
			return true
		}
	}
	return false
}
