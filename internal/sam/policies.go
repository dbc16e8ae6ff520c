package sam

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// managedPolicyPrefix starts the ARN of every AWS managed policy. The translator writes plain strings in the
// aws partition (not Fn::Sub with ${AWS::Partition}), and so does this package.
const managedPolicyPrefix = "arn:aws:iam::aws:policy/"

// managedPolicyPaths holds the path of the AWS managed policies a Lambda template is likely to name that do not
// live at the root ("AWSLambdaBasicExecutionRole" is arn:aws:iam::aws:policy/service-role/…). Every other name
// is taken to be a root policy.
var managedPolicyPaths = map[string]string{
	"AWSAppSyncPushToCloudWatchLogs":    "service-role/",
	"AWSCodeDeployRoleForLambda":        "service-role/",
	"AWSCodeDeployRoleForLambdaLimited": "service-role/",
	"AWSConfigRulesExecutionRole":       "service-role/",
	"AWSIoTRuleActions":                 "service-role/",
	"AWSLambdaBasicExecutionRole":       "service-role/",
	"AWSLambdaDynamoDBExecutionRole":    "service-role/",
	"AWSLambdaENIManagementAccess":      "service-role/",
	"AWSLambdaKinesisExecutionRole":     "service-role/",
	"AWSLambdaMSKExecutionRole":         "service-role/",
	"AWSLambdaRole":                     "service-role/",
	"AWSLambdaSQSQueueExecutionRole":    "service-role/",
	"AWSLambdaVPCAccessExecutionRole":   "service-role/",
	"AWSLambdaReplicator":               "aws-service-role/",
	"Billing":                           "job-function/",
	"DataScientist":                     "job-function/",
	"DatabaseAdministrator":             "job-function/",
	"NetworkAdministrator":              "job-function/",
	"SupportUser":                       "job-function/",
	"SystemAdministrator":               "job-function/",
	"ViewOnlyAccess":                    "job-function/",
}

// managedPolicyARN turns a Policies entry naming a managed policy into its ARN; ARNs pass through.
func managedPolicyARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return managedPolicyPrefix + managedPolicyPaths[name] + name
}

// policyTemplate is one SAM policy template: its parameters and the statements it expands to, written from the
// SAM policy template documentation.
type policyTemplate struct {
	params     []string
	statements func(p map[string]any) []any
}

// arnSub builds {"Fn::Sub": [pattern, {variable: value}]}, the form SAM's policy templates use for resources.
func arnSub(pattern, variable string, value any) map[string]any {
	return map[string]any{"Fn::Sub": []any{pattern, map[string]any{variable: clone(value)}}}
}

func allow(actions []string, resource any) map[string]any {
	list := make([]any, len(actions))
	for i, a := range actions {
		list[i] = a
	}
	return map[string]any{"Effect": "Allow", "Action": list, "Resource": resource}
}

func dynamoDBTable(p map[string]any) []any {
	return []any{
		arnSub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}",
			"tableName", p["TableName"]),
		arnSub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}/index/*",
			"tableName", p["TableName"]),
	}
}

// policyTemplates are the SAM policy templates this package expands. Any other template is refused.
var policyTemplates = map[string]policyTemplate{
	"LambdaInvokePolicy": {
		params: []string{"FunctionName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{"lambda:InvokeFunction"}, arnSub(
				"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
				"functionName", p["FunctionName"]))}
		},
	},
	"CloudWatchPutMetricPolicy": {
		statements: func(map[string]any) []any {
			return []any{allow([]string{"cloudwatch:PutMetricData"}, "*")}
		},
	},
	"SQSSendMessagePolicy": {
		params: []string{"QueueName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{"sqs:SendMessage*"}, arnSub(
				"arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
				"queueName", p["QueueName"]))}
		},
	},
	"SNSPublishMessagePolicy": {
		params: []string{"TopicName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{"sns:Publish"}, arnSub(
				"arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${topicName}",
				"topicName", p["TopicName"]))}
		},
	},
	"DynamoDBCrudPolicy": {
		params: []string{"TableName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{
				"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
				"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
				"dynamodb:ConditionCheckItem",
			}, dynamoDBTable(p))}
		},
	},
	"DynamoDBReadPolicy": {
		params: []string{"TableName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{
				"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem",
				"dynamodb:DescribeTable",
			}, dynamoDBTable(p))}
		},
	},
	"S3ReadPolicy": {
		params: []string{"BucketName"},
		statements: func(p map[string]any) []any {
			return []any{allow([]string{
				"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion",
				"s3:GetLifecycleConfiguration",
			}, []any{
				arnSub("arn:${AWS::Partition}:s3:::${bucketName}", "bucketName", p["BucketName"]),
				arnSub("arn:${AWS::Partition}:s3:::${bucketName}/*", "bucketName", p["BucketName"]),
			})}
		},
	},
}

// expandPolicyTemplate returns the policy document a template entry {name: {param: value}} stands for.
func expandPolicyTemplate(id string, index int, name string, args any) (map[string]any, error) {
	tmpl, ok := policyTemplates[name]
	if !ok {
		return nil, unsupported(id, "policy template %s (Policies[%d])", name, index)
	}
	p, ok := args.(map[string]any)
	if !ok {
		return nil, invalid(id, "must specify valid parameter values for policy template '%s'", name)
	}
	var missing []string
	for _, param := range tmpl.params {
		if _, ok := p[param]; !ok {
			missing = append(missing, param)
		}
	}
	if len(missing) > 0 {
		return nil, invalid(id, "following required parameters of template '%s' don't have values: %s", name,
			strings.Join(missing, ", "))
	}
	for _, k := range sortedKeys(p) {
		if !slices.Contains(tmpl.params, k) {
			return nil, invalid(id, "policy template '%s' has no parameter %s", name, k)
		}
	}
	return map[string]any{"Statement": tmpl.statements(p)}, nil
}

// rolePolicies sorts the Policies property into managed policy ARNs (appended to managed, without duplicates)
// and inline policies named <roleID>Policy<index> (appended to inline).
func rolePolicies(id, roleID string, raw any, managed, inline []any) ([]any, []any, error) {
	if raw == nil {
		return managed, inline, nil
	}
	entries, ok := raw.([]any)
	if !ok {
		entries = []any{raw}
	}
	addManaged := func(arn any) {
		for _, m := range managed {
			if reflect.DeepEqual(m, arn) {
				return
			}
		}
		managed = append(managed, arn)
	}
	for i, e := range entries {
		switch x := e.(type) {
		case string:
			addManaged(managedPolicyARN(x))
			continue
		case map[string]any:
			switch {
			case isIf(x):
				return nil, nil, unsupported(id, "Fn::If in Policies[%d]", i)
			case isIntrinsic(x):
				addManaged(clone(x))
				continue
			case x["Statement"] != nil:
				inline = append(inline, map[string]any{
					"PolicyName":     fmt.Sprintf("%sPolicy%d", roleID, i),
					"PolicyDocument": clone(x),
				})
				continue
			case len(x) == 1:
				for name, args := range x {
					doc, err := expandPolicyTemplate(id, i, name, args)
					if err != nil {
						return nil, nil, err
					}
					inline = append(inline, map[string]any{
						"PolicyName":     fmt.Sprintf("%sPolicy%d", roleID, i),
						"PolicyDocument": doc,
					})
				}
				continue
			}
		}
		return nil, nil, invalid(id, "policy at index %d in the 'Policies' property is not valid", i)
	}
	return managed, inline, nil
}

// tagList turns SAM's Tags map into CloudFormation's [{Key, Value}] list, sorted by key.
func tagList(tags map[string]any) []any {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"Key": k, "Value": clone(tags[k])})
	}
	return out
}
