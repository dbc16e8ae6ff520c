package modelcheck

import (
	"net/url"
	"strings"
	"testing"
)

// TestFromQuery: flattened query parameters become the document Check validates, typed by the shape, with AWS's
// member paths in the messages.
func TestFromQuery(t *testing.T) {
	m := Build(map[string]ShapeDef{
		"Input": {Kind: Structure, Members: []MemberDef{
			{Name: "StackName", Shape: "Name", Required: true},
			{Name: "Parameters", Shape: "Params"},
			{Name: "Timeout", Shape: "Minutes"},
			{Name: "Capabilities", Shape: "Caps"},
			{Name: "Flag", Shape: "Bool"},
		}},
		"Name":    {Kind: String, Pattern: "[a-zA-Z][-a-zA-Z0-9]*"},
		"Params":  {Kind: List, Item: "Param"},
		"Param":   {Kind: Structure, Members: []MemberDef{{Name: "ParameterKey", Shape: "Key", Required: true}}},
		"Key":     {Kind: String, Min: 1, HasMin: true},
		"Minutes": {Kind: Integer, Min: 1, HasMin: true},
		"Caps":    {Kind: List, Item: "Cap"},
		"Cap":     {Kind: String, Enum: []string{"CAPABILITY_IAM"}},
		"Bool":    {Kind: Boolean},
	})
	for _, tc := range []struct {
		query, want string
	}{
		{"StackName=ok&Parameters.member.1.ParameterKey=A&Timeout=5&Flag=true&Capabilities.member.1=CAPABILITY_IAM", ""},
		{"Parameters=", "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null"},
		{"StackName=9lives&Timeout=0", "2 validation errors detected: Value '9lives' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*; " +
			"Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"StackName=s&Parameters.member.2.ParameterKey=B&Parameters.member.1.Other=x",
			"1 validation error detected: Value null at 'parameters.1.member.parameterKey' failed to satisfy constraint: Member must not be null"},
		{"StackName=s&Capabilities.member.1=CAPABILITY_IAM&Capabilities.member.2=CAPABILITY_ALL",
			"1 validation error detected: Value '[CAPABILITY_IAM, CAPABILITY_ALL]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_IAM], Member must not be null]"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		in := m.Shape("Input")
		if got := Message(Check(in, FromQuery(in, q))); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.query, got, tc.want)
		}
	}
}

// TestFromQueryNamedEntries: map entries spelled Name/Value (SNS's MessageAttributes) are checked like key/value.
func TestFromQueryNamedEntries(t *testing.T) {
	m := Build(map[string]ShapeDef{
		"Input":   {Kind: Structure, Members: []MemberDef{{Name: "Attrs", Shape: "AttrMap"}}},
		"AttrMap": {Kind: Map, Key: "String", Value: "Type"},
		"Type":    {Kind: String, Enum: []string{"String"}},
		"String":  {Kind: String},
	})
	in := m.Shape("Input")
	for _, spelling := range [][2]string{{"key", "value"}, {"Name", "Value"}} {
		k, v := spelling[0], spelling[1]
		for query, want := range map[string]string{
			"Attrs.entry.1." + k + "=a&Attrs.entry.1." + v + "=String": "",
			"Attrs.entry.1." + k + "=a&Attrs.entry.1." + v + "=Date":   "Date",
		} {
			q, _ := url.ParseQuery(query)
			if got := Message(Check(in, FromQuery(in, q))); !strings.Contains(got, want) || (want == "") != (got == "") {
				t.Errorf("%s: got %q, want it to name %q", query, got, want)
			}
		}
	}
}
