package metrics

import "github.com/sluice-dev/sluice/internal/fault"

// CloudWatch's error codes (query protocol names) returned by this package and by alarms.
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidNextToken            = "InvalidNextToken"
)

func invalidValue(format string, args ...any) *fault.Error {
	return fault.New(CodeInvalidParameterValue, format, args...)
}
