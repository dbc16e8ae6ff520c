package stackdeploy

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func TestDecodeInto(t *testing.T) {
	t.Run("coerces what parameters and Fn::Sub produce", func(t *testing.T) {
		var in cloudwatch.PutMetricAlarmInput
		err := decodeInto(map[string]any{"Threshold": "1", "Period": "60", "EvaluationPeriods": 2.0, "ActionsEnabled": "false",
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": "orders"}}, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}, &in)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToFloat64(in.Threshold) != 1 || aws.ToInt32(in.Period) != 60 || aws.ToInt32(in.EvaluationPeriods) != 2 || aws.ToBool(in.ActionsEnabled) {
			t.Fatalf("decoded %+v", in)
		}
		if len(in.Dimensions) != 1 || aws.ToString(in.Dimensions[0].Value) != "orders" || in.ComparisonOperator != "GreaterThanOrEqualToThreshold" {
			t.Fatalf("decoded %+v", in)
		}
	})
	t.Run("matches CloudFormation's spelling of member names", func(t *testing.T) {
		var in lambda.CreateFunctionInput
		if err := decodeInto(map[string]any{"KmsKeyArn": "arn:aws:kms:x", "MemorySize": "256"}, &in); err != nil {
			t.Fatal(err)
		}
		if aws.ToString(in.KMSKeyArn) != "arn:aws:kms:x" || aws.ToInt32(in.MemorySize) != 256 {
			t.Fatalf("decoded %+v", in)
		}
	})
	errs := []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"unknown property", map[string]any{"Handler": "index.handler", "Colour": "blue"}, "Colour: unsupported property"},
		{"nested unknown property", map[string]any{"Environment": map[string]any{"Vars": map[string]any{}}}, "Environment.Vars: unsupported property"},
		{"not a number", map[string]any{"Timeout": "soon"}, "Timeout: expected a number"},
		{"not an object", map[string]any{"Environment": "x"}, "Environment: expected an object"},
		{"not a list", map[string]any{"Layers": map[string]any{}}, "Layers: expected a list"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeInto(tc.props, &lambda.CreateFunctionInput{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestChangedKeys(t *testing.T) {
	cases := []struct {
		name     string
		old, new map[string]any
		want     string
	}{
		{"same after a JSON round trip", map[string]any{"MemorySize": 128.0, "Tags": []any{"a"}}, map[string]any{"MemorySize": 128, "Tags": []string{"a"}}, ""},
		{"changed value", map[string]any{"Timeout": 3.0}, map[string]any{"Timeout": 5.0}, "Timeout"},
		{"added and removed", map[string]any{"A": "x"}, map[string]any{"B": "y"}, "A,B"},
		{"nested change", map[string]any{"Environment": map[string]any{"Variables": map[string]any{"K": "1"}}},
			map[string]any{"Environment": map[string]any{"Variables": map[string]any{"K": "2"}}}, "Environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(changedKeys(tc.old, tc.new), ","); got != tc.want {
				t.Fatalf("changed %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeletePriority(t *testing.T) {
	// Users before what they use: an alias before its version before its function before its role.
	order := []string{"AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Alias", "AWS::CodeDeploy::DeploymentGroup", "AWS::Lambda::Version",
		"AWS::Lambda::Function", "AWS::CodeDeploy::Application", "AWS::IAM::Role"}
	for i := 1; i < len(order); i++ {
		if deletePriority(order[i-1]) >= deletePriority(order[i]) {
			t.Errorf("%s is not deleted before %s", order[i-1], order[i])
		}
	}
	// A URL and a statement before the alias or function they are on.
	for _, typ := range []string{"AWS::Lambda::Url", "AWS::Lambda::Permission"} {
		if deletePriority(typ) >= deletePriority("AWS::Lambda::Alias") {
			t.Errorf("%s is not deleted before AWS::Lambda::Alias", typ)
		}
	}
}
