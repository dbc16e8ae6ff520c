package wire

import (
	"bytes"
	"encoding/xml"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// outputTime is how an output timestamp is put on the wire: in UTC, to the millisecond.
func outputTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// tree converts an output value to the neutral value tree the CBOR and JSON encoders write: structures and maps
// become map[string]any, lists []any, timestamps whatever ts returns, doubles whatever dbl returns. ok is false
// for an absent member (a nil pointer, slice or map).
func tree(v reflect.Value, ts func(time.Time) any, dbl func(float64) any) (out any, ok bool) {
	if !v.IsValid() {
		return nil, false
	}
	if v.Type() == timeType {
		return ts(outputTime(v.Interface().(time.Time))), true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return tree(v.Elem(), ts, dbl)
	case reflect.Struct:
		m := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if x, ok := tree(v.Field(i), ts, dbl); ok {
				m[t.Field(i).Name] = x
			}
		}
		return m, true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		l := make([]any, v.Len())
		for i := range l {
			l[i], _ = tree(v.Index(i), ts, dbl)
		}
		return l, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()], _ = tree(it.Value(), ts, dbl)
		}
		return m, true
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		return dbl(v.Float()), true
	}
	return nil, false
}

// ---- XML (query protocol responses) ----

// queryResponse is the query protocol's response document for op: the output's members inside <OpResult>, then
// the request ID. An operation without output has no <OpResult>.
func queryResponse(op, xmlns, requestID string, out any) []byte {
	var b bytes.Buffer
	b.WriteString("<" + op + "Response xmlns=\"")
	xmlText(&b, xmlns)
	b.WriteString("\">")
	if out != nil {
		b.WriteString("<" + op + "Result>")
		v := reflect.ValueOf(out)
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			xmlMembers(&b, v)
		}
		b.WriteString("</" + op + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	xmlText(&b, requestID)
	b.WriteString("</RequestId></ResponseMetadata></" + op + "Response>")
	return b.Bytes()
}

// queryError is the query protocol's error document.
func queryError(e *Error, requestID string) []byte {
	var b bytes.Buffer
	b.WriteString("<ErrorResponse><Error><Type>")
	if e.Receiver {
		b.WriteString("Receiver")
	} else {
		b.WriteString("Sender")
	}
	b.WriteString("</Type><Code>")
	xmlText(&b, e.Code)
	b.WriteString("</Code><Message>")
	xmlText(&b, e.Message)
	b.WriteString("</Message></Error><RequestId>")
	xmlText(&b, requestID)
	b.WriteString("</RequestId></ErrorResponse>")
	return b.Bytes()
}

func xmlText(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

func xmlMembers(b *bytes.Buffer, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			xmlElement(b, t.Field(i).Name, v.Field(i))
		}
	}
}

// xmlElement writes one member: lists as <Name><member>…</member></Name>, maps as
// <Name><entry><key>…</key><value>…</value></entry></Name>, timestamps in ISO 8601.
func xmlElement(b *bytes.Buffer, name string, v reflect.Value) {
	if !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		if v.IsNil() {
			return
		}
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		xmlElement(b, name, v.Elem())
		return
	}
	b.WriteString("<" + name + ">")
	switch {
	case v.Type() == timeType:
		b.WriteString(outputTime(v.Interface().(time.Time)).Format("2006-01-02T15:04:05.000Z07:00"))
	case v.Kind() == reflect.Struct:
		xmlMembers(b, v)
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			xmlElement(b, "member", v.Index(i))
		}
	case v.Kind() == reflect.Map:
		keys := make([]string, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			keys = append(keys, it.Key().String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString("<entry><key>")
			xmlText(b, k)
			b.WriteString("</key>")
			xmlElement(b, "value", v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
			b.WriteString("</entry>")
		}
	case v.Kind() == reflect.String:
		xmlText(b, v.String())
	case v.Kind() == reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case v.CanInt():
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case v.CanFloat():
		b.WriteString(formatDouble(v.Float()))
	}
	b.WriteString("</" + name + ">")
}

// formatDouble spells a double for XML and query text: plain decimals for ordinary magnitudes, an exponent for
// very large or small ones, and the Smithy spellings of the non-finite values.
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
