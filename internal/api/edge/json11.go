package edge

import (
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
)

// JSON11 is the AWS JSON 1.1 protocol as Sluice's JSON services speak it (CodeDeploy, CloudWatch Logs, the stack
// service): POST / with X-Amz-Target <TargetPrefix><Operation>, inputs and outputs in encoding/json's terms (their
// structs carry the model's member names in tags), errors as {"__type": code, "message": text} with
// x-amzn-ErrorType. It is a wire.Protocol, so that a Handler serves it as it serves package wire's.
type JSON11 struct {
	// TargetPrefix starts every X-Amz-Target of the service, dot included ("CodeDeploy_20141006.").
	TargetPrefix string
	// InternalCode is the error code of a response that cannot be encoded (HTTP 500).
	InternalCode string
}

var _ wire.Protocol = JSON11{}

func (p JSON11) rpc() awshttp.JSONRPC {
	return awshttp.JSONRPC{ContentType: "application/x-amz-json-1.1", InternalCode: p.InternalCode}
}

// Name is the protocol's Smithy name.
func (JSON11) Name() string { return "awsJson1_1" }

// Operation reads the operation from X-Amz-Target; anything else is an unknown operation named as it was sent.
func (p JSON11) Operation(r *http.Request, _ []byte) (string, *wire.Error) {
	name, shown, ok := awshttp.Operation(r, p.TargetPrefix)
	if !ok {
		return "", unknownOperation(shown)
	}
	return name, nil
}

// UnknownOperation names the whole target sent, as the JSON services do.
func (p JSON11) UnknownOperation(op string) *wire.Error {
	return unknownOperation(p.TargetPrefix + op)
}

func unknownOperation(shown string) *wire.Error {
	return &wire.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest, Message: "Unknown operation " + shown}
}

// Decode decodes the JSON body into in (an empty body is an empty input); a body that does not fit is a
// SerializationException saying where.
func (JSON11) Decode(_ *http.Request, body []byte, in any) *wire.Error {
	err := awshttp.DecodeJSONBody(body, in)
	if err == nil {
		return nil
	}
	f, _ := fault.As(err)
	return &wire.Error{Code: f.Code, Status: http.StatusBadRequest, Message: f.Message}
}

// Encode writes out as the JSON body of a 200.
func (p JSON11) Encode(w http.ResponseWriter, _ string, out any, _ string) error {
	p.rpc().WriteJSON(w, http.StatusOK, out)
	return nil
}

// EncodeError writes {"__type": code, "message": text} with x-amzn-ErrorType.
func (p JSON11) EncodeError(w http.ResponseWriter, e *wire.Error, _ string) {
	p.rpc().WriteFault(w, e.Status, e.Code, e.Message)
}
