// Command echo is an aws-lambda-go function the tests build into a `bootstrap`: it answers with what it was
// given and what the Lambda environment told it, and misbehaves on request (fail, sleep, crash, hog memory).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Event selects the behaviour.
type Event struct {
	Message  string `json:"message"`
	Fail     string `json:"fail,omitempty"`     // return an error with this message
	SleepMs  int    `json:"sleepMs,omitempty"`  // sleep before answering
	Exit     int    `json:"exit,omitempty"`     // exit the process with this status
	HogMB    int    `json:"hogMB,omitempty"`    // allocate and touch this much memory
	Log      string `json:"log,omitempty"`      // print this line
	WriteTmp string `json:"writeTmp,omitempty"` // write this file under /tmp and read it back
	Spawn    int    `json:"spawn,omitempty"`    // try to start this many `sleep 60` processes (a fork bomb)
}

// Response reports what the function saw.
type Response struct {
	Message       string            `json:"message"`
	RequestID     string            `json:"requestId"`
	FunctionArn   string            `json:"invokedFunctionArn"`
	Version       string            `json:"version"`
	Env           map[string]string `json:"env"`
	UID           int               `json:"uid"`
	Cwd           string            `json:"cwd"`
	Invocations   int               `json:"invocations"`
	RemainingMs   int64             `json:"remainingMs"`
	ClientContext map[string]string `json:"clientContext,omitempty"`
	Spawned       int               `json:"spawned,omitempty"`
}

var invocations int

func handle(ctx context.Context, e Event) (Response, error) {
	invocations++
	lc, _ := lambdacontext.FromContext(ctx)
	if e.Log != "" {
		fmt.Println(e.Log)
	}
	if e.SleepMs > 0 {
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
	}
	if e.Exit != 0 {
		os.Exit(e.Exit)
	}
	if e.HogMB > 0 {
		hog := make([][]byte, 0, e.HogMB)
		for range e.HogMB {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			hog = append(hog, b)
		}
		_ = hog
	}
	if e.WriteTmp != "" {
		if err := os.WriteFile("/tmp/"+e.WriteTmp, []byte(e.WriteTmp), 0o600); err != nil {
			return Response{}, err
		}
	}
	if e.Fail != "" {
		return Response{}, errors.New(e.Fail)
	}
	if msg := os.Getenv("FAIL_ALL"); msg != "" { // a defective version: every invocation fails
		return Response{}, errors.New(msg)
	}
	spawned := 0
	for range e.Spawn {
		if exec.Command("/bin/sleep", "60").Start() != nil {
			break
		}
		spawned++
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_") || strings.HasPrefix(k, "_") || strings.HasPrefix(k, "USER_") {
			env[k] = v
		}
	}
	cwd, _ := os.Getwd()
	deadline, _ := ctx.Deadline()
	r := Response{Message: e.Message, RequestID: lc.AwsRequestID, FunctionArn: lc.InvokedFunctionArn,
		Version: lambdacontext.FunctionVersion, Env: env, UID: os.Getuid(), Cwd: cwd, Invocations: invocations,
		RemainingMs: time.Until(deadline).Milliseconds(), ClientContext: lc.ClientContext.Custom, Spawned: spawned}
	return r, nil
}

func main() { lambda.Start(handle) }
