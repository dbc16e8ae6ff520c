package cfn

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParameters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		decl     string // the parameter Env
		override *string
		want     any
		wantRef  any
		err      string
	}{
		{name: "default", decl: "Type: String\nDefault: dev", want: "dev"},
		{name: "override", decl: "Type: String\nDefault: dev", override: ptr("prod"), want: "prod"},
		{name: "numeric default of a String", decl: "Type: String\nDefault: 5", want: "5"},
		{name: "empty override", decl: "Type: String\nDefault: dev", override: ptr(""), want: ""},
		{name: "missing", decl: "Type: String", err: "Parameters: [Env] must have values"},
		{name: "AllowedValues", decl: "Type: String\nAllowedValues: [dev, prod]", override: ptr("prod"), want: "prod"},
		{name: "AllowedValues violated", decl: "Type: String\nAllowedValues: [dev, prod]", override: ptr("qa"), err: "Parameter 'Env' must be one of AllowedValues"},
		{name: "ConstraintDescription", decl: "Type: String\nAllowedValues: [dev]\nConstraintDescription: dev only", override: ptr("qa"), err: "Parameter 'Env' failed to satisfy constraint: dev only"},
		{name: "AllowedPattern", decl: "Type: String\nAllowedPattern: '[a-z]+'", override: ptr("abc"), want: "abc"},
		{name: "AllowedPattern is a full match", decl: "Type: String\nAllowedPattern: '[a-z]+'", override: ptr("abc1"), err: "Parameter 'Env' must match pattern [a-z]+"},
		{name: "AllowedPattern alternation anchored", decl: "Type: String\nAllowedPattern: 'a|b'", override: ptr("ab"), err: "must match pattern a|b"},
		{name: "AllowedPattern invalid", decl: "Type: String\nAllowedPattern: '(?=x)'", override: ptr("x"), err: "Parameter 'Env' has an AllowedPattern Go cannot use"},
		{name: "MinLength", decl: "Type: String\nMinLength: 3", override: ptr("ab"), err: "Parameter 'Env' must contain at least 3 characters"},
		{name: "MaxLength counts characters", decl: "Type: String\nMaxLength: 3", override: ptr("été"), want: "été"},
		{name: "MaxLength", decl: "Type: String\nMaxLength: 3", override: ptr("abcd"), err: "Parameter 'Env' cannot exceed 3 characters"},
		{name: "Number", decl: "Type: Number\nDefault: 8080", want: 8080.0, wantRef: "8080"},
		{name: "Number float", decl: "Type: Number", override: ptr("0.5"), want: 0.5, wantRef: "0.5"},
		{name: "Number invalid", decl: "Type: Number", override: ptr("ten"), err: "Parameter 'Env' must be a number"},
		{name: "Number NaN", decl: "Type: Number", override: ptr("NaN"), err: "Parameter 'Env' must be a number"},
		{name: "MinValue", decl: "Type: Number\nMinValue: 1", override: ptr("0"), err: "Parameter 'Env' must be a number not less than 1"},
		{name: "MaxValue", decl: "Type: Number\nMaxValue: 10.5", override: ptr("11"), err: "Parameter 'Env' must be a number not greater than 10.5"},
		{name: "Number AllowedValues compare numerically", decl: "Type: Number\nAllowedValues: [1, 2]", override: ptr("2.0"), want: 2.0, wantRef: "2.0"},
		{name: "Number AllowedValues violated", decl: "Type: Number\nAllowedValues: [1, 2]", override: ptr("3"), err: "must be one of AllowedValues"},
		{name: "CommaDelimitedList trims", decl: "Type: CommaDelimitedList\nDefault: 'a, b ,c'", want: []string{"a", "b", "c"}, wantRef: []any{"a", "b", "c"}},
		{name: "CommaDelimitedList empty", decl: "Type: CommaDelimitedList\nDefault: ''", want: []string{""}, wantRef: []any{""}},
		{name: "CommaDelimitedList AllowedValues per item", decl: "Type: CommaDelimitedList\nAllowedValues: [a, b]", override: ptr("a,c"), err: "Parameter 'Env' must be one of AllowedValues"},
		{name: "List<Number>", decl: "Type: List<Number>", override: ptr("1, 2.5"), want: []string{"1", "2.5"}, wantRef: []any{"1", "2.5"}},
		{name: "List<Number> invalid", decl: "Type: List<Number>", override: ptr("1,x"), err: "Parameter 'Env' must be a number"},
		{name: "List<Number> MaxValue", decl: "Type: List<Number>\nMaxValue: 5", override: ptr("1,6"), err: "must be a number not greater than 5"},
		{name: "AWS-specific", decl: "Type: AWS::EC2::VPC::Id", override: ptr("vpc-1"), want: "vpc-1"},
		{name: "AWS-specific list", decl: "Type: List<AWS::EC2::Subnet::Id>", override: ptr("subnet-1,subnet-2"), want: []string{"subnet-1", "subnet-2"}, wantRef: []any{"subnet-1", "subnet-2"}},
		{name: "SSM parameter name", decl: "Type: AWS::SSM::Parameter::Name\nDefault: /app/key", want: "/app/key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustParse(t, "Parameters:\n  Env:\n"+indent(tc.decl, "    ")+"\n"+minimal+"Outputs:\n  E:\n    Value: !Join [',', [!Sub '${Env}']]\n")
			overrides := map[string]string{}
			if tc.override != nil {
				overrides["Env"] = *tc.override
			}
			e, err := NewEvaluator(tmpl, testPseudo, overrides)
			if !checkErr(t, err, tc.err) {
				return
			}
			got, ok := e.Parameter("Env")
			if !ok || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parameter = %#v, want %#v", got, tc.want)
			}
			wantRef := tc.wantRef
			if wantRef == nil {
				wantRef = tc.want
			}
			if ref, err := e.Eval(map[string]any{"Ref": "Env"}, nil, ""); err != nil || !reflect.DeepEqual(ref, wantRef) {
				t.Fatalf("Ref = %#v, %v; want %#v", ref, err, wantRef)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func indent(s, prefix string) string {
	out := prefix
	for _, c := range s {
		out += string(c)
		if c == '\n' {
			out += prefix
		}
	}
	return out
}

func TestParameterResolution(t *testing.T) {
	const ssm = "Parameters:\n  BootstrapVersion:\n    Type: AWS::SSM::Parameter::Value<String>\n    Default: /cdk-bootstrap/hnb659fds/version\n"
	for _, tc := range []struct {
		name, src string
		overrides map[string]string
		err       string
		skipped   []string
	}{
		{name: "all missing listed", src: "Parameters:\n  B: {Type: String}\n  A: {Type: Number}\n  C: {Type: String, Default: x}\n" + minimal,
			err: "Parameters: [A, B] must have values"},
		{name: "undeclared override", src: "Parameters:\n  A: {Type: String, Default: x}\n" + minimal, overrides: map[string]string{"Zed": "1", "Nope": "2"},
			err: "Parameters: [Nope, Zed] do not exist in the template"},
		{name: "SSM unreferenced", src: ssm + minimal + "Rules:\n  Check:\n    Assertions:\n      - Assert: !Not [!Contains [['1'], !Ref BootstrapVersion]]\n",
			skipped: []string{"BootstrapVersion"}},
		{name: "SSM unreferenced with override", src: ssm + minimal, overrides: map[string]string{"BootstrapVersion": "/other"},
			skipped: []string{"BootstrapVersion"}},
		{name: "SSM in a resource", src: ssm + minimal + "    Properties:\n      TopicName: !Ref BootstrapVersion\n",
			err: "Parameters.BootstrapVersion: parameter BootstrapVersion of type AWS::SSM::Parameter::Value<String> is referenced, but the SSM parameter it names was not read (not supported by Sluice)"},
		{name: "SSM in a Sub", src: ssm + minimal + "Outputs:\n  V:\n    Value: !Sub 'v${BootstrapVersion}'\n",
			err: "parameter BootstrapVersion of type AWS::SSM::Parameter::Value<String> is referenced, but the SSM"},
		{name: "SSM in a condition", src: ssm + "Conditions:\n  New: !Equals [!Ref BootstrapVersion, '6']\n" + minimal,
			err: "parameter BootstrapVersion of type AWS::SSM::Parameter::Value<String> is referenced, but the SSM"},
		{name: "SSM as a Sub variable name is not a reference", src: ssm + minimal + "Outputs:\n  V:\n    Value: !Sub ['${BootstrapVersion}', {BootstrapVersion: x}]\n",
			skipped: []string{"BootstrapVersion"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEvaluator(mustParse(t, tc.src), testPseudo, tc.overrides)
			if !checkErr(t, err, tc.err) {
				if unsupported := strings.Contains(tc.err, "SSM"); errors.Is(err, ErrUnsupported) != unsupported {
					t.Fatalf("errors.Is(%v, ErrUnsupported) != %v", err, unsupported)
				}
				return
			}
			if got := e.SkippedParameters(); !reflect.DeepEqual(got, tc.skipped) {
				t.Fatalf("skipped %v, want %v", got, tc.skipped)
			}
			if _, ok := e.Parameter("BootstrapVersion"); ok {
				t.Fatal("a skipped parameter has a value")
			}
		})
	}
}

func TestNoEcho(t *testing.T) {
	e := mustEvaluator(t, mustParse(t, "Parameters:\n  Secret: {Type: String, NoEcho: true, Default: s}\n  Plain: {Type: String, Default: p}\n"+minimal), nil)
	if !e.NoEcho("Secret") || e.NoEcho("Plain") || e.NoEcho("Nope") {
		t.Fatal("NoEcho")
	}
}

func TestConditions(t *testing.T) {
	const params = "Parameters:\n  Env: {Type: String, Default: prod}\n  Port: {Type: Number, Default: 8080}\nMappings:\n  Ports:\n    prod: {Http: 8080}\n"
	for _, tc := range []struct {
		name, conds string
		want        map[string]bool
		err         string
	}{
		{name: "Equals", conds: "IsProd: !Equals [!Ref Env, prod]\nIsDev: !Equals [dev, !Ref Env]",
			want: map[string]bool{"IsProd": true, "IsDev": false}},
		{name: "Equals compares text", conds: "Http: !Equals [!Ref Port, 8080]\nBool: !Equals [true, 'true']",
			want: map[string]bool{"Http": true, "Bool": true}},
		{name: "pseudo parameters", conds: "Ireland: !Equals [!Ref AWS::Region, eu-west-1]\nStack: !Equals [!Sub '${AWS::StackName}-x', orders-x]",
			want: map[string]bool{"Ireland": true, "Stack": true}},
		{name: "FindInMap", conds: "Default: !Equals [!FindInMap [Ports, !Ref Env, Http], !Ref Port]", want: map[string]bool{"Default": true}},
		{name: "Not And Or Condition", conds: "IsProd: !Equals [!Ref Env, prod]\nNotProd: !Not [!Condition IsProd]\n" +
			"Both: !And [!Condition IsProd, !Not [!Condition NotProd]]\nEither: !Or [!Condition NotProd, !Equals [a, a]]\nAlias: {Condition: Both}",
			want: map[string]bool{"IsProd": true, "NotProd": false, "Both": true, "Either": true, "Alias": true}},
		{name: "Or of ten", conds: "Ten: !Or [!Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, a]]",
			want: map[string]bool{"Ten": true}},
		{name: "And of one", conds: "One: !And [!Equals [a, a]]", err: "Conditions.One: Template format error: Fn::And takes a list of 2 to 10 conditions"},
		{name: "Or of eleven", conds: "Eleven: !Or [!Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, b], !Equals [a, a]]",
			err: "Fn::Or takes a list of 2 to 10 conditions"},
		{name: "Not of two", conds: "X: !Not [!Equals [a, a], !Equals [a, a]]", err: "Conditions.X: Template format error: Fn::Not takes a list of one condition"},
		{name: "Equals of three", conds: "X: !Equals [a, a, a]", err: "Conditions.X: Template format error: Fn::Equals takes a list of two values"},
		{name: "cycle", conds: "A: !Not [!Condition B]\nB: !And [!Equals [a, a], !Condition C]\nC: !Condition A",
			err: "Template format error: Circular dependency between conditions: [A, B, C]"},
		{name: "self cycle", conds: "A: !Or [!Condition A, !Equals [a, a]]", err: "Circular dependency between conditions: [A]"},
		{name: "unknown condition", conds: "A: !Not [!Condition Nope]", err: "Conditions.A.Fn::Not[0]: Template format error: Unresolved condition dependency Nope"},
		{name: "resource reference", conds: "A: !Equals [!Ref Topic, x]", err: "Conditions.A.Fn::Equals[0]: Template format error: Unresolved dependencies [Topic]. Cannot reference resources in the Conditions block of the template"},
		{name: "GetAtt", conds: "A: !Equals [!GetAtt Topic.Arn, x]", err: "Cannot reference resources in the Conditions block"},
		{name: "Sub of a resource", conds: "A: !Equals [!Sub '${Topic}', x]", err: "Cannot reference resources in the Conditions block"},
		{name: "If", conds: "B: !Equals [a, a]\nA: !Equals [!If [B, x, y], x]", err: "Conditions.A.Fn::Equals[0]: Fn::If cannot be used in the Conditions section"},
		{name: "not a function", conds: "A: true", err: "Conditions.A: Template format error: a condition must be Fn::Equals"},
		{name: "If as condition", conds: "A: !If [B, x, y]", err: "Conditions.A: Template format error: Fn::If is not a condition function"},
		{name: "Condition not a name", conds: "A: {Condition: [B]}", err: "Conditions.A: Template format error: Condition takes the name of a condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustParse(t, params+"Conditions:\n"+indent(tc.conds, "  ")+"\n"+minimal)
			e, err := NewEvaluator(tmpl, testPseudo, nil)
			if !checkErr(t, err, tc.err) {
				return
			}
			for name, want := range tc.want {
				if got, err := e.Condition(name); err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", name, got, err, want)
				}
			}
		})
	}
}

func TestIncluded(t *testing.T) {
	tmpl := mustParse(t, `Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Always: {Type: AWS::SNS::Topic}
  ProdOnly: {Type: AWS::SNS::Topic, Condition: IsProd}
`)
	for _, tc := range []struct {
		env, id string
		want    bool
		err     string
	}{
		{"dev", "Always", true, ""},
		{"dev", "ProdOnly", false, ""},
		{"prod", "ProdOnly", true, ""},
		{"dev", "Nope", false, "resource Nope is not in the template"},
	} {
		t.Run(tc.env+"/"+tc.id, func(t *testing.T) {
			e := mustEvaluator(t, tmpl, map[string]string{"Env": tc.env})
			got, err := e.Included(tc.id)
			if checkErr(t, err, tc.err) && got != tc.want {
				t.Fatalf("Included = %v", got)
			}
		})
	}
	e := mustEvaluator(t, tmpl, nil)
	if _, err := e.Condition("Nope"); err == nil {
		t.Fatal("unknown condition")
	}
}

// TestSSMParameterValues: SSM-typed parameters name SSM parameters (the override, else the Default); given their
// values, Ref answers them — a string, or a list for the list types — whoever refers to them.
func TestSSMParameterValues(t *testing.T) {
	src := `Parameters:
  Version:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cdk-bootstrap/hnb659fds/version
    AllowedPattern: "/.*"
  Subnets:
    Type: AWS::SSM::Parameter::Value<List<String>>
  Zones:
    Type: AWS::SSM::Parameter::Value<CommaDelimitedList>
    Default: /zones
  Unused:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /unused
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "v${Version}"
      Subnets: !Ref Subnets
      First: !Select [0, !Ref Zones]
`
	tmpl := mustParse(t, src)
	overrides := map[string]string{"Subnets": "/net/subnets"}
	got := SSMParameters(tmpl, overrides)
	want := []SSMParameter{
		{Parameter: "Subnets", Type: "AWS::SSM::Parameter::Value<List<String>>", Name: "/net/subnets", Referenced: true},
		{Parameter: "Unused", Type: "AWS::SSM::Parameter::Value<String>", Name: "/unused"},
		{Parameter: "Version", Type: "AWS::SSM::Parameter::Value<String>", Name: "/cdk-bootstrap/hnb659fds/version", Referenced: true},
		{Parameter: "Zones", Type: "AWS::SSM::Parameter::Value<CommaDelimitedList>", Name: "/zones", Referenced: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SSMParameters:\n got %+v\nwant %+v", got, want)
	}
	// The declaration's AllowedPattern is the name's: the value "21" does not have to match it.
	e, err := NewEvaluatorWith(tmpl, testPseudo, overrides, map[string]string{"Version": "21", "Subnets": "subnet-1, subnet-2", "Zones": "a,b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.SkippedParameters(); !reflect.DeepEqual(got, []string{"Unused"}) {
		t.Errorf("skipped %v", got)
	}
	props, err := e.Eval(tmpl.Resources["Topic"].Properties, fakeRefs{}, "Resources.Topic.Properties")
	if err != nil {
		t.Fatal(err)
	}
	wantProps := map[string]any{"TopicName": "v21", "Subnets": []any{"subnet-1", "subnet-2"}, "First": "a"}
	if !reflect.DeepEqual(props, wantProps) {
		t.Errorf("properties %v, want %v", props, wantProps)
	}
	if _, err := NewEvaluatorWith(tmpl, testPseudo, overrides, map[string]string{"Version": "21", "Subnets": "s"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a referenced parameter without its value: %v", err)
	}
}
