package policy

import "fmt"

// CodeMalformedPolicyDocument is the IAM error code for every error Parse
// returns.
const CodeMalformedPolicyDocument = "MalformedPolicyDocument"

// Messages IAM puts on the wire for the fixed-text MalformedPolicyDocument
// errors.
const (
	msgSyntax            = "Syntax errors in policy."
	msgNoPrincipal       = "Policy document should not specify a principal."
	msgMissingPrincipal  = "Missing required field Principal"
	msgMissingEffect     = "Missing required field Effect"
	msgNoActions         = "Policy statement must contain actions."
	msgNoResources       = "Policy statement must contain resources."
	msgLegacyParsing     = "The policy failed legacy parsing"
	msgSidUnique         = "Statement IDs (SID) in a single policy must be unique."
	msgSidCharset        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgVendorPrefix      = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon          = "Actions/Condition can contain only one colon."
	msgTrustActions      = "AssumeRole policy may only specify STS AssumeRole actions."
	msgNotPrincipalAllow = "NotPrincipal is supported only with Effect Deny."
)

// MalformedError is the error Parse returns for a document IAM would refuse
// with MalformedPolicyDocument (HTTP 400). Message is the text to put on the
// wire.
type MalformedError struct {
	Message string
}

// Error returns "MalformedPolicyDocument: Message".
func (e *MalformedError) Error() string { return CodeMalformedPolicyDocument + ": " + e.Message }

func malformed(msg string) *MalformedError { return &MalformedError{Message: msg} }

func malformedf(format string, args ...any) *MalformedError {
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// syntaxError is IAM's catch-all for a document whose JSON or element types
// are wrong.
func syntaxError() *MalformedError { return malformed(msgSyntax) }
