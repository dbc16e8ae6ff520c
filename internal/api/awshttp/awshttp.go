// Package awshttp holds what every AWS wire protocol edge shares: request IDs, JSON responses, the
// exception-to-status table and the REST-JSON error encoding.
package awshttp

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/fault"
)

type ctxKey int

const requestIDKey ctxKey = iota

// WithRequestID stores a fresh request ID in the context and sets the x-amzn-RequestId header.
func WithRequestID(w http.ResponseWriter, r *http.Request) *http.Request {
	id := uuid.NewString()
	w.Header()["X-Amzn-Requestid"] = []string{id} // Set("x-amzn-RequestId"), without canonicalizing the name each time
	return r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
}

// RequestID returns the request ID stored by WithRequestID.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Type":"Service","Message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// Status is the HTTP status of each exception Sluice raises.
var Status = map[string]int{
	fault.ResourceNotFound:                          404,
	fault.ResourceConflict:                          409,
	fault.InvalidParameterValue:                     400,
	fault.PreconditionFailed:                        412,
	fault.Validation:                                400,
	fault.TooManyRequests:                           429,
	fault.RequestTooLarge:                           413,
	fault.InvalidRequestContent:                     400,
	fault.CodeStorageExceeded:                       400,
	fault.Service:                                   500,
	"ProvisionedConcurrencyConfigNotFoundException": 404,
	"ResourceNotReadyException":                     502,
	"UnsupportedMediaTypeException":                 415,
	"UnknownOperationException":                     404,
	"SerializationException":                        400,
	"AccessDeniedException":                         403,
}

// upperMessage lists the Lambda exceptions whose model spells the member "Message" rather than "message".
var upperMessage = map[string]bool{
	fault.ResourceNotFound: true, fault.Service: true, fault.RequestTooLarge: true,
	"ServiceQuotaExceededException": true, "AccessDeniedException": true,
}

// WriteRESTError writes err in REST-JSON form: x-amzn-ErrorType header plus the modelled body. Anything that is
// not a fault is logged and reported as a ServiceException without detail.
func WriteRESTError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	f, ok := fault.As(err)
	if !ok {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "request_id", RequestID(r.Context()), "err", err)
		f = fault.New(fault.Service, "An internal error occurred. Request ID: %s", RequestID(r.Context()))
	}
	status, known := Status[f.Code]
	if !known {
		status = 400
	}
	body := map[string]any{}
	switch {
	case f.Message == "": // an error AWS sends without a message has no body members either
	case f.Code == fault.Validation || f.Code == fault.RequestTooLarge:
	case status >= 500:
		body["Type"] = "Service"
	default:
		body["Type"] = "User"
	}
	switch {
	case f.Message == "":
	case upperMessage[f.Code]:
		body["Message"] = f.Message
	default:
		body["message"] = f.Message
	}
	if f.Reason != "" {
		body["Reason"] = f.Reason
	}
	w.Header().Set("x-amzn-ErrorType", f.Code)
	WriteJSON(w, status, body)
}
