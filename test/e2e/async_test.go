package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// recorderZip is a Python function that fails with its whole event as the message, so whatever reaches it ends
// up, readable, in its dead letters.
func recorderZip(t *testing.T) []byte {
	return makeZip(t, zipFile{Name: "app.py", Body: "import json\n\ndef handler(event, context):\n    raise Exception(json.dumps(event, sort_keys=True))\n"})
}

func createRecorder(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	createFunction(t, c, name, func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler, in.Code.ZipFile = types.RuntimePython312, aws.String("app.handler"), recorderZip(t)
	})
	waitActive(t, c, name)
	if _, err := c.PutFunctionEventInvokeConfig(t.Context(), &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String(name), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
}

type deadLetters struct {
	DeadLetters []struct {
		RequestId, Condition, Error string
		Attempts                    int
		Payload                     json.RawMessage
	}
}

// waitDeadLetters polls `sluice dlq` until fn has at least n dead letters.
func waitDeadLetters(t *testing.T, s *server, fn string, n int) deadLetters {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		stdout, stderr, code := sluice(t, s.Env(), "dlq", fn, "--json")
		if code != 0 {
			t.Fatalf("sluice dlq: %d %s", code, stderr)
		}
		var d deadLetters
		mustJSON(t, "sluice dlq", stdout, &d)
		if len(d.DeadLetters) >= n || time.Now().After(deadline) {
			if len(d.DeadLetters) < n {
				t.Fatalf("%s: %d dead letters, want %d", fn, len(d.DeadLetters), n)
			}
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAsyncRetriesThenDeadLetter(t *testing.T) {
	parallel(t)
	s := startServer(t, "--async-retry-delay", "100ms")
	c := s.Lambda()
	createRecorder(t, c, "recorder")
	if _, err := c.PutFunctionEventInvokeConfig(t.Context(), &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("recorder"), MaximumRetryAttempts: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("recorder"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"order":42}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("event invoke: %v %v", out, err)
	}
	d := waitDeadLetters(t, s, "recorder", 1)
	got := d.DeadLetters[0]
	if got.Condition != "RetriesExhausted" || got.Attempts != 3 || string(got.Payload) != `{"order":42}` || !strings.Contains(got.Error, `{\"order\": 42}`) {
		t.Fatalf("dead letter = %+v", got)
	}
}

func TestAsyncDestinations(t *testing.T) {
	parallel(t)
	s := startServer(t, "--async-retry-delay", "100ms")
	c := s.Lambda()
	createEcho(t, c, "worker")
	createRecorder(t, c, "on-success")
	if _, err := c.PutFunctionEventInvokeConfig(t.Context(), &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:      aws.String("worker"),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(arnPrefix + "on-success")}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetFunctionEventInvokeConfig(t.Context(), &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("worker")})
	if err != nil || aws.ToString(got.DestinationConfig.OnSuccess.Destination) != arnPrefix+"on-success" || aws.ToString(got.FunctionArn) != arnPrefix+"worker:$LATEST" {
		t.Fatalf("event invoke config = %+v, %v", got, err)
	}
	if _, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("worker"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"message":"ship it"}`)}); err != nil {
		t.Fatal(err)
	}
	// The destination record reaches on-success, which fails with it: read it back from its dead letters.
	rec := waitDeadLetters(t, s, "on-success", 1).DeadLetters[0]
	var record struct {
		RequestContext struct {
			Condition   string `json:"condition"`
			FunctionArn string `json:"functionArn"`
		} `json:"requestContext"`
		RequestPayload  map[string]any `json:"requestPayload"`
		ResponsePayload map[string]any `json:"responsePayload"`
	}
	if err := json.Unmarshal(rec.Payload, &record); err != nil {
		t.Fatalf("record %s: %v", rec.Payload, err)
	}
	if record.RequestContext.Condition != "Success" || record.RequestContext.FunctionArn != arnPrefix+"worker" ||
		record.RequestPayload["message"] != "ship it" || record.ResponsePayload["message"] != "ship it" {
		t.Fatalf("destination record = %s", rec.Payload)
	}

	_, err = c.GetFunctionEventInvokeConfig(t.Context(), &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("on-success"), Qualifier: aws.String("9")})
	checkAPIError(t, "config of a missing version", err, wantErr{Code: "ResourceNotFoundException", Status: 404})
	_, err = c.PutFunctionEventInvokeConfig(t.Context(), &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("worker"), MaximumRetryAttempts: aws.Int32(3)})
	checkAPIError(t, "MaximumRetryAttempts 3", err, wantErr{Code: "ValidationException", Status: 400})
}

func TestAsyncEventsSurviveKill(t *testing.T) {
	parallel(t)
	s := startServer(t, "--async-retry-delay", "100ms")
	c := s.Lambda()
	createRecorder(t, c, "recorder")
	// Fully throttled: events are accepted, queued, and cannot run yet.
	if _, err := c.PutFunctionConcurrency(t.Context(), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("recorder"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("recorder"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"n":` + string(rune('0'+i)) + `}`)})
		if err != nil || out.StatusCode != 202 {
			t.Fatalf("event %d: %v %v", i, out, err)
		}
	}
	s.Kill(t)
	s.Restart(t)
	c = s.Lambda()
	if _, err := c.DeleteFunctionConcurrency(t.Context(), &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("recorder")}); err != nil {
		t.Fatal(err)
	}
	d := waitDeadLetters(t, s, "recorder", n)
	seen := map[string]bool{}
	for _, l := range d.DeadLetters {
		seen[string(l.Payload)] = true
	}
	for i := range n {
		if p := `{"n":` + string(rune('0'+i)) + `}`; !seen[p] {
			t.Fatalf("event %s was lost across the kill; dead letters: %+v", p, d.DeadLetters)
		}
	}
}
