package lambda

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Latest is the mutable, unpublished version.
const Latest = "$LATEST"

var (
	// functionNamePattern is the model's FunctionName/NamespacedFunctionName pattern, anchored, with groups named.
	functionNamePattern = regexp.MustCompile(`^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d{1}):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_\.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`)
	plainNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	aliasNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	digitsPattern       = regexp.MustCompile(`^[0-9]+$`)
	qualifierPattern    = regexp.MustCompile(`^(?:\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$`)
)

// Account is where Sluice's resources live: every ARN it mints names this region and account.
type Account struct {
	Region string
	ID     string
}

// FunctionARN is the unqualified ARN of a function.
func (a Account) FunctionARN(name string) string {
	return "arn:aws:lambda:" + a.Region + ":" + a.ID + ":function:" + name
}

// QualifiedARN is the ARN of a version or alias (an empty qualifier gives the unqualified ARN).
func (a Account) QualifiedARN(name, qualifier string) string {
	if qualifier == "" {
		return a.FunctionARN(name)
	}
	return a.FunctionARN(name) + ":" + qualifier
}

// Ref is a function reference as a caller wrote it, reduced to a name and an optional qualifier.
type Ref struct {
	Name      string
	Qualifier string // "" when the reference was unqualified
}

// ParseFunctionName accepts every form AWS does — name, name:qualifier, account:function:name[:q], full ARN — and
// returns the bare name and qualifier. It checks the region and account of ARNs against a.
func (a Account) ParseFunctionName(member, input string, maxLen int) (Ref, error) {
	if len(input) < 1 || len(input) > maxLen {
		return Ref{}, ValidationError(input, member, "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	}
	if plainFunctionName(input) {
		return Ref{Name: input}, nil // what the pattern makes of a name without ':' (the invoke path's usual case)
	}
	m := functionNamePattern.FindStringSubmatch(input)
	if m == nil {
		return Ref{}, ValidationError(input, member, "Member must satisfy regular expression pattern: "+
			`(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`)
	}
	region, account, name, qualifier := m[2], m[3], m[4], m[5]
	if region != "" && region != a.Region {
		return Ref{}, fault.NotFound("Functions from '%s' are not reachable in this region ('%s')", region, a.Region)
	}
	if account != "" && account != a.ID {
		return Ref{}, fault.NotFound("Function not found: %s", a.QualifiedARN(name, qualifier))
	}
	return Ref{Name: name, Qualifier: qualifier}, nil
}

// plainFunctionName reports whether s is only characters of the pattern's name part ([a-zA-Z0-9-_.]): without a
// ':' nothing else of the pattern can match, so the whole of s is the name and there is no qualifier.
func plainFunctionName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// plainQualifier reports whether s is only characters of the qualifier pattern's second form ([a-zA-Z0-9-_$]+),
// which it then matches without running it.
func plainQualifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '$') {
			return false
		}
	}
	return s != ""
}

// NamesOtherAccount reports whether a function name or ARN names an account other than a's: CreateFunction is
// denied such a name (403, as AWS does), where reads answer "not found".
func (a Account) NamesOtherAccount(input string) bool {
	m := functionNamePattern.FindStringSubmatch(input)
	return m != nil && m[3] != "" && m[3] != a.ID
}

// WithQualifier reconciles a qualifier carried in the name with one from the Qualifier parameter.
func (r Ref) WithQualifier(param string) (Ref, error) {
	if param == "" {
		return r, nil
	}
	if len(param) > 128 || !plainQualifier(param) && !qualifierPattern.MatchString(param) {
		return r, ValidationError(param, "qualifier", `Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`)
	}
	if r.Qualifier != "" && r.Qualifier != param {
		return r, fault.InvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
	}
	r.Qualifier = param
	return r, nil
}

// ValidNewFunctionName checks a name for CreateFunction: the bare-name rules (1–64 characters of [a-zA-Z0-9-_]).
// The model allows 140 (an ARN); the service's own check of the bare name answers InvalidParameterValueException
// in the validation message's words, as AWS does.
func ValidNewFunctionName(name string) error {
	if len(name) > 64 {
		return fault.InvalidParameter("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64", name)
	}
	if !plainNamePattern.MatchString(name) {
		return ValidationError(name, "functionName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+")
	}
	return nil
}

// ValidAliasName checks the Alias shape: 1–128 of [a-zA-Z0-9-_], not all digits.
func ValidAliasName(name string) error {
	if len(name) < 1 || len(name) > 128 {
		return ValidationError(name, "name", "Member must have length less than or equal to 128")
	}
	if !aliasNamePattern.MatchString(name) || digitsPattern.MatchString(name) {
		return ValidationError(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
	}
	return nil
}

// IsVersionNumber reports whether q names a published version.
func IsVersionNumber(q string) bool { return digitsPattern.MatchString(q) && len(q) <= 1024 }

// ValidVersion checks the Version shape ($LATEST or digits), as CreateAlias's FunctionVersion.
func ValidVersion(member, v string) error {
	if v == Latest || IsVersionNumber(v) {
		return nil
	}
	return ValidationError(v, member, `Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)`)
}

// ValidationError builds AWS's un-modelled constraint violation message.
func ValidationError(value, member, constraint string) *fault.Error {
	return fault.Invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// VersionKey renders a version number so that keys sort numerically.
func VersionKey(n int) string { return leftPad(strconv.Itoa(n), 10) }

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

var functionARNPattern = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)

// LooksLikeFunctionARN reports whether s is a full function ARN (the TaggableResource shape, functions only).
func LooksLikeFunctionARN(s string) bool { return len(s) <= 256 && functionARNPattern.MatchString(s) }
