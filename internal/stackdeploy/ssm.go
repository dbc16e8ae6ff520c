package stackdeploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// resolveSSM reads the SSM parameters the template's AWS::SSM::Parameter::Value<…> parameters name, as
// CloudFormation does before it creates anything, and returns their values by template parameter (CloudFormation's
// ResolvedValue). A missing parameter fails the deploy with CloudFormation's message — also one only the Rules read,
// such as CDK's BootstrapVersion before `cdk bootstrap`, as on AWS. SecureString parameters are refused, as
// CloudFormation refuses them.
func (r *run) resolveSSM(ctx context.Context, params []cfn.SSMParameter) (map[string]string, error) {
	values := map[string]string{}
	var names []string
	for _, p := range params {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	found := map[string]ssmtypes.Parameter{}
	var invalid []string
	for start := 0; start < len(names); start += 10 {
		batch := names[start:min(start+10, len(names))]
		out, err := r.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		if err != nil {
			return nil, fmt.Errorf("read SSM parameters %s: %w", strings.Join(batch, ", "), err)
		}
		for _, p := range out.Parameters {
			found[aws.ToString(p.Name)] = p
		}
		invalid = append(invalid, out.InvalidParameters...)
	}
	var missing, secure []string
	for _, p := range params {
		v, ok := found[p.Name]
		switch {
		case !ok:
			missing = append(missing, p.Name)
		case v.Type == ssmtypes.ParameterTypeSecureString:
			secure = append(secure, p.Name)
		default:
			values[p.Parameter] = aws.ToString(v.Value)
		}
	}
	switch {
	case len(secure) > 0:
		return nil, fmt.Errorf("Parameters [%s] referenced by template have types not supported by CloudFormation.", strings.Join(secure, ", "))
	case len(missing) > 0:
		return nil, fmt.Errorf("Unable to fetch parameters [%s] from parameter store for this account.", strings.Join(missing, ","))
	}
	return values, nil
}

// ---- AWS::SSM::Parameter ----

type parameterHandler struct{}

var parameterKeys = []string{"Name", "Type", "Value", "Description", "AllowedPattern", "Tier", "DataType", "Tags"}

func (parameterHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, parameterKeys...)
	if err != nil {
		return err
	}
	switch t := str(props, "Type"); t {
	case "String", "StringList":
	case "":
		return errors.New("Type is required")
	case "SecureString":
		return errors.New("SSM Parameters of type SecureString cannot be created using CloudFormation") // CloudFormation's words
	default:
		return fmt.Errorf("Type %s is not supported: CloudFormation creates String and StringList parameters", t)
	}
	if props["Value"] == nil {
		return errors.New("Value is required")
	}
	_, err = parameterTags(props["Tags"])
	return err
}

// parameterTags reads AWS::SSM::Parameter's Tags: a JSON object of keys and values (not the usual list).
func parameterTags(v any) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("Tags: expected an object of keys and values")
	}
	out := map[string]string{}
	for k, val := range m {
		out[k] = fmt.Sprint(val)
	}
	return out, nil
}

func (parameterHandler) putInput(res *resource, name string) *ssm.PutParameterInput {
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(str(res.props, "Value")),
		Type: ssmtypes.ParameterType(str(res.props, "Type"))}
	if d := str(res.props, "Description"); d != "" {
		in.Description = aws.String(d)
	}
	if p := str(res.props, "AllowedPattern"); p != "" {
		in.AllowedPattern = aws.String(p)
	}
	if t := str(res.props, "Tier"); t != "" {
		in.Tier = ssmtypes.ParameterTier(t)
	}
	if d := str(res.props, "DataType"); d != "" {
		in.DataType = aws.String(d)
	}
	return in
}

func (h parameterHandler) create(ctx context.Context, r *run, res *resource) error {
	name := str(res.props, "Name")
	if name == "" {
		name = r.physicalName(res.id, 1011)
	}
	in := h.putInput(res, name)
	tags, err := parameterTags(res.props["Tags"])
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if _, err := r.ssm.PutParameter(ctx, in); err != nil {
		return err
	}
	res.physicalID = name
	res.attrs = parameterAttrs(res.props)
	return nil
}

func parameterAttrs(props map[string]any) map[string]string {
	return map[string]string{"Type": str(props, "Type"), "Value": str(props, "Value")}
}

// update writes the parameter's next version (overwriting), then brings its tags to the template's.
func (h parameterHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error) {
	if has(changed, "Value", "Description", "AllowedPattern", "Tier", "DataType") {
		in := h.putInput(res, prev.PhysicalID)
		in.Overwrite = aws.Bool(true)
		if _, err := r.ssm.PutParameter(ctx, in); err != nil {
			return "", "", err
		}
	}
	if has(changed, "Tags") {
		want, err := parameterTags(res.props["Tags"])
		if err != nil {
			return "", "", err
		}
		had, _ := parameterTags(prev.Properties["Tags"])
		var gone []string
		for k := range had {
			if _, ok := want[k]; !ok {
				gone = append(gone, k)
			}
		}
		sort.Strings(gone)
		if len(gone) > 0 {
			if _, err := r.ssm.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
				ResourceId: aws.String(prev.PhysicalID), TagKeys: gone}); err != nil {
				return "", "", err
			}
		}
		if len(want) > 0 {
			in := &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(prev.PhysicalID)}
			for _, k := range sortedKeys(want) {
				in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(want[k])})
			}
			if _, err := r.ssm.AddTagsToResource(ctx, in); err != nil {
				return "", "", err
			}
		}
	}
	res.attrs = parameterAttrs(res.props)
	return ActionUpdate, "", nil
}

// replaces: a new name is a new parameter; so is a new type, which Parameter Store does not change in place.
func (parameterHandler) replaces(changed []string) bool { return has(changed, "Name", "Type") }

func (parameterHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(prev.PhysicalID)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}
