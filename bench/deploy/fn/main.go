// Command fn is the function bench/deploy deploys: an aws-lambda-go handler that returns its input unchanged,
// unless the environment variable FAIL_ALL is set, in which case every invocation fails with that message (a
// defective version, as test/functions/echo makes one).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

var failAll = os.Getenv("FAIL_ALL")

func handle(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	if failAll != "" {
		return nil, errors.New(failAll)
	}
	return in, nil
}

func main() { lambda.Start(handle) }
