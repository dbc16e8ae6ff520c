package snsapi

// The input shapes of the SNS operations Sluice serves, from the botocore installed on the machine.
//go:generate sh -c "go run ../modelcheck/gen -model \"$(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data/sns/2010-03-31/service-2.json.gz\" -source \"botocore $(python3 -c 'import botocore;print(botocore.__version__)') sns/2010-03-31/service-2.json.gz\" -package snsapi -var snsModel -out model_gen.go -ops ConfirmSubscription,CreateTopic,DeleteTopic,GetSubscriptionAttributes,GetTopicAttributes,ListSubscriptions,ListSubscriptionsByTopic,ListTopics,Publish,SetSubscriptionAttributes,SetTopicAttributes,Subscribe,Unsubscribe"
