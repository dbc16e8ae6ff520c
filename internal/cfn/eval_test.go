package cfn

import (
	"errors"
	"reflect"
	"testing"
)

const evalTemplate = `Parameters:
  Env: {Type: String, Default: prod}
  Port: {Type: Number, Default: 8080}
  Subnets: {Type: CommaDelimitedList, Default: "a, b ,c"}
  Index: {Type: String, Default: "1"}
  Attr: {Type: String, Default: StreamArn}
Mappings:
  Regions:
    eu-west-1: {Ami: ami-1, Zones: [x, y]}
    "123": {Name: numeric}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Fn: {Type: AWS::Lambda::Function}
  Broken: {Type: AWS::SNS::Topic}
  Dev: {Type: AWS::SNS::Topic, Condition: IsDev}
`

func TestEval(t *testing.T) {
	e := mustEvaluator(t, mustParse(t, evalTemplate), nil)
	for _, tc := range []struct {
		name, in string // YAML
		want     any
		err      string
	}{
		// Ref
		{name: "Ref parameter", in: `!Ref Env`, want: "prod"},
		{name: "Ref Number is text", in: `!Ref Port`, want: "8080"},
		{name: "Ref list", in: `!Ref Subnets`, want: []any{"a", "b", "c"}},
		{name: "Ref resource", in: `!Ref Table`, want: "ref-Table"},
		{name: "Ref pseudo parameters", in: `[!Ref AWS::Region, !Ref AWS::AccountId, !Ref AWS::StackName, !Ref AWS::StackId, !Ref AWS::Partition, !Ref AWS::URLSuffix, !Ref AWS::NotificationARNs]`,
			want: []any{"eu-west-1", "123456789012", "orders", "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/8f2c", "aws", "amazonaws.com", []any{}}},
		{name: "Ref unknown", in: `!Ref Nope`, err: "X: Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"},
		{name: "Ref excluded resource", in: `!Ref Dev`, err: "X: Template format error: Unresolved resource dependencies [Dev]"},
		{name: "Ref not a string", in: `{Ref: [Env]}`, err: "X: Template format error: Every Ref object must have a single String value."},
		{name: "Ref failing resource", in: `{a: [!Ref Broken]}`, err: "X.a[0]: resource Broken failed to create"},
		// Fn::GetAtt
		{name: "GetAtt", in: `!GetAtt Table.Arn`, want: "arn-Table.Arn"},
		{name: "GetAtt dotted attribute", in: `!GetAtt Table.Endpoint.Address`, want: "arn-Table.Endpoint.Address"},
		{name: "GetAtt long string form", in: `{Fn::GetAtt: Table.Arn}`, want: "arn-Table.Arn"},
		{name: "GetAtt attribute from Ref", in: `!GetAtt [Table, !Ref Attr]`, want: "arn-Table.StreamArn"},
		{name: "GetAtt list value", in: `!GetAtt Fn.AZs`, want: []any{"az1", "az2"}},
		{name: "GetAtt undefined", in: `!GetAtt Nope.Arn`, err: "X: Template error: instance of Fn::GetAtt references undefined resource Nope"},
		{name: "GetAtt parameter", in: `!GetAtt [Env, Arn]`, err: "instance of Fn::GetAtt references undefined resource Env"},
		{name: "GetAtt excluded", in: `!GetAtt Dev.Arn`, err: "Unresolved resource dependencies [Dev]"},
		{name: "GetAtt one argument", in: `{Fn::GetAtt: [Table]}`, err: "X: Template error: every Fn::GetAtt object requires two non-empty parameters"},
		{name: "GetAtt no dot", in: `{Fn::GetAtt: Table}`, err: "requires two non-empty parameters"},
		{name: "GetAtt attribute not a string", in: `!GetAtt [Table, [Arn]]`, err: "X: Fn::GetAtt attribute name must be a string"},
		{name: "GetAtt failing resource", in: `!GetAtt Broken.Arn`, err: "resource Broken failed to create"},
		// Fn::Sub
		{name: "Sub", in: `!Sub "${Env}-${AWS::Region}-${Table}-${Table.Arn}-${Port}-${!Literal}-$${Env}"`,
			want: "prod-eu-west-1-ref-Table-arn-Table.Arn-8080-${Literal}-$prod"},
		{name: "Sub without variables", in: `!Sub plain`, want: "plain"},
		{name: "Sub unterminated and empty", in: `!Sub "a ${ b ${} c"`, want: "a ${ b ${} c"},
		{name: "Sub list form", in: `!Sub ["${A}/${Env}/${B.C}", {A: !Ref Table, B.C: !Join ["", [x, y]]}]`, want: "ref-Table/prod/xy"},
		{name: "Sub variable shadows a resource", in: `!Sub ["${Table}", {Table: mine}]`, want: "mine"},
		{name: "Sub unknown", in: `!Sub "${Nope}"`, err: "X: Template format error: Unresolved resource dependencies [Nope]"},
		{name: "Sub attribute of unknown", in: `!Sub "${Nope.Arn}"`, err: "instance of Fn::GetAtt references undefined resource Nope"},
		{name: "Sub list parameter", in: `!Sub "${Subnets}"`, err: "X: Fn::Sub: ${Subnets} does not resolve to a string"},
		{name: "Sub NoValue", in: `!Sub "${AWS::NoValue}"`, err: "${AWS::NoValue} does not resolve to a string"},
		{name: "Sub bad arguments", in: `!Sub [a]`, err: "X: Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments"},
		{name: "Sub variable error has its path", in: `!Sub ["${A}", {A: !Select [9, []]}]`, err: "X.Fn::Sub[1].A: Fn::Select index 9 out of range"},
		// Fn::Join
		{name: "Join", in: `!Join [",", [a, !Ref Env, 3, true]]`, want: "a,prod,3,true"},
		{name: "Join a list function", in: `!Join [":", !Ref Subnets]`, want: "a:b:c"},
		{name: "Join drops NoValue", in: `!Join [",", [a, !Ref AWS::NoValue, !If [IsDev, x, !Ref AWS::NoValue], b]]`, want: "a,b"},
		{name: "Join empty", in: `!Join [",", []]`, want: ""},
		{name: "Join not a list", in: `!Join [",", abc]`, err: "X: Fn::Join values must be a list"},
		{name: "Join map item", in: `!Join [",", [{a: b}]]`, err: "X: Fn::Join: item 0 is not a string"},
		{name: "Join arity", in: `!Join [","]`, err: "X: Template error: every Fn::Join object requires two parameters"},
		{name: "Join list delimiter", in: `!Join [[a], [b]]`, err: "X: Fn::Join delimiter must be a string"},
		// Fn::Select
		{name: "Select", in: `!Select [1, !Ref Subnets]`, want: "b"},
		{name: "Select string index", in: `!Select ["2", [a, b, c]]`, want: "c"},
		{name: "Select index from Ref", in: `!Select [!Ref Index, [x, y]]`, want: "y"},
		{name: "Select a map", in: `!Select [0, [{k: !Ref Env}]]`, want: map[string]any{"k": "prod"}},
		{name: "Select out of range", in: `!Select [3, [a, b, c]]`, err: "X: Fn::Select index 3 out of range"},
		{name: "Select negative", in: `!Select [-1, [a]]`, err: "X: Fn::Select index -1 out of range"},
		{name: "Select bad index", in: `!Select [first, [a]]`, err: "X: Fn::Select index first is not an integer"},
		{name: "Select float index", in: `!Select [0.5, [a]]`, err: "Fn::Select index 0.5 is not an integer"},
		{name: "Select not a list", in: `!Select [0, a]`, err: "X: Fn::Select list must be a list"},
		// Fn::Split
		{name: "Split", in: `!Split [",", "a,,b"]`, want: []any{"a", "", "b"}},
		{name: "Split a Ref", in: `!Select [1, !Split ["-", !Sub "${AWS::Region}"]]`, want: "west"},
		{name: "Split empty delimiter", in: `!Split ["", abc]`, err: "X: Fn::Split delimiter must not be empty"},
		{name: "Split a list", in: `!Split [",", !Ref Subnets]`, err: "X: Fn::Split source must be a string"},
		// Fn::If
		{name: "If true", in: `!If [IsProd, !Ref Env, no]`, want: "prod"},
		{name: "If false", in: `!If [IsDev, yes, {n: 1}]`, want: map[string]any{"n": 1}},
		{name: "If untaken branch is not evaluated", in: `!If [IsDev, !Ref Dev, none]`, want: "none"},
		{name: "If unknown condition", in: `!If [Nope, a, b]`, err: "X: Template format error: Unresolved condition dependency Nope in Fn::If"},
		{name: "If arity", in: `!If [IsProd, a]`, err: "X: Template error: Fn::If requires a list argument with three elements"},
		{name: "If condition not a name", in: `!If [!Equals [a, a], a, b]`, err: "Fn::If requires a condition name"},
		// Fn::FindInMap
		{name: "FindInMap", in: `!FindInMap [Regions, !Ref AWS::Region, Ami]`, want: "ami-1"},
		{name: "FindInMap list", in: `!FindInMap [Regions, eu-west-1, Zones]`, want: []any{"x", "y"}},
		{name: "FindInMap numeric key", in: `!FindInMap [Regions, 123, Name]`, want: "numeric"},
		{name: "FindInMap nested", in: `!FindInMap [Regions, !Select [0, [eu-west-1]], !FindInMap [Regions, 123, Name]]`, err: "Unable to get mapping for Regions::eu-west-1::numeric"},
		{name: "FindInMap missing", in: `!FindInMap [Regions, us-east-1, Ami]`, err: "X: Template error: Unable to get mapping for Regions::us-east-1::Ami"},
		{name: "FindInMap unknown map", in: `!FindInMap [Nope, a, b]`, err: "Unable to get mapping for Nope::a::b"},
		{name: "FindInMap DefaultValue", in: `!FindInMap [Regions, us-east-1, Ami, {DefaultValue: !Ref Env}]`, want: "prod"},
		{name: "FindInMap key not a string", in: `!FindInMap [Regions, !Ref Subnets, Ami]`, err: "X: Fn::FindInMap key must be a string"},
		{name: "GetAZs list", in: `!GetAZs [a]`, err: "X: Fn::GetAZs region must be a string"},
		{name: "FindInMap arity", in: `!FindInMap [Regions, a]`, err: "X: Template error: Fn::FindInMap requires"},
		// Fn::Base64, Fn::GetAZs, Fn::Length, Fn::ToJsonString
		{name: "Base64", in: `!Base64 hello`, want: "aGVsbG8="},
		{name: "Base64 of Sub", in: `!Base64 {Fn::Sub: "${Env}"}`, want: "cHJvZA=="},
		{name: "Base64 of a list", in: `!Base64 [a]`, err: "X: Fn::Base64 argument must be a string"},
		{name: "GetAZs", in: `!GetAZs ""`, want: []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{name: "GetAZs region", in: `!GetAZs us-east-1`, want: []any{"us-east-1a", "us-east-1b", "us-east-1c"}},
		{name: "GetAZs Ref", in: `!Select [0, !GetAZs {Ref: AWS::Region}]`, want: "eu-west-1a"},
		{name: "Length", in: `{Fn::Length: !Ref Subnets}`, want: 3},
		{name: "Length literal", in: `!Length [a, !Ref AWS::NoValue, b]`, want: 2},
		{name: "Length not a list", in: `!Length abc`, err: "X: Fn::Length argument must be a list"},
		{name: "ToJsonString", in: `{Fn::ToJsonString: {b: 1, a: [x, !Ref Env], u: "<&>", n: !Ref AWS::NoValue}}`, want: `{"a":["x","prod"],"b":1,"u":"<&>"}`},
		{name: "ToJsonString scalar", in: `{Fn::ToJsonString: abc}`, err: "X: Fn::ToJsonString takes a map or a list"},
		// Refused functions
		{name: "Equals", in: `!Equals [a, a]`, err: "X: Fn::Equals can only be used in the Conditions section"},
		{name: "Not", in: `{p: !Not [!Condition IsProd]}`, err: "X.p: Fn::Not can only be used in the Conditions section"},
		{name: "ImportValue", in: `{p: [!ImportValue Shared-Vpc]}`, err: "X.p[0]: Fn::ImportValue is not supported by Sluice"},
		{name: "Cidr", in: `!Cidr [10.0.0.0/16, 4, 8]`, err: "X: Fn::Cidr is not supported by Sluice"},
		{name: "Transform", in: `!Transform {Name: AWS::Include}`, err: "X: Fn::Transform is not supported by Sluice"},
		{name: "unknown function", in: `{Fn::Bogus: 1}`, err: "X: Template format error: Encountered unsupported function: Fn::Bogus"},
		// Structure
		{name: "NoValue removal", in: `{a: !Ref AWS::NoValue, b: [1, !If [IsDev, x, !Ref AWS::NoValue], {c: !Ref AWS::NoValue}], d: {e: 1.5}}`,
			want: map[string]any{"b": []any{1, map[string]any{}}, "d": map[string]any{"e": 1.5}}},
		{name: "NoValue at the top", in: `!If [IsDev, x, !Ref AWS::NoValue]`, want: nil},
		{name: "policy Condition is data", in: `{Condition: {StringEquals: {"aws:SourceAccount": !Ref AWS::AccountId}}}`,
			want: map[string]any{"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}}},
		{name: "Condition name is data", in: `{Condition: IsProd}`, want: map[string]any{"Condition": "IsProd"}},
		{name: "Ref among other keys is data", in: `{Ref: Env, Other: 1}`, want: map[string]any{"Ref": "Env", "Other": 1}},
		{name: "nested error path", in: `{Variables: {TABLE: !Join ["", [!Select [5, [a]]]]}}`, err: "X.Variables.TABLE.Fn::Join[1][0]: Fn::Select index 5 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Eval(yamlValue(t, tc.in), fakeRefs{}, "X")
			if checkErr(t, err, tc.err) && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	e := mustEvaluator(t, mustParse(t, evalTemplate), nil)
	_, err := e.Eval(yamlValue(t, `!GetAtt Broken.Arn`), fakeRefs{}, "")
	if !errors.Is(err, errBroken) {
		t.Errorf("%v does not wrap the Refs error", err)
	}
	if _, err := e.Eval(yamlValue(t, `!ImportValue x`), fakeRefs{}, ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("%v does not wrap ErrUnsupported", err)
	}
	_, err = e.Eval(yamlValue(t, `!Ref Table`), nil, "P")
	checkErr(t, err, "P: reference to resource Table, but no resource values are available")
}

func TestEvalCopies(t *testing.T) {
	e := mustEvaluator(t, mustParse(t, evalTemplate), nil)
	in := yamlValue(t, `{list: [a, {b: c}], zones: !FindInMap [Regions, eu-west-1, Zones], subnets: !Ref Subnets}`)
	before := copyValue(in)
	got, err := e.Eval(in, fakeRefs{}, "")
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	m["list"].([]any)[1].(map[string]any)["b"] = "changed"
	m["zones"].([]any)[0] = "changed"
	m["subnets"].([]any)[0] = "changed"
	if !reflect.DeepEqual(in, before) {
		t.Errorf("input changed: %v", in)
	}
	if again, _ := e.Eval(in, fakeRefs{}, ""); !reflect.DeepEqual(again, map[string]any{
		"list": []any{"a", map[string]any{"b": "c"}}, "zones": []any{"x", "y"}, "subnets": []any{"a", "b", "c"}}) {
		t.Errorf("mappings or parameters changed: %v", again)
	}
	if p, _ := e.Parameter("Subnets"); !reflect.DeepEqual(p, []string{"a", "b", "c"}) {
		t.Errorf("Parameter %v", p)
	}
}

func TestEvalNormalizes(t *testing.T) {
	e := mustEvaluator(t, mustParse(t, evalTemplate), nil)
	got, err := e.Eval(map[string]any{"a": []string{"x"}, "b": map[string]int64{"n": 1}}, nil, "")
	if err != nil || !reflect.DeepEqual(got, map[string]any{"a": []any{"x"}, "b": map[string]any{"n": 1}}) {
		t.Fatalf("%#v, %v", got, err)
	}
}

func TestSubParts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []subPart
	}{
		{"", nil},
		{"plain", []subPart{{text: "plain"}}},
		{"${A}", []subPart{{text: "A", isVar: true}}},
		{"x${A}y${B.C}", []subPart{{text: "x"}, {text: "A", isVar: true}, {text: "y"}, {text: "B.C", isVar: true}}},
		{"${!A}${A}", []subPart{{text: "${A}"}, {text: "A", isVar: true}}},
		{"${}${", []subPart{{text: "${}${"}}},
		{"${ a ${B}", []subPart{{text: "${ a "}, {text: "B", isVar: true}}},
	} {
		if got := subParts(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("subParts(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
