package stackdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::Lambda::Url ----

// urlHandler gives a function ($LATEST) or an alias its URL, as CloudFormation's AWS::Lambda::Url: the target is
// TargetFunctionArn (a name or ARN, qualified by an alias or not) and Qualifier; changing either makes a new URL —
// a new address — while AuthType, Cors and InvokeMode are updated in place, keeping it. Ref is the URL's
// FunctionArn; Fn::GetAtt gives FunctionArn and FunctionUrl.
type urlHandler struct{}

var urlKeys = []string{"AuthType", "Cors", "InvokeMode", "Qualifier", "TargetFunctionArn"}

func (urlHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, urlKeys...)
	if err != nil {
		return err
	}
	for _, k := range []string{"TargetFunctionArn", "AuthType"} {
		if str(props, k) == "" {
			return fmt.Errorf("property %s is required", k)
		}
	}
	if _, _, err := urlTarget(props); err != nil {
		return err
	}
	_, err = urlSettings(props)
	return err
}

// urlTarget is the function and the qualifier ("" for $LATEST) a URL is on: TargetFunctionArn's qualifier, or
// Qualifier (which must agree when both are given).
func urlTarget(props map[string]any) (fn, qualifier string, err error) {
	fn, qualifier = splitQualifier(str(props, "TargetFunctionArn"))
	if q := str(props, "Qualifier"); q != "" {
		if qualifier != "" && qualifier != q && !strings.HasPrefix(qualifier, "{") {
			return "", "", fmt.Errorf("TargetFunctionArn is qualified by %s and Qualifier is %s", qualifier, q)
		}
		qualifier = q
	}
	return fn, qualifier, nil
}

// splitQualifier cuts the qualifier off a function name, partial ARN or ARN ("orders:live", "…:function:orders:live").
func splitQualifier(name string) (fn, qualifier string) {
	prefix, rest := "", name
	if i := strings.Index(name, ":function:"); i >= 0 {
		prefix, rest = name[:i+len(":function:")], name[i+len(":function:"):]
	}
	if base, q, ok := strings.Cut(rest, ":"); ok {
		return prefix + base, q
	}
	return name, ""
}

// urlSettings are a URL's AuthType, Cors and InvokeMode as the API takes them. What the template leaves out goes
// back to Lambda's defaults on an update: no CORS, BUFFERED.
func urlSettings(props map[string]any) (*lambda.UpdateFunctionUrlConfigInput, error) {
	in := &lambda.UpdateFunctionUrlConfigInput{}
	if err := decodeInto(props, in, "TargetFunctionArn", "Qualifier"); err != nil {
		return nil, err
	}
	if in.Cors == nil {
		in.Cors = &types.Cors{}
	}
	if in.InvokeMode == "" {
		in.InvokeMode = types.InvokeModeBuffered
	}
	return in, nil
}

func (urlHandler) create(ctx context.Context, r *run, res *resource) error {
	fn, qualifier, err := urlTarget(res.props)
	if err != nil {
		return err
	}
	in := &lambda.CreateFunctionUrlConfigInput{}
	if err := decodeInto(res.props, in, "TargetFunctionArn", "Qualifier"); err != nil {
		return err
	}
	in.FunctionName = aws.String(fn)
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := r.lambda.CreateFunctionUrlConfig(ctx, in)
	if err != nil {
		return err
	}
	res.physicalID = aws.ToString(out.FunctionArn)
	res.attrs = map[string]string{"FunctionArn": res.physicalID, "FunctionUrl": aws.ToString(out.FunctionUrl)}
	return nil
}

func (urlHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	in, err := urlSettings(res.props)
	if err != nil {
		return "", "", err
	}
	fn, qualifier, err := urlTarget(prev.Properties)
	if err != nil {
		return "", "", err
	}
	in.FunctionName = aws.String(fn)
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := r.lambda.UpdateFunctionUrlConfig(ctx, in)
	if err != nil {
		return "", "", err
	}
	res.attrs = map[string]string{"FunctionArn": aws.ToString(out.FunctionArn), "FunctionUrl": aws.ToString(out.FunctionUrl)}
	return ActionUpdate, "", nil
}

func (urlHandler) replaces(changed []string) bool {
	return has(changed, "TargetFunctionArn", "Qualifier")
}

func (urlHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	fn, qualifier, err := urlTarget(prev.Properties)
	if err != nil {
		return err
	}
	in := &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String(fn)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	_, err = r.lambda.DeleteFunctionUrlConfig(ctx, in)
	return ignoreNotFound(err) // gone with its function or alias
}

// ---- AWS::Lambda::Permission ----

// permissionHandler adds a statement to a function's, version's or alias's resource-based policy (FunctionName,
// qualified or not), as CloudFormation's AWS::Lambda::Permission: the statement ID is generated
// (<stack>-<logical id>-<random>), and any change of property makes a new statement, the old one removed in the
// cleanup phase. Ref and Fn::GetAtt Id give the statement ID.
type permissionHandler struct{}

var permissionKeys = []string{"Action", "EventSourceToken", "FunctionName", "FunctionUrlAuthType", "InvokedViaFunctionUrl",
	"Principal", "PrincipalOrgID", "SourceAccount", "SourceArn"}

func (permissionHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, permissionKeys...)
	if err != nil {
		return err
	}
	for _, k := range []string{"FunctionName", "Action", "Principal"} {
		if str(props, k) == "" {
			return fmt.Errorf("property %s is required", k)
		}
	}
	return decodeInto(props, &lambda.AddPermissionInput{})
}

func (permissionHandler) create(ctx context.Context, r *run, res *resource) error {
	in := &lambda.AddPermissionInput{}
	if err := decodeInto(res.props, in); err != nil {
		return err
	}
	sid := r.physicalName(res.id, 100)
	in.StatementId = aws.String(sid)
	if _, err := r.lambda.AddPermission(ctx, in); err != nil {
		return err
	}
	res.physicalID, res.attrs = sid, map[string]string{"Id": sid}
	return nil
}

func (permissionHandler) update(context.Context, *run, *resource, stack.ResourceState, []string) (Action, string, error) {
	return "", "", errors.New("permissions are replaced, never updated")
}

func (permissionHandler) replaces([]string) bool { return true }

func (permissionHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(str(prev.Properties, "FunctionName")),
		StatementId: aws.String(prev.PhysicalID)})
	return ignoreNotFound(err) // gone with its function, version or alias
}
