// The orders function of ../orders as a CDK app: a Node function, the alias live on its current version, and a
// CodeDeploy deployment group that shifts live 10% for five minutes, then the rest, with the SAM example's pre- and
// post-traffic hooks, rolling back when a hook fails or the errors alarm goes off. `npx cdk synth` writes
// cdk.out/CdkOrders.template.json, which `sluice deploy` reads (README.md).
const path = require("node:path");
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");
const codedeploy = require("aws-cdk-lib/aws-codedeploy");
const cloudwatch = require("aws-cdk-lib/aws-cloudwatch");

class CdkOrdersStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);

    const fn = new lambda.Function(this, "OrdersFunction", {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.handler",
      // The same handler as the SAM example; synth copies it into cdk.out/asset.<hash>/.
      code: lambda.Code.fromAsset(path.join(__dirname, "..", "orders", "src")),
    });

    // currentVersion publishes a new AWS::Lambda::Version whenever the code or configuration changes.
    const alias = new lambda.Alias(this, "LiveAlias", { aliasName: "live", version: fn.currentVersion });

    const errors = new cloudwatch.Alarm(this, "ErrorsAlarm", {
      alarmDescription: "Errors of the live alias: any in a minute rolls the deployment back",
      metric: alias.metricErrors({ statistic: cloudwatch.Stats.SUM, period: cdk.Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    // The hooks of ../orders/hooks: each smoke-tests the orders function (the new version before traffic moves,
    // the alias once it has all of it) and reports to CodeDeploy. The group grants them
    // codedeploy:PutLifecycleEventHookExecutionStatus and its role the right to invoke them; they may invoke the
    // orders function's versions and aliases.
    const hook = (id, handler) => {
      const check = new lambda.Function(this, id, {
        runtime: lambda.Runtime.PYTHON_3_12,
        handler,
        code: lambda.Code.fromAsset(path.join(__dirname, "..", "orders", "hooks")),
        timeout: cdk.Duration.seconds(60),
        environment: { FUNCTION_NAME: fn.functionName, ALIAS_NAME: "live", TARGET_VERSION: fn.currentVersion.functionArn },
      });
      fn.grantInvoke(check);
      return check;
    };

    new codedeploy.LambdaDeploymentGroup(this, "DeploymentGroup", {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [errors],
      preHook: hook("PreTrafficCheck", "pre_traffic.handler"),
      postHook: hook("PostTrafficCheck", "post_traffic.handler"),
    });

    new cdk.CfnOutput(this, "FunctionName", { value: fn.functionName });
    new cdk.CfnOutput(this, "LiveAliasArn", { value: alias.functionArn });
  }
}

const app = new cdk.App();
new CdkOrdersStack(app, "CdkOrders", {
  // No CDKToolkit bootstrap stack here: without the BootstrapVersion parameter and its rule the template only holds
  // what sluice deploy creates.
  synthesizer: new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
});
