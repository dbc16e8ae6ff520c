package stackdeploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// decodeInto fills an AWS SDK input struct from resolved CloudFormation properties. CloudFormation's property
// names are the APIs' member names, so the mapping is by name (case-insensitively, as CloudFormation's
// KmsKeyArn meets the SDK's KMSKeyArn); values are coerced the way CloudFormation coerces them (parameters and
// Fn::Sub give strings where the API wants numbers or booleans). A property the input has no member for is an
// error naming it: nothing is silently dropped.
func decodeInto(props map[string]any, dst any, skip ...string) error {
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	rest := map[string]any{}
	for k, v := range props {
		if !skipped[k] {
			rest[k] = v
		}
	}
	t := reflect.TypeOf(dst).Elem()
	coerced, err := coerce(rest, t, "")
	if err != nil {
		return err
	}
	b, err := json.Marshal(coerced)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// coerce converts v to the JSON shape of type t, reporting unknown members and impossible values.
func coerce(v any, t reflect.Type, path string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected an object, got %s", nonEmpty(path), describe(v))
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			f, ok := fieldByName(t, k)
			if !ok {
				return nil, fmt.Errorf("%s: unsupported property", join(path, k))
			}
			c, err := coerce(m[k], f.Type, join(path, k))
			if err != nil {
				return nil, err
			}
			out[f.Name] = c
		}
		return out, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: base64 in JSON
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: expected a string", nonEmpty(path))
			}
			return s, nil
		}
		list, ok := v.([]any)
		if !ok {
			if s, isString := v.(string); isString && t.Elem().Kind() == reflect.String {
				return []any{s}, nil
			}
			return nil, fmt.Errorf("%s: expected a list, got %s", nonEmpty(path), describe(v))
		}
		out := make([]any, len(list))
		for i, item := range list {
			c, err := coerce(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected an object, got %s", nonEmpty(path), describe(v))
		}
		out := map[string]any{}
		for k, item := range m {
			c, err := coerce(item, t.Elem(), join(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case reflect.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, int, int64, bool:
			return fmt.Sprint(x), nil
		}
		return nil, fmt.Errorf("%s: expected a string, got %s", nonEmpty(path), describe(v))
	case reflect.Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("%s: expected a boolean, got %s", nonEmpty(path), describe(v))
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		switch x := v.(type) {
		case float64, int, int64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%s: expected a number, got %s", nonEmpty(path), describe(v))
	}
	return v, nil
}

// fieldByName finds an exported field by name, case-insensitively (as encoding/json matches).
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && strings.EqualFold(f.Name, name) && f.Name != "NoSmithyDocumentSerde" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nonEmpty(path string) string {
	if path == "" {
		return "properties"
	}
	return path
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}
