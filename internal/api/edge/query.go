package edge

import (
	"net/http"
	"net/url"

	"github.com/sluice-dev/sluice/internal/api/modelcheck"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
)

// What the AWS query-protocol edges (IAM, STS, CloudFormation, SNS) declare alike.

// QueryAuthCodes are the query protocol's spellings of the gateway's authentication errors, for Service.AuthCodes.
var QueryAuthCodes = map[string]string{
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"ExpiredTokenException":               "ExpiredToken",
}

// MaxBody is a Service.Body that refuses a body of more than n bytes (RequestEntityTooLarge, 413 in the service's
// Error) before anything parses it.
func MaxBody(n int) func(*http.Request, []byte) ([]byte, error) {
	return func(_ *http.Request, body []byte) ([]byte, error) {
		if len(body) > n {
			return nil, fault.New("RequestEntityTooLarge", "The request body exceeds %d bytes.", n)
		}
		return body, nil
	}
}

// Query are a query-protocol request's parameters, from its URL and form body (none when they do not parse: the
// protocol then answers MalformedQueryString before any Service hook is asked).
func (r Request) Query() url.Values {
	q, _ := wire.QueryParams(r.HTTP, r.Body)
	return q
}

// CheckQueryModel is a Service.Admit that validates a query request against its operation's input shape in the
// service's model (inputs maps an operation to its input shape's name): every violation in one fault of code, as
// the query services answer.
func CheckQueryModel(model *modelcheck.Model, inputs map[string]string, code string) func(Request) error {
	return func(req Request) error {
		input, ok := inputs[req.Op]
		if !ok {
			return nil
		}
		shape := model.Shape(input)
		if msg := modelcheck.Message(modelcheck.Check(shape, modelcheck.FromQuery(shape, req.Query()))); msg != "" {
			return fault.New(code, "%s", msg)
		}
		return nil
	}
}
