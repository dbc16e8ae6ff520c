// Package wire carries the operations of a service that speaks the three protocols of CloudWatch — Smithy RPC v2
// CBOR, AWS JSON 1.0 and the AWS query protocol with XML responses — between HTTP and plain Go structs.
//
// The Go structs are the model: a struct field is a member with the field's name (members are PascalCase in these
// models, so no tags are needed), *T and nil slices/maps are absent members, time.Time is a timestamp, float64 a
// double, int/int32/int64 an integer, []T a list, map[string]T a map. Each protocol decodes its request into a
// neutral value tree (maps, lists, strings, numbers, booleans, times) that one binder maps onto the input struct,
// and encodes output structs the same way, so no operation has protocol-specific code:
//
//   - rpcv2Cbor: POST /service/<TargetPrefix>/operation/<Op>, smithy-protocol: rpc-v2-cbor, CBOR bodies,
//     timestamps as CBOR tag 1 (epoch seconds, integer or float);
//   - awsJson1_0: POST /, X-Amz-Target: <TargetPrefix>.<Op>, timestamps as epoch-seconds numbers;
//   - awsQuery: form-encoded Action=<Op>&Version=…, lists flattened as Name.member.N, maps as Name.entry.N.key/value,
//     ISO 8601 timestamps; XML responses <OpResponse><OpResult>…</OpResult><ResponseMetadata>…</OpResponse>.
//
// Errors follow awsQueryCompatible: JSON and CBOR bodies carry {"__type": "<namespace>#<Shape>", "message": …}
// and the x-amzn-query-error header carries "<Code>;Sender|Receiver", which is what clients report as the code;
// query errors are <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
package wire

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Service describes the service the protocols speak for.
type Service struct {
	// TargetPrefix names the service in RPC v2 paths (/service/<TargetPrefix>/operation/<Op>) and in the JSON
	// protocol's X-Amz-Target header (<TargetPrefix>.<Op>).
	TargetPrefix string
	// ShapeNamespace is the Smithy namespace of the error shapes: __type is <ShapeNamespace>#<Shape>.
	ShapeNamespace string
	// Version is the API version the query protocol's Version parameter carries.
	Version string
	// XMLNamespace is the xmlns of query responses.
	XMLNamespace string
}

// Error is an error as the protocols put it on the wire.
type Error struct {
	// Code is the error code clients report: the query protocol's <Code> and the x-amzn-query-error header.
	Code string
	// Shape is the name of the modelled error shape, sent as JSON's and CBOR's __type; "" for unmodelled errors
	// (__type is then the Code).
	Shape string
	// Status is the HTTP status.
	Status int
	// Receiver marks a server fault (<Type>Receiver</Type>); anything else is the sender's.
	Receiver bool
	Message  string
	// MessageKey is the member that holds the message in JSON and CBOR bodies: "message" unless the shape's
	// model spells it "Message".
	MessageKey string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Protocol is one wire protocol of the service.
type Protocol interface {
	// Name is the protocol's Smithy name (rpcv2Cbor, awsJson1_0, awsQuery).
	Name() string
	// Operation names the operation a request asks for.
	Operation(r *http.Request, body []byte) (string, *Error)
	// Decode decodes the request's input into in, a pointer to the operation's input struct.
	Decode(r *http.Request, body []byte, in any) *Error
	// Encode writes a successful response carrying out (a pointer to the output struct, or nil for an operation
	// without output).
	Encode(w http.ResponseWriter, op string, out any, requestID string) error
	// EncodeError writes an error response.
	EncodeError(w http.ResponseWriter, e *Error, requestID string)
	// UnknownOperation is the error for an operation the service does not have.
	UnknownOperation(op string) *Error
}

// Detect picks the protocol of a request from its path and headers alone (the body is not needed, so that errors
// found before the body is read — authentication failures — are answered in the client's protocol too):
// /service/… is RPC v2 CBOR, an X-Amz-Target header or an application/x-amz-json content type is JSON 1.0, and
// anything else is the query protocol.
func (s *Service) Detect(r *http.Request) Protocol {
	if strings.HasPrefix(r.URL.Path, "/service/") {
		return &cborProtocol{svc: s}
	}
	if r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(mediaType(r), "application/x-amz-json") {
		return &jsonProtocol{svc: s}
	}
	return &queryProtocol{svc: s}
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// typeName is __type for an error: the shape ID for modelled errors, the bare code otherwise.
func (s *Service) typeName(e *Error) string {
	if e.Shape == "" {
		return e.Code
	}
	if s.ShapeNamespace == "" {
		return e.Shape
	}
	return s.ShapeNamespace + "#" + e.Shape
}

// queryErrorHeader is the awsQueryCompatible x-amzn-query-error header value.
func queryErrorHeader(e *Error) string {
	if e.Receiver {
		return e.Code + ";Receiver"
	}
	return e.Code + ";Sender"
}

// errorBody is the JSON/CBOR error body: __type and the message under the model's key (and under "message" too
// when the model says "Message", since generic error parsers only look there).
func (s *Service) errorBody(e *Error) map[string]any {
	body := map[string]any{"__type": s.typeName(e), "message": e.Message}
	if e.MessageKey != "" && e.MessageKey != "message" {
		body[e.MessageKey] = e.Message
	}
	return body
}

// serializationError is the JSON and CBOR protocols' answer to a body that does not fit the input shape.
func serializationError(format string, args ...any) *Error {
	return &Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}
