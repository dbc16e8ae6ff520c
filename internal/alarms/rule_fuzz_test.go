package alarms

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

// FuzzParseRule feeds arbitrary AlarmRules to the parser: it never panics, every error is a ValidationError, and a
// rule it accepts evaluates without panicking and names at most MaxRuleChildren alarms.
func FuzzParseRule(f *testing.F) {
	for _, seed := range []string{"ALARM(a)", `ALARM("a b") AND NOT OK(c) OR INSUFFICIENT_DATA(arn:aws:cloudwatch:us-east-1:1:alarm:d)`,
		"(TRUE OR FALSE) AND NOT (ALARM(x))", "()", "ALARM(", `OK("`, "NOT NOT NOT TRUE"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, children, err := parseRule(src)
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Code != CodeValidationError ||
				!strings.HasPrefix(fe.Message, "Error in AlarmRule [") && !strings.HasPrefix(fe.Message, "1 validation error detected") {
				t.Fatalf("%q: %v", src, err)
			}
			return
		}
		if len(children) > MaxRuleChildren {
			t.Fatalf("%q: %d children accepted", src, len(children))
		}
		r.eval(func(string) string { return StateAlarm })
	})
}
