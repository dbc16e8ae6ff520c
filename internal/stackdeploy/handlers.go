package stackdeploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// resource is a resource being created or updated: its resolved properties and, once it exists, its physical
// id (what Ref returns) and attributes (what Fn::GetAtt returns).
type resource struct {
	id, typ    string
	props      map[string]any
	raw        *cfn.Resource
	physicalID string
	attrs      map[string]string
	// restoring: a rollback is putting back the properties the resource had before the deploy (props), so the
	// update must not start a traffic shift.
	restoring bool
}

// handler deploys one resource type through Sluice's APIs.
type handler interface {
	// check refuses properties the type cannot take, before anything is deployed.
	check(r *run, id string, res *cfn.Resource) error
	create(ctx context.Context, r *run, res *resource) error
	// update applies changed properties in place; it may answer ActionShift when a CodeDeploy deployment will
	// finish the change.
	update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, changed []string) (Action, string, error)
	// replaces reports whether changing these properties needs a new physical resource.
	replaces(changed []string) bool
	remove(ctx context.Context, r *run, prev stack.ResourceState) error
}

// handlers are the resource types sluice deploy supports.
var handlers = map[string]handler{
	"AWS::Lambda::Function":             functionHandler{},
	"AWS::Lambda::Version":              versionHandler{},
	"AWS::Lambda::Alias":                aliasHandler{},
	"AWS::Lambda::EventInvokeConfig":    eventInvokeHandler{},
	"AWS::Lambda::Url":                  urlHandler{},
	"AWS::Lambda::Permission":           permissionHandler{},
	"AWS::CloudWatch::Alarm":            alarmHandler{},
	"AWS::CodeDeploy::Application":      applicationHandler{},
	"AWS::CodeDeploy::DeploymentGroup":  groupHandler{},
	"AWS::CodeDeploy::DeploymentConfig": configHandler{},
	"AWS::IAM::Role":                    roleHandler{},
	"AWS::SSM::Parameter":               parameterHandler{},
	"AWS::S3::Bucket":                   bucketHandler{},
	"AWS::S3::BucketPolicy":             bucketPolicyHandler{},
	"AWS::IAM::Policy":                  inlinePolicyHandler{},
	"AWS::IAM::ManagedPolicy":           managedPolicyHandler{},
	"AWS::Logs::LogGroup":               logGroupHandler{},
	"AWS::ECR::Repository":              repositoryHandler{},
	"AWS::CDK::Metadata":                metadataHandler{},
}

// placeholderRefs resolves every reference to a placeholder, for checks before anything exists.
type placeholderRefs struct{}

func (placeholderRefs) Ref(id string) (any, error) { return "{" + id + "}", nil }
func (placeholderRefs) GetAtt(id, attr string) (any, error) {
	if attr == "Version" {
		return "1", nil
	}
	return "{" + id + "." + attr + "}", nil
}

// checkedProps evaluates a resource's properties with placeholders and checks them against an allow-list.
func checkedProps(r *run, id string, allowed ...string) (map[string]any, error) {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(props) {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("property %s is not supported by sluice deploy", k)
		}
	}
	return props, nil
}

func has(changed []string, keys ...string) bool {
	for _, k := range keys {
		if slices.Contains(changed, k) {
			return true
		}
	}
	return false
}

func str(props map[string]any, key string) string {
	switch v := props[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// tagMap turns CloudFormation's [{Key, Value}] tag list into a map.
func tagMap(v any) (map[string]string, error) {
	list, ok := v.([]any)
	if v == nil {
		return nil, nil
	}
	if !ok {
		return nil, errors.New("Tags: expected a list of {Key, Value}")
	}
	out := map[string]string{}
	for _, item := range list {
		m, _ := item.(map[string]any)
		k, _ := m["Key"].(string)
		if k == "" {
			return nil, errors.New("Tags: every tag needs a Key")
		}
		out[k] = fmt.Sprint(m["Value"])
	}
	return out, nil
}

// metadataHandler accepts AWS::CDK::Metadata, which describes the CDK app and creates nothing.
type metadataHandler struct{}

func (metadataHandler) check(*run, string, *cfn.Resource) error { return nil }
func (metadataHandler) create(_ context.Context, _ *run, res *resource) error {
	res.physicalID = res.id
	return nil
}
func (metadataHandler) update(context.Context, *run, *resource, stack.ResourceState, []string) (Action, string, error) {
	return ActionUpdate, "", nil
}
func (metadataHandler) replaces([]string) bool                                  { return false }
func (metadataHandler) remove(context.Context, *run, stack.ResourceState) error { return nil }
