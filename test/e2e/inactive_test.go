package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestInactiveFunctionIsRestoredOnInvoke(t *testing.T) {
	parallel(t)
	s := startServer(t, "--inactive-after", "2s")
	c := s.Lambda()
	createEcho(t, c, "idle")
	invokeJSON(t, c, "idle", "", `{}`)

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("idle")})
		if err != nil {
			t.Fatal(err)
		}
		if got.State == types.StateInactive {
			if got.StateReasonCode != types.StateReasonCodeIdle {
				t.Fatalf("inactive with reason code %q", got.StateReasonCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the idle function never turned Inactive (state %s)", got.State)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The first invocation fails and starts the restoration; the function comes back through Pending to Active.
	_, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("idle")})
	checkAPIError(t, "invoke an inactive function", err, wantErr{Code: "ResourceNotReadyException", Status: 502})
	waitActive(t, c, "idle")
	if out := invokeJSON(t, c, "idle", "", `{"message":"back"}`); out.FunctionError != nil {
		t.Fatalf("after restoration: %s", out.Payload)
	}
}
