package iamapi

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
)

// Checks of the models' constraints, reported as IAM and STS do: "1 validation error detected: Value 'x' at
// 'roleName' failed to satisfy constraint: Member must …" (several joined with "; ").

type violation struct{ member, value, constraint string }

func check(results ...*violation) error {
	var msgs []string
	for _, v := range results {
		if v == nil {
			continue
		}
		if v.value == "\x00null" {
			msgs = append(msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: %s", v.member, v.constraint))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", v.value, v.member, v.constraint))
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return validation("1 validation error detected: " + msgs[0])
	}
	return validation(fmt.Sprintf("%d validation errors detected: %s", len(msgs), strings.Join(msgs, "; ")))
}

func validation(msg string) error { return fault.New("ValidationError", "%s", msg) }

func unsupported(member string) error {
	return validation(member + " is not supported by Sluice")
}

func required(member string, v *string) *violation {
	if v == nil {
		return &violation{member, "\x00null", "Member must not be null"}
	}
	return nil
}

func length(member string, v *string, min, max int) *violation {
	if v == nil {
		return nil
	}
	n := utf8.RuneCountInString(*v)
	switch {
	case n < min:
		return &violation{member, *v, fmt.Sprintf("Member must have length greater than or equal to %d", min)}
	case n > max:
		return &violation{member, *v, fmt.Sprintf("Member must have length less than or equal to %d", max)}
	}
	return nil
}

var namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)

// name checks an IAM entity or policy name.
func name(member string, v *string, max int) *violation {
	if l := length(member, v, 1, max); l != nil {
		return l
	}
	if v != nil && !namePattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: [\w+=,.@-]+`}
	}
	return nil
}

var documentPattern = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+$`)

func document(member string, v *string) *violation {
	if l := length(member, v, 1, 131072); l != nil {
		return l
	}
	if v != nil && !documentPattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`}
	}
	return nil
}

var pathPattern = regexp.MustCompile(`^((/)|(/[\x{0021}-\x{007E}]+/))$`)

func pathCheck(member string, v *string) *violation {
	if l := length(member, v, 1, 512); l != nil {
		return l
	}
	if v != nil && !pathPattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`}
	}
	return nil
}

func intRange(member string, v *int, min, max int) *violation {
	switch {
	case v == nil:
		return nil
	case *v < min:
		return &violation{member, fmt.Sprint(*v), fmt.Sprintf("Member must have value greater than or equal to %d", min)}
	case *v > max:
		return &violation{member, fmt.Sprint(*v), fmt.Sprintf("Member must have value less than or equal to %d", max)}
	}
	return nil
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

func sessionName(member string, v *string) *violation {
	if l := length(member, v, 2, 64); l != nil {
		return l
	}
	if v != nil && !sessionNamePattern.MatchString(*v) {
		return &violation{member, *v, `Member must satisfy regular expression pattern: [\w+=,.@-]*`}
	}
	return nil
}

// callerPrincipal is the verified caller's ARN ("" for anonymous requests).
func callerPrincipal(ctx context.Context) string {
	id, _ := gateway.IdentityFrom(ctx)
	return id.Principal
}
