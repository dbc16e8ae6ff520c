package lambdaapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/modelcheck"
	"github.com/sluice-dev/sluice/internal/fault"
)

// modelOperation is the model's name for the operation an IAM action authorizes, where the two differ.
var modelOperation = map[string]string{
	"lambda:InvokeFunction": "Invoke",
}

// checkModel validates a request against its operation's input shape in the Lambda model (model_gen.go) before
// the operation runs: every violation in one ValidationException, as AWS answers.
func checkModel(action string, r *http.Request) error {
	op, ok := modelOperation[action]
	if !ok {
		op = strings.TrimPrefix(action, "lambda:")
	}
	if op == "GetProvisionedConcurrencyConfig" && r.URL.Query().Has("List") {
		op = "ListProvisionedConcurrencyConfigs"
	}
	if op == "Invoke" && strings.HasSuffix(r.URL.Path, "/response-streaming-invocations") {
		op = "InvokeWithResponseStream"
	}
	input, ok := lambdaModelInputs[op]
	if !ok {
		return nil
	}
	doc, ok := modelcheck.FromREST(lambdaModel.Shape(input), r, func() io.Reader { return bodyReader(r) })
	if !ok {
		return nil // not JSON: the operation's decoder answers
	}
	if msg := modelcheck.Message(modelcheck.Check(lambdaModel.Shape(input), doc)); msg != "" {
		return fault.Invalid("%s", msg)
	}
	return nil
}

// bodyReader reads the body the gateway read from the start, or (for a request that did not pass the gateway)
// r.Body, put back for the operation.
func bodyReader(r *http.Request) io.Reader {
	if br, ok := gateway.BodyReader(r); ok {
		return br
	}
	return bytes.NewReader(requestBody(r))
}

// requestBody is the body the gateway read, or (for a request that did not pass the gateway) r.Body, put back
// for the operation.
func requestBody(r *http.Request) []byte {
	if body, ok := gateway.Body(r); ok {
		return body
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}
