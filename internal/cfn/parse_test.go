package cfn

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestShortForms(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      any
	}{
		{"Ref", `!Ref Table`, map[string]any{"Ref": "Table"}},
		{"Ref pseudo", `!Ref AWS::NoValue`, map[string]any{"Ref": "AWS::NoValue"}},
		{"GetAtt string", `!GetAtt Table.Arn`, map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}},
		{"GetAtt split at first dot", `!GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"GetAtt list", `!GetAtt [Table, !Ref Attr]`, map[string]any{"Fn::GetAtt": []any{"Table", map[string]any{"Ref": "Attr"}}}},
		{"Sub string", `!Sub "${AWS::StackName}-x"`, map[string]any{"Fn::Sub": "${AWS::StackName}-x"}},
		{"Sub list", `!Sub ["${A}", {A: !Ref B}]`, map[string]any{"Fn::Sub": []any{"${A}", map[string]any{"A": map[string]any{"Ref": "B"}}}}},
		{"Sub inside Join", `!Join ["", [!Sub "${A}", x]]`, map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::Sub": "${A}"}, "x"}}}},
		{"If with NoValue", `!If [C, !Ref A, !Ref "AWS::NoValue"]`, map[string]any{"Fn::If": []any{"C", map[string]any{"Ref": "A"}, map[string]any{"Ref": "AWS::NoValue"}}}},
		{"Select keeps the int", `!Select [0, !GetAZs ""]`, map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::GetAZs": ""}}}},
		{"Split", `!Split [",", !Ref L]`, map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": "L"}}}},
		{"Equals", `!Equals [!Ref Env, prod]`, map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Env"}, "prod"}}},
		{"And Or Not Condition", `!And [!Or [!Condition A, !Condition B], !Not [!Condition C]]`, map[string]any{"Fn::And": []any{
			map[string]any{"Fn::Or": []any{map[string]any{"Condition": "A"}, map[string]any{"Condition": "B"}}},
			map[string]any{"Fn::Not": []any{map[string]any{"Condition": "C"}}}}}},
		{"FindInMap", `!FindInMap [M, !Ref AWS::Region, Ami]`, map[string]any{"Fn::FindInMap": []any{"M", map[string]any{"Ref": "AWS::Region"}, "Ami"}}},
		{"Base64 block", "!Base64 |\n  #!/bin/sh\n  echo hi\n", map[string]any{"Fn::Base64": "#!/bin/sh\necho hi\n"}},
		{"GetAZs empty", `!GetAZs`, map[string]any{"Fn::GetAZs": ""}},
		{"ImportValue", `!ImportValue Shared-Vpc`, map[string]any{"Fn::ImportValue": "Shared-Vpc"}},
		{"Cidr", `!Cidr [10.0.0.0/16, 4, 8]`, map[string]any{"Fn::Cidr": []any{"10.0.0.0/16", 4, 8}}},
		{"Transform", `!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}`, map[string]any{"Fn::Transform": map[string]any{"Name": "AWS::Include", "Parameters": map[string]any{"Location": "s3://b/k"}}}},
		{"Length", `!Length [a, b]`, map[string]any{"Fn::Length": []any{"a", "b"}}},
		{"long form untouched", `{Fn::GetAtt: Table.Arn}`, map[string]any{"Fn::GetAtt": "Table.Arn"}},
		{"scalar types", `{i: 1, f: 1.5, b: true, n: null, s: "1", d: 2010-09-09, str: !!str 3, bin: !!binary aGk=}`, map[string]any{
			"i": 1, "f": 1.5, "b": true, "n": nil, "s": "1", "d": "2010-09-09", "str": "3", "bin": "hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := yamlValue(t, tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

const minimal = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "  \n# nothing\n", "the template is empty"},
		{"malformed", "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties: [a\n", "line 4: Template format error: YAML not well-formed"},
		{"bad indentation", "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n   Properties: {}\n", "line 4: Template format error: YAML not well-formed"},
		{"deep bad indentation", minimal + "    Properties:\n      TopicName: x\n      Tags:\n        - Key: a\n         Value: b\nOutputs: {}\n", "line 8: Template format error: YAML not well-formed: did not find expected '-' indicator"},
		{"mapping value", "Resources:\n  Topic:\n    Type: a: b\n", "line 3: Template format error: YAML not well-formed: mapping values are not allowed in this context"},
		{"unclosed quote", "Description: \"orders\n" + minimal, "line 5: Template format error: YAML not well-formed: found unexpected end of stream"},
		{"tab", "Resources:\n\tTopic: {}\n", "line 2: Template format error: YAML not well-formed"},
		{"unknown tag", minimal + "    Properties:\n      TopicName: !Reff Name\n", "line 5: Template format error: unknown tag !Reff"},
		{"unknown tag nested", minimal + "    Properties:\n      TopicName: !Join\n        - ''\n        - [!Sub a, !Bogus b]\n", "line 7: Template format error: unknown tag !Bogus"},
		{"GetAtt without attribute", minimal + "Outputs:\n  A:\n    Value: !GetAtt Topic\n", `line 6: Template format error: !GetAtt "Topic" is not LogicalId.AttributeName`},
		{"Ref of a list", minimal + "Outputs:\n  A:\n    Value: !Ref [Topic]\n", "line 6: Template format error: !Ref takes a name"},
		{"alias", "Mappings:\n  M:\n    a: &x {k: v}\n    b: *x\n" + minimal, "line 4: Template format error: YAML aliases are not allowed"},
		{"merge key", "Mappings:\n  M:\n    a:\n      <<: {k: v}\n" + minimal, "line 4: Template format error: YAML merge keys"},
		{"duplicate key", minimal + "  Topic:\n    Type: AWS::SNS::Topic\n", `line 4: Template format error: duplicate key "Topic" (first at line 2)`},
		{"tagged key", "Resources:\n  !Ref A: {Type: X}\n", "line 2: Template format error: a map key must be a plain string"},
		{"two documents", minimal + "---\n" + minimal, "line 4: Template format error: a template is a single YAML document"},
		{"not a map", "- a\n- b\n", "line 1: Template format error: a template must be a map of sections"},
		{"unknown section", "Resource:\n  A: {Type: X}\n", "line 1: Template format error: Invalid template property or properties [Resource]"},
		{"unknown sections", minimal + "Output: {}\nParameter: {}\n", "line 4: Template format error: Invalid template property or properties [Output, Parameter]"},
		{"no Resources", "Description: x\n", "Template format error: At least one Resources member must be defined."},
		{"empty Resources", "Resources: {}\n", "line 1: Template format error: At least one Resources member must be defined."},
		{"Resources not a map", "Resources: [a]\n", "line 1: Resources: Template format error: Resources must be a map"},
		{"resource attribute", minimal + "    Condtion: IsProd\n", "line 4: Resources.Topic.Condtion: Template format error: Invalid resource attribute Condtion"},
		{"SAM attribute without SAM", minimal + "    Connectors: {}\n", "line 4: Resources.Topic.Connectors: Template format error: Invalid resource attribute Connectors"},
		{"no Type", "Resources:\n  Topic:\n    Properties: {}\n", "line 2: Template format error: [/Resources/Topic] Every Resources object must contain a Type member."},
		{"bad name", "Resources:\n  my-topic:\n    Type: AWS::SNS::Topic\n", "line 2: Template format error: Resource name my-topic is non alphanumeric."},
		{"Properties not a map", minimal + "    Properties: [a]\n", "line 4: Resources.Topic.Properties: Template format error: Properties must be a map"},
		{"DependsOn not strings", minimal + "    DependsOn: [A, {Ref: B}]\n", "line 4: Resources.Topic.DependsOn[1]: Template format error: DependsOn must be"},
		{"DeletionPolicy", minimal + "    DeletionPolicy: Keep\n", "line 4: Resources.Topic.DeletionPolicy: Template format error: Unrecognized DeletionPolicy Keep for resource Topic"},
		{"RetainExceptOnCreate replace", minimal + "    UpdateReplacePolicy: RetainExceptOnCreate\n", "Unrecognized UpdateReplacePolicy RetainExceptOnCreate"},
		{"undefined condition", minimal + "    Condition: IsProd\n", "line 4: Resources.Topic.Condition: Template format error: Unresolved condition dependency IsProd"},
		{"Globals without SAM", "Globals:\n  Function: {Timeout: 3}\n" + minimal, "line 1: Globals: Template format error: Globals needs Transform AWS::Serverless-2016-10-31"},
		{"version", "AWSTemplateFormatVersion: 2011-01-01\n" + minimal, "line 1: AWSTemplateFormatVersion: Template format error: unsupported version 2011-01-01"},
		{"Transform", "Transform: [{Location: x}]\n" + minimal, "line 1: Transform[0]: Template format error: a transform is a name"},
		{"parameter type", "Parameters:\n  Env:\n    Type: Strin\n" + minimal, "line 3: Template format error: Unrecognized parameter type: Strin"},
		{"parameter without Type", "Parameters:\n  Env:\n    Default: x\n" + minimal, "line 2: Template format error: Every Parameters object must contain a Type member."},
		{"parameter attribute", "Parameters:\n  Env:\n    Type: String\n    Defualt: x\n" + minimal, "line 4: Template format error: Invalid template parameter property 'Defualt'"},
		{"parameter list Default", "Parameters:\n  Env:\n    Type: CommaDelimitedList\n    Default: [a, b]\n" + minimal, "line 4: Parameters.Env.Default: Template format error: Every Default member must be a string."},
		{"parameter MinLength", "Parameters:\n  Env:\n    Type: String\n    MinLength: two\n" + minimal, "line 4: Parameters.Env.MinLength: Template format error: MinLength must be an integer"},
		{"parameter name", "Parameters:\n  my_env:\n    Type: String\n" + minimal, "line 2: Template format error: Parameter name my_env is non alphanumeric."},
		{"mapping shape", "Mappings:\n  M:\n    a: b\n" + minimal, "line 3: Template format error: Every Mappings attribute must be a map: M::a"},
		{"output without Value", minimal + "Outputs:\n  A:\n    Description: x\n", "line 5: Template format error: Every Outputs member must contain a Value object"},
		{"output attribute", minimal + "Outputs:\n  A:\n    Value: x\n    Exports: {Name: y}\n", "line 7: Template format error: Invalid outputs property 'Exports'"},
		{"output condition", minimal + "Outputs:\n  A:\n    Value: x\n    Condition: Nope\n", "line 7: Outputs.A.Condition: Template format error: Unresolved condition dependency Nope"},
		{"If condition in a resource", minimal + "    Properties:\n      Tags:\n        - Key: k\n          Value: !If [IsProd, a, b]\n",
			"line 7: Resources.Topic.Properties.Tags[0].Value: Template format error: Unresolved condition dependency IsProd in Fn::If"},
		{"If condition in an output", minimal + "Outputs:\n  A:\n    Value: {Fn::If: [Nope, a, b]}\n",
			"line 6: Outputs.A.Value: Template format error: Unresolved condition dependency Nope in Fn::If"},
		{"JSON syntax", "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\" \"Properties\": {}}\n  }\n}\n", "line 3: Template format error: JSON not well-formed: invalid character '\"' after object key:value pair"},
		{"JSON truncated", "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\"}\n", "line 4: Template format error: JSON not well-formed: unexpected end of input"},
		{"JSON duplicate", "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\"},\n    \"A\": {\"Type\": \"Y\"}\n  }\n}\n", `line 4: Template format error: duplicate key "A" (first at line 3)`},
		{"JSON trailing data", "{\"Resources\": {\"A\": {\"Type\": \"X\"}}}\n{}\n", "line 2: Template format error: JSON not well-formed: data after the template"},
		{"JSON unknown attribute", "{\n \"Resources\": {\n  \"A\": {\n   \"Type\": \"X\",\n   \"Propertes\": {}\n  }\n }\n}\n", "line 5: Resources.A.Propertes: Template format error: Invalid resource attribute Propertes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			checkErr(t, err, tc.want)
			if !strings.HasPrefix(tc.want, "line ") {
				return
			}
			var e *Error
			if errors.As(err, &e); e.Line == 0 {
				t.Fatalf("no line in %#v", e)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	src := `AWSTemplateFormatVersion: 2010-09-09
Description: Orders
Transform: [AWS::Serverless-2016-10-31, {Name: AWS::Include, Parameters: {Location: s3://b/k}}]
Metadata:
  Owner: team
Globals:
  Function: {Timeout: 3, Environment: {Variables: {A: !Ref Zeta}}}
Rules:
  OnlyProd:
    Assertions:
      - Assert: !Equals [!Ref AWS::Region, eu-west-1]
Parameters:
  Env:
    Type: String
    Default: 7
    AllowedValues: [dev, 7]
    MinLength: "1"
    MaxLength: 4
    NoEcho: "true"
    ConstraintDescription: pick one
  Size:
    Type: Number
    MinValue: 1.5
    MaxValue: "10"
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Zeta:
    Type: AWS::Serverless::Function
    Connectors:
      Write: {Properties: {Destination: {Id: Alpha}, Permissions: [Write]}}
    Properties: {Handler: x}
  Alpha:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    DependsOn: Zeta
    DeletionPolicy: RetainExceptOnCreate
    Metadata: {Doc: x}
    UpdatePolicy: {AutoScalingReplacingUpdate: {WillReplace: true}}
    CreationPolicy: {ResourceSignal: {Count: 1}}
  Mid:
    Type: AWS::SNS::Topic
    DependsOn: [Zeta, Alpha]
Outputs:
  Arn:
    Description: the function
    Condition: IsProd
    Value: !GetAtt Zeta.Arn
    Export: {Name: !Sub "${AWS::StackName}-arn"}
`
	tmpl := mustParse(t, src)
	if got, want := tmpl.ResourceOrder, []string{"Zeta", "Alpha", "Mid"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceOrder %v, want %v", got, want)
	}
	if tmpl.FormatVersion != "2010-09-09" || tmpl.Description != "Orders" || tmpl.Metadata["Owner"] != "team" {
		t.Errorf("header %q %q %v", tmpl.FormatVersion, tmpl.Description, tmpl.Metadata)
	}
	if got, want := tmpl.Transform, []string{SAMTransform, "AWS::Include"}; !reflect.DeepEqual(got, want) || !tmpl.HasTransform(SAMTransform) {
		t.Errorf("Transform %v", got)
	}
	if got := tmpl.Globals["Function"].(map[string]any)["Environment"]; !reflect.DeepEqual(got,
		map[string]any{"Variables": map[string]any{"A": map[string]any{"Ref": "Zeta"}}}) {
		t.Errorf("Globals %v", got)
	}
	if _, ok := tmpl.Rules["OnlyProd"]; !ok {
		t.Errorf("Rules %v", tmpl.Rules)
	}
	one, four, lo, hi := 1, 4, 1.5, 10.0
	if got, want := tmpl.Parameters["Env"], (Parameter{Type: "String", Default: 7, AllowedValues: []any{"dev", 7},
		MinLength: &one, MaxLength: &four, NoEcho: true, ConstraintDescription: "pick one"}); !reflect.DeepEqual(got, want) {
		t.Errorf("Env %+v", got)
	}
	if got, want := tmpl.Parameters["Size"], (Parameter{Type: "Number", MinValue: &lo, MaxValue: &hi}); !reflect.DeepEqual(got, want) {
		t.Errorf("Size %+v", got)
	}
	alpha := tmpl.Resources["Alpha"]
	if alpha.Type != "AWS::DynamoDB::Table" || alpha.Condition != "IsProd" || !reflect.DeepEqual(alpha.DependsOn, []string{"Zeta"}) ||
		alpha.DeletionPolicy != "RetainExceptOnCreate" || alpha.Metadata["Doc"] != "x" || alpha.UpdatePolicy == nil || alpha.CreationPolicy == nil {
		t.Errorf("Alpha %+v", alpha)
	}
	if got := tmpl.Resources["Mid"].DependsOn; !reflect.DeepEqual(got, []string{"Zeta", "Alpha"}) {
		t.Errorf("Mid.DependsOn %v", got)
	}
	out := tmpl.Outputs["Arn"]
	if out.Description != "the function" || out.Condition != "IsProd" ||
		!reflect.DeepEqual(out.Value, map[string]any{"Fn::GetAtt": []any{"Zeta", "Arn"}}) ||
		!reflect.DeepEqual(out.Export, map[string]any{"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-arn"}}) {
		t.Errorf("Arn %+v", out)
	}
	// Raw is the long-form document the SAM transform works on, Connectors included.
	raw := tmpl.Raw["Resources"].(map[string]any)["Zeta"].(map[string]any)
	if _, ok := raw["Connectors"]; !ok {
		t.Errorf("raw Zeta %v", raw)
	}
}

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		order     []string
	}{
		{"tab indented", "{\n\t\"Resources\": {\n\t\t\"B\": {\"Type\": \"X\", \"Properties\": {\"N\": 1, \"F\": 1.5, \"T\": true, \"Z\": null}},\n\t\t\"A\": {\"Type\": \"X\"}\n\t}\n}\n", []string{"B", "A"}},
		{"BOM", "\uFEFF{\"Resources\": {\"Q\": {\"Type\": \"X\"}}}", []string{"Q"}},
		{"YAML flow map", "{Resources: {B: {Type: X}, A: {Type: X, Properties: {P: !Ref B}}}}", []string{"B", "A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustParse(t, tc.src)
			if !reflect.DeepEqual(tmpl.ResourceOrder, tc.order) {
				t.Fatalf("order %v", tmpl.ResourceOrder)
			}
		})
	}
	tmpl := mustParse(t, "{\"Resources\": {\"B\": {\"Type\": \"X\", \"Properties\": {\"N\": 1, \"F\": 1.5, \"T\": true, \"Z\": null, \"S\": \"1\", \"Big\": 1e400}}}}")
	want := map[string]any{"N": 1, "F": 1.5, "T": true, "Z": nil, "S": "1"}
	if got := tmpl.Resources["B"].Properties; got["Big"] == nil {
		t.Fatalf("Big %v", got["Big"])
	} else if delete(got, "Big"); !reflect.DeepEqual(got, want) {
		t.Fatalf("properties %#v", got)
	}
}

type custom struct{ A int }

func TestFromMap(t *testing.T) {
	raw := map[string]any{
		"Parameters": map[string]any{"Env": map[string]string{"Type": "String", "Default": "dev"}},
		"Resources": map[string]any{
			"Zeta": map[string]any{"Type": "AWS::Lambda::Function", "DependsOn": []string{"Alpha"},
				"Properties": map[string]any{"MemorySize": int64(128), "Timeout": json.Number("3"), "Ratio": float32(0.5),
					"Layers": []string{"arn:a"}, "Tags": []map[string]string{{"Key": "k"}}, "Nil": (*custom)(nil)}},
			"Alpha": map[string]any{"Type": "AWS::IAM::Role"},
		},
	}
	tmpl, err := FromMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tmpl.ResourceOrder, []string{"Alpha", "Zeta"}) {
		t.Errorf("order %v", tmpl.ResourceOrder)
	}
	want := map[string]any{"MemorySize": 128, "Timeout": 3, "Ratio": 0.5, "Layers": []any{"arn:a"},
		"Tags": []any{map[string]any{"Key": "k"}}, "Nil": nil}
	if got := tmpl.Resources["Zeta"].Properties; !reflect.DeepEqual(got, want) {
		t.Errorf("properties %#v", got)
	}
	if tmpl.Parameters["Env"].Default != "dev" || !reflect.DeepEqual(tmpl.Resources["Zeta"].DependsOn, []string{"Alpha"}) {
		t.Errorf("template %+v", tmpl)
	}
	// raw is copied, not shared.
	tmpl.Raw["Resources"].(map[string]any)["Zeta"].(map[string]any)["Type"] = "changed"
	if raw["Resources"].(map[string]any)["Zeta"].(map[string]any)["Type"] != "AWS::Lambda::Function" {
		t.Error("FromMap shares raw")
	}

	for _, tc := range []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"unsupported type", map[string]any{"Resources": map[string]any{"A": map[string]any{"Type": "X", "Properties": map[string]any{"C": custom{}}}}},
			"Resources.A.Properties.C: unsupported value of type cfn.custom"},
		{"non-string keys", map[string]any{"Resources": map[int]any{1: nil}}, "Resources: unsupported value of type map[int]interface {}"},
		{"unknown attribute", map[string]any{"Resources": map[string]any{"A": map[string]any{"Type": "X", "Connectors": map[string]any{}}}},
			"Resources.A.Connectors: Template format error: Invalid resource attribute Connectors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromMap(tc.raw)
			checkErr(t, err, tc.want)
			if e := err.(*Error); e.Line != 0 {
				t.Fatalf("line %d without a source", e.Line)
			}
		})
	}
}
