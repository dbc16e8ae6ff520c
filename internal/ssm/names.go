package ssm

import (
	"strconv"
	"strings"
)

// MaxNameLength is the longest name a caller may give: AWS documents 1011 characters, the ARN's part before the
// name included; the model's 2048 counts room Systems Manager reserves for itself.
const MaxNameLength = 1011

// MaxLevels is the deepest hierarchy: a name has at most 15 slash-separated parts.
const MaxLevels = 15

// ARN is a parameter's ARN: the name follows "parameter/" without its leading slash.
func ARN(region, account, name string) string {
	return "arn:aws:ssm:" + region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// PathARN is the ARN GetParametersByPath is authorized on: the path's, without a trailing slash ("/" itself is
// arn:…:parameter/).
func PathARN(region, account, path string) string {
	return ARN(region, account, strings.TrimSuffix(path, "/"))
}

// NameOfARN returns the parameter name an ARN of this account and region names ("" when s is not such an ARN):
// AWS accepts a parameter's ARN wherever it reads a parameter by name. Hierarchical names get back their slash.
func NameOfARN(region, account, s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:ssm:"+region+":"+account+":parameter/")
	if !ok {
		return "", false
	}
	if strings.Contains(rest, "/") {
		return "/" + rest, true
	}
	return rest, true
}

// CleanName is a name as the service takes it: AWS removes spaces around a name.
func CleanName(name string) string { return strings.TrimSpace(name) }

// CheckName checks the form of a parameter name an operation reads or deletes: letters, digits, "_", ".", "-"; a
// hierarchical name starts with "/" and has no empty part and no trailing slash.
func CheckName(name string) error {
	if !wellFormed(name) {
		return Invalid("%s", msgBadName)
	}
	return nil
}

// CheckNewName checks a name PutParameter may write: well formed, of at most MaxNameLength characters and
// MaxLevels levels, and prefixed neither with "aws" nor with "ssm" (case-insensitively, with or without the
// leading slash).
func CheckNewName(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if reserved(name) {
		return Invalid("%s", msgBadName)
	}
	if len(name) > MaxNameLength {
		return Invalid("Parameter name: %s exceeds the maximum length of %d characters.", name, MaxNameLength)
	}
	if Levels(name) > MaxLevels {
		return levelLimit()
	}
	return nil
}

// Levels counts a name's slash-separated parts ("/a/b" has 2, "a" has 1).
func Levels(name string) int {
	return len(strings.Split(strings.TrimPrefix(name, "/"), "/"))
}

func reserved(name string) bool {
	n := strings.ToLower(strings.TrimPrefix(name, "/"))
	return strings.HasPrefix(n, "aws") || strings.HasPrefix(n, "ssm")
}

func wellFormed(name string) bool {
	if name == "" {
		return false
	}
	rest := name
	if strings.HasPrefix(name, "/") {
		rest = name[1:]
	} else if strings.Contains(name, "/") {
		return false // a path must be fully qualified
	}
	for _, part := range strings.Split(rest, "/") {
		if part == "" || !validChars(part) {
			return false
		}
	}
	return true
}

func validChars(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// CheckPath checks GetParametersByPath's path: "/" or a well-formed hierarchy (a trailing slash is allowed) of at
// most MaxLevels levels.
func CheckPath(path string) error {
	if path == "/" {
		return nil
	}
	if !strings.HasPrefix(path, "/") || !wellFormed(strings.TrimSuffix(path, "/")) {
		return Invalid("%s", msgBadPath)
	}
	if Levels(strings.TrimSuffix(path, "/")) > MaxLevels {
		return levelLimit()
	}
	return nil
}

// PathPrefix is what the names under a path start with: the path and one slash.
func PathPrefix(path string) string { return strings.TrimSuffix(path, "/") + "/" }

// UnderPath reports whether name is under the path prefix (PathPrefix), directly or, when recursive, at any depth.
func UnderPath(prefix, name string, recursive bool) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" {
		return false
	}
	return recursive || !strings.Contains(rest, "/")
}

// Selector is what follows a name's colon in GetParameter and GetParameters: a version or a label.
type Selector struct {
	Text    string // as given, colon included (":3", ":prod"); "" when there is none
	Version int64  // > 0 for a version selector
	Label   string // for a label selector
}

// ParseSelector splits "name:3" or "name:label". A selector that is neither a positive version nor a valid label
// makes the name invalid, as AWS answers it.
func ParseSelector(s string) (name string, sel Selector, err error) {
	name, text, found := strings.Cut(s, ":")
	if !found {
		return name, Selector{}, CheckName(name)
	}
	if err := CheckName(name); err != nil {
		return name, Selector{}, err
	}
	sel.Text = ":" + text
	if v, perr := strconv.ParseInt(text, 10, 64); perr == nil {
		if v < 1 {
			return name, sel, Invalid("%s", msgBadName)
		}
		sel.Version = v
		return name, sel, nil
	}
	if !ValidLabel(text) {
		return name, sel, Invalid("%s", msgBadName)
	}
	sel.Label = text
	return name, sel, nil
}

// MaxLabelLength is the longest label.
const MaxLabelLength = 100

// ValidLabel reports whether a label may be attached: at most 100 letters, digits, ".", "-", "_", not starting
// with a digit, nor with "aws" or "ssm" (case-insensitively). LabelParameterVersion lists the others as
// InvalidLabels instead of failing.
func ValidLabel(l string) bool {
	if l == "" || len(l) > MaxLabelLength || !validChars(l) || l[0] >= '0' && l[0] <= '9' {
		return false
	}
	lower := strings.ToLower(l)
	return !strings.HasPrefix(lower, "aws") && !strings.HasPrefix(lower, "ssm")
}
