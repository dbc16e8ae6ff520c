package modelcheck

import (
	"encoding/json"
	"strings"
	"testing"
)

// testModel is a slice of the Lambda model, in the generator's form, with AWS's current patterns.
var testModel = Build(map[string]ShapeDef{
	"FunctionName": {Kind: String, Min: 1, HasMin: true, Max: 140, HasMax: true,
		Pattern: `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`},
	"Qualifier":         {Kind: String, Min: 1, HasMin: true, Max: 128, HasMax: true, Pattern: `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`},
	"Alias":             {Kind: String, Min: 1, HasMin: true, Max: 128, HasMax: true, Pattern: `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`},
	"Version":           {Kind: String, Min: 1, HasMin: true, Max: 1024, HasMax: true, Pattern: `(\$LATEST|[0-9]+)`},
	"Weight":            {Kind: Double, Min: 0, HasMin: true, Max: 1, HasMax: true},
	"AdditionalVersion": {Kind: String, Min: 1, HasMin: true, Max: 1024, HasMax: true, Pattern: `[0-9]+`},
	"Weights":           {Kind: Map, Key: "AdditionalVersion", Value: "Weight"},
	"Routing":           {Kind: Structure, Members: []MemberDef{{Name: "AdditionalVersionWeights", Shape: "Weights"}}},
	"Architecture":      {Kind: String, Enum: []string{"x86_64", "arm64"}},
	"Architectures":     {Kind: List, Min: 1, HasMin: true, Max: 1, HasMax: true, Item: "Architecture"},
	"Concurrency":       {Kind: Integer, Min: 1, HasMin: true},
	"S3Bucket":          {Kind: String, Min: 3, HasMin: true, Max: 63, HasMax: true, Pattern: `[0-9A-Za-z\.\-_]*(?<!\.)`},
	"Input": {Kind: Structure, Members: []MemberDef{
		{Name: "FunctionName", Shape: "FunctionName", Required: true, Location: "uri", LocationName: "FunctionName"},
		{Name: "Name", Shape: "Alias"},
		{Name: "FunctionVersion", Shape: "Version"},
		{Name: "RoutingConfig", Shape: "Routing"},
		{Name: "Architectures", Shape: "Architectures"},
		{Name: "ProvisionedConcurrentExecutions", Shape: "Concurrency"},
		{Name: "S3Bucket", Shape: "S3Bucket"},
		{Name: "Qualifier", Shape: "Qualifier", Location: "querystring", LocationName: "Qualifier"},
	}},
})

const namePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// The expected messages are AWS's, as recorded from the live service.
func TestCheckMessages(t *testing.T) {
	long := "arn:aws:lambda:invalid-region:000000000000:function:my-function" + strings.Repeat("a", 100)
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"valid", `{"FunctionName":"fn","Name":"2024-01-02","FunctionVersion":"3"}`, ""},
		{"required", `{}`, "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null"},
		{"pattern", `{"FunctionName":"my-function!"}`,
			"1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + namePattern},
		{"length before pattern, both reported", `{"FunctionName":"` + long + `"}`,
			"2 validation errors detected: Value '" + long + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140; " +
				"Value '" + long + "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + namePattern},
		{"lookahead: all digits is not an alias", `{"FunctionName":"fn","Name":"2024"}`,
			"1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"},
		{"map value", `{"FunctionName":"fn","RoutingConfig":{"AdditionalVersionWeights":{"2":2}}}`,
			"1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"map key", `{"FunctionName":"fn","RoutingConfig":{"AdditionalVersionWeights":{"$LATEST":0.5}}}`,
			"1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"},
		{"list length", `{"FunctionName":"fn","Architectures":["x86_64","arm64"]}`,
			"1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"list item enum", `{"FunctionName":"fn","Architectures":["X86_64"]}`,
			"1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"},
		{"range", `{"FunctionName":"fn","ProvisionedConcurrentExecutions":0}`,
			"1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"lookbehind", `{"FunctionName":"fn","S3Bucket":"bucket."}`,
			`1 validation error detected: Value 'bucket.' at 's3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9A-Za-z\.\-_]*(?<!\.)`},
		{"wrong JSON type is the decoder's to report", `{"FunctionName":"fn","ProvisionedConcurrentExecutions":"x","Name":7}`, ""},
		{"every violation, in member order", `{"FunctionName":"a b","Name":"1","FunctionVersion":"x"}`,
			"3 validation errors detected: Value 'a b' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + namePattern +
				"; Value '1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)" +
				"; Value 'x' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"},
		{"alternation is anchored as a whole", `{"FunctionName":"fn","Qualifier":"$LATEST.PUBLISHED"}`, ""},
		{"qualifier", `{"FunctionName":"fn","Qualifier":"invalid!"}`,
			`1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(c.doc))
			dec.UseNumber()
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if got := Message(Check(testModel.Shape("Input"), doc)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestCompilePattern(t *testing.T) {
	cases := []struct {
		pattern string
		match   []string
		reject  []string
	}{
		{`(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, []string{"live", "2024-01-02", "v1"}, []string{"2024", "", "a b"}},
		{`((?!^\d+$)^[0-9a-zA-Z-_]+$)`, []string{"live"}, []string{"12"}},
		{`[0-9A-Za-z\.\-_]*(?<!\.)`, []string{"my.bucket", ""}, []string{"bucket."}},
		{`\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`, []string{"$LATEST", "$LATEST.PUBLISHED", "live"}, []string{"$LATEST.x", "a b"}},
		{`(|[a-zA-Z0-9$_-]+)`, []string{"", "v1"}, []string{"a!"}},
	}
	for _, c := range cases {
		match, err := CompilePattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		// Twice, each rejected value right after a match: the matcher remembers the value that matched last.
		for range 2 {
			for i, s := range c.match {
				if !match(s) {
					t.Errorf("%s should match %q", c.pattern, s)
				}
				if r := c.reject[i%len(c.reject)]; match(r) {
					t.Errorf("%s should reject %q (after %q)", c.pattern, r, s)
				}
			}
			for _, s := range c.reject {
				if match(s) {
					t.Errorf("%s should reject %q", c.pattern, s)
				}
			}
		}
	}
	if _, err := CompilePattern(`a(?=b)c`); err == nil {
		t.Error("lookahead in the middle compiled")
	}
}
