package cloudformationapi

// The CloudFormation model's input shapes, from the botocore installed on the machine (model_overrides.json:
// where CloudFormation's live answers differ from the shipped model — StackName carries the pattern its messages
// quote, and TemplateBody the 51,200-byte limit CloudFormation enforces).
//go:generate sh -c "go run ../modelcheck/gen -model \"$(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data/cloudformation/2010-05-15/service-2.json.gz\" -source \"botocore $(python3 -c 'import botocore;print(botocore.__version__)') cloudformation/2010-05-15/service-2.json.gz\" -overrides model_overrides.json -package cloudformationapi -var cfnModel -out model_gen.go -ops CreateChangeSet,CreateStack,DeleteChangeSet,DeleteStack,DescribeChangeSet,DescribeStackEvents,DescribeStackResource,DescribeStackResources,DescribeStacks,ExecuteChangeSet,GetTemplate,GetTemplateSummary,ListChangeSets,ListStackResources,ListStacks,UpdateStack,UpdateTerminationProtection,ValidateTemplate"
