package cfn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error is a problem at a place in a template. Every error this package returns is an *Error.
type Error struct {
	// Line is the 1-based line in the source given to Parse; 0 when unknown (FromMap, evaluation).
	Line int
	// Path is where in the template, e.g. "Resources.Fn.Properties.Environment.Variables.TABLE"; empty when the
	// message names the place itself, as CloudFormation's own messages do.
	Path string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by errors for template features Sluice cannot honor: Fn::ImportValue (no exports),
// Fn::Cidr, Fn::Transform (no macros) and referenced AWS::SSM::Parameter::Value parameters (no SSM).
var ErrUnsupported = errors.New("not supported by Sluice")

func errAt(path, format string, args ...any) error {
	return &Error{Path: path, Err: fmt.Errorf(format, args...)}
}

func errorf(format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...)}
}

// child and index build the paths carried by errors, and by Parse's line index.
func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// parent strips the last element of a path, so a line can be found for a place Parse never saw.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
