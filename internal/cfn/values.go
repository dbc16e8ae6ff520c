package cfn

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
)

// A document holds map[string]any, []any, string, int, float64, bool and nil, as Parse produces them.

// scalarString is how CloudFormation turns a scalar into text where a string is expected (Fn::Join, Fn::Sub,
// Fn::Equals, parameter defaults, outputs).
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// copyValue deep-copies a document.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyValue(x)
		}
		return out
	}
	return v
}

// normalize deep-copies v into a document, converting the Go types a transform or a Refs implementation may
// hand over.
func normalize(v any, path string) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int, float64:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			x, err := normalize(v[k], child(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			n, err := normalize(x, index(path, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i), nil
		}
		if f, err := v.Float64(); err == nil {
			return f, nil
		}
		return nil, errAt(path, "invalid number %s", v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt {
			return int(u), nil
		}
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return normalize(rv.Elem().Interface(), path)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if rv.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return normalize(m, path)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		list := make([]any, rv.Len())
		for i := range list {
			list[i] = rv.Index(i).Interface()
		}
		return normalize(list, path)
	}
	return nil, errAt(path, "unsupported value of type %T", v)
}

// The pseudo parameters CloudFormation defines.
const (
	pseudoAccountID        = "AWS::AccountId"
	pseudoNotificationARNs = "AWS::NotificationARNs"
	pseudoNoValue          = "AWS::NoValue"
	pseudoPartition        = "AWS::Partition"
	pseudoRegion           = "AWS::Region"
	pseudoStackID          = "AWS::StackId"
	pseudoStackName        = "AWS::StackName"
	pseudoURLSuffix        = "AWS::URLSuffix"
)

func isPseudo(name string) bool {
	switch name {
	case pseudoAccountID, pseudoNotificationARNs, pseudoNoValue, pseudoPartition, pseudoRegion, pseudoStackID,
		pseudoStackName, pseudoURLSuffix:
		return true
	}
	return false
}
