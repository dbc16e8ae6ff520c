package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestProvisionedConcurrency(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "api")
	v1 := publishNew(t, c, "api", "one")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}

	_, err := c.PutProvisionedConcurrencyConfig(t.Context(), &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"),
		Qualifier: aws.String("$LATEST"), ProvisionedConcurrentExecutions: aws.Int32(1)})
	checkAPIError(t, "PC on $LATEST", err, wantErr{Code: "InvalidParameterValueException", Status: 400,
		Message: "Provisioned Concurrency Configs cannot be applied to unpublished function versions."})
	_, err = c.GetProvisionedConcurrencyConfig(t.Context(), &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")})
	checkAPIError(t, "PC not configured", err, wantErr{Code: "ProvisionedConcurrencyConfigNotFoundException", Status: 404,
		Message: "No Provisioned Concurrency Config found for this function"})

	put, err := c.PutProvisionedConcurrencyConfig(t.Context(), &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"),
		Qualifier: aws.String("live"), ProvisionedConcurrentExecutions: aws.Int32(2)})
	if err != nil || put.Status != types.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(put.RequestedProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("put = %+v, %v", put, err)
	}
	_, err = c.PutProvisionedConcurrencyConfig(t.Context(), &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"),
		Qualifier: aws.String(v1), ProvisionedConcurrentExecutions: aws.Int32(1)})
	checkAPIError(t, "PC on a version an alias provisions", err, wantErr{Code: "ResourceConflictException", Status: 409,
		Message: "Version is pointed by a Provisioned Concurrency alias"})

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.GetProvisionedConcurrencyConfig(t.Context(), &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == types.ProvisionedConcurrencyStatusEnumReady {
			if aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != 2 || aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != 2 {
				t.Fatalf("READY with %+v", got)
			}
			break
		}
		if got.Status == types.ProvisionedConcurrencyStatusEnumFailed || time.Now().After(deadline) {
			t.Fatalf("provisioned concurrency did not become READY: %+v %s", got.Status, aws.ToString(got.StatusReason))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The first invocation is already warm, on a provisioned environment.
	out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("api"), Qualifier: aws.String("live"), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	var r echoResponse
	json.Unmarshal(out.Payload, &r)
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if r.Env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "provisioned-concurrency" || strings.Contains(string(logs), "Init Duration") {
		t.Fatalf("first invocation: init type %q, log:\n%s", r.Env["AWS_LAMBDA_INITIALIZATION_TYPE"], logs)
	}

	// Three at once: two on the provisioned environments, the third spills over to an on-demand one.
	var mu sync.Mutex
	byType := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("api"), Qualifier: aws.String("live"), Payload: []byte(`{"sleepMs":700}`)})
			if err != nil {
				t.Error(err)
				return
			}
			var r echoResponse
			json.Unmarshal(out.Payload, &r)
			mu.Lock()
			byType[r.Env["AWS_LAMBDA_INITIALIZATION_TYPE"]]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if byType["provisioned-concurrency"] != 2 || byType["on-demand"] != 1 {
		t.Fatalf("concurrent invocations by init type: %v", byType)
	}

	list, err := c.ListProvisionedConcurrencyConfigs(t.Context(), &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("api")})
	if err != nil || len(list.ProvisionedConcurrencyConfigs) != 1 || aws.ToString(list.ProvisionedConcurrencyConfigs[0].FunctionArn) != arnPrefix+"api:live" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := c.DeleteProvisionedConcurrencyConfig(t.Context(), &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetProvisionedConcurrencyConfig(t.Context(), &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")})
	checkAPIError(t, "PC after delete", err, wantErr{Code: "ProvisionedConcurrencyConfigNotFoundException", Status: 404})
}
