// The orders service as a CDK app: a function published as a new version on every change (fn.currentVersion),
// a "live" alias moved by CodeDeploy through a canary with pre- and post-traffic hooks, and an alarm on the
// alias's errors that rolls a bad version back.
const path = require('path');
const cdk = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const cloudwatch = require('aws-cdk-lib/aws-cloudwatch');
const codedeploy = require('aws-cdk-lib/aws-codedeploy');

const app = new cdk.App();
const stack = new cdk.Stack(app, 'OrdersCdk');

const fn = new lambda.Function(stack, 'Orders', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'fn')),
});
const live = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });

const errors = new cloudwatch.Alarm(stack, 'Errors', {
  metric: live.metricErrors({ period: cdk.Duration.minutes(1), statistic: 'Sum' }),
  threshold: 1,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
});

// A hook reports to CodeDeploy that its check passed; CDK grants it PutLifecycleEventHookExecutionStatus.
const hookCode = `
import boto3
codedeploy = boto3.client("codedeploy")
def handler(event, context):
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="Succeeded")
`;
const hook = (id) => new lambda.Function(stack, id, {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: 'index.handler',
  code: lambda.Code.fromInline(hookCode),
});

new codedeploy.LambdaDeploymentGroup(stack, 'Canary', {
  alias: live,
  deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  alarms: [errors],
  preHook: hook('PreTraffic'),
  postHook: hook('PostTraffic'),
});

new cdk.CfnOutput(stack, 'AliasArn', { value: live.functionArn });
