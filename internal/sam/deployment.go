package sam

import (
	"fmt"
	"slices"
	"sort"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

// Logical IDs of the CodeDeploy resources SAM shares between all functions of a template.
const (
	ApplicationID = "ServerlessDeploymentApplication"
	ServiceRoleID = "CodeDeployServiceRole"
	// CombinedCondition names the Fn::Or of the functions' conditions that the shared CodeDeploy resources get
	// when every enabled deployment preference passes a condition through and they differ.
	CombinedCondition = "ServerlessCodeDeployCondition"
)

// preference is one function's DeploymentPreference.
type preference struct {
	fn        string
	enabled   bool
	typ       any
	pre, post any
	alarms    any // the AlarmConfiguration, already converted; nil for none
	role      any
	triggers  any
	condition string         // the function's Condition when PassthroughCondition is true
	tags      map[string]any // the function's Tags when PropagateTags is true
}

var preferenceKeys = []string{"Alarms", "Enabled", "Hooks", "PassthroughCondition", "Role", "TriggerConfigurations", "Type"}

// preference parses a function's DeploymentPreference.
func (t *transformer) preference(id string, raw any, condition any, tags map[string]any, propagate bool) (*preference, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid(id, "DeploymentPreference must be a map")
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(preferenceKeys, k) {
			return nil, invalid(id, "DeploymentPreference has unknown property %s", k)
		}
	}
	p := &preference{fn: id, enabled: true}
	if v, ok := m["Enabled"]; ok {
		switch x := t.r.maps(v).(type) {
		case bool:
			p.enabled = x
		case string:
			p.enabled = x != "false" && x != "False" && x != ""
		case float64:
			p.enabled = x != 0
		case nil:
			p.enabled = false
		default:
			return nil, invalid(id, "DeploymentPreference.Enabled must be a boolean, \"true\", \"false\" or a Ref to a template parameter")
		}
	}
	passthrough := false
	if v, ok := m["PassthroughCondition"]; ok {
		switch t.r.maps(v) {
		case true, "true", "True":
			passthrough = true
		case false, "false", "False":
		default:
			return nil, invalid(id, "invalid value for property PassthroughCondition")
		}
	}
	if !p.enabled {
		return p, nil
	}
	typ, ok := m["Type"]
	if !ok || typ == nil {
		return nil, invalid(id, "'DeploymentPreference' is missing required Property 'Type'")
	}
	p.typ = t.r.maps(typ)
	if h, ok := m["Hooks"]; ok && h != nil {
		hooks, ok := h.(map[string]any)
		if !ok {
			return nil, invalid(id, "'Hooks' property of 'DeploymentPreference' must be a dictionary")
		}
		for _, k := range sortedKeys(hooks) {
			if k != "PreTraffic" && k != "PostTraffic" {
				return nil, invalid(id, "DeploymentPreference.Hooks has unknown property %s", k)
			}
		}
		p.pre, p.post = clone(hooks["PreTraffic"]), clone(hooks["PostTraffic"])
	}
	var err error
	if p.alarms, err = alarmConfiguration(id, m["Alarms"]); err != nil {
		return nil, err
	}
	p.role = clone(m["Role"])
	p.triggers = clone(m["TriggerConfigurations"])
	if c, ok := condition.(string); ok && passthrough {
		p.condition = c
	}
	if propagate && len(tags) > 0 {
		p.tags = tags
	}
	return p, nil
}

// groupID is the logical ID of the function's AWS::CodeDeploy::DeploymentGroup.
func (p *preference) groupID() string { return p.fn + "DeploymentGroup" }

// updatePolicy is the alias's UpdatePolicy: CloudFormation hands every change of the alias's FunctionVersion to
// CodeDeploy.
func (p *preference) updatePolicy() map[string]any {
	u := map[string]any{
		"ApplicationName":     ref(ApplicationID),
		"DeploymentGroupName": ref(p.groupID()),
	}
	if p.pre != nil {
		u["BeforeAllowTrafficHook"] = clone(p.pre)
	}
	if p.post != nil {
		u["AfterAllowTrafficHook"] = clone(p.post)
	}
	return map[string]any{"CodeDeployLambdaAliasUpdate": u}
}

// deploymentGroup is the function's AWS::CodeDeploy::DeploymentGroup.
func (p *preference) deploymentGroup() map[string]any {
	props := map[string]any{
		"ApplicationName": ref(ApplicationID),
		"AutoRollbackConfiguration": map[string]any{
			"Enabled": true,
			"Events":  []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"},
		},
		"DeploymentConfigName": deploymentConfigName(p.typ, ""),
		"DeploymentStyle": map[string]any{
			"DeploymentType":   "BLUE_GREEN",
			"DeploymentOption": "WITH_TRAFFIC_CONTROL",
		},
		"ServiceRoleArn": getAtt(ServiceRoleID, "Arn"),
	}
	if p.alarms != nil {
		props["AlarmConfiguration"] = clone(p.alarms)
	}
	if truthy(p.role) {
		props["ServiceRoleArn"] = clone(p.role)
	}
	if truthy(p.triggers) {
		props["TriggerConfigurations"] = clone(p.triggers)
	}
	if len(p.tags) > 0 {
		props["Tags"] = tagList(p.tags)
	}
	g := map[string]any{"Type": "AWS::CodeDeploy::DeploymentGroup", "Properties": props}
	if p.condition != "" {
		g["Condition"] = p.condition
	}
	return g
}

// deploymentConfigName rewrites the predefined short names, wherever they appear (inside an Fn::If too), to
// {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": name}]}, and a bare name given straight to
// an Fn::Sub to the argument list alone.
func deploymentConfigName(v any, key string) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deploymentConfigName(e, "")
		}
		return out
	case map[string]any:
		if !isIntrinsic(x) {
			return clone(x)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = deploymentConfigName(e, k)
		}
		return out
	case string:
		if !codedeploy.IsSAMShortName(x) { // the one list of short names lives with the configurations
			return x
		}
		args := []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": x}}
		if key == "Fn::Sub" {
			return args
		}
		return map[string]any{"Fn::Sub": args}
	default:
		return clone(v)
	}
}

// alarmConfiguration converts DeploymentPreference.Alarms (a list, or an Fn::If of lists) to the group's
// AlarmConfiguration; nil when there is none.
func alarmConfiguration(id string, v any) (any, error) {
	if !truthy(v) || isNoValue(v) {
		return nil, nil
	}
	if isIf(v) {
		args, ok := clone(v).(map[string]any)["Fn::If"].([]any)
		if !ok || len(args) != 3 {
			return nil, invalid(id, "Fn::If in Alarms must have three arguments")
		}
		for i := 1; i < 3; i++ {
			c, err := alarmList(id, args[i])
			if err != nil {
				return nil, err
			}
			args[i] = c
		}
		return map[string]any{"Fn::If": args}, nil
	}
	return alarmList(id, v)
}

func alarmList(id string, v any) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, invalid(id, "Alarms must be a list")
	}
	if len(list) == 0 || isNoValue(list[0]) {
		return map[string]any{}, nil
	}
	alarms := make([]any, len(list))
	for i, a := range list {
		alarms[i] = map[string]any{"Name": clone(a)}
	}
	return map[string]any{"Enabled": true, "Alarms": alarms}, nil
}

// truthy is Python's truth value of a JSON value, which the translator uses on several optional properties.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	default:
		return true
	}
}

// deploymentResources returns the resources shared by the template's deployment preferences — the CodeDeploy
// application, the CodeDeploy service role unless every enabled preference brings its own Role — and one
// deployment group per enabled preference, plus the conditions they need. prefs is in logical ID order.
func deploymentResources(prefs []*preference) ([]named, map[string]any) {
	var enabled []*preference
	for _, p := range prefs {
		if p.enabled {
			enabled = append(enabled, p)
		}
	}
	if len(enabled) == 0 {
		return nil, nil
	}
	tags := map[string]any{}
	condition := ""
	var conditions map[string]any
	needsCondition := true
	skipRole := true
	for _, p := range enabled {
		for k, v := range p.tags {
			tags[k] = v
		}
		if p.condition == "" {
			needsCondition = false
		}
		if !truthy(p.role) {
			skipRole = false
		}
	}
	if needsCondition {
		var names []string
		for _, p := range prefs {
			if p.condition != "" && !slices.Contains(names, p.condition) {
				names = append(names, p.condition)
			}
		}
		sort.Strings(names)
		condition = names[0]
		if len(names) > 1 {
			condition, conditions = CombinedCondition, orConditions(names, CombinedCondition)
		}
	}
	withCondition := func(r map[string]any) map[string]any {
		if condition != "" {
			r["Condition"] = condition
		}
		return r
	}

	appProps := map[string]any{"ComputePlatform": "Lambda"}
	if len(tags) > 0 {
		appProps["Tags"] = tagList(tags)
	}
	out := []named{{ApplicationID, withCondition(map[string]any{
		"Type": "AWS::CodeDeploy::Application", "Properties": appProps,
	})}}
	if !skipRole {
		roleProps := map[string]any{
			"AssumeRolePolicyDocument": serviceTrust("codedeploy.amazonaws.com"),
			"ManagedPolicyArns":        []any{managedPolicyARN("AWSCodeDeployRoleForLambda")},
		}
		if len(tags) > 0 {
			roleProps["Tags"] = tagList(tags)
		}
		out = append(out, named{ServiceRoleID, withCondition(map[string]any{
			"Type": "AWS::IAM::Role", "Properties": roleProps,
		})})
	}
	for _, p := range enabled {
		out = append(out, named{p.groupID(), p.deploymentGroup()})
	}
	return out, conditions
}

// orConditions combines condition names with Fn::Or, ten at a time (Fn::Or's limit), into name, or name1 … nameN
// and name when more than one is needed — as the translator does.
func orConditions(names []string, name string) map[string]any {
	out := map[string]any{}
	n := 1 + (len(names)-2)/9 - 1
	for len(names) > 1 {
		current := name
		if n > 0 {
			current = fmt.Sprintf("%s%d", name, n)
			n--
		}
		k := min(len(names), 10)
		or := make([]any, k)
		for i, c := range names[:k] {
			or[i] = map[string]any{"Condition": c}
		}
		names = append(names[k:len(names):len(names)], current)
		out[current] = map[string]any{"Fn::Or": or}
	}
	return out
}
