// Command hello is the Go function the pack tests build: a real aws-lambda-go handler, so the build exercises
// the module's dependencies and the lambda.norpc tag.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, event map[string]any) (string, error) {
	return "hello", nil
}

func main() {
	lambda.Start(handle)
}
