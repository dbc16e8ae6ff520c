package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	Name  *string
	Count *int
	Tags  map[string]string
}

type shape struct {
	S      *string
	B      *bool
	I      *int
	I32    int32
	F      *float64
	T      *time.Time
	List   []string
	Nested []inner
	Matrix [][]float64
	One    *inner
	Map    map[string]float64
}

func TestBindQuery(t *testing.T) {
	form, err := url.ParseQuery("S=a%20b&B=true&I=-7&I32=12&F=1e-05&T=2024-01-02T03:04:05.678Z" +
		"&List.member.2=second&List.member.1=first&List.member.10=tenth" +
		"&Nested.member.1.Name=n1&Nested.member.1.Count=3&Nested.member.1.Tags.entry.1.key=k&Nested.member.1.Tags.entry.1.value=v" +
		"&Nested.member.2.Name=n2" +
		"&Matrix.member.1.member.1=1.5&Matrix.member.1.member.2=2&Matrix.member.2=" +
		"&One.Name=one&Map.entry.2.key=p50&Map.entry.2.value=2&Map.entry.1.key=p99&Map.entry.1.value=9.5&Unknown=ignored")
	if err != nil {
		t.Fatal(err)
	}
	var got shape
	if err := bind(formTree(form), &got, textual); err != nil {
		t.Fatal(err)
	}
	want := shape{
		S: ptr("a b"), B: ptr(true), I: ptr(-7), I32: 12, F: ptr(1e-05),
		T:      ptr(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)),
		List:   []string{"first", "second", "tenth"},
		Nested: []inner{{Name: ptr("n1"), Count: ptr(3), Tags: map[string]string{"k": "v"}}, {Name: ptr("n2")}},
		Matrix: [][]float64{{1.5, 2}, {}},
		One:    &inner{Name: ptr("one")},
		Map:    map[string]float64{"p99": 9.5, "p50": 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestBindNative(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"S":"x","I":3.0,"F":"NaN","T":1704164645.678,` +
		`"Nested":[{"Name":"n","Tags":{"a":"b"}},null],"Map":{"p99":1},"List":null}`)))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	var got shape
	if err := bind(tree, &got, native); err != nil {
		t.Fatal(err)
	}
	if *got.S != "x" || *got.I != 3 || !math.IsNaN(*got.F) || !got.T.Equal(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)) ||
		!reflect.DeepEqual(got.Nested, []inner{{Name: ptr("n"), Tags: map[string]string{"a": "b"}}, {}}) ||
		!reflect.DeepEqual(got.Map, map[string]float64{"p99": 1}) || got.List != nil {
		t.Errorf("got %+v", got)
	}
}

func TestBindErrors(t *testing.T) {
	for _, tc := range []struct {
		tree any
		m    mode
		want BindError
	}{
		{map[string]any{"I": json.Number("1.5")}, native, BindError{Path: "I", Want: "an integer"}},
		{map[string]any{"I32": json.Number("4294967296")}, native, BindError{Path: "I32", Want: "an integer"}},
		{map[string]any{"S": json.Number("1")}, native, BindError{Path: "S", Want: "a string"}},
		{map[string]any{"F": "1.5"}, native, BindError{Path: "F", Want: "a double"}}, // JSON numbers are not strings
		{map[string]any{"Nested": []any{map[string]any{"Count": true}}}, native, BindError{Path: "Nested.member.1.Count", Want: "an integer"}},
		{map[string]any{"List": map[string]any{"member": map[string]any{"x": "a"}}}, textual, BindError{Path: "List", Want: "a list"}},
		{map[string]any{"B": "yes"}, textual, BindError{Path: "B", Want: "a boolean"}},
		{map[string]any{"T": "yesterday"}, textual, BindError{Path: "T", Want: "a timestamp"}},
	} {
		var got shape
		err := bind(tc.tree, &got, tc.m)
		var be *BindError
		if !errors.As(err, &be) || be.Path != tc.want.Path || be.Want != tc.want.Want {
			t.Errorf("%v: error %v, want %s at %s", tc.tree, err, tc.want.Want, tc.want.Path)
		}
	}
}

func TestTimestamps(t *testing.T) {
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, in := range []any{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000000Z", "2024-01-02T04:04:05+01:00", "2024-01-02T03:04:05",
		"1704164645", json.Number("1704164645"), uint64(1704164645), float64(1704164645.0000004), want.Add(300 * time.Microsecond)} {
		got, ok := native.toTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("%v (%T): %v %v, want %v", in, in, got, ok, want)
		}
	}
}

func TestTreeAndXML(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.FixedZone("x", 3600))
	v := shape{S: ptr("<&>"), I32: 0, List: []string{}, T: &ts, Map: map[string]float64{"b": 2, "a": 1e-9}, Nested: []inner{{}}}
	got, _ := tree(reflect.ValueOf(&v), func(t time.Time) any { return t }, func(f float64) any { return f })
	want := map[string]any{"S": "<&>", "I32": int64(0), "List": []any{}, "T": ts.UTC().Truncate(time.Millisecond),
		"Map": map[string]any{"a": 1e-9, "b": 2.0}, "Nested": []any{map[string]any{}}, "Matrix": nil}
	delete(want, "Matrix")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree %#v\nwant %#v", got, want)
	}
	var b bytes.Buffer
	xmlMembers(&b, reflect.ValueOf(v))
	wantXML := `<S>&lt;&amp;&gt;</S><I32>0</I32><T>2024-01-02T02:04:05.678Z</T><List></List><Nested><member></member></Nested>` +
		`<Map><entry><key>a</key><value>1e-09</value></entry><entry><key>b</key><value>2</value></entry></Map>`
	if b.String() != wantXML {
		t.Errorf("xml %s\nwant %s", b.String(), wantXML)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBindQueryNamedEntries: a map whose model names its entries' key and value Name and Value (SNS's
// MessageAttributes) binds like one spelled key/value.
func TestBindQueryNamedEntries(t *testing.T) {
	form, err := url.ParseQuery("Attrs.entry.1.Name=team&Attrs.entry.1.Value.DataType=String&Attrs.entry.1.Value.StringValue=core" +
		"&Attrs.entry.2.Name=n&Attrs.entry.2.Value.DataType=Number&Attrs.entry.2.Value.StringValue=42")
	if err != nil {
		t.Fatal(err)
	}
	type value struct{ DataType, StringValue *string }
	var got struct{ Attrs map[string]value }
	if err := bind(formTree(form), &got, textual); err != nil {
		t.Fatal(err)
	}
	want := map[string]value{"team": {ptr("String"), ptr("core")}, "n": {ptr("Number"), ptr("42")}}
	if !reflect.DeepEqual(got.Attrs, want) {
		t.Errorf("got %+v, want %+v", got.Attrs, want)
	}
}
