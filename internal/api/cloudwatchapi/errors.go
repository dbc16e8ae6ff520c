package cloudwatchapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
)

// CloudWatch error codes: what clients report (the model's error shapes carry them as error.code).
const (
	CodeResourceNotFound            = "ResourceNotFound"
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeMissingParameter            = "MissingParameter"
	CodeLimitExceeded               = "LimitExceeded"
	CodeInvalidNextToken            = "InvalidNextToken"
	CodeInvalidFormat               = "InvalidFormat"
	CodeInternalServiceError        = "InternalServiceError"
	// CodeValidationError is the unmodelled error of constraint violations (lengths, enums, ranges) and of what
	// Sluice does not support.
	CodeValidationError = "ValidationError"
)

// errorShape is a modelled error: its shape name, HTTP status and the member that holds its message.
type errorShape struct {
	shape      string
	status     int
	messageKey string
}

// errorShapes are the model's error shapes by code (service-2.json: error.code, error.httpStatusCode).
var errorShapes = map[string]errorShape{
	CodeResourceNotFound:              {"ResourceNotFound", 404, "message"},
	CodeInvalidParameterValue:         {"InvalidParameterValueException", 400, "message"},
	CodeInvalidParameterCombination:   {"InvalidParameterCombinationException", 400, "message"},
	CodeMissingParameter:              {"MissingRequiredParameterException", 400, "message"},
	CodeLimitExceeded:                 {"LimitExceededFault", 400, "message"},
	CodeInvalidNextToken:              {"InvalidNextToken", 400, "message"},
	CodeInvalidFormat:                 {"InvalidFormatFault", 400, "message"},
	CodeInternalServiceError:          {"InternalServiceFault", 500, "Message"},
	"LimitExceededException":          {"LimitExceededException", 400, "message"},
	"ConcurrentModificationException": {"ConcurrentModificationException", 429, "message"},
	"ResourceNotFoundException":       {"ResourceNotFoundException", 404, "message"},
	"ConflictException":               {"ConflictException", 409, "Message"},
	"InvalidParameterInput":           {"DashboardInvalidInputError", 400, "message"},
	// ValidationException joined the model after botocore 1.43 (aws-sdk-go-v2 knows it), with code ValidationError.
	CodeValidationError: {"ValidationException", 400, "message"},
}

// shapeCodes finds a code from its shape name, for backends that return the shape's name.
var shapeCodes = func() map[string]string {
	m := map[string]string{}
	for code, s := range errorShapes {
		m[s.shape] = code
	}
	return m
}()

// commonStatus are the statuses of the errors every query-protocol service may return (not in the model).
var commonStatus = map[string]int{
	"InvalidAction":         400,
	"MissingAction":         400,
	"InvalidQueryParameter": 400,
	"MalformedQueryString":  404,
	"Throttling":            400,
	"InternalFailure":       500,
	"ServiceUnavailable":    503,
	"AccessDenied":          403,
	"RequestEntityTooLarge": 413,
}

// authCodes are the query-protocol spellings of the gateway's authentication errors.
var authCodes = map[string]string{
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"ExpiredTokenException":               "ExpiredToken",
	"AccessDeniedException":               "AccessDenied",
}

// wireError puts a fault in the protocols' terms. A fault may carry a code or the name of its shape
// (ValidationException, as in fault.Validation, is ValidationError); an unknown code is a 400.
func wireError(f *fault.Error) *wire.Error {
	code := f.Code
	if c, ok := shapeCodes[code]; ok {
		code = c
	}
	if s, ok := errorShapes[code]; ok {
		return &wire.Error{Code: code, Shape: s.shape, Status: s.status, Receiver: s.status >= 500, Message: f.Message, MessageKey: s.messageKey}
	}
	status, ok := commonStatus[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &wire.Error{Code: code, Status: status, Receiver: status >= 500, Message: f.Message}
}

// ---- fault constructors with CloudWatch's codes and message forms ----

func missing(param string) error {
	return fault.New(CodeMissingParameter, "The parameter %s is required.", param)
}

func invalidValue(format string, args ...any) error {
	return fault.New(CodeInvalidParameterValue, format, args...)
}

func invalidCombination(format string, args ...any) error {
	return fault.New(CodeInvalidParameterCombination, format, args...)
}

func unsupported(format string, args ...any) error {
	return fault.New(CodeValidationError, format, args...)
}

// constraint is AWS's message for a member that violates its model constraint, naming the member as AWS does
// (metricData.1.member.unit for MetricData.member.1.Unit).
func constraint(value any, path, rule string) error {
	return fault.New(CodeValidationError, "1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s",
		value, memberPath(path), rule)
}

// memberPath turns a query-style member path (MetricData.member.1.Unit) into the form of AWS's validation
// messages (metricData.1.member.unit).
func memberPath(path string) string {
	parts := strings.Split(path, ".")
	var out []string
	for i := 0; i < len(parts); i++ {
		if parts[i] == "member" && i+1 < len(parts) {
			out = append(out, parts[i+1], "member")
			i++
			continue
		}
		p := parts[i]
		if p != "" {
			p = strings.ToLower(p[:1]) + p[1:]
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

func elem(path string, i int) string { return fmt.Sprintf("%s.member.%d", path, i+1) }
