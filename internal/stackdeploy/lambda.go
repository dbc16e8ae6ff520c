package stackdeploy

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::Lambda::Function ----

type functionHandler struct{}

// functionOwnKeys are Function properties handled apart from the CreateFunction input.
var functionOwnKeys = []string{"Code", "Tags", "ReservedConcurrentExecutions", "FunctionName"}

func (functionHandler) check(r *run, id string, res *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	code, _ := props["Code"].(map[string]any)
	if _, inline := code["ZipFile"]; !inline && s3Code(props) == nil {
		return errors.New("Code must be inline (ZipFile) or an S3 object (S3Bucket and S3Key): image code is not supported by Sluice")
	}
	if _, err := tagMap(props["Tags"]); err != nil {
		return err
	}
	return decodeInto(props, &lambda.CreateFunctionInput{}, functionOwnKeys...)
}

// s3Code is a function's Code when it names an S3 object (S3Bucket, S3Key, optionally S3ObjectVersion), which Lambda
// reads itself; nil otherwise.
func s3Code(props map[string]any) *types.FunctionCode {
	code, _ := props["Code"].(map[string]any)
	bucket, _ := code["S3Bucket"].(string)
	key, _ := code["S3Key"].(string)
	if bucket == "" || key == "" {
		return nil
	}
	c := &types.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String(key)}
	if v, _ := code["S3ObjectVersion"].(string); v != "" {
		c.S3ObjectVersion = aws.String(v)
	}
	return c
}

// codeFor is a function's Code for CreateFunction and UpdateFunctionCode: the S3 object the template names (a
// rollback restores the one recorded), else CloudFormation's inline ZipFile, written to index.js / index.py as
// CloudFormation does.
func codeFor(res *resource) (*types.FunctionCode, error) {
	if c := s3Code(res.props); c != nil {
		return c, nil
	}
	code, _ := res.props["Code"].(map[string]any)
	if _, inline := code["ZipFile"]; !inline {
		// A record written before Sluice took templates only as bodies may name a package by its digest.
		return nil, errors.New("the stack recorded code that is neither inline (ZipFile) nor an S3 object")
	}
	zipped, err := inlineZip(res.props)
	if err != nil {
		return nil, err
	}
	return &types.FunctionCode{ZipFile: zipped}, nil
}

func inlineZip(props map[string]any) ([]byte, error) {
	code, _ := props["Code"].(map[string]any)
	src, _ := code["ZipFile"].(string)
	name := "index.js"
	if strings.HasPrefix(str(props, "Runtime"), "python") {
		name = "index.py"
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o644)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write([]byte(src))
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), err
}

func (functionHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "FunctionName")
	if name == "" {
		name = r.physicalName(res.id, 64)
	}
	in := &lambda.CreateFunctionInput{}
	if err := decodeInto(res.props, in, functionOwnKeys...); err != nil {
		return err
	}
	code, err := codeFor(res)
	if err != nil {
		return err
	}
	in.FunctionName, in.Code = aws.String(name), code
	if in.Tags, err = tagMap(res.props["Tags"]); err != nil {
		return err
	}
	out, err := r.lambda.CreateFunction(ctx, in)
	if err != nil {
		return err
	}
	res.physicalID, res.attrs = name, map[string]string{"Arn": aws.ToString(out.FunctionArn)}
	if err := r.waitFunction(ctx, name); err != nil {
		return err
	}
	return putReserved(ctx, r, name, res.props)
}

func putReserved(ctx context.Context, r *run, name string, props map[string]any) error {
	v, ok := props["ReservedConcurrentExecutions"]
	if !ok {
		_, err := r.lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(name)})
		return err
	}
	var n struct{ ReservedConcurrentExecutions *int32 }
	if err := decodeInto(map[string]any{"ReservedConcurrentExecutions": v}, &n); err != nil {
		return err
	}
	_, err := r.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: n.ReservedConcurrentExecutions})
	return err
}

// waitFunction waits for a function to leave Pending and for its last update to finish (the seed's §6: the next
// call would otherwise get a 409).
func (r *run) waitFunction(ctx context.Context, name string) error {
	for {
		cfg, err := r.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			return err
		}
		switch {
		case cfg.State == types.StateFailed:
			return fmt.Errorf("function %s failed: %s", name, aws.ToString(cfg.StateReason))
		case cfg.LastUpdateStatus == types.LastUpdateStatusFailed:
			return fmt.Errorf("update of %s failed: %s", name, aws.ToString(cfg.LastUpdateStatusReason))
		case cfg.State != types.StatePending && cfg.LastUpdateStatus != types.LastUpdateStatusInProgress:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.clock.After(100 * time.Millisecond):
		}
	}
}

// configurationKeys are the properties UpdateFunctionConfiguration does not take.
var configurationExcluded = append([]string{"Architectures", "PackageType"}, functionOwnKeys...)

func (functionHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	name := prev.PhysicalID
	if has(changed, "Code", "Architectures") {
		code, err := codeFor(res)
		if err != nil {
			return "", "", err
		}
		in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: code.ZipFile,
			S3Bucket: code.S3Bucket, S3Key: code.S3Key, S3ObjectVersion: code.S3ObjectVersion}
		if archs, ok := res.props["Architectures"]; ok {
			if err := decodeInto(map[string]any{"Architectures": archs}, in); err != nil {
				return "", "", err
			}
		}
		if _, err := r.lambda.UpdateFunctionCode(ctx, in); err != nil {
			return "", "", err
		}
		if err := r.waitFunction(ctx, name); err != nil {
			return "", "", err
		}
	}
	configChanged := false
	for _, k := range changed {
		if !has(configurationExcluded, k) {
			configChanged = true
		}
	}
	if configChanged {
		in := &lambda.UpdateFunctionConfigurationInput{}
		if err := decodeInto(res.props, in, configurationExcluded...); err != nil {
			return "", "", err
		}
		in.FunctionName = aws.String(name)
		// Properties that left the template go back to Lambda's defaults.
		if in.Environment == nil {
			in.Environment = &types.Environment{Variables: map[string]string{}}
		}
		if in.Description == nil {
			in.Description = aws.String("")
		}
		if in.Timeout == nil {
			in.Timeout = aws.Int32(3)
		}
		if in.MemorySize == nil {
			in.MemorySize = aws.Int32(128)
		}
		if in.DeadLetterConfig == nil && has(changed, "DeadLetterConfig") {
			in.DeadLetterConfig = &types.DeadLetterConfig{TargetArn: aws.String("")}
		}
		if _, err := r.lambda.UpdateFunctionConfiguration(ctx, in); err != nil {
			return "", "", err
		}
		if err := r.waitFunction(ctx, name); err != nil {
			return "", "", err
		}
	}
	if has(changed, "ReservedConcurrentExecutions") {
		if err := putReserved(ctx, r, name, res.props); err != nil {
			return "", "", err
		}
	}
	if has(changed, "Tags") {
		if err := retag(ctx, r, prev.Attributes["Arn"], prev.Properties["Tags"], res.props["Tags"]); err != nil {
			return "", "", err
		}
	}
	return ActionUpdate, "", nil
}

func retag(ctx context.Context, r *run, arn string, old, new any) error {
	before, _ := tagMap(old)
	after, err := tagMap(new)
	if err != nil {
		return err
	}
	var gone []string
	for k := range before {
		if _, ok := after[k]; !ok {
			gone = append(gone, k)
		}
	}
	if len(gone) > 0 {
		if _, err := r.lambda.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: gone}); err != nil {
			return err
		}
	}
	if len(after) > 0 {
		_, err = r.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: after})
	}
	return err
}

func (functionHandler) replaces(changed []string) bool {
	return has(changed, "FunctionName", "PackageType")
}

func (functionHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(prev.PhysicalID)})
	return ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// ---- AWS::Lambda::Version ----

type versionHandler struct{}

func (versionHandler) check(r *run, id string, _ *cfn.Resource) error {
	_, err := checkedProps(r, id, "FunctionName", "Description", "CodeSha256", "ProvisionedConcurrencyConfig")
	return err
}

func (versionHandler) create(ctx context.Context, r *run, res *resource) error {
	fn := str(res.props, "FunctionName")
	in := &lambda.PublishVersionInput{FunctionName: aws.String(fn)}
	if d := str(res.props, "Description"); d != "" {
		in.Description = aws.String(d)
	}
	if s := str(res.props, "CodeSha256"); s != "" {
		in.CodeSha256 = aws.String(s)
	}
	if err := r.waitFunction(ctx, fn); err != nil {
		return err
	}
	out, err := r.lambda.PublishVersion(ctx, in)
	if err != nil {
		return err
	}
	res.physicalID = aws.ToString(out.FunctionArn)
	res.attrs = map[string]string{"Version": aws.ToString(out.Version), "FunctionArn": aws.ToString(out.FunctionArn)}
	return putProvisioned(ctx, r, fn, aws.ToString(out.Version), res.props["ProvisionedConcurrencyConfig"])
}

func putProvisioned(ctx context.Context, r *run, fn, qualifier string, cfg any) error {
	if cfg == nil {
		return nil
	}
	var pc struct{ ProvisionedConcurrentExecutions *int32 }
	m, _ := cfg.(map[string]any)
	if err := decodeInto(m, &pc); err != nil {
		return fmt.Errorf("ProvisionedConcurrencyConfig: %w", err)
	}
	_, err := r.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn),
		Qualifier: aws.String(qualifier), ProvisionedConcurrentExecutions: pc.ProvisionedConcurrentExecutions})
	return err
}

func (versionHandler) update(context.Context, *run, *resource, stack.ResourceState, []string) (Action, string, error) {
	return "", "", errors.New("versions are immutable")
}

func (versionHandler) replaces([]string) bool { return true }

func (versionHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	arn := prev.PhysicalID
	i := strings.LastIndex(arn, ":")
	if i < 0 {
		return nil
	}
	_, err := r.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(arn[:i]), Qualifier: aws.String(arn[i+1:])})
	return ignoreNotFound(err)
}

// ---- AWS::Lambda::Alias ----

type aliasHandler struct{}

func (aliasHandler) check(r *run, id string, res *cfn.Resource) error {
	props, err := checkedProps(r, id, "FunctionName", "FunctionVersion", "Name", "Description", "RoutingConfig", "ProvisionedConcurrencyConfig")
	if err != nil {
		return err
	}
	if _, err := routing(props); err != nil {
		return err
	}
	for k := range res.UpdatePolicy {
		if k != "CodeDeployLambdaAliasUpdate" {
			return fmt.Errorf("UpdatePolicy %s is not supported (only CodeDeployLambdaAliasUpdate)", k)
		}
	}
	return nil
}

// routing converts CloudFormation's RoutingConfig ({AdditionalVersionWeights: [{FunctionVersion,
// FunctionWeight}]}) into the API's.
func routing(props map[string]any) (*types.AliasRoutingConfiguration, error) {
	rc, ok := props["RoutingConfig"].(map[string]any)
	if !ok {
		return nil, nil
	}
	weights := map[string]float64{}
	list, _ := rc["AdditionalVersionWeights"].([]any)
	for _, item := range list {
		var w struct {
			FunctionVersion *string
			FunctionWeight  *float64
		}
		m, _ := item.(map[string]any)
		if err := decodeInto(m, &w); err != nil {
			return nil, fmt.Errorf("RoutingConfig: %w", err)
		}
		weights[aws.ToString(w.FunctionVersion)] = aws.ToFloat64(w.FunctionWeight)
	}
	return &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}, nil
}

func (aliasHandler) create(ctx context.Context, r *run, res *resource) error {
	rc, err := routing(res.props)
	if err != nil {
		return err
	}
	fn, name := str(res.props, "FunctionName"), str(res.props, "Name")
	in := &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(name),
		FunctionVersion: aws.String(str(res.props, "FunctionVersion")), RoutingConfig: rc}
	if d := str(res.props, "Description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := r.lambda.CreateAlias(ctx, in)
	if err != nil {
		return err
	}
	res.physicalID = aws.ToString(out.AliasArn)
	res.attrs = map[string]string{"AliasArn": res.physicalID}
	return putProvisioned(ctx, r, fn, name, res.props["ProvisionedConcurrencyConfig"])
}

func (aliasHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	fn, name := str(res.props, "FunctionName"), str(res.props, "Name")
	if policy, ok := res.raw.UpdatePolicy["CodeDeployLambdaAliasUpdate"]; ok && has(changed, "FunctionVersion") && !res.restoring {
		return r.startShift(ctx, res, prev, policy)
	}
	rc, err := routing(res.props)
	if err != nil {
		return "", "", err
	}
	if rc == nil {
		rc = &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}
	}
	if _, err := r.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(name),
		FunctionVersion: aws.String(str(res.props, "FunctionVersion")), Description: aws.String(str(res.props, "Description")),
		RoutingConfig: rc}); err != nil {
		return "", "", err
	}
	if has(changed, "ProvisionedConcurrencyConfig") {
		if res.props["ProvisionedConcurrencyConfig"] == nil {
			_, err = r.lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(name)})
		} else {
			err = putProvisioned(ctx, r, fn, name, res.props["ProvisionedConcurrencyConfig"])
		}
		if err != nil {
			return "", "", err
		}
	}
	detail := ""
	if has(changed, "FunctionVersion") {
		detail = fmt.Sprintf("moved at once from version %s to %s (no deployment preference)", str(prev.Properties, "FunctionVersion"), str(res.props, "FunctionVersion"))
	}
	return ActionUpdate, detail, nil
}

func (aliasHandler) replaces(changed []string) bool { return has(changed, "Name", "FunctionName") }

func (aliasHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	fn, name := str(prev.Properties, "FunctionName"), str(prev.Properties, "Name")
	_, err := r.lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String(name)})
	return ignoreNotFound(err)
}

// ---- AWS::Lambda::EventInvokeConfig ----

type eventInvokeHandler struct{}

func (eventInvokeHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	return decodeInto(props, &lambda.PutFunctionEventInvokeConfigInput{})
}

func (eventInvokeHandler) create(ctx context.Context, r *run, res *resource) error {
	in := &lambda.PutFunctionEventInvokeConfigInput{}
	if err := decodeInto(res.props, in); err != nil {
		return err
	}
	if _, err := r.lambda.PutFunctionEventInvokeConfig(ctx, in); err != nil {
		return err
	}
	res.physicalID = aws.ToString(in.FunctionName) + ":" + aws.ToString(in.Qualifier)
	return nil
}

func (h eventInvokeHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	return ActionUpdate, "", h.create(ctx, r, res)
}

func (eventInvokeHandler) replaces(changed []string) bool {
	return has(changed, "FunctionName", "Qualifier")
}

func (eventInvokeHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{
		FunctionName: aws.String(str(prev.Properties, "FunctionName")), Qualifier: aws.String(str(prev.Properties, "Qualifier"))})
	return ignoreNotFound(err)
}
