package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/internal/cfn"
)

// templateNotes are what a deploy tells its user about the template that CloudFormation's answers do not carry:
// its Rules, which are not evaluated.
func templateNotes(t *cfn.Template) []string {
	if len(t.Rules) == 0 {
		return nil
	}
	rules := make([]string, 0, len(t.Rules))
	for k := range t.Rules {
		rules = append(rules, k)
	}
	sort.Strings(rules)
	return []string{fmt.Sprintf("the template's Rules (%s) are not evaluated", strings.Join(rules, ", "))}
}
