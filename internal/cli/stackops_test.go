package cli

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/sluice-dev/sluice/internal/cfn"
)

// TestChangeSetParameters: overrides are sent as given; on an update every parameter the stack has and the
// template still declares keeps its previous value unless overridden, as `aws cloudformation deploy` does.
func TestChangeSetParameters(t *testing.T) {
	tpl, err := cfn.Parse([]byte(`{"Parameters": {"Stage": {"Type": "String"}, "Greeting": {"Type": "String"}, "New": {"Type": "String", "Default": "d"}},
		"Resources": {"Q": {"Type": "AWS::SNS::Topic"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	stack := &cftypes.Stack{Parameters: []cftypes.Parameter{
		{ParameterKey: aws.String("Stage"), ParameterValue: aws.String("prod")},
		{ParameterKey: aws.String("Greeting"), ParameterValue: aws.String("hi")},
		{ParameterKey: aws.String("Gone"), ParameterValue: aws.String("x")}, // no longer declared: not sent
	}}
	show := func(ps []cftypes.Parameter) []string {
		var out []string
		for _, p := range ps {
			if aws.ToBool(p.UsePreviousValue) {
				out = append(out, aws.ToString(p.ParameterKey)+"=(previous)")
			} else {
				out = append(out, aws.ToString(p.ParameterKey)+"="+aws.ToString(p.ParameterValue))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		current   *cftypes.Stack
		kind      cftypes.ChangeSetType
		want      []string
	}{
		{"create", map[string]string{"Stage": "dev", "Greeting": "yo"}, nil, cftypes.ChangeSetTypeCreate, []string{"Greeting=yo", "Stage=dev"}},
		{"update without overrides", nil, stack, cftypes.ChangeSetTypeUpdate, []string{"Stage=(previous)", "Greeting=(previous)"}},
		{"update with one override", map[string]string{"Greeting": "hello"}, stack, cftypes.ChangeSetTypeUpdate, []string{"Greeting=hello", "Stage=(previous)"}},
		{"create over a stack in review", nil, stack, cftypes.ChangeSetTypeCreate, nil},
	} {
		if got := show(changeSetParameters(tpl, tc.overrides, tc.current, tc.kind)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
