package stackdeploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/pack"
	"github.com/sluice-dev/sluice/internal/sam"
)

// loaded is a template ready to deploy: SAM expanded, parameters resolved, code packaged.
type loaded struct {
	tpl  *cfn.Template
	eval *cfn.Evaluator
	// code holds each function's package by logical id (functions with local code only).
	code map[string]pack.Artifact
	// sha256 is the hex digest of the template file.
	sha256 string
	// notes are things the user should know (skipped SSM parameters, Rules not evaluated).
	notes []string
	// resolved are the values of the SSM-typed parameters, by parameter (CloudFormation's ResolvedValue).
	resolved map[string]string
	// serverless: the template declared the SAM transform (tpl is its expansion).
	serverless bool
	// fromBody: the template came as a body (the CloudFormation API), not from a file beside its code.
	fromBody bool
}

// source is where a template comes from: a file (`sluice deploy`; its local code paths are packaged) or the body
// a CloudFormation API call carried (code must be inline or already uploaded, as CloudFormation requires).
type source struct {
	path string // the file, or "" for a body
	body []byte
}

// read returns the template's text and the directory its local code paths are relative to ("" for a body,
// which may have none).
func (s source) read() ([]byte, string, error) {
	if s.path == "" {
		return s.body, "", nil
	}
	src, err := os.ReadFile(s.path)
	return src, filepath.Dir(s.path), err
}

// ssmResolver reads the values of the SSM parameters a template's SSM-typed parameters name (run.resolveSSM).
type ssmResolver func(context.Context, []cfn.SSMParameter) (values map[string]string, err error)

// load reads, expands and packages a template. Packaging happens before the SAM transform so that the version
// hash follows the packaged code (as `sam build` + `sam deploy` do).
func load(ctx context.Context, from source, pseudo cfn.Pseudo, overrides map[string]string, resolve ssmResolver, build func(string)) (*loaded, error) {
	src, dir, err := from.read()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	t, err := cfn.Parse(src)
	if err != nil {
		if from.path == "" {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", from.path, err)
	}
	l := &loaded{code: map[string]pack.Artifact{}, sha256: hex.EncodeToString(sum[:]), serverless: sam.IsServerless(t.Raw), fromBody: dir == ""}
	if ssmParams := cfn.SSMParameters(t, overrides); len(ssmParams) > 0 {
		if l.resolved, err = resolve(ctx, ssmParams); err != nil {
			return nil, err
		}
	}
	if l.serverless {
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
		// First pass: learn each function's code location and build settings.
		first, err := sam.Transform(t.Raw, sam.Options{Parameters: params})
		if err != nil {
			return nil, err
		}
		firstTpl, err := cfn.FromMap(first)
		if err != nil {
			return nil, err
		}
		if err := l.packageFunctions(ctx, firstTpl, dir, build); err != nil {
			return nil, err
		}
		expanded, err := sam.Transform(t.Raw, sam.Options{Parameters: params, CodeHash: func(id string) (string, error) {
			return l.code[id].Sha256, nil
		}})
		if err != nil {
			return nil, err
		}
		if t, err = cfn.FromMap(expanded); err != nil {
			return nil, err
		}
	} else if err := l.packageFunctions(ctx, t, dir, build); err != nil {
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

// packageFunctions zips (and for Go, builds) the local code of every AWS::Lambda::Function: Code given as a path
// (what SAM's CodeUri and `aws cloudformation package` inputs are), or a CDK asset directory named in the
// resource's Metadata. A template that came as a body (dir "") has no local code: a path is refused as
// CloudFormation refuses it, and a CDK asset is code uploaded to S3.
func (l *loaded) packageFunctions(ctx context.Context, t *cfn.Template, dir string, build func(string)) error {
	ids := sortedKeys(t.Resources)
	for _, id := range ids {
		r := t.Resources[id]
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		codeDir, ok := localCode(r)
		if !ok {
			continue
		}
		if dir == "" {
			if _, path := r.Properties["Code"].(string); path {
				return localCodeRefused(id, l.serverless)
			}
			continue
		}
		if !filepath.IsAbs(codeDir) {
			codeDir = filepath.Join(dir, codeDir)
		}
		spec := pack.Spec{Dir: codeDir, Runtime: stringProp(r.Properties, "Runtime"), BuildMethod: stringProp(r.Metadata, "BuildMethod")}
		if archs, ok := r.Properties["Architectures"].([]any); ok && len(archs) == 1 {
			spec.Architecture, _ = archs[0].(string)
		}
		if need, err := pack.NeedsGoBuild(spec); err == nil && need && build != nil {
			build(id)
		}
		a, err := pack.Package(ctx, spec)
		if err != nil {
			return fmt.Errorf("%s: package %s: %w", id, codeDir, err)
		}
		l.code[id] = a
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

// localCode returns the directory a function's code comes from, if it is local.
func localCode(r *cfn.Resource) (string, bool) {
	switch c := r.Properties["Code"].(type) {
	case string:
		return c, true
	case map[string]any:
		if r.Metadata != nil && r.Metadata["aws:asset:property"] == "Code" {
			if p, ok := r.Metadata["aws:asset:path"].(string); ok {
				return p, true
			}
		}
	}
	return "", false
}

func stringProp(m map[string]any, key string) string {
	if m == nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

// resourceTypes lists a template's resource types (for messages).
func resourceTypes(t *cfn.Template) []string {
	seen := map[string]bool{}
	for _, r := range t.Resources {
		seen[r.Type] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
