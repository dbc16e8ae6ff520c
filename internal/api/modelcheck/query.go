package modelcheck

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// FromQuery gathers an AWS query-protocol request's parameters (Name, Name.member.N, Name.entry.N.key/value,
// Name.Sub) into the document Check validates, typed by the input shape: lists in their index order, numbers as
// JSON numbers, booleans as booleans ("Name=" alone is an empty list). Parameters the shape does not have are
// left out.
func FromQuery(input *Shape, params url.Values) map[string]any {
	root := map[string]any{}
	for k, vs := range params {
		if k == "Action" || k == "Version" || len(vs) == 0 {
			continue
		}
		node := root
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		last := parts[len(parts)-1]
		if _, nested := node[last].(map[string]any); !nested {
			node[last] = vs[len(vs)-1]
		}
	}
	doc, _ := queryValue(input, root).(map[string]any)
	if doc == nil {
		doc = map[string]any{}
	}
	return doc
}

func queryValue(s *Shape, v any) any {
	switch s.Kind {
	case Structure:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := map[string]any{}
		for _, member := range s.Members {
			if x, ok := m[member.Name]; ok {
				out[member.Name] = queryValue(member.Shape, x)
			}
		}
		return out
	case List:
		if text, ok := v.(string); ok && text == "" {
			return []any{}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		items, _ := m["member"].(map[string]any)
		out := []any{}
		for _, i := range indexes(items) {
			if s.Item == nil {
				out = append(out, items[i])
				continue
			}
			out = append(out, queryValue(s.Item, items[i]))
		}
		return out
	case Map:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		entries, _ := m["entry"].(map[string]any)
		out := map[string]any{}
		for _, i := range indexes(entries) {
			e, _ := entries[i].(map[string]any)
			k, value := entryOf(e)
			if s.Value != nil {
				out[k] = queryValue(s.Value, value)
			} else {
				out[k] = value
			}
		}
		return out
	case Boolean:
		if text, ok := v.(string); ok && (text == "true" || text == "false") {
			return text == "true"
		}
		return v
	}
	if text, ok := v.(string); ok {
		return scalarFromText(s, text)
	}
	return v
}

// indexes are a flattened list's item numbers in order (numbers that are not are left out).
func indexes(items map[string]any) []string {
	var out []string
	for k := range items {
		if n, err := strconv.Atoi(k); err == nil && n > 0 {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

// entryOf is a query map entry's key and value: key/value, or Name/Value where the model names them so (SNS's
// and SQS's MessageAttributes: MessageAttributes.entry.N.Name, MessageAttributes.entry.N.Value.DataType).
func entryOf(e map[string]any) (string, any) {
	if k, ok := e["key"].(string); ok {
		return k, e["value"]
	}
	k, _ := e["Name"].(string)
	return k, e["Value"]
}
