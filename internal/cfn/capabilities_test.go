package cfn

import (
	"slices"
	"testing"
)

// TestCapabilities: what a template asks to be acknowledged, and what acknowledges it.
func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name, src  string
		want       []string
		reason     string
		transforms []string
	}{
		{"no IAM", "Resources: {Q: {Type: AWS::Lambda::Function}}", nil, "", nil},
		{"a role", "Resources: {R: {Type: AWS::IAM::Role, Properties: {Path: /}}}", []string{CapabilityIAM},
			"The following resource(s) require capabilities: [AWS::IAM::Role]", nil},
		{"a named role and a policy", "Resources: {R: {Type: AWS::IAM::Role, Properties: {RoleName: x}}, P: {Type: AWS::IAM::ManagedPolicy}}",
			[]string{CapabilityNamedIAM}, "The following resource(s) require capabilities: [AWS::IAM::ManagedPolicy, AWS::IAM::Role]", nil},
		{"a transform", "Transform: AWS::Serverless-2016-10-31\nResources: {Q: {Type: AWS::Lambda::Function}}", nil, "", []string{CapabilityAutoExpand}},
	} {
		tpl, err := Parse([]byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		caps, reason := RequiredCapabilities(tpl)
		if !slices.Equal(caps, tc.want) || reason != tc.reason || !slices.Equal(TransformCapability(tpl), tc.transforms) {
			t.Errorf("%s: %v %q %v", tc.name, caps, reason, TransformCapability(tpl))
		}
	}
	for _, tc := range []struct{ required, given, missing []string }{
		{[]string{CapabilityIAM}, nil, []string{CapabilityIAM}},
		{[]string{CapabilityIAM}, []string{CapabilityNamedIAM}, nil},
		{[]string{CapabilityNamedIAM}, []string{CapabilityIAM}, []string{CapabilityNamedIAM}},
		{[]string{CapabilityAutoExpand, CapabilityIAM}, []string{CapabilityIAM}, []string{CapabilityAutoExpand}},
		{[]string{CapabilityAutoExpand, CapabilityIAM}, nil, []string{CapabilityIAM, CapabilityAutoExpand}},
	} {
		if got := MissingCapabilities(tc.required, tc.given); !slices.Equal(got, tc.missing) {
			t.Errorf("MissingCapabilities(%v, %v) = %v, want %v", tc.required, tc.given, got, tc.missing)
		}
	}
}
