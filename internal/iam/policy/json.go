package policy

import (
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// Policy JSON is decoded token by token into generic values rather than
// through struct tags: encoding/json matches field names case-insensitively,
// lets a duplicate key silently win, and forgets member order, and each of
// those would make the evaluated policy differ from the one IAM (or a
// reviewer) reads.

// jsonObject is a decoded JSON object with its members in document order.
type jsonObject []jsonMember

type jsonMember struct {
	key   string
	value any // jsonObject, []any, string, json.Number, bool or nil
}

// maxDepth bounds nesting; real policies nest six levels at most.
const maxDepth = 32

// decodeJSON decodes a single JSON value that must span the whole input.
func decodeJSON(doc string) (any, error) {
	if !utf8.ValidString(doc) {
		return nil, syntaxError()
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, syntaxError() // trailing data
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, syntaxError()
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError()
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := jsonObject{}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, syntaxError()
				}
				key, ok := kt.(string)
				if !ok || seen[key] {
					return nil, syntaxError()
				}
				seen[key] = true
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, jsonMember{key: key, value: v})
			}
			if end, err := dec.Token(); err != nil || end != json.Delim('}') {
				return nil, syntaxError()
			}
			return obj, nil
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if end, err := dec.Token(); err != nil || end != json.Delim(']') {
				return nil, syntaxError()
			}
			return list, nil
		}
		return nil, syntaxError()
	case string, json.Number, bool, nil:
		return t, nil
	}
	return nil, syntaxError()
}

// stringList accepts a string or a list of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// scalarText returns the text of a condition value: strings as they are,
// numbers as written, booleans as "true"/"false".
func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
