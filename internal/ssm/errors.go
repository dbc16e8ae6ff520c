package ssm

import (
	"fmt"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Parameter Store's exception names (the model's error shapes).
const (
	CodeValidation               = fault.Validation
	CodeParameterNotFound        = "ParameterNotFound"
	CodeParameterAlreadyExists   = "ParameterAlreadyExists"
	CodeParameterVersionNotFound = "ParameterVersionNotFound"
	CodeLabelLimitExceeded       = "ParameterVersionLabelLimitExceeded"
	CodeMaxVersionLimitExceeded  = "ParameterMaxVersionLimitExceeded"
	CodeParameterLimitExceeded   = "ParameterLimitExceeded"
	CodeInvalidAllowedPattern    = "InvalidAllowedPatternException"
	CodePatternMismatch          = "ParameterPatternMismatchException"
	CodeHierarchyTypeMismatch    = "HierarchyTypeMismatchException"
	CodeHierarchyLevelLimit      = "HierarchyLevelLimitExceededException"
	CodeUnsupportedParameterType = "UnsupportedParameterType"
	CodeInvalidFilterKey         = "InvalidFilterKey"
	CodeInvalidFilterOption      = "InvalidFilterOption"
	CodeInvalidFilterValue       = "InvalidFilterValue"
	CodeInvalidNextToken         = "InvalidNextToken"
	CodeInvalidResourceType      = "InvalidResourceType"
	CodeInvalidResourceID        = "InvalidResourceId"
	CodeTooManyTags              = "TooManyTagsError"
	CodeInternalServerError      = "InternalServerError"
)

// Messages AWS was recorded answering (quoted by its users).
const (
	// msgBadName is what PutParameter, GetParameter and the other operations on one parameter answer for a name of
	// the wrong form, whatever is wrong with it (AWS's text names "ssm" even for names with neither prefix).
	msgBadName = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of ` +
		`sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	// msgBadPath is GetParametersByPath's answer for a path of the wrong form. The backslashes are AWS's.
	msgBadPath = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward ` +
		`slash "/". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or ` +
		`the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, ` +
		`if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`
	msgAlreadyExists = "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
	msgStandardSize  = "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger " +
		"parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see " +
		"https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
	msgTagsWithOverwrite = "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, " +
		"please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
)

// Messages worded after AWS's documentation of the exception or the rule (not recorded).
const (
	msgHierarchyLevel = "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and " +
		"constraints for parameter names in the Amazon Web Services Systems Manager User Guide."
	msgTypeMismatch = "Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't " +
		"change a parameter from a String type to a SecureString type. You must create a new, unique parameter."
	msgTypeRequired   = "A parameter type is required when you create a parameter."
	msgLabelLimit     = "A parameter version can have a maximum of ten labels."
	msgParameterLimit = "You have exceeded the number of parameters for this Amazon Web Services account. Delete one " +
		"or more parameters and try again."
	msgDowngrade = "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the " +
		"advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter " +
		"and recreate it as a standard parameter."
	msgBadToken = "The specified token isn't valid."
)

// Invalid is a ValidationException.
func Invalid(format string, args ...any) *fault.Error {
	return fault.New(CodeValidation, format, args...)
}

// NotFound is GetParameter's and DeleteParameter's answer for a missing parameter: AWS sends no message.
func NotFound() *fault.Error { return &fault.Error{Code: CodeParameterNotFound} }

// HistoryNotFound is the missing-parameter answer of operations that name it ("Parameter /x not found.").
func HistoryNotFound(name string) *fault.Error {
	return fault.New(CodeParameterNotFound, "Parameter %s not found.", name)
}

// VersionNotFound is the answer for a version a parameter does not have (or no longer keeps).
func VersionNotFound(name string, version int64) *fault.Error {
	return fault.New(CodeParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
}

// LabelNotFound is the answer for a label no version of the parameter carries.
func LabelNotFound(name, label string) *fault.Error {
	return fault.New(CodeParameterVersionNotFound, "Systems Manager could not find label %s of %s. Verify the label and try again.", label, name)
}

// AlreadyExists answers a PutParameter without Overwrite for a parameter that exists.
func AlreadyExists() *fault.Error {
	return &fault.Error{Code: CodeParameterAlreadyExists, Message: msgAlreadyExists}
}

// MaxVersionLimit answers a PutParameter that would drop the oldest of 100 versions while it carries a label.
func MaxVersionLimit(name string, oldest int64) *fault.Error {
	return fault.New(CodeMaxVersionLimitExceeded, "You attempted to create a new version of %s by calling the PutParameter API "+
		"with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. "+
		"Move the label to another version of the parameter, and try again.", name, oldest)
}

func levelLimit() *fault.Error {
	return &fault.Error{Code: CodeHierarchyLevelLimit, Message: msgHierarchyLevel}
}

// ParameterLimit answers a PutParameter that would make more parameters of a tier than an account may have.
func ParameterLimit() *fault.Error {
	return &fault.Error{Code: CodeParameterLimitExceeded, Message: msgParameterLimit}
}

// InvalidToken answers a NextToken this server did not issue for the same request.
func InvalidToken() *fault.Error {
	return &fault.Error{Code: CodeInvalidNextToken, Message: msgBadToken}
}

// InvalidResourceID answers a tagging call naming a parameter that does not exist (AWS sends no message).
func InvalidResourceID() *fault.Error { return &fault.Error{Code: CodeInvalidResourceID} }

func filterKey(key string, valid []string) *fault.Error {
	return fault.New(CodeInvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: %v.", key, valid)
}

func filterOption(option string, valid []string) *fault.Error {
	return fault.New(CodeInvalidFilterOption, "The following filter option is not valid: %s. Valid options include: %v.", option, valid)
}

func filterValue(format string, args ...any) *fault.Error {
	return &fault.Error{Code: CodeInvalidFilterValue, Message: fmt.Sprintf(format, args...)}
}
