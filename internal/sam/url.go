package sam

import "math"

// corsTypes are the members SAM accepts in FunctionUrlConfig.Cors, with the kind each must be (unless an
// intrinsic function).
var corsTypes = map[string]string{
	"AllowOrigins": "list", "AllowMethods": "list", "AllowHeaders": "list", "ExposeHeaders": "list",
	"AllowCredentials": "bool", "MaxAge": "int",
}

// functionURL builds what SAM generates for FunctionUrlConfig: <Fn>Url (AWS::Lambda::Url) on the alias when there
// is one (TargetFunctionArn is a Ref to the alias, i.e. its ARN), else on the function; and, for AuthType NONE
// written as such, the two permissions a public URL needs, <Fn>UrlPublicPermissions (lambda:InvokeFunctionUrl with
// FunctionUrlAuthType NONE) and <Fn>URLInvokeAllowPublicAccess (lambda:InvokeFunction with InvokedViaFunctionUrl,
// which Lambda has required since October 2025). pass are the attributes the translator copies onto them.
func functionURL(id string, raw any, aliasID string, pass map[string]any) ([]named, error) {
	cfg, ok := raw.(map[string]any)
	if !ok || isIntrinsic(raw) {
		return nil, invalid(id, "FunctionUrlConfig must be a map")
	}
	for _, k := range sortedKeys(cfg) {
		if k != "AuthType" && k != "Cors" && k != "InvokeMode" {
			return nil, invalid(id, "FunctionUrlConfig has unknown property %s", k)
		}
	}
	auth := cfg["AuthType"]
	if !isIntrinsic(auth) && auth != "AWS_IAM" && auth != "NONE" {
		return nil, invalid(id, "AuthType is required to configure function property `FunctionUrlConfig`. Please provide either AWS_IAM or NONE.")
	}
	if err := checkCors(id, cfg["Cors"]); err != nil {
		return nil, err
	}

	target := ref(id)
	if aliasID != "" {
		target = ref(aliasID)
	}
	withPass := func(typ string, props map[string]any) map[string]any {
		r := map[string]any{"Type": typ, "Properties": props}
		for k, v := range pass {
			r[k] = clone(v)
		}
		return r
	}
	props := map[string]any{"AuthType": clone(auth), "TargetFunctionArn": target}
	if truthy(cfg["Cors"]) {
		props["Cors"] = clone(cfg["Cors"])
	}
	if v, ok := cfg["InvokeMode"]; ok && v != nil {
		props["InvokeMode"] = clone(v)
	}
	out := []named{{id + "Url", withPass("AWS::Lambda::Url", props)}}
	// As the translator: only an AuthType written NONE makes the URL public (one from a parameter does not).
	if auth == "NONE" {
		out = append(out,
			named{id + "UrlPublicPermissions", withPass("AWS::Lambda::Permission", map[string]any{
				"Action": "lambda:InvokeFunctionUrl", "FunctionName": clone(target), "Principal": "*", "FunctionUrlAuthType": "NONE"})},
			named{id + "URLInvokeAllowPublicAccess", withPass("AWS::Lambda::Permission", map[string]any{
				"Action": "lambda:InvokeFunction", "FunctionName": clone(target), "Principal": "*", "InvokedViaFunctionUrl": true})})
	}
	return out, nil
}

// checkCors applies the translator's checks to FunctionUrlConfig.Cors: a map of the known members, each of its
// kind unless an intrinsic function.
func checkCors(id string, cors any) error {
	if !truthy(cors) || isIntrinsic(cors) {
		return nil
	}
	m, ok := cors.(map[string]any)
	if !ok {
		return invalid(id, "Property 'FunctionUrlConfig.Cors' should be a map.")
	}
	for _, k := range sortedKeys(m) {
		kind, ok := corsTypes[k]
		if !ok {
			return invalid(id, "%s is not a valid property for configuring Cors.", k)
		}
		v := m[k]
		if isIntrinsic(v) {
			continue
		}
		switch kind {
		case "list":
			_, ok = v.([]any)
		case "bool":
			_, ok = v.(bool)
		case "int":
			switch n := v.(type) {
			case float64:
				ok = n == math.Trunc(n)
			case int:
				ok = true
			default:
				ok = false
			}
		}
		if !ok {
			return invalid(id, "%s must be of type %s.", k, kind)
		}
	}
	return nil
}
