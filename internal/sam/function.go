package sam

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// How each AWS::Serverless::Function property is handled.
const (
	propUnknown     = iota // not a SAM property: an error
	propPassThrough        // copied as is onto the AWS::Lambda::Function
	propTranslated         // turned into something else (Code, Role, Version, Alias, …)
	propRefused            // a SAM feature sluice deploy does not translate: ErrUnsupported
)

// functionProperties classifies every property SAM defines on AWS::Serverless::Function.
var functionProperties = map[string]int{
	"Architectures":                 propPassThrough,
	"CodeSigningConfigArn":          propPassThrough,
	"Description":                   propPassThrough,
	"Environment":                   propPassThrough,
	"EphemeralStorage":              propPassThrough,
	"FileSystemConfigs":             propPassThrough,
	"FunctionName":                  propPassThrough,
	"Handler":                       propPassThrough,
	"ImageConfig":                   propPassThrough,
	"KmsKeyArn":                     propPassThrough,
	"Layers":                        propPassThrough,
	"LoggingConfig":                 propPassThrough,
	"MemorySize":                    propPassThrough,
	"PackageType":                   propPassThrough,
	"RecursiveLoop":                 propPassThrough,
	"ReservedConcurrentExecutions":  propPassThrough,
	"Runtime":                       propPassThrough,
	"RuntimeManagementConfig":       propPassThrough,
	"SnapStart":                     propPassThrough,
	"Timeout":                       propPassThrough,
	"VpcConfig":                     propPassThrough,
	"AssumeRolePolicyDocument":      propTranslated,
	"AutoPublishAlias":              propTranslated,
	"AutoPublishAliasAllProperties": propTranslated,
	"AutoPublishCodeSha256":         propTranslated,
	"CodeUri":                       propTranslated,
	"DeadLetterQueue":               propTranslated,
	"DeploymentPreference":          propTranslated,
	"EventInvokeConfig":             propTranslated,
	"FunctionUrlConfig":             propTranslated,
	"ImageUri":                      propTranslated,
	"InlineCode":                    propTranslated,
	"PermissionsBoundary":           propTranslated,
	"Policies":                      propTranslated,
	"PropagateTags":                 propTranslated,
	"ProvisionedConcurrencyConfig":  propTranslated,
	"Role":                          propTranslated,
	"RolePath":                      propTranslated,
	"SourceKMSKeyArn":               propTranslated,
	"Tags":                          propTranslated,
	"Tracing":                       propTranslated,
	"VersionDeletionPolicy":         propTranslated,
	"VersionDescription":            propTranslated,
	"CapacityProviderConfig":        propRefused,
	"DurableConfig":                 propRefused,
	"Events":                        propRefused,
	"FunctionScalingConfig":         propRefused,
	"PublishToLatestPublished":      propRefused,
	"TenancyConfig":                 propRefused,
}

// passThroughNames lists the propPassThrough properties.
var passThroughNames = func() []string {
	var names []string
	for name, kind := range functionProperties {
		if kind == propPassThrough {
			names = append(names, name)
		}
	}
	return names
}()

// Resource attributes. The translator keeps all of attributeNames on the function (and, oddly, on the
// EventInvokeConfig) and copies passThroughAttributes to every other resource it generates from the function.
var (
	attributeNames        = []string{"Condition", "DeletionPolicy", "Metadata", "UpdatePolicy", "UpdateReplacePolicy"}
	passThroughAttributes = []string{"Condition", "DeletionPolicy", "UpdateReplacePolicy"}
)

// reservedTags cannot be set by the template: SAM sets lambda:createdBy itself.
var reservedTags = []string{"lambda:createdBy", "serverlessrepo:applicationId", "serverlessrepo:semanticVersion"}

// aliasName is SAM's pattern for AutoPublishAlias, (?!^[0-9]+$)([a-zA-Z0-9-_]+)$, minus the lookahead (checked
// separately: Go's regexp has none).
var (
	aliasName  = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	allDigits  = regexp.MustCompile(`^[0-9]+$`)
	aliasIDMap = strings.NewReplacer("-", "D", "_", "U")
)

// named is a generated resource with its logical ID.
type named struct {
	id  string
	res map[string]any
}

// fnResult is what one AWS::Serverless::Function turns into.
type fnResult struct {
	resources []named
	pref      *preference       // nil without DeploymentPreference
	refs      map[string]string // "Alias", "Version", "DestinationQueue", "DestinationTopic" → logical ID
}

// function translates one AWS::Serverless::Function.
func (t *transformer) function(id string, res map[string]any) (*fnResult, error) {
	for _, k := range sortedKeys(res) {
		switch k {
		case "Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy", "UpdatePolicy",
			"UpdateReplacePolicy", "IgnoreGlobals":
		case "Connectors":
			return nil, unsupported(id, "resource attribute Connectors")
		default:
			return nil, invalid(id, "unknown resource attribute %s", k)
		}
	}
	local := map[string]any{}
	if p, ok := res["Properties"]; ok && p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, invalid(id, "Properties must be a map")
		}
		local = m
	}
	props, err := applyGlobals(id, t.globals, local, res["IgnoreGlobals"])
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(props) {
		switch functionProperties[k] {
		case propRefused:
			return nil, unsupported(id, "property %s", k)
		case propUnknown:
			return nil, invalid(id, "unknown property %s", k)
		}
	}

	attrs := map[string]any{}
	for _, k := range attributeNames {
		if v, ok := res[k]; ok {
			attrs[k] = v
		}
	}
	pass := map[string]any{}
	for _, k := range passThroughAttributes {
		if v, ok := res[k]; ok {
			pass[k] = v
		}
	}
	withAttrs := func(typ string, a map[string]any, properties map[string]any) map[string]any {
		r := map[string]any{"Type": typ, "Properties": properties}
		for k, v := range a {
			r[k] = clone(v)
		}
		return r
	}

	fn := map[string]any{}
	for _, k := range passThroughNames {
		if v, ok := props[k]; ok {
			fn[k] = clone(v)
		}
	}
	code, err := t.code(id, props, local)
	if err != nil {
		return nil, err
	}
	fn["Code"] = code

	tracing := props["Tracing"]
	tracingOn := tracing != nil && tracing != "" && t.r.params(tracing) != "Disabled"
	if tracingOn {
		fn["TracingConfig"] = map[string]any{"Mode": clone(tracing)}
	}

	var dlqPolicy map[string]any
	if v, ok := props["DeadLetterQueue"]; ok {
		fn["DeadLetterConfig"], dlqPolicy, err = deadLetterQueue(id, v)
		if err != nil {
			return nil, err
		}
	}

	var tags map[string]any
	if v, ok := props["Tags"]; ok && v != nil {
		if tags, ok = v.(map[string]any); !ok {
			return nil, invalid(id, "Tags must be a map")
		}
		for _, k := range reservedTags {
			if _, ok := tags[k]; ok {
				return nil, invalid(id, "%s is a reserved Tag key name and cannot be set on your resource", k)
			}
		}
	}
	samTags := append([]any{map[string]any{"Key": "lambda:createdBy", "Value": "SAM"}}, tagList(tags)...)
	fn["Tags"] = samTags
	propagate := false
	if v, ok := props["PropagateTags"]; ok {
		if propagate, ok = v.(bool); !ok {
			return nil, invalid(id, "PropagateTags must be a boolean")
		}
	}

	// Version and alias.
	alias, aliasID := "", ""
	if v, ok := props["AutoPublishAlias"]; ok {
		s, ok := t.r.params(v).(string)
		if !ok {
			return nil, invalid(id, "'AutoPublishAlias' must be a string or a Ref to a template parameter")
		}
		if !aliasName.MatchString(s) || allDigits.MatchString(s) {
			return nil, invalid(id, "AutoPublishAlias name ('%s') must contain only alphanumeric characters, "+
				"hyphens, or underscores matching (?!^[0-9]+$)([a-zA-Z0-9-_]+) pattern.", s)
		}
		alias, aliasID = s, id+"Alias"+aliasIDMap.Replace(s)
	}
	if alias == "" {
		if _, ok := props["ProvisionedConcurrencyConfig"]; ok {
			return nil, invalid(id, "To set ProvisionedConcurrencyConfig AutoPublishAlias must be defined on the function")
		}
		if _, ok := props["VersionDeletionPolicy"]; ok {
			return nil, invalid(id, "VersionDeletionPolicy requires AutoPublishAlias")
		}
		for _, k := range []string{"AutoPublishAliasAllProperties", "AutoPublishCodeSha256", "VersionDescription"} {
			if _, ok := local[k]; ok {
				return nil, invalid(id, "%s requires AutoPublishAlias", k)
			}
		}
	}
	if v, ok := props["AutoPublishAliasAllProperties"]; ok {
		if _, ok := v.(bool); !ok {
			return nil, invalid(id, "AutoPublishAliasAllProperties must be a boolean")
		}
	}
	if v, ok := props["VersionDeletionPolicy"]; ok && v != "Delete" && v != "Retain" {
		return nil, invalid(id, "VersionDeletionPolicy must be Delete or Retain")
	}
	var codeSha256 string
	if v, ok := props["AutoPublishCodeSha256"]; ok && alias != "" {
		s, ok := t.r.params(v).(string)
		if !ok {
			return nil, invalid(id, "AutoPublishCodeSha256 must be a string")
		}
		codeSha256 = s
		// As the translator does: Lambda publishes no new version when only the code behind an unchanged
		// location changed, so the digest goes into the description, which makes the function update.
		switch d := t.r.params(props["Description"]).(type) {
		case nil:
			fn["Description"] = s
		case string:
			if d == "" {
				fn["Description"] = s
			} else {
				fn["Description"] = d + " " + s
			}
		default:
			fn["Description"] = map[string]any{"Fn::Join": []any{" ", []any{d, s}}}
		}
	}

	out := &fnResult{refs: map[string]string{}}

	// Deployment preference: its UpdatePolicy goes on the alias.
	if v, ok := props["DeploymentPreference"]; ok && v != nil {
		out.pref, err = t.preference(id, v, res["Condition"], tags, propagate)
		if err != nil {
			return nil, err
		}
		if out.pref.enabled && alias == "" {
			return nil, invalid(id, "'DeploymentPreference' requires AutoPublishAlias property to be specified.")
		}
	}

	var eventPolicies []any
	var eventResources []named
	if v, ok := props["EventInvokeConfig"]; ok && v != nil {
		eventResources, eventPolicies, err = t.eventInvokeConfig(id, v, alias, aliasID, attrs, pass, out.refs)
		if err != nil {
			return nil, err
		}
	}

	// Execution role.
	var role map[string]any
	roleID := id + "Role"
	if v, ok := props["Role"]; ok && v != nil {
		if ifHasNoValue(v) {
			return nil, unsupported(id, "Role with an Fn::If branch of AWS::NoValue")
		}
		for _, k := range []string{"Policies", "AssumeRolePolicyDocument", "RolePath", "PermissionsBoundary"} {
			if _, ok := local[k]; ok {
				return nil, invalid(id, "property %s has no effect when Role is given", k)
			}
		}
		fn["Role"] = clone(v)
	} else {
		role, err = t.executionRole(id, roleID, props, tracingOn, dlqPolicy, eventPolicies, samTags)
		if err != nil {
			return nil, err
		}
		fn["Role"] = getAtt(roleID, "Arn")
	}

	if propagate && len(tags) > 0 {
		fn["Tags"] = tagList(tags)
		if role != nil {
			role["Tags"] = tagList(tags)
		}
		for _, r := range eventResources {
			if r.res["Type"] == "AWS::SQS::Queue" || r.res["Type"] == "AWS::SNS::Topic" {
				r.res["Properties"].(map[string]any)["Tags"] = tagList(tags)
			}
		}
	}

	fnRes := withAttrs("AWS::Lambda::Function", attrs, fn)
	if v, ok := res["DependsOn"]; ok {
		fnRes["DependsOn"] = clone(v)
	}
	out.resources = append(out.resources, named{id, fnRes})

	if alias != "" {
		hash, err := t.versionHash(id, props, fn, codeSha256)
		if err != nil {
			return nil, err
		}
		versionID := id + "Version" + hash
		vattrs := clone(pass).(map[string]any)
		if _, ok := vattrs["DeletionPolicy"]; !ok {
			vattrs["DeletionPolicy"] = "Retain"
			if v, ok := props["VersionDeletionPolicy"]; ok {
				vattrs["DeletionPolicy"] = v
			}
		}
		vprops := map[string]any{"FunctionName": ref(id)}
		if v, ok := props["VersionDescription"]; ok && v != nil {
			vprops["Description"] = clone(v)
		}
		aprops := map[string]any{
			"Name":            alias,
			"FunctionName":    ref(id),
			"FunctionVersion": getAtt(versionID, "Version"),
		}
		if v, ok := props["ProvisionedConcurrencyConfig"]; ok && v != nil {
			aprops["ProvisionedConcurrencyConfig"] = clone(v)
		}
		aliasRes := withAttrs("AWS::Lambda::Alias", pass, aprops)
		if out.pref != nil && out.pref.enabled {
			aliasRes["UpdatePolicy"] = out.pref.updatePolicy()
		}
		out.resources = append(out.resources,
			named{versionID, withAttrs("AWS::Lambda::Version", vattrs, vprops)},
			named{aliasID, aliasRes})
		out.refs["Version"] = versionID
		out.refs["Alias"] = aliasID
	}
	if v, ok := props["FunctionUrlConfig"]; ok && v != nil {
		urls, err := functionURL(id, v, aliasID, pass)
		if err != nil {
			return nil, err
		}
		out.resources = append(out.resources, urls...)
	}
	out.resources = append(out.resources, eventResources...)
	if role != nil {
		out.resources = append(out.resources, named{roleID, withAttrs("AWS::IAM::Role", pass, role)})
	}
	return out, nil
}

// code builds the function's Code property: a local CodeUri path stays a string (what `aws cloudformation
// package` accepts), an S3 CodeUri becomes {S3Bucket, S3Key, S3ObjectVersion}, InlineCode {ZipFile} and, for
// PackageType Image, ImageUri {ImageUri}.
func (t *transformer) code(id string, props, local map[string]any) (any, error) {
	packageType := "Zip"
	if v, ok := props["PackageType"]; ok {
		s, ok := t.r.params(v).(string)
		if !ok || (s != "Zip" && s != "Image") {
			return nil, invalid(id, "PackageType needs to be `Zip` or `Image`")
		}
		packageType = s
	}
	if packageType == "Image" {
		for _, k := range []string{"Handler", "Runtime", "Layers"} {
			if _, ok := props[k]; ok {
				return nil, invalid(id, "Runtime, Handler, Layers cannot be present when PackageType is of type `Image`")
			}
		}
		for _, k := range []string{"CodeUri", "InlineCode", "SourceKMSKeyArn"} {
			if _, ok := local[k]; ok {
				return nil, invalid(id, "%s cannot be present when PackageType is of type `Image`", k)
			}
		}
		uri, ok := props["ImageUri"]
		if !ok || uri == nil || uri == "" {
			return nil, invalid(id, "ImageUri needs to be present when PackageType is of type `Image`")
		}
		return map[string]any{"ImageUri": clone(uri)}, nil
	}

	for _, k := range []string{"ImageUri", "ImageConfig"} {
		if _, ok := props[k]; ok {
			return nil, invalid(id, "ImageUri or ImageConfig cannot be present when PackageType is of type `Zip`")
		}
	}
	if props["Runtime"] == nil || props["Handler"] == nil {
		return nil, invalid(id, "Runtime and Handler needs to be present when PackageType is of type `Zip`")
	}
	_, localInline := local["InlineCode"]
	_, localURI := local["CodeUri"]
	if localInline && localURI {
		return nil, invalid(id, "only one of 'InlineCode' or 'CodeUri' can be set")
	}
	var c map[string]any
	if inline, ok := props["InlineCode"]; ok && inline != nil {
		// InlineCode wins over a CodeUri from Globals, as in SAM.
		c = map[string]any{"ZipFile": clone(inline)}
	} else if uri, ok := props["CodeUri"]; ok && uri != nil {
		code, err := t.codeURI(id, uri)
		if err != nil {
			return nil, err
		}
		if s, ok := code.(string); ok {
			if _, ok := props["SourceKMSKeyArn"]; ok {
				return nil, unsupported(id, "SourceKMSKeyArn with a local CodeUri")
			}
			return s, nil
		}
		c = code.(map[string]any)
	} else {
		return nil, invalid(id, "either 'InlineCode' or 'CodeUri' must be set")
	}
	if v, ok := props["SourceKMSKeyArn"]; ok {
		c["SourceKMSKeyArn"] = clone(v)
	}
	return c, nil
}

// codeURI interprets CodeUri: "s3://bucket/key[?versionId=v]", {Bucket, Key, Version}, a Ref to a parameter
// holding either string form, or a local path (any other string without "://").
func (t *transformer) codeURI(id string, uri any) (any, error) {
	if isIntrinsic(uri) {
		uri = t.r.params(uri)
		if isIntrinsic(uri) {
			return nil, invalid(id, "'CodeUri' must be a string, an S3 location {Bucket, Key, Version} or a Ref to a template parameter")
		}
	}
	switch x := uri.(type) {
	case string:
		if strings.Contains(x, "{{resolve:") {
			return nil, invalid(id, "unsupported dynamic reference detected in 'CodeUri'")
		}
		if strings.HasPrefix(x, "s3://") {
			u, err := url.Parse(x)
			if err != nil || u.Host == "" || strings.TrimPrefix(u.Path, "/") == "" {
				return nil, invalid(id, "'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.")
			}
			c := map[string]any{"S3Bucket": u.Host, "S3Key": strings.TrimPrefix(u.Path, "/")}
			if v := u.Query()["versionId"]; len(v) == 1 {
				c["S3ObjectVersion"] = v[0]
			}
			return c, nil
		}
		if x == "" || strings.Contains(x, "://") {
			return nil, invalid(id, "'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.")
		}
		return x, nil
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if k != "Bucket" && k != "Key" && k != "Version" {
				return nil, invalid(id, "'CodeUri' has unknown property %s", k)
			}
		}
		if x["Bucket"] == nil || x["Bucket"] == "" || x["Key"] == nil || x["Key"] == "" {
			return nil, invalid(id, "'CodeUri' requires Bucket and Key properties to be specified.")
		}
		c := map[string]any{"S3Bucket": clone(x["Bucket"]), "S3Key": clone(x["Key"])}
		if v, ok := x["Version"]; ok {
			c["S3ObjectVersion"] = clone(v)
		}
		return c, nil
	default:
		return nil, invalid(id, "'CodeUri' must be of type dict or string.")
	}
}

// deadLetterQueue returns the function's DeadLetterConfig and the inline policy that lets the role use it.
func deadLetterQueue(id string, v any) (map[string]any, map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, invalid(id, "DeadLetterQueue must be a map")
	}
	for _, k := range sortedKeys(m) {
		if k != "Type" && k != "TargetArn" {
			return nil, nil, invalid(id, "DeadLetterQueue has unknown property %s", k)
		}
	}
	typ, arn := m["Type"], m["TargetArn"]
	if typ == nil || typ == "" || arn == nil || arn == "" {
		return nil, nil, invalid(id, "'DeadLetterQueue' requires Type and TargetArn properties to be specified.")
	}
	action := map[any]string{"SQS": "sqs:SendMessage", "SNS": "sns:Publish"}[typ]
	if action == "" {
		return nil, nil, invalid(id, "'DeadLetterQueue' requires Type of SQS or SNS")
	}
	policy := map[string]any{
		"PolicyName": "DeadLetterQueuePolicy",
		"PolicyDocument": map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Action": action, "Resource": clone(arn), "Effect": "Allow",
			}},
		},
	}
	return map[string]any{"TargetArn": clone(arn)}, policy, nil
}

// executionRole builds the properties of <Fn>Role.
func (t *transformer) executionRole(id, roleID string, props map[string]any, tracing bool,
	dlqPolicy map[string]any, eventPolicies []any, tags []any) (map[string]any, error) {
	trust, ok := props["AssumeRolePolicyDocument"]
	if !ok || trust == nil {
		trust = serviceTrust("lambda.amazonaws.com")
	}
	managed := []any{managedPolicyARN("AWSLambdaBasicExecutionRole")}
	if tracing {
		managed = append(managed, managedPolicyARN("AWSXrayWriteOnlyAccess"))
	}
	if props["VpcConfig"] != nil {
		managed = append(managed, managedPolicyARN("AWSLambdaVPCAccessExecutionRole"))
	}
	var inline []any
	if dlqPolicy != nil {
		inline = append(inline, dlqPolicy)
	}
	inline = append(inline, eventPolicies...)
	managed, inline, err := rolePolicies(id, roleID, props["Policies"], managed, inline)
	if err != nil {
		return nil, err
	}
	role := map[string]any{
		"AssumeRolePolicyDocument": clone(trust),
		"ManagedPolicyArns":        managed,
		"Tags":                     clone(tags),
	}
	if len(inline) > 0 {
		role["Policies"] = inline
	}
	if v, ok := props["RolePath"]; ok && v != nil {
		role["Path"] = clone(v)
	}
	if v, ok := props["PermissionsBoundary"]; ok && v != nil {
		role["PermissionsBoundary"] = clone(v)
	}
	return role, nil
}

// serviceTrust is the trust policy SAM writes for a role assumed by an AWS service.
func serviceTrust(principal string) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Action":    []any{"sts:AssumeRole"},
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []any{principal}},
		}},
	}
}

// versionHash returns the 10 hex characters that end the Version's logical ID. See the package documentation
// for what goes in.
func (t *transformer) versionHash(id string, props, fn map[string]any, codeSha256 string) (string, error) {
	codeID := fn["Code"]
	in := map[string]any{}
	if all, _ := props["AutoPublishAliasAllProperties"].(bool); all {
		p := clone(fn).(map[string]any)
		p["Code"] = codeID
		in["Properties"] = p
	} else {
		in["Code"] = codeID
		for _, k := range []string{"Environment", "MemorySize"} {
			if v, ok := fn[k]; ok {
				in[k] = v
			}
		}
		if s, ok := fn["SnapStart"].(map[string]any); ok {
			if applyOn, ok := s["ApplyOn"]; ok && applyOn != "None" {
				in["SnapStart"] = s
			}
		}
	}
	if codeSha256 != "" {
		in["AutoPublishCodeSha256"] = codeSha256
	}
	b, err := json.Marshal(t.r.params(in))
	if err != nil {
		return "", invalid(id, "hash version inputs: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:10], nil
}
