package e2e

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestAppSpecVersionAsNumber: a client that builds the AppSpec as an object and serialises it sends "version": 0
// (JSON.stringify writes 0.0 as 0, and so does Go's encoding/json, used here with the Go SDK). CodeDeploy reads the
// version as the number 0.0, so the deployment runs; a version that is not zero is refused at CreateDeployment.
func TestAppSpecVersionAsNumber(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c, cd := s.Lambda(), s.CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, nil) // CodeDeployDefault.LambdaAllAtOnce
	appSpec := func(version any) string {
		b, err := json.Marshal(map[string]any{
			"version": version,
			"Resources": []any{map[string]any{"orders": map[string]any{"Type": "AWS::Lambda::Function",
				"Properties": map[string]any{"Name": "orders", "Alias": "live", "CurrentVersion": v1, "TargetVersion": v2}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	content := appSpec(0.0)
	if want := `{"Resources":[{"orders":{"Properties":{"Alias":"live","CurrentVersion":"` + v1 + `","Name":"orders","TargetVersion":"` + v2 +
		`"},"Type":"AWS::Lambda::Function"}}],"version":0}`; content != want {
		t.Fatalf("the AppSpec sent is %s, want %s", content, want)
	}
	id := createDeployment(t, cd, content)
	waitDeployment(t, cd, id, cdtypes.DeploymentStatusSucceeded)
	alias, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(alias.FunctionVersion) != v2 {
		t.Fatalf("live after the deployment: %+v %v, want version %s", alias, err, v2)
	}

	_, err = cd.CreateDeployment(t.Context(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("dg"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent, AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpec(1))}}})
	checkAPIError(t, `CreateDeployment with "version": 1`, err, wantErr{Status: 400, Code: "InvalidRevisionException",
		Message: "The AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration. " +
			`An invalid version value (1) was entered in the application specification file. Make sure your AppSpec file specifies "0.0" as the version, and then try again.`})
}
