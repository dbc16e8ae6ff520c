package modelcheck

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// FromREST gathers a REST-JSON request's input members — path labels, query parameters, headers and the JSON
// body's members — into the document Check validates. A body that is not a JSON object contributes nothing: the
// operation's decoder reports it.
func FromREST(input *Shape, r *http.Request, body []byte) map[string]any {
	doc := map[string]any{}
	var fields map[string]any
	if hasBodyMembers(input) && len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		_ = dec.Decode(&fields)
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
	return doc
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

func hasBodyMembers(s *Shape) bool {
	for _, m := range s.Members {
		if m.Location == "" {
			return true
		}
	}
	return false
}
