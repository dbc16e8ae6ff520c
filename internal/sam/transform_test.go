package sam

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// tpl decodes a JSON template literal.
func tpl(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test template: %v\n%s", err, s)
	}
	return m
}

// samTemplate wraps resources (a JSON object body) in a SAM template.
func samTemplate(t *testing.T, resources string) map[string]any {
	t.Helper()
	return tpl(t, `{"Transform": "AWS::Serverless-2016-10-31", "Resources": {`+resources+`}}`)
}

// fn is a minimal valid function with extra properties (a JSON object body, possibly empty).
func fn(extra string) string {
	props := `"CodeUri": "src/", "Handler": "app.handler", "Runtime": "python3.12"`
	if extra != "" {
		props += ", " + extra
	}
	return `{"Type": "AWS::Serverless::Function", "Properties": {` + props + `}}`
}

func resource(t *testing.T, out map[string]any, id string) map[string]any {
	t.Helper()
	r, ok := out["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s among %v", id, sortedKeys(out["Resources"].(map[string]any)))
	}
	return r
}

func props(t *testing.T, out map[string]any, id string) map[string]any {
	t.Helper()
	return resource(t, out, id)["Properties"].(map[string]any)
}

// versionID returns the logical ID of the function's Version.
func versionID(t *testing.T, out map[string]any, fn string) string {
	t.Helper()
	for id, r := range out["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == "AWS::Lambda::Version" && strings.HasPrefix(id, fn+"Version") {
			return id
		}
	}
	t.Fatalf("no version of %s", fn)
	return ""
}

func TestIsServerless(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transform any
		want      bool
	}{
		{"String", "AWS::Serverless-2016-10-31", true},
		{"List", []any{"AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"}, true},
		{"StringList", []string{"AWS::Serverless-2016-10-31"}, true},
		{"Other", "AWS::LanguageExtensions", false},
		{"OtherVersion", "AWS::Serverless-2015-01-01", false},
		{"None", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{"Resources": map[string]any{}}
			if tc.transform != nil {
				m["Transform"] = tc.transform
			}
			if got := IsServerless(m); got != tc.want {
				t.Errorf("IsServerless = %v, want %v", got, tc.want)
			}
		})
	}
}

// Ensure every refusal and invalid template is an *Error naming the resource, with ErrUnsupported for refusals.
func TestTransformErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		template    string // whole template, or resources only when it does not start with {
		want        string // the error message, or a part of it
		unsupported bool
	}{
		{"Events", `"OrdersFunction": ` + fn(`"Events": {"Api": {"Type": "Api", "Properties": {"Path": "/", "Method": "get"}}}`),
			"OrdersFunction: property Events is not supported by sluice deploy yet", true},
		{"FunctionUrlConfigAuthType", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "OPEN"}`),
			"Fn: AuthType is required to configure function property `FunctionUrlConfig`. Please provide either AWS_IAM or NONE.", false},
		{"FunctionUrlConfigNoAuthType", `"Fn": ` + fn(`"FunctionUrlConfig": {}`),
			"Fn: AuthType is required to configure function property `FunctionUrlConfig`", false},
		{"FunctionUrlConfigNotMap", `"Fn": ` + fn(`"FunctionUrlConfig": {"Ref": "Url"}`),
			"Fn: FunctionUrlConfig must be a map", false},
		{"FunctionUrlConfigUnknown", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Auth": "NONE"}`),
			"Fn: FunctionUrlConfig has unknown property Auth", false},
		{"FunctionUrlConfigCorsNotMap", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Cors": ["*"]}`),
			"Fn: Property 'FunctionUrlConfig.Cors' should be a map.", false},
		{"FunctionUrlConfigCorsUnknown", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Cors": {"AllowOrigin": ["*"]}}`),
			"Fn: AllowOrigin is not a valid property for configuring Cors.", false},
		{"FunctionUrlConfigCorsList", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Cors": {"AllowOrigins": "*"}}`),
			"Fn: AllowOrigins must be of type list.", false},
		{"FunctionUrlConfigCorsMaxAge", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Cors": {"MaxAge": 1.5}}`),
			"Fn: MaxAge must be of type int.", false},
		{"FunctionUrlConfigCorsCredentials", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE", "Cors": {"AllowCredentials": "yes"}}`),
			"Fn: AllowCredentials must be of type bool.", false},
		{"FunctionUrlCollides", `"Fn": ` + fn(`"FunctionUrlConfig": {"AuthType": "NONE"}`) + `, "FnUrl": {"Type": "AWS::SNS::Topic"}`,
			"Fn: generated resource FnUrl collides with resource FnUrl of the template", false},
		{"DurableConfig", `"Fn": ` + fn(`"DurableConfig": {}`), "Fn: property DurableConfig", true},
		{"Api", `"MyApi": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod"}}`,
			"MyApi: type AWS::Serverless::Api is not supported by sluice deploy yet", true},
		{"SimpleTable", `"T": {"Type": "AWS::Serverless::SimpleTable"}`, "T: type AWS::Serverless::SimpleTable", true},
		{"LayerVersion", `"L": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer/"}}`,
			"L: type AWS::Serverless::LayerVersion", true},
		{"StateMachine", `"S": {"Type": "AWS::Serverless::StateMachine"}`, "S: type AWS::Serverless::StateMachine", true},
		{"Connectors", `"Fn": {"Type": "AWS::Serverless::Function", "Connectors": {}, "Properties": {"CodeUri": "src/", "Handler": "h", "Runtime": "python3.12"}}`,
			"Fn: resource attribute Connectors", true},
		{"UnknownProperty", `"Fn": ` + fn(`"Colour": "blue"`), "Fn: unknown property Colour", false},
		{"PolicyTemplate", `"Fn": ` + fn(`"Policies": ["AWSLambdaExecute", {"AMIDescribePolicy": {}}]`),
			"Fn: policy template AMIDescribePolicy (Policies[1]) is not supported by sluice deploy yet", true},
		{"PolicyTemplateParameters", `"Fn": ` + fn(`"Policies": [{"DynamoDBCrudPolicy": {}}]`),
			"don't have values: TableName", false},
		{"PolicyIf", `"Fn": ` + fn(`"Policies": [{"Fn::If": ["C", "AWSLambdaExecute", {"Ref": "AWS::NoValue"}]}]`),
			"Fn: Fn::If in Policies[0]", true},
		{"PolicyNotValid", `"Fn": ` + fn(`"Policies": [{"A": 1, "B": 2}]`),
			"policy at index 0 in the 'Policies' property is not valid", false},
		{"DeploymentPreferenceWithoutAlias", `"Fn": ` + fn(`"DeploymentPreference": {"Type": "AllAtOnce"}`),
			"Fn: 'DeploymentPreference' requires AutoPublishAlias property to be specified.", false},
		{"DeploymentPreferenceWithoutType", `"Fn": ` + fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Alarms": []}`),
			"'DeploymentPreference' is missing required Property 'Type'", false},
		{"DeploymentPreferenceUnknownKey", `"Fn": ` + fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Type": "AllAtOnce", "Hook": {}}`),
			"DeploymentPreference has unknown property Hook", false},
		{"EnabledUnresolved", `"Fn": ` + fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Type": "AllAtOnce", "Enabled": {"Ref": "Nope"}}`),
			"DeploymentPreference.Enabled must be", false},
		{"AlarmsNotList", `"Fn": ` + fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Type": "AllAtOnce", "Alarms": "a"}`),
			"Fn: Alarms must be a list", false},
		{"NoCode", `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "h", "Runtime": "python3.12"}}`,
			"Fn: either 'InlineCode' or 'CodeUri' must be set", false},
		{"BothCodes", `"Fn": ` + fn(`"InlineCode": "x"`), "only one of 'InlineCode' or 'CodeUri'", false},
		{"HTTPCodeUri", `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "https://example.com/a.zip", "Handler": "h", "Runtime": "python3.12"}}`,
			"is not a valid S3 Uri", false},
		{"NoRuntime", `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src/", "Handler": "h"}}`,
			"Runtime and Handler needs to be present", false},
		{"NumericAlias", `"Fn": ` + fn(`"AutoPublishAlias": "123"`), "AutoPublishAlias name ('123')", false},
		{"DottedAlias", `"Fn": ` + fn(`"AutoPublishAlias": "a.b"`), "AutoPublishAlias name ('a.b')", false},
		{"AliasNotResolved", `"Fn": ` + fn(`"AutoPublishAlias": {"Ref": "Missing"}`),
			"'AutoPublishAlias' must be a string or a Ref to a template parameter", false},
		{"ProvisionedWithoutAlias", `"Fn": ` + fn(`"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 1}`),
			"To set ProvisionedConcurrencyConfig AutoPublishAlias must be defined", false},
		{"VersionDescriptionWithoutAlias", `"Fn": ` + fn(`"VersionDescription": "v"`), "VersionDescription requires AutoPublishAlias", false},
		{"ReservedTag", `"Fn": ` + fn(`"Tags": {"lambda:createdBy": "me"}`), "lambda:createdBy is a reserved Tag key", false},
		{"PoliciesWithRole", `"Fn": ` + fn(`"Role": "arn:aws:iam::1:role/r", "Policies": ["AWSLambdaExecute"]`),
			"property Policies has no effect when Role is given", false},
		{"RoleIfNoValue", `"Fn": ` + fn(`"Role": {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, "arn:aws:iam::1:role/r"]}`),
			"Fn: Role with an Fn::If branch of AWS::NoValue", true},
		{"DLQType", `"Fn": ` + fn(`"DeadLetterQueue": {"Type": "Kinesis", "TargetArn": "arn"}`), "requires Type of SQS or SNS", false},
		{"DestinationRequired", `"Fn": ` + fn(`"EventInvokeConfig": {"DestinationConfig": {"OnFailure": {"Type": "Lambda"}}}`),
			"Destination is required if Type is not SQS or SNS", false},
		{"DestinationType", `"Fn": ` + fn(`"EventInvokeConfig": {"DestinationConfig": {"OnFailure": {"Type": "Kafka"}}}`),
			"'Type: Kafka' must be one of", false},
		{"GeneratedCollides", `"Fn": ` + fn(``) + `, "FnRole": {"Type": "AWS::SNS::Topic"}`,
			"Fn: generated resource FnRole collides with resource FnRole of the template", false},
		{"GeneratedCollidesAcrossFunctions", `"A": ` + fn(`"AutoPublishAlias": "Role"`) + `, "AAlias": ` + fn(``),
			"AAlias: generated resource AAliasRole collides with one generated from A", false},
		{"ApplicationCollides", `"Fn": ` + fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Type": "AllAtOnce"}`) + `, "ServerlessDeploymentApplication": {"Type": "AWS::SNS::Topic"}`,
			"ServerlessDeploymentApplication: the logical ID SAM generates for CodeDeploy is taken", false},
		{"AliasRefWithoutAlias", `"Fn": ` + fn(``) + `, "T": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Fn.Alias"}}}`,
			"Fn: Fn.Alias is referenced but Fn generates no Alias", false},
		{"OtherTransform", `{"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], "Resources": {}}`,
			"Transform: transform AWS::LanguageExtensions is not supported by sluice deploy yet", true},
		{"GlobalsSection", `{"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Lambda": {}}, "Resources": {}}`,
			`Globals: section "Lambda" is not supported`, false},
		{"GlobalsProperty", `{"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Function": {"FunctionName": "x"}}, "Resources": {}}`,
			`Globals: "FunctionName" is not a supported property of Function`, false},
		{"GlobalsRefusedProperty", `{"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Function": {"DurableConfig": {}}}, "Resources": {"Fn": ` + fn(``) + `}}`,
			"Fn: property DurableConfig is not supported", true},
		{"IgnoreGlobalsUnknown", `{"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Function": {"Timeout": 3}}, "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "IgnoreGlobals": ["MemorySize"], "Properties": {"CodeUri": "src/", "Handler": "h", "Runtime": "python3.12"}}}}`,
			"invalid resource attribute IgnoreGlobals", false},
		{"WithoutTransform", `{"Resources": {"Fn": ` + fn(``) + `}}`,
			"Fn: type AWS::Serverless::Function needs Transform AWS::Serverless-2016-10-31", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in map[string]any
			if strings.HasPrefix(tc.template, "{") {
				in = tpl(t, tc.template)
			} else {
				in = samTemplate(t, tc.template)
			}
			out, err := Transform(in, Options{})
			if err == nil {
				t.Fatalf("Transform succeeded: %v", sortedKeys(out["Resources"].(map[string]any)))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is no *Error", err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tc.unsupported)
			}
			if out != nil {
				t.Error("a template was returned with the error")
			}
		})
	}
}

// Ensure every faulty resource is reported, in logical ID order.
func TestTransformReportsAllErrors(t *testing.T) {
	in := samTemplate(t, `"B": `+fn(`"Events": {}`)+`, "A": {"Type": "AWS::Serverless::HttpApi"}, "C": `+fn(``))
	_, err := Transform(in, Options{})
	want := "A: type AWS::Serverless::HttpApi is not supported by sluice deploy yet\n" +
		"B: property Events is not supported by sluice deploy yet"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// Ensure Transform leaves its input alone.
func TestTransformDoesNotModifyInput(t *testing.T) {
	for _, fixture := range fixtures(t) {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			in := readJSON(t, fixture)
			before := readJSON(t, fixture)
			out, err := Transform(in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("the input template changed")
			}
			// Nor does the output share maps with it.
			out["Resources"].(map[string]any)["Added"] = true
			for _, r := range out["Resources"].(map[string]any) {
				if m, ok := r.(map[string]any); ok {
					m["Type"] = "Changed"
				}
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("the output shares values with the input")
			}
		})
	}
}

func TestTransformWithoutSAM(t *testing.T) {
	in := tpl(t, `{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}`)
	out, err := Transform(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %v, want a copy of %v", out, in)
	}
}

// Ensure the Code property takes the form the deploy engine expects for each CodeUri form.
func TestCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   string // the code properties of the function
		params map[string]any
		want   any
	}{
		{"LocalDir", `"CodeUri": "src/"`, nil, "src/"},
		{"LocalDot", `"CodeUri": "./orders"`, nil, "./orders"},
		{"S3", `"CodeUri": "s3://bucket/path/to/key.zip"`, nil,
			map[string]any{"S3Bucket": "bucket", "S3Key": "path/to/key.zip"}},
		{"S3Version", `"CodeUri": "s3://bucket/key?versionId=abc"`, nil,
			map[string]any{"S3Bucket": "bucket", "S3Key": "key", "S3ObjectVersion": "abc"}},
		{"S3Object", `"CodeUri": {"Bucket": "b", "Key": "k", "Version": "v"}`, nil,
			map[string]any{"S3Bucket": "b", "S3Key": "k", "S3ObjectVersion": "v"}},
		{"S3ObjectRefs", `"CodeUri": {"Bucket": {"Ref": "B"}, "Key": "k"}`, nil,
			map[string]any{"S3Bucket": map[string]any{"Ref": "B"}, "S3Key": "k"}},
		{"ParameterPath", `"CodeUri": {"Ref": "Dir"}`, map[string]any{"Dir": "build/fn"}, "build/fn"},
		{"ParameterS3", `"CodeUri": {"Ref": "Dir"}`, map[string]any{"Dir": "s3://b/k"},
			map[string]any{"S3Bucket": "b", "S3Key": "k"}},
		{"Inline", `"InlineCode": "def handler(e, c): pass"`, nil, map[string]any{"ZipFile": "def handler(e, c): pass"}},
		{"SourceKMSKeyArn", `"CodeUri": "s3://b/k", "SourceKMSKeyArn": "arn:kms"`, nil,
			map[string]any{"S3Bucket": "b", "S3Key": "k", "SourceKMSKeyArn": "arn:kms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := samTemplate(t, `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "h", "Runtime": "python3.12", `+tc.code+`}}`)
			out, err := Transform(in, Options{Parameters: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			if got := props(t, out, "Fn")["Code"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Code = %#v, want %#v", got, tc.want)
			}
		})
	}
	t.Run("Image", func(t *testing.T) {
		in := samTemplate(t, `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"PackageType": "Image", "ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/fn:1"}}`)
		out, err := Transform(in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := props(t, out, "Fn")
		if got, want := p["Code"], map[string]any{"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/fn:1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Code = %v, want %v", got, want)
		}
		if p["PackageType"] != "Image" {
			t.Errorf("PackageType = %v", p["PackageType"])
		}
	})
}

// Ensure the Version's logical ID changes exactly when the code, Environment or MemorySize change (any property
// with AutoPublishAliasAllProperties), and is otherwise stable.
func TestVersionHash(t *testing.T) {
	const base = `"AutoPublishAlias": "live", "MemorySize": 128, "Timeout": 3, "Environment": {"Variables": {"A": {"Ref": "P"}}}`
	type variant struct {
		props  string // function properties besides Handler and Runtime
		params map[string]any
	}
	reference := variant{props: `"CodeUri": "src/", ` + base, params: map[string]any{"P": "1"}}
	for _, tc := range []struct {
		name    string
		v       variant
		changes bool
	}{
		{"Same", reference, false},
		{"CodeUri", variant{`"CodeUri": "other/", ` + base, map[string]any{"P": "1"}}, true},
		{"Environment", variant{`"CodeUri": "src/", ` + strings.Replace(base, `"A"`, `"B"`, 1), map[string]any{"P": "1"}}, true},
		{"EnvironmentParameter", variant{`"CodeUri": "src/", ` + base, map[string]any{"P": "2"}}, true},
		{"MemorySize", variant{`"CodeUri": "src/", ` + strings.Replace(base, "128", "256", 1), map[string]any{"P": "1"}}, true},
		{"Timeout", variant{`"CodeUri": "src/", ` + strings.Replace(base, `"Timeout": 3`, `"Timeout": 9`, 1), map[string]any{"P": "1"}}, false},
		{"Tags", variant{`"CodeUri": "src/", "Tags": {"a": "b"}, ` + base, map[string]any{"P": "1"}}, false},
		{"CodeSha256", variant{`"CodeUri": "src/", "AutoPublishCodeSha256": "abc", ` + base, map[string]any{"P": "1"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := func(v variant) string {
				t.Helper()
				in := samTemplate(t, `"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "h", "Runtime": "python3.12", `+v.props+`}}`)
				out, err := Transform(in, Options{Parameters: v.params})
				if err != nil {
					t.Fatal(err)
				}
				return versionID(t, out, "Fn")
			}
			before, after := id(reference), id(tc.v)
			if !regexp.MustCompile(`^FnVersion[0-9a-f]{10}$`).MatchString(after) {
				t.Errorf("version ID %s is not FnVersion + 10 hex digits", after)
			}
			if changed := before != after; changed != tc.changes {
				t.Errorf("%s → %s: changed = %v, want %v", before, after, changed, tc.changes)
			}
		})
	}

	t.Run("AllProperties", func(t *testing.T) {
		ids := map[string]bool{}
		for _, timeout := range []string{"3", "9"} {
			in := samTemplate(t, `"Fn": `+fn(`"AutoPublishAlias": "live", "AutoPublishAliasAllProperties": true, "Timeout": `+timeout))
			out, err := Transform(in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ids[versionID(t, out, "Fn")] = true
		}
		if len(ids) != 2 {
			t.Errorf("version IDs %v: a Timeout change must publish a version with AutoPublishAliasAllProperties", ids)
		}
	})
}

// Ensure DeploymentPreference.Enabled switches the CodeDeploy resources off the way SAM reads it.
func TestDeploymentPreferenceEnabled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enabled string
		params  map[string]any
		want    bool
	}{
		{"Absent", ``, nil, true},
		{"True", `, "Enabled": true`, nil, true},
		{"False", `, "Enabled": false`, nil, false},
		{"StringFalse", `, "Enabled": "false"`, nil, false},
		{"StringFalseCapital", `, "Enabled": "False"`, nil, false},
		{"StringTrue", `, "Enabled": "true"`, nil, true},
		{"ParameterFalse", `, "Enabled": {"Ref": "On"}`, map[string]any{"On": "false"}, false},
		{"ParameterTrue", `, "Enabled": {"Ref": "On"}`, map[string]any{"On": "true"}, true},
		{"Mapping", `, "Enabled": {"Fn::FindInMap": ["M", "prod", "on"]}`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tpl(t, `{"Transform": "AWS::Serverless-2016-10-31",
				"Parameters": {"On": {"Type": "String", "Default": "true"}},
				"Mappings": {"M": {"prod": {"on": "false"}}},
				"Resources": {"Fn": `+fn(`"AutoPublishAlias": "live", "DeploymentPreference": {"Type": "AllAtOnce"`+tc.enabled+`}`)+`}}`)
			out, err := Transform(in, Options{Parameters: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			res := out["Resources"].(map[string]any)
			for _, id := range []string{ApplicationID, ServiceRoleID, "FnDeploymentGroup"} {
				if _, ok := res[id]; ok != tc.want {
					t.Errorf("%s generated = %v, want %v", id, ok, tc.want)
				}
			}
			_, hasPolicy := resource(t, out, "FnAliaslive")["UpdatePolicy"]
			if hasPolicy != tc.want {
				t.Errorf("alias UpdatePolicy = %v, want %v", hasPolicy, tc.want)
			}
		})
	}
}

func TestDeploymentConfigName(t *testing.T) {
	sub := func(name string) map[string]any {
		return map[string]any{"Fn::Sub": []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": name}}}
	}
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"Canary", "Canary10Percent5Minutes", sub("Canary10Percent5Minutes")},
		{"LinearSingular", "Linear10PercentEvery1Minute", sub("Linear10PercentEvery1Minute")},
		{"AllAtOnce", "AllAtOnce", sub("AllAtOnce")},
		{"Custom", "MyConfig", "MyConfig"},
		{"FullName", "CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.LambdaAllAtOnce"},
		{"NotPredefined", "Linear10PercentEvery1Minutes", "Linear10PercentEvery1Minutes"},
		{"Ref", map[string]any{"Ref": "Config"}, map[string]any{"Ref": "Config"}},
		{"If", map[string]any{"Fn::If": []any{"C", "AllAtOnce", "Mine"}},
			map[string]any{"Fn::If": []any{"C", sub("AllAtOnce"), "Mine"}}},
		{"SubOfName", map[string]any{"Fn::Sub": "AllAtOnce"},
			map[string]any{"Fn::Sub": []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": "AllAtOnce"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deploymentConfigName(tc.in, ""); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s, want %s", jsonString(got), jsonString(tc.want))
			}
		})
	}
}

func TestMergeGlobal(t *testing.T) {
	for _, tc := range []struct {
		name                string
		global, local, want string
	}{
		{"ScalarOverridden", `"a"`, `"b"`, `"b"`},
		{"ListsConcatenated", `["g"]`, `["l"]`, `["g", "l"]`},
		{"MapsMerged", `{"Variables": {"A": "g", "B": "g"}}`, `{"Variables": {"B": "l", "C": "l"}}`,
			`{"Variables": {"A": "g", "B": "l", "C": "l"}}`},
		{"IntrinsicIsScalar", `{"Ref": "G"}`, `{"Ref": "L"}`, `{"Ref": "L"}`},
		{"IntrinsicOverMap", `{"A": 1}`, `{"Fn::If": ["C", {}, {}]}`, `{"Fn::If": ["C", {}, {}]}`},
		{"KindsDiffer", `"s3://b/k"`, `{"Bucket": "b", "Key": "k"}`, `{"Bucket": "b", "Key": "k"}`},
		{"ListOverScalar", `"x"`, `["y"]`, `["y"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g, l, want any
			for _, p := range []struct {
				s string
				v *any
			}{{tc.global, &g}, {tc.local, &l}, {tc.want, &want}} {
				if err := json.Unmarshal([]byte(p.s), p.v); err != nil {
					t.Fatal(err)
				}
			}
			if got := mergeGlobal(g, l); !reflect.DeepEqual(got, want) {
				t.Errorf("got %s, want %s", jsonString(got), jsonString(want))
			}
		})
	}
}

func TestOrConditions(t *testing.T) {
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("C%02d", i)
	}
	got := orConditions(names, "X")
	or := func(ns ...string) map[string]any {
		list := make([]any, len(ns))
		for i, n := range ns {
			list[i] = map[string]any{"Condition": n}
		}
		return map[string]any{"Fn::Or": list}
	}
	want := map[string]any{
		"X1": or(names[:10]...),
		"X":  or("C10", "C11", "X1"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s, want %s", jsonString(got), jsonString(want))
	}
	if got := orConditions([]string{"A", "B"}, "X"); !reflect.DeepEqual(got, map[string]any{"X": or("A", "B")}) {
		t.Errorf("two conditions: %s", jsonString(got))
	}
}

// Ensure the generated resources carry the function's attributes as the translator places them.
func TestAttributes(t *testing.T) {
	in := samTemplate(t, `"Fn": {"Type": "AWS::Serverless::Function", "Condition": "C", "DependsOn": ["T"],
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Metadata": {"BuildMethod": "go1.x"},
		"Properties": {"CodeUri": "./cmd/fn", "Handler": "bootstrap", "Runtime": "provided.al2023",
			"AutoPublishAlias": "live", "EventInvokeConfig": {"MaximumRetryAttempts": 0}}},
		"T": {"Type": "AWS::SNS::Topic"}`)
	out, err := Transform(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pass := map[string]any{"Condition": "C", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
	for _, tc := range []struct {
		id   string
		want map[string]any // attributes besides Type and Properties
	}{
		{"Fn", map[string]any{"Condition": "C", "DependsOn": []any{"T"}, "DeletionPolicy": "Retain",
			"UpdateReplacePolicy": "Retain", "Metadata": map[string]any{"BuildMethod": "go1.x"}}},
		{"FnRole", pass},
		{versionID(t, out, "Fn"), pass},
		{"FnAliaslive", pass},
		{"FnEventInvokeConfig", map[string]any{"Condition": "C", "DependsOn": []any{"FnAliaslive"},
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Metadata": map[string]any{"BuildMethod": "go1.x"}}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			got := map[string]any{}
			for k, v := range resource(t, out, tc.id) {
				if k != "Type" && k != "Properties" {
					got[k] = v
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("attributes %s, want %s", jsonString(got), jsonString(tc.want))
			}
		})
	}
}

// Ensure references to Fn.Alias and Fn.Version are rewritten in every form SAM accepts.
func TestResourceReferences(t *testing.T) {
	in := samTemplate(t, `"Fn": `+fn(`"AutoPublishAlias": "live"`)+`,
		"T": {"Type": "AWS::SNS::Topic", "Properties": {"Tags": [
			{"Key": "ref", "Value": {"Ref": "Fn.Alias"}},
			{"Key": "getatt", "Value": {"Fn::GetAtt": ["Fn.Alias", "AliasArn"]}},
			{"Key": "getatt-split", "Value": {"Fn::GetAtt": ["Fn", "Alias.AliasArn"]}},
			{"Key": "sub", "Value": {"Fn::Sub": "${Fn.Alias} ${Fn.Version.Version} ${Fn.Arn} ${!Fn.Alias}"}},
			{"Key": "sub-list", "Value": {"Fn::Sub": ["${Fn.Alias}-${x}", {"x": {"Ref": "Fn.Version"}}]}},
			{"Key": "plain", "Value": {"Fn::GetAtt": ["Fn", "Arn"]}}]}}`)
	out, err := Transform(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := versionID(t, out, "Fn")
	want := []any{
		map[string]any{"Key": "ref", "Value": map[string]any{"Ref": "FnAliaslive"}},
		map[string]any{"Key": "getatt", "Value": map[string]any{"Fn::GetAtt": []any{"FnAliaslive", "AliasArn"}}},
		map[string]any{"Key": "getatt-split", "Value": map[string]any{"Fn::GetAtt": []any{"FnAliaslive", "AliasArn"}}},
		map[string]any{"Key": "sub", "Value": map[string]any{"Fn::Sub": "${FnAliaslive} ${" + v + ".Version} ${Fn.Arn} ${!Fn.Alias}"}},
		map[string]any{"Key": "sub-list", "Value": map[string]any{"Fn::Sub": []any{"${FnAliaslive}-${x}", map[string]any{"x": map[string]any{"Ref": v}}}}},
		map[string]any{"Key": "plain", "Value": map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
	}
	if got := props(t, out, "T")["Tags"]; !reflect.DeepEqual(got, want) {
		t.Errorf("got %s\nwant %s", jsonString(got), jsonString(want))
	}
}

// Ensure every fixture is a valid template for cfn-lint (which runs SAM's own transform). Skipped without it.
func TestFixturesLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed")
	}
	// One run for every fixture: cfn-lint's start-up is seconds of CPU, and each finding it prints names its file.
	if out, err := exec.Command(lint, fixtures(t)...).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint on the fixtures: %v\n%s", err, out)
	}
}

// Ensure FunctionUrlConfig becomes what the translator generates: the URL on the alias when there is one, else on
// the function, and for a public URL (AuthType NONE as written) both permissions Lambda requires.
func TestFunctionURL(t *testing.T) {
	public := func(target string) map[string]map[string]any {
		return map[string]map[string]any{
			"FnUrlPublicPermissions": {"Action": "lambda:InvokeFunctionUrl", "FunctionName": map[string]any{"Ref": target},
				"Principal": "*", "FunctionUrlAuthType": "NONE"},
			"FnURLInvokeAllowPublicAccess": {"Action": "lambda:InvokeFunction", "FunctionName": map[string]any{"Ref": target},
				"Principal": "*", "InvokedViaFunctionUrl": true},
		}
	}
	with := func(m map[string]map[string]any, id string, props map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{id: props}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		props string // the function's properties besides the minimal ones
		want  map[string]map[string]any
	}{
		{"PublicOnTheFunction", `"FunctionUrlConfig": {"AuthType": "NONE"}`,
			with(public("Fn"), "FnUrl", map[string]any{"AuthType": "NONE", "TargetFunctionArn": map[string]any{"Ref": "Fn"}})},
		{"PublicOnTheAlias", `"AutoPublishAlias": "live", "FunctionUrlConfig": {"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}`,
			with(public("FnAliaslive"), "FnUrl", map[string]any{"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM",
				"TargetFunctionArn": map[string]any{"Ref": "FnAliaslive"}})},
		{"IAM", `"FunctionUrlConfig": {"AuthType": "AWS_IAM", "Cors": {"AllowOrigins": ["*"], "MaxAge": 60}}`,
			map[string]map[string]any{"FnUrl": {"AuthType": "AWS_IAM", "TargetFunctionArn": map[string]any{"Ref": "Fn"},
				"Cors": map[string]any{"AllowOrigins": []any{"*"}, "MaxAge": 60.0}}}},
		{"EmptyCorsDropped", `"FunctionUrlConfig": {"AuthType": "AWS_IAM", "Cors": {}}`,
			map[string]map[string]any{"FnUrl": {"AuthType": "AWS_IAM", "TargetFunctionArn": map[string]any{"Ref": "Fn"}}}},
		{"AuthTypeFromParameter", `"FunctionUrlConfig": {"AuthType": {"Ref": "Auth"}}`, // no permissions, as the translator
			map[string]map[string]any{"FnUrl": {"AuthType": map[string]any{"Ref": "Auth"}, "TargetFunctionArn": map[string]any{"Ref": "Fn"}}}},
		{"None", ``, map[string]map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Transform(samTemplate(t, `"Fn": `+fn(tc.props)), Options{Parameters: map[string]any{"Auth": "NONE"}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]map[string]any{}
			for id, r := range out["Resources"].(map[string]any) {
				if typ := r.(map[string]any)["Type"]; typ == "AWS::Lambda::Url" || typ == "AWS::Lambda::Permission" {
					got[id] = props(t, out, id)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s\nwant %s", jsonString(got), jsonString(tc.want))
			}
		})
	}
}
