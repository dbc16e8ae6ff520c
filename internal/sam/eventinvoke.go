package sam

import (
	"slices"
)

// destinationTypes are the EventInvokeConfig destination Type shortcuts SAM knows.
var destinationTypes = []string{"SQS", "SNS", "EventBridge", "Lambda", "S3Bucket"}

// eventInvokeConfig builds <Fn>EventInvokeConfig, the SQS queue or SNS topic SAM creates for a destination of
// Type SQS or SNS without a Destination, and the inline policies that let the execution role reach each
// destination. attrs are the function's resource attributes (all of them: the translator copies them all onto
// this resource), pass those it copies onto the queue and topic.
func (t *transformer) eventInvokeConfig(id string, raw any, alias, aliasID string, attrs, pass map[string]any,
	refs map[string]string) ([]named, []any, error) {
	cfg, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, invalid(id, "EventInvokeConfig must be a map")
	}
	for _, k := range sortedKeys(cfg) {
		if k != "DestinationConfig" && k != "MaximumEventAgeInSeconds" && k != "MaximumRetryAttempts" {
			return nil, nil, invalid(id, "EventInvokeConfig has unknown property %s", k)
		}
	}
	resolved := t.r.params(cfg).(map[string]any)
	eicID := id + "EventInvokeConfig"
	var resources []named
	var policies []any
	dest := map[string]any{}
	if dc, ok := resolved["DestinationConfig"]; ok && dc != nil {
		dcm, ok := dc.(map[string]any)
		if !ok {
			return nil, nil, invalid(id, "EventInvokeConfig.DestinationConfig must be a map")
		}
		for _, k := range sortedKeys(dcm) {
			if k != "OnSuccess" && k != "OnFailure" {
				return nil, nil, invalid(id, "EventInvokeConfig.DestinationConfig has unknown property %s", k)
			}
		}
		for _, event := range []string{"OnSuccess", "OnFailure"} {
			v, ok := dcm[event]
			if !ok || v == nil {
				continue
			}
			d, ok := v.(map[string]any)
			if !ok {
				return nil, nil, invalid(id, "EventInvokeConfig.DestinationConfig.%s must be a map", event)
			}
			for _, k := range sortedKeys(d) {
				if k != "Type" && k != "Destination" {
					return nil, nil, invalid(id, "EventInvokeConfig.DestinationConfig.%s has unknown property %s", event, k)
				}
			}
			typ, _ := d["Type"].(string)
			if !slices.Contains(destinationTypes, typ) {
				return nil, nil, invalid(id, "'Type: %v' must be one of %v", d["Type"], destinationTypes)
			}
			target := clone(d["Destination"])
			if ifHasNoValue(target) {
				return nil, nil, unsupported(id, "EventInvokeConfig.DestinationConfig.%s.Destination with an Fn::If branch of AWS::NoValue", event)
			}
			base := eicID + event
			if target == nil {
				var r named
				switch typ {
				case "SQS":
					r = named{base + "Queue", map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{}}}
					target = getAtt(r.id, "Arn")
					refs["DestinationQueue"] = r.id
				case "SNS":
					r = named{base + "Topic", map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{}}}
					target = ref(r.id)
					refs["DestinationTopic"] = r.id
				default:
					return nil, nil, invalid(id, "Destination is required if Type is not SQS or SNS")
				}
				for k, v := range pass {
					r.res[k] = clone(v)
				}
				resources = append(resources, r)
			}
			policies = append(policies, destinationPolicy(typ, base, target))
			dest[event] = map[string]any{"Destination": target}
		}
	}
	qualifier := "$LATEST"
	if alias != "" {
		qualifier = alias
	}
	props := map[string]any{
		"FunctionName":      ref(id),
		"Qualifier":         qualifier,
		"DestinationConfig": dest,
	}
	for _, k := range []string{"MaximumEventAgeInSeconds", "MaximumRetryAttempts"} {
		if v, ok := resolved[k]; ok && v != nil {
			props[k] = v
		}
	}
	eic := map[string]any{"Type": "AWS::Lambda::EventInvokeConfig", "Properties": props}
	for k, v := range attrs {
		eic[k] = clone(v)
	}
	if aliasID != "" {
		eic["DependsOn"] = []any{aliasID}
	}
	resources = append(resources, named{eicID, eic})
	return resources, policies, nil
}

// destinationPolicy is the inline policy letting the execution role send to a destination.
func destinationPolicy(typ, base string, target any) map[string]any {
	statement := func(action string, resource any) map[string]any {
		return map[string]any{"Action": action, "Effect": "Allow", "Resource": clone(resource)}
	}
	var name string
	var statements []any
	switch typ {
	case "SQS":
		name, statements = "SQSPolicy", []any{statement("sqs:SendMessage", target)}
	case "SNS":
		name, statements = "SNSPolicy", []any{statement("sns:publish", target)}
	case "EventBridge":
		name, statements = "EventBridgePolicy", []any{statement("events:PutEvents", target)}
	case "Lambda":
		name, statements = "LambdaPolicy", []any{statement("lambda:InvokeFunction", target)}
	case "S3Bucket":
		name, statements = "S3Policy", []any{
			statement("s3:PutObject", map[string]any{"Fn::Join": []any{"/", []any{clone(target), "*"}}}),
			statement("s3:ListBucket", target),
		}
	}
	return map[string]any{
		"PolicyName":     base + name,
		"PolicyDocument": map[string]any{"Statement": statements},
	}
}
