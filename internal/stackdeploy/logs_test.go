package stackdeploy

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const logGroupsTemplate = `Resources:
  Named:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /aws/lambda/orders
      RETENTION
      Tags: [{Key: team, Value: orders}]
  Generated:
    Type: AWS::Logs::LogGroup
Outputs:
  NamedRef: {Value: !Ref Named}
  NamedArn: {Value: !GetAtt Named.Arn}
  GeneratedRef: {Value: !Ref Generated}
`

// TestLogGroupResource: AWS::Logs::LogGroup makes a log group in the real CloudWatch Logs edge with its
// retention, which an update changes and removes in place; deleting the stack deletes the groups.
func TestLogGroupResource(t *testing.T) {
	w := newRealWorld(t)
	groups := func() map[string]logtypes.LogGroup {
		out, err := w.logs.DescribeLogGroups(w.ctx(), &cloudwatchlogs.DescribeLogGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]logtypes.LogGroup{}
		for _, g := range out.LogGroups {
			m[aws.ToString(g.LogGroupName)] = g
		}
		return m
	}
	res, err := w.deploy(strings.Replace(logGroupsTemplate, "RETENTION", "RetentionInDays: 7", 1))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["NamedRef"] != "/aws/lambda/orders" || res.Outputs["NamedArn"] != "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/orders:*" ||
		!strings.HasPrefix(res.Outputs["GeneratedRef"], "orders-Generated-") {
		t.Errorf("outputs = %v", res.Outputs)
	}
	g := groups()
	if aws.ToInt32(g["/aws/lambda/orders"].RetentionInDays) != 7 || g[res.Outputs["GeneratedRef"]].LogGroupName == nil {
		t.Errorf("groups after the creation: %+v", g)
	}
	for _, step := range []struct {
		retention string
		want      int32
	}{{"RetentionInDays: \"30\"", 30}, {"", 0}} {
		res, err := w.deploy(strings.Replace(logGroupsTemplate, "RETENTION", step.retention, 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToInt32(groups()["/aws/lambda/orders"].RetentionInDays); got != step.want {
			t.Errorf("retention after %q = %d, want %d", step.retention, got, step.want)
		}
		if c := res.Changes[0]; c.LogicalID == "Named" && c.Action != ActionUpdate {
			t.Errorf("a retention change is an update in place: %+v", c)
		}
	}
	// A bad retention fails the update, which is rolled back.
	if _, err := w.deploy(strings.Replace(logGroupsTemplate, "RETENTION", "RetentionInDays: 2", 1)); err == nil ||
		!strings.Contains(err.Error(), "Member must satisfy enum value set") {
		t.Errorf("retention of 2 days: %v", err)
	}
	if _, err := w.delete(); err != nil {
		t.Fatal(err)
	}
	if g := groups(); len(g) != 0 {
		t.Errorf("groups after the stack's deletion: %+v", g)
	}
}
