package cloudformationapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

func request(op, form string) edge.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return edge.Request{HTTP: r, Op: op, Body: []byte(form)}
}

// TestCheckModel: a request is checked against its operation's input shape in CloudFormation's model, with
// CloudFormation's message for all its violations.
func TestCheckModel(t *testing.T) {
	for _, tc := range []struct{ op, form, want string }{
		{"CreateStack", "StackName=orders&TemplateBody=x", ""},
		{"CreateStack", "TemplateBody=x", "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null"},
		{"CreateStack", "StackName=my_stack&OnFailure=EXPLODE&Capabilities.member.1=CAPABILITY_IAM",
			"2 validation errors detected: Value 'my_stack' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
				"[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*; Value 'EXPLODE' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"},
		{"CreateChangeSet", "StackName=orders&ChangeSetName=1st", "1 validation error detected: Value '1st' at 'changeSetName' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"},
		{"DescribeStackEvents", "StackName=arn:aws:cloudformation:us-east-1:000000000000:stack/orders/8a1e", ""},
		{"ListStacks", "StackStatusFilter.member.1=NOT_A_STATUS", "1 validation error detected: Value '[NOT_A_STATUS]' at 'stackStatusFilter' failed to satisfy constraint"},
		{"CreateStack", "StackName=s&Tags.member.1.Key=team", "1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"},
	} {
		err := edge.CheckQueryModel(cfnModel, cfnModelInputs, "ValidationError")(request(tc.op, tc.form))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %s: %v", tc.op, tc.form, err)
			}
			continue
		}
		f, ok := fault.As(err)
		if !ok || f.Code != "ValidationError" || !strings.HasPrefix(f.Message, tc.want) {
			t.Errorf("%s %s:\n got %v\nwant %s", tc.op, tc.form, err, tc.want)
		}
	}
}

// TestResource: a call is authorized on the stack it names.
func TestResource(t *testing.T) {
	h := &Handler{acct: lambda.Account{Region: "eu-west-1", ID: "123456789012"}}
	for form, want := range map[string]string{
		"StackName=orders": "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/*",
		"StackName=arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/8a1e": "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/8a1e",
		"":        "*",
		"Other=x": "*",
	} {
		if got := h.resource(request("DescribeStacks", form)); got != want {
			t.Errorf("%q: %s, want %s", form, got, want)
		}
	}
}
