package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sluice-dev/sluice/internal/cfn"
)

// templateNotes are what a deploy tells its user about the template that CloudFormation's answers do not carry:
// an SSM-typed parameter the template does not use whose SSM parameter does not exist (CDK's BootstrapVersion
// before `cdk bootstrap`: the engine skips it rather than failing), and Rules, which are not evaluated. They are
// read as the caller, as the engine reads them.
func templateNotes(ctx context.Context, c *ssm.Client, t *cfn.Template, overrides map[string]string) []string {
	var notes, names []string
	var unused []cfn.SSMParameter
	for _, p := range cfn.SSMParameters(t, overrides) {
		if !p.Referenced {
			unused = append(unused, p)
			if !slices.Contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
	}
	found := map[string]bool{}
	for start := 0; start < len(names); start += 10 {
		out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: names[start:min(start+10, len(names))]})
		if err != nil {
			return notes // only a note is missing: the engine reads them again and says what fails
		}
		for _, p := range out.Parameters {
			found[aws.ToString(p.Name)] = true
		}
	}
	for _, p := range unused {
		if !found[p.Name] {
			notes = append(notes, fmt.Sprintf("parameter %s (%s): SSM parameter %s not found; the template does not use it", p.Parameter, p.Type, p.Name))
		}
	}
	if len(t.Rules) > 0 {
		rules := make([]string, 0, len(t.Rules))
		for k := range t.Rules {
			rules = append(rules, k)
		}
		sort.Strings(rules)
		notes = append(notes, fmt.Sprintf("the template's Rules (%s) are not evaluated", strings.Join(rules, ", ")))
	}
	return notes
}
