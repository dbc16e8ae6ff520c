package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// mode says how a protocol's value tree spells things.
type mode int

const (
	// native trees come from CBOR and JSON: lists are []any, maps and structures map[string]any, scalars typed
	// (JSON numbers as json.Number; CBOR timestamps as time.Time).
	native mode = iota
	// textual trees come from the query protocol: every scalar is a string, lists are {"member": {"1": …}} (or ""
	// for an empty list) and maps {"entry": {"1": {"key": …, "value": …}}}.
	textual
)

// BindError says which member of the input did not fit its shape. Path is spelled as the query protocol would
// name the member (MetricData.member.1.Value), which is how AWS's messages name members in every protocol.
type BindError struct {
	Path string
	Want string // "a double", "a list", …
	Got  any
}

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot deserialize %s: expected %s, got %s", e.Path, e.Want, describe(e.Got))
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case map[string]any:
		return "a structure"
	case []any:
		return "a list"
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case time.Time:
		return "a timestamp"
	}
	return fmt.Sprintf("%T %v", v, v)
}

// bind maps a value tree onto dst, a pointer to a struct. Members the struct does not have are ignored; absent
// and null members leave the field's zero value.
func bind(tree any, dst any, m mode) error {
	return m.bind(tree, reflect.ValueOf(dst).Elem(), "")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (m mode) bind(src any, v reflect.Value, path string) error {
	if src == nil {
		return nil
	}
	if v.Kind() == reflect.Pointer {
		n := reflect.New(v.Type().Elem())
		if err := m.bind(src, n.Elem(), path); err != nil {
			return err
		}
		v.Set(n)
		return nil
	}
	mismatch := func(want string) error { return &BindError{Path: path, Want: want, Got: src} }
	if v.Type() == timeType {
		t, ok := m.toTime(src)
		if !ok {
			return mismatch("a timestamp")
		}
		v.Set(reflect.ValueOf(t))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return mismatch("a string")
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if s, isString := src.(string); isString && m == textual {
			b, ok = s == "true", s == "true" || s == "false"
		}
		if !ok {
			return mismatch("a boolean")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := m.toInt(src)
		if !ok || v.OverflowInt(n) {
			return mismatch("an integer")
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := m.toFloat(src)
		if !ok {
			return mismatch("a double")
		}
		v.SetFloat(f)
	case reflect.Struct:
		fields, ok := src.(map[string]any)
		if !ok {
			return mismatch("a structure")
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if val, ok := fields[f.Name]; ok {
				if err := m.bind(val, v.Field(i), join(path, f.Name)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		items, ok := m.listItems(src)
		if !ok {
			return mismatch("a list")
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := m.bind(item, s.Index(i), path+".member."+strconv.Itoa(i+1)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return mismatch("a map with string keys")
		}
		keys, values, ok := m.mapEntries(src)
		if !ok {
			return mismatch("a map")
		}
		mv := reflect.MakeMapWithSize(v.Type(), len(keys))
		for i, k := range keys {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := m.bind(values[i], ev, path+"."+k); err != nil {
				return err
			}
			mv.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(mv)
	default:
		return fmt.Errorf("wire: cannot bind into %s (%s)", v.Type(), path)
	}
	return nil
}

// listItems returns the items of a list value.
func (m mode) listItems(src any) ([]any, bool) {
	if m == native {
		items, ok := src.([]any)
		return items, ok
	}
	switch x := src.(type) {
	case string: // "Name=" is how the query protocol sends an empty list
		return nil, x == ""
	case map[string]any:
		members, ok := x["member"].(map[string]any)
		if !ok || len(x) != 1 {
			return nil, false
		}
		return indexed(members)
	}
	return nil, false
}

// mapEntries returns the keys and values of a map value, keys sorted.
func (m mode) mapEntries(src any) (keys []string, values []any, ok bool) {
	x, isMap := src.(map[string]any)
	if !isMap {
		if s, isString := src.(string); isString && s == "" && m == textual {
			return nil, nil, true
		}
		return nil, nil, false
	}
	if m == native {
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			values = append(values, x[k])
		}
		return keys, values, true
	}
	entries, isMap := x["entry"].(map[string]any)
	if !isMap || len(x) != 1 {
		return nil, nil, false
	}
	list, ok := indexed(entries)
	if !ok {
		return nil, nil, false
	}
	for _, e := range list {
		kv, isMap := e.(map[string]any)
		if !isMap {
			return nil, nil, false
		}
		// key/value, or Name/Value where the model names them so (SNS's MessageAttributes)
		k, isString := kv["key"].(string)
		v := kv["value"]
		if !isString {
			if k, isString = kv["Name"].(string); !isString {
				return nil, nil, false
			}
			v = kv["Value"]
		}
		keys = append(keys, k)
		values = append(values, v)
	}
	return keys, values, true
}

// indexed orders the children of a query list ("1", "2", …) by their index.
func indexed(children map[string]any) ([]any, bool) {
	type item struct {
		n int
		v any
	}
	items := make([]item, 0, len(children))
	for k, v := range children {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 {
			return nil, false
		}
		items = append(items, item{n, v})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, true
}

func (m mode) toInt(src any) (int64, bool) {
	switch x := src.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case float32:
		return m.toInt(float64(x))
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		return m.toInt(f)
	case string:
		if m != textual {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (m mode) toFloat(src any) (float64, bool) {
	switch x := src.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		// The JSON protocols spell non-finite doubles as strings; the query protocol spells everything so.
		switch x {
		case "NaN":
			return math.NaN(), true
		case "Infinity":
			return math.Inf(1), true
		case "-Infinity":
			return math.Inf(-1), true
		}
		if m != textual {
			return 0, false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// Timestamp layouts accepted in strings, most specific first. Clients send RFC 3339 with a zone; the others are
// what people type.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// toTime reads a timestamp: a time (CBOR tag 1), epoch seconds (a number, or a numeric string) or an ISO 8601
// string. Times are kept to the millisecond — CloudWatch's resolution, and enough to undo the rounding of
// float-encoded epoch seconds.
func (m mode) toTime(src any) (time.Time, bool) {
	switch x := src.(type) {
	case time.Time:
		return x.Round(time.Millisecond).UTC(), true
	case string:
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, x); err == nil {
				return t.Round(time.Millisecond).UTC(), true
			}
		}
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return epoch(f)
		}
		return time.Time{}, false
	}
	f, ok := m.toFloat(src)
	if !ok {
		return time.Time{}, false
	}
	return epoch(f)
}

func epoch(secs float64) (time.Time, bool) {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e13 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(math.Round(secs * 1000))).UTC(), true
}
