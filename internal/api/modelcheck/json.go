package modelcheck

import "bytes"

// FromJSON gathers an AWS JSON protocol request's input members — its body's — into the document Check validates,
// scanning the body as FromREST does. An empty body is an empty input; ok is false when the body is not a JSON
// object (the operation's decoder reports that).
func FromJSON(input *Shape, body []byte) (doc map[string]any, ok bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, true
	}
	doc, err := decodeBody(input, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	return doc, true
}
