package cfn

import (
	"os"
	"reflect"
	"sync"
	"testing"
)

func readFixture(t *testing.T, name string) *Template {
	t.Helper()
	src, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(src))
}

// TestSAMTemplate runs testdata/sam-orders.yaml (valid for cfn-lint) through every stage short of the transform.
func TestSAMTemplate(t *testing.T) {
	tmpl := readFixture(t, "sam-orders.yaml")
	if !tmpl.HasTransform(SAMTransform) || tmpl.Description != "orders-service: an API and a table\n" {
		t.Fatalf("header %v %q", tmpl.Transform, tmpl.Description)
	}
	if got := tmpl.Globals["Function"]; !reflect.DeepEqual(got, map[string]any{"Timeout": 10, "Runtime": "python3.12", "Tracing": "Active"}) {
		t.Errorf("Globals %v", got)
	}
	if got, want := tmpl.ResourceOrder, []string{"OrdersTable", "OrdersFunction", "OrdersErrorsAlarm"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceOrder %v", got)
	}
	if got := tmpl.Resources["OrdersFunction"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["TABLE_ARN"]; !reflect.DeepEqual(got,
		map[string]any{"Fn::GetAtt": []any{"OrdersTable", "Arn"}}) {
		t.Errorf("TABLE_ARN %v", got)
	}
	if got := tmpl.References(tmpl.Outputs["OrdersApi"].Value); !reflect.DeepEqual(got, []string{"ServerlessRestApi"}) {
		t.Errorf("OrdersApi references %v", got)
	}

	for _, tc := range []struct {
		name      string
		overrides map[string]string
		conds     map[string]bool
		order     []string
		function  map[string]any // evaluated Properties of OrdersFunction, Events and Policies left out
		table     map[string]any // evaluated ProvisionedThroughput and PointInTimeRecoverySpecification
		err       string
	}{
		{name: "defaults",
			conds: map[string]bool{"IsProd": false, "IsNotProd": true, "HasApiKey": false, "CreateAlarms": false},
			order: []string{"OrdersTable", "OrdersFunction"},
			function: map[string]any{
				"FunctionName": "orders-orders", "CodeUri": "src/orders/", "Handler": "app.handler", "MemorySize": 128,
				"AutoPublishAlias": "live", "ReservedConcurrentExecutions": 5,
				"DeploymentPreference": map[string]any{"Type": "AllAtOnce", "Alarms": []any{}},
				"Environment": map[string]any{"Variables": map[string]any{
					"TABLE": "ref-OrdersTable", "TABLE_ARN": "arn-OrdersTable.Arn", "STREAM_ARN": "arn-OrdersTable.StreamArn",
					"LOG_LEVEL": "DEBUG", "ORIGINS": "https://example.com,https://admin.example.com",
					"ENDPOINT": "https://dynamodb.eu-west-1.amazonaws.com", "INDEX": "arn-OrdersTable.Arn/index/dev"}}},
			table: map[string]any{"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": "5", "WriteCapacityUnits": "5"}}},
		{name: "prod with a key",
			overrides: map[string]string{"Stage": "prod", "ApiKey": "s3cret", "ReadCapacity": "20"},
			conds:     map[string]bool{"IsProd": true, "IsNotProd": false, "HasApiKey": true, "CreateAlarms": true},
			order:     []string{"OrdersTable", "OrdersErrorsAlarm", "OrdersFunction"},
			function: map[string]any{
				"FunctionName": "orders-orders", "CodeUri": "src/orders/", "Handler": "app.handler", "MemorySize": 512,
				"AutoPublishAlias":     "live",
				"DeploymentPreference": map[string]any{"Type": "Canary10Percent5Minutes", "Alarms": []any{"ref-OrdersErrorsAlarm"}},
				"Environment": map[string]any{"Variables": map[string]any{
					"TABLE": "ref-OrdersTable", "TABLE_ARN": "arn-OrdersTable.Arn", "STREAM_ARN": "arn-OrdersTable.StreamArn",
					"LOG_LEVEL": "INFO", "ORIGINS": "https://example.com,https://admin.example.com", "API_KEY": "s3cret",
					"ENDPOINT": "https://dynamodb.eu-west-1.amazonaws.com", "INDEX": "arn-OrdersTable.Arn/index/prod"}}},
			table: map[string]any{"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": "20", "WriteCapacityUnits": "20"},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true}}},
		{name: "stage not allowed", overrides: map[string]string{"Stage": "qa"}, err: "Parameter 'Stage' must be one of AllowedValues"},
		{name: "capacity too high", overrides: map[string]string{"ReadCapacity": "500"}, err: "Parameter 'ReadCapacity' must be a number not greater than 100"},
		{name: "undeclared", overrides: map[string]string{"Stag": "prod"}, err: "Parameters: [Stag] do not exist in the template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEvaluator(tmpl, testPseudo, tc.overrides)
			if !checkErr(t, err, tc.err) {
				return
			}
			for name, want := range tc.conds {
				if got, _ := e.Condition(name); got != want {
					t.Errorf("condition %s = %v", name, got)
				}
			}
			if !e.NoEcho("ApiKey") {
				t.Error("ApiKey is NoEcho")
			}
			order, err := e.Order()
			if err != nil || !reflect.DeepEqual(order, tc.order) {
				t.Errorf("Order = %v, %v", order, err)
			}
			props, err := e.Eval(tmpl.Resources["OrdersFunction"].Properties, fakeRefs{}, "Resources.OrdersFunction.Properties")
			if err != nil {
				t.Fatal(err)
			}
			fn := props.(map[string]any)
			delete(fn, "Events")
			delete(fn, "Policies")
			if !reflect.DeepEqual(fn, tc.function) {
				t.Errorf("OrdersFunction\n got %#v\nwant %#v", fn, tc.function)
			}
			props, err = e.Eval(tmpl.Resources["OrdersTable"].Properties, fakeRefs{}, "Resources.OrdersTable.Properties")
			if err != nil {
				t.Fatal(err)
			}
			table := props.(map[string]any)
			if table["TableName"] != "orders-orders-"+map[bool]string{false: "dev", true: "prod"}[tc.conds["IsProd"]] {
				t.Errorf("TableName %v", table["TableName"])
			}
			for k := range table {
				if k != "ProvisionedThroughput" && k != "PointInTimeRecoverySpecification" {
					delete(table, k)
				}
			}
			if !reflect.DeepEqual(table, tc.table) {
				t.Errorf("OrdersTable %#v", table)
			}
			// Before the transform, ServerlessRestApi does not exist.
			_, err = e.Outputs(fakeRefs{})
			checkErr(t, err, "Outputs.OrdersApi.Value: Template format error: Unresolved resource dependencies [ServerlessRestApi]")
		})
	}
}

// TestCDKTemplate runs testdata/cdk-orders.json, synthesized by aws-cdk-lib (cdk synth) for a table, a function
// with its role and policy, a version and an alias.
func TestCDKTemplate(t *testing.T) {
	tmpl := readFixture(t, "cdk-orders.json")
	const (
		table   = "OrdersA9B65338"
		role    = "OrdersFunctionServiceRoleA7C5E86F"
		policy  = "OrdersFunctionServiceRoleDefaultPolicyE0D62EE3"
		fn      = "OrdersFunctionC129706A"
		version = "OrdersFunctionCurrentVersionD77965D63f0e2875a4d671e5066c19e98ff2ebc3"
		alias   = "Live848578DF"
	)
	declared := []string{table, role, policy, fn, version, alias, "CDKMetadata"}
	if !reflect.DeepEqual(tmpl.ResourceOrder, declared) {
		t.Fatalf("ResourceOrder %v", tmpl.ResourceOrder)
	}
	if _, ok := tmpl.Rules["CheckBootstrapVersion"]; !ok {
		t.Error("Rules dropped")
	}
	f := tmpl.Resources[fn]
	if !reflect.DeepEqual(f.DependsOn, []string{policy, role}) || f.Metadata["aws:asset:path"] != "asset.03c9b7d836b8503105cd459ce6c0650fd52059fba16c166387db95917424008e" ||
		f.Metadata["aws:asset:is-bundled"] != false || tmpl.Resources[table].DeletionPolicy != "Retain" {
		t.Errorf("function %+v", f)
	}
	if got := tmpl.References(tmpl.Resources[alias].Properties); !reflect.DeepEqual(got, []string{fn, version}) {
		t.Errorf("alias references %v", got)
	}

	for _, tc := range []struct {
		region   string
		metadata bool
		order    []string
	}{
		{"us-east-1", true, declared},
		{"us-west-2", true, declared},
		{"local-1", false, declared[:6]},
	} {
		t.Run(tc.region, func(t *testing.T) {
			pseudo := testPseudo
			pseudo.Region = tc.region
			e, err := NewEvaluator(tmpl, pseudo, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.SkippedParameters(); !reflect.DeepEqual(got, []string{"BootstrapVersion"}) {
				t.Errorf("skipped %v", got)
			}
			if got, _ := e.Condition("CDKMetadataAvailable"); got != tc.metadata {
				t.Errorf("CDKMetadataAvailable = %v", got)
			}
			order, err := e.Order()
			if err != nil || !reflect.DeepEqual(order, tc.order) {
				t.Errorf("Order = %v, %v", order, err)
			}
			code, err := e.Eval(f.Properties["Code"], fakeRefs{}, "Resources."+fn+".Properties.Code")
			if want := map[string]any{"S3Bucket": "cdk-hnb659fds-assets-123456789012-" + tc.region,
				"S3Key": "03c9b7d836b8503105cd459ce6c0650fd52059fba16c166387db95917424008e.zip"}; err != nil || !reflect.DeepEqual(code, want) {
				t.Errorf("Code = %v, %v", code, err)
			}
			arns, err := e.Eval(tmpl.Resources[role].Properties["ManagedPolicyArns"], nil, "")
			if want := []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}; err != nil || !reflect.DeepEqual(arns, want) {
				t.Errorf("ManagedPolicyArns = %v, %v", arns, err)
			}
			outputs, err := e.Outputs(fakeRefs{})
			if want := map[string]string{"FunctionArn": "arn-" + fn + ".Arn", "TableName": "ref-" + table}; err != nil || !reflect.DeepEqual(outputs, want) {
				t.Errorf("Outputs = %v, %v", outputs, err)
			}
		})
	}

	// The same template with BootstrapVersion used by a resource cannot be deployed.
	raw := copyValue(tmpl.Raw).(map[string]any)
	raw["Resources"].(map[string]any)[table].(map[string]any)["Properties"].(map[string]any)["TableName"] = map[string]any{"Ref": "BootstrapVersion"}
	used, err := FromMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewEvaluator(used, testPseudo, nil)
	checkErr(t, err, "parameter BootstrapVersion of type AWS::SSM::Parameter::Value<String> is referenced, but the SSM parameter it names was not read (not supported by Sluice)")
}

// TestConcurrentUse shares one Evaluator between goroutines, as the deploy engine may; run it with -race.
func TestConcurrentUse(t *testing.T) {
	tmpl := readFixture(t, "sam-orders.yaml")
	e := mustEvaluator(t, tmpl, map[string]string{"Stage": "prod", "ApiKey": "k"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, id := range tmpl.ResourceOrder {
				if _, err := e.Eval(tmpl.Resources[id].Properties, fakeRefs{}, id); err != nil {
					t.Error(err)
				}
			}
			if _, err := e.Order(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
