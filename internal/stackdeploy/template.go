package stackdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/sam"
)

// loaded is a template ready to deploy: SAM expanded, parameters resolved.
type loaded struct {
	tpl  *cfn.Template
	eval *cfn.Evaluator
	// sha256 is the hex digest of the template body.
	sha256 string
	// notes are things the user should know (skipped SSM parameters, Rules not evaluated).
	notes []string
	// resolved are the values of the SSM-typed parameters, by parameter (CloudFormation's ResolvedValue).
	resolved map[string]string
}

// ssmResolver reads the values of the SSM parameters a template's SSM-typed parameters name (run.resolveSSM).
type ssmResolver func(context.Context, []cfn.SSMParameter) (values map[string]string, err error)

// load parses a template body, resolves its parameters and expands SAM. Its functions' code must be inline or
// uploaded, as CloudFormation requires of a template it is given: a local path is refused.
func load(ctx context.Context, body []byte, pseudo cfn.Pseudo, overrides map[string]string, resolve ssmResolver) (*loaded, error) {
	sum := sha256.Sum256(body)
	t, err := cfn.Parse(body)
	if err != nil {
		return nil, err
	}
	l := &loaded{sha256: hex.EncodeToString(sum[:])}
	if ssmParams := cfn.SSMParameters(t, overrides); len(ssmParams) > 0 {
		if l.resolved, err = resolve(ctx, ssmParams); err != nil {
			return nil, err
		}
	}
	serverless := sam.IsServerless(t.Raw)
	if serverless {
		ev, err := cfn.NewEvaluatorWith(t, pseudo, overrides, l.resolved)
		if err != nil {
			return nil, err
		}
		params := map[string]any{"AWS::Region": pseudo.Region, "AWS::Partition": "aws", "AWS::AccountId": pseudo.AccountID, "AWS::StackName": pseudo.StackName}
		for name := range t.Parameters {
			if v, ok := ev.Parameter(name); ok {
				params[name] = v
			}
		}
		expanded, err := sam.Transform(t.Raw, sam.Options{Parameters: params})
		if err != nil {
			return nil, err
		}
		if t, err = cfn.FromMap(expanded); err != nil {
			return nil, err
		}
	}
	if err := refuseLocalCode(t, serverless); err != nil {
		return nil, err
	}
	l.tpl = t
	if l.eval, err = cfn.NewEvaluatorWith(t, pseudo, overrides, l.resolved); err != nil {
		return nil, err
	}
	for _, p := range l.eval.SkippedParameters() {
		l.notes = append(l.notes, fmt.Sprintf("parameter %s (%s) is not used by any resource; skipped", p, t.Parameters[p].Type))
	}
	if len(t.Rules) > 0 {
		l.notes = append(l.notes, fmt.Sprintf("the template's Rules (%s) are not evaluated", strings.Join(sortedKeys(t.Rules), ", ")))
	}
	return l, nil
}

// refuseLocalCode refuses a function whose Code is a path (what SAM's CodeUri becomes when it is not an S3 URI, and
// what `aws cloudformation package` replaces by the object it uploads): a template given as a body has no
// directory beside it.
func refuseLocalCode(t *cfn.Template, serverless bool) error {
	for _, id := range sortedKeys(t.Resources) {
		r := t.Resources[id]
		if _, path := r.Properties["Code"].(string); path && r.Type == "AWS::Lambda::Function" {
			return localCodeRefused(id, serverless)
		}
	}
	return nil
}

// localCodeRefused is CloudFormation's refusal of a local code path in a template it was given: SAM's transform
// refuses a CodeUri that is not an S3 URI (a SAM function keeps its logical id), and CloudFormation a Code that is
// not an object.
func localCodeRefused(id string, serverless bool) error {
	if serverless {
		return &CodeError{fmt.Sprintf("Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. "+
			"Number of errors found: 1. Resource with id [%s] is invalid. 'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.", id)}
	}
	return &CodeError{fmt.Sprintf("Properties validation failed for resource %s with message: [#/Code: expected type: JSONObject, found: String]", id)}
}

// CodeError is a function's code a template given as a body cannot have: a local path (`aws cloudformation
// package` uploads it first). Its message is CloudFormation's.
type CodeError struct{ Message string }

func (e *CodeError) Error() string { return e.Message }
