package sam

import (
	"slices"
	"sort"
	"strings"
)

// globalsSections are the sections SAM accepts under Globals. Only Function is merged here: every other
// Serverless resource type is refused anyway, so its section has nothing to apply to.
var globalsSections = []string{
	"Api", "CapacityProvider", "Function", "HttpApi", "LayerVersion", "SimpleTable", "StateMachine", "WebSocketApi",
}

// globalFunctionProperties are the AWS::Serverless::Function properties SAM accepts in Globals.Function
// (everything except Role, Policies, FunctionName, Events and a few more).
var globalFunctionProperties = []string{
	"Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout", "VpcConfig",
	"Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
	"AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath", "PermissionsBoundary",
	"ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument", "EventInvokeConfig",
	"FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart", "EphemeralStorage",
	"FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop", "SourceKMSKeyArn",
	"TenancyConfig", "DurableConfig", "CapacityProviderConfig", "FunctionScalingConfig", "PublishToLatestPublished",
	"VersionDeletionPolicy",
}

// parseGlobals validates the Globals section and returns Globals.Function (nil when absent).
func parseGlobals(tpl map[string]any) (map[string]any, error) {
	raw, ok := tpl["Globals"]
	if !ok {
		return nil, nil
	}
	sections, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid("Globals", "must be a map")
	}
	for _, name := range sortedKeys(sections) {
		if !slices.Contains(globalsSections, name) {
			return nil, invalid("Globals", "section %q is not supported; must be one of %s", name,
				strings.Join(globalsSections, ", "))
		}
		if _, ok := sections[name].(map[string]any); !ok {
			return nil, invalid("Globals", "section %s must be a map", name)
		}
	}
	fn, _ := sections["Function"].(map[string]any)
	for _, key := range sortedKeys(fn) {
		if !slices.Contains(globalFunctionProperties, key) {
			return nil, invalid("Globals", "%q is not a supported property of Function", key)
		}
	}
	return fn, nil
}

// applyGlobals returns the function's properties with Globals.Function merged in, minus what the resource's
// IgnoreGlobals attribute ("*" or a list of property names) excludes.
func applyGlobals(id string, globals, local map[string]any, ignore any) (map[string]any, error) {
	g := globals
	switch x := ignore.(type) {
	case nil:
	case string:
		if x != "*" {
			return nil, invalid(id, "invalid resource attribute IgnoreGlobals")
		}
		g = nil
	case []any:
		g = make(map[string]any, len(globals))
		for k, v := range globals {
			g[k] = v
		}
		for _, e := range x {
			name, _ := e.(string)
			if _, ok := g[name]; !ok {
				return nil, invalid(id, "invalid resource attribute IgnoreGlobals on item %v", e)
			}
			delete(g, name)
		}
	default:
		return nil, invalid(id, "invalid resource attribute IgnoreGlobals")
	}
	if len(g) == 0 {
		return clone(local).(map[string]any), nil
	}
	return mergeGlobal(g, local).(map[string]any), nil
}

// mergeGlobal merges a global value with a local one as SAM does: maps are merged key by key (recursively), lists
// are concatenated (global first), and anything else — scalars, intrinsic functions, or two values of different
// kinds — is taken from local.
func mergeGlobal(global, local any) any {
	gk, lk := kindOf(global), kindOf(local)
	switch {
	case gk != lk || gk == kindScalar:
		return clone(local)
	case gk == kindMap:
		gm, lm := global.(map[string]any), local.(map[string]any)
		out := clone(gm).(map[string]any)
		for k, lv := range lm {
			if gv, ok := gm[k]; ok {
				out[k] = mergeGlobal(gv, lv)
			} else {
				out[k] = clone(lv)
			}
		}
		return out
	default:
		return append(clone(global).([]any), clone(local).([]any)...)
	}
}

const (
	kindScalar = iota
	kindMap
	kindList
)

func kindOf(v any) int {
	switch v.(type) {
	case map[string]any:
		if isIntrinsic(v) {
			return kindScalar
		}
		return kindMap
	case []any:
		return kindList
	default:
		return kindScalar
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
