package cfn

import (
	"maps"
	"slices"
	"strings"
)

// Capabilities a caller acknowledges for CloudFormation to make what a template asks for.
const (
	CapabilityIAM        = "CAPABILITY_IAM"
	CapabilityNamedIAM   = "CAPABILITY_NAMED_IAM"
	CapabilityAutoExpand = "CAPABILITY_AUTO_EXPAND"
)

// iamTypes are the resource types that need CAPABILITY_IAM, with the property that, set, makes them named (and
// so need CAPABILITY_NAMED_IAM).
var iamTypes = map[string]string{
	"AWS::IAM::AccessKey":           "",
	"AWS::IAM::Group":               "GroupName",
	"AWS::IAM::InstanceProfile":     "InstanceProfileName",
	"AWS::IAM::ManagedPolicy":       "ManagedPolicyName",
	"AWS::IAM::Policy":              "",
	"AWS::IAM::Role":                "RoleName",
	"AWS::IAM::User":                "UserName",
	"AWS::IAM::UserToGroupAddition": "",
}

// RequiredCapabilities is what CloudFormation asks a caller to acknowledge for a template: CAPABILITY_IAM when it
// has IAM resources, CAPABILITY_NAMED_IAM instead when one of them has a custom name, with the reason
// ValidateTemplate gives ("The following resource(s) require capabilities: [AWS::IAM::Role]"). Transforms are
// not counted: whether CAPABILITY_AUTO_EXPAND is needed depends on the operation (TransformCapability).
func RequiredCapabilities(t *Template) (caps []string, reason string) {
	var types []string
	named := false
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		nameProp, ok := iamTypes[r.Type]
		if !ok {
			continue
		}
		if !slices.Contains(types, r.Type) {
			types = append(types, r.Type)
		}
		if nameProp != "" && r.Properties[nameProp] != nil {
			named = true
		}
	}
	if len(types) == 0 {
		return nil, ""
	}
	slices.Sort(types)
	capability := CapabilityIAM
	if named {
		capability = CapabilityNamedIAM
	}
	return []string{capability}, "The following resource(s) require capabilities: [" + strings.Join(types, ", ") + "]"
}

// TransformCapability is CAPABILITY_AUTO_EXPAND when the template declares a transform: CreateStack and
// UpdateStack need it acknowledged (a change set shows the expansion instead, and does not).
func TransformCapability(t *Template) []string {
	if len(t.Transform) > 0 {
		return []string{CapabilityAutoExpand}
	}
	return nil
}

// MissingCapabilities lists, in CloudFormation's order, what required asks for that given does not acknowledge
// (CAPABILITY_NAMED_IAM acknowledges CAPABILITY_IAM too); CloudFormation refuses the operation with
// InsufficientCapabilitiesException "Requires capabilities : [<them>]".
func MissingCapabilities(required, given []string) []string {
	var missing []string
	for _, c := range []string{CapabilityIAM, CapabilityNamedIAM, CapabilityAutoExpand} {
		if !slices.Contains(required, c) || slices.Contains(given, c) || c == CapabilityIAM && slices.Contains(given, CapabilityNamedIAM) {
			continue
		}
		missing = append(missing, c)
	}
	return missing
}
