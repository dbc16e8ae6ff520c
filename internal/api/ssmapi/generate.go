package ssmapi

// The input shapes of the Parameter Store operations in the SSM model, from the botocore installed on the machine.
//go:generate sh -c "go run ../modelcheck/gen -model \"$(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data/ssm/2014-11-06/service-2.json.gz\" -source \"botocore $(python3 -c 'import botocore;print(botocore.__version__)') ssm/2014-11-06/service-2.json.gz\" -package ssmapi -var ssmModel -out model_gen.go -ops AddTagsToResource,DeleteParameter,DeleteParameters,DescribeParameters,GetParameter,GetParameterHistory,GetParameters,GetParametersByPath,LabelParameterVersion,ListTagsForResource,PutParameter,RemoveTagsFromResource,UnlabelParameterVersion"
