package modelcheck

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var scanModel = Build(map[string]ShapeDef{
	"Name": {Kind: String},
	"Zip":  {Kind: Blob},
	"Code": {Kind: Structure, Members: []MemberDef{{Name: "ZipFile", Shape: "Zip"}, {Name: "S3Key", Shape: "Name"}}},
	"Tags": {Kind: Map, Key: "Name", Value: "Name"},
	"Arch": {Kind: List, Item: "Name"},
	"Input": {Kind: Structure, Members: []MemberDef{
		{Name: "FunctionName", Shape: "Name", Location: "uri", LocationName: "FunctionName"},
		{Name: "Description", Shape: "Name"},
		{Name: "Code", Shape: "Code"},
		{Name: "Tags", Shape: "Tags"},
		{Name: "Architectures", Shape: "Arch"},
	}},
})

func TestDecodeBody(t *testing.T) {
	zip := strings.Repeat("UEsDBA", 1<<16)
	cases := []struct {
		name, body string
		want       map[string]any // nil: malformed
	}{
		{"members typed, blob skipped, unknown members skipped",
			`{"Description":"d \"q\" \u00e9","Code":{"ZipFile":"` + zip + `","S3Key":"k"},"Timeout":3,"Publish":true,"Unknown":{"a":[1,"x"]},"Layers":null}`,
			map[string]any{"Description": `d "q" é`, "Code": map[string]any{"ZipFile": blobValue{}, "S3Key": "k"},
				"Timeout": json.Number("3"), "Publish": true, "Unknown": map[string]any{"a": []any{json.Number("1"), blobValue{}}}, "Layers": nil}},
		{"maps and lists", ` { "Tags" : {"k":"v"} , "Architectures" : [ "x86_64" ] } `,
			map[string]any{"Tags": map[string]any{"k": "v"}, "Architectures": []any{"x86_64"}}},
		{"a path member in the body is not the path's", `{"FunctionName":"x"}`, map[string]any{"FunctionName": blobValue{}}},
		{"empty object", `{}`, map[string]any{}},
		{"not an object", `[1]`, nil},
		{"truncated", `{"Description":"d`, nil},
		{"trailing data", `{} x`, nil},
		{"bad literal", `{"Timeout":3x}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeBody(scanModel.Shape("Input"), strings.NewReader(c.body))
			if c.want == nil {
				if err == nil {
					t.Fatalf("decoded %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}
