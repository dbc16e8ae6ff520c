package sns

import "github.com/sluice-dev/sluice/internal/fault"

// SNS's error codes (the model's error shapes, as the query protocol names them).
const (
	CodeInvalidParameter      = "InvalidParameter"
	CodeInvalidParameterValue = "ParameterValueInvalid"
	CodeNotFound              = "NotFound"
	CodeAuthorizationError    = "AuthorizationError"
	CodeInternalError         = "InternalError"
	CodeThrottled             = "Throttled"
	CodeTopicLimitExceeded    = "TopicLimitExceeded"
	CodeSubscriptionLimit     = "SubscriptionLimitExceeded"
	CodeValidation            = "ValidationError"
)

// Statuses are the HTTP statuses of the codes (the model's httpStatusCode).
var Statuses = map[string]int{
	CodeInvalidParameter: 400, CodeInvalidParameterValue: 400, CodeNotFound: 404, CodeAuthorizationError: 403,
	CodeInternalError: 500, CodeThrottled: 429, CodeTopicLimitExceeded: 403, CodeSubscriptionLimit: 403,
	CodeValidation: 400,
}

// invalid is SNS's usual answer to a bad parameter: "Invalid parameter: <what>".
func invalid(format string, args ...any) *fault.Error {
	return fault.New(CodeInvalidParameter, "Invalid parameter: "+format, args...)
}

// ErrTopicNotFound is the answer for a topic that does not exist.
func ErrTopicNotFound() *fault.Error { return fault.New(CodeNotFound, "Topic does not exist") }

// ErrSubscriptionNotFound is the answer for a subscription that does not exist.
func ErrSubscriptionNotFound() *fault.Error {
	return fault.New(CodeNotFound, "Subscription does not exist")
}

// ErrInvalidToken is ConfirmSubscription's answer for a token that confirms nothing.
func ErrInvalidToken() *fault.Error { return invalid("Token") }

// ErrQueueFull is Publish's answer while the delivery queue is at its bound.
func ErrQueueFull() *fault.Error {
	return fault.New(CodeThrottled, "Rate exceeded: the delivery queue is full; retry later")
}
