// Command fn is the function every target of bench/invoke runs: an aws-lambda-go handler that returns its input
// unchanged, so what is measured is the platform's path (and aws-lambda-go's), not the function's work.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func echo(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }

func main() { lambda.Start(echo) }
