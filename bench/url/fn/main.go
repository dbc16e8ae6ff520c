// Command fn is the function bench/url serves: an aws-lambda-go handler that answers every event with the same
// small payload-2.0 response (200, text/plain, a short body), so that what is measured is the platform's path, not
// the function's work. With DEFECT set in its environment it answers 500 instead (a defective version, as
// test/e2e's canary handler makes one).
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// response is the payload-2.0 answer a function URL maps back to HTTP (statusCode, headers, body).
type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// Body is what a healthy version answers; bench/url's loopback floor answers the same bytes.
const Body = "hello from sluice\n"

var (
	defective = os.Getenv("DEFECT") != ""
	ok        = response{StatusCode: 200, Headers: map[string]string{"content-type": "text/plain"}, Body: Body}
	defect    = response{StatusCode: 500, Headers: map[string]string{"content-type": "text/plain"}, Body: "defect: " + os.Getenv("DEFECT") + "\n"}
)

func handle(_ context.Context, _ json.RawMessage) (response, error) {
	if defective {
		return defect, nil
	}
	return ok, nil
}

func main() { lambda.Start(handle) }
