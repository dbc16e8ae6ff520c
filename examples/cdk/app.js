// The orders function of ../orders as a CDK app: a Node function, the alias live on its current version, and a
// CodeDeploy deployment group that shifts live 10% for five minutes, then the rest, rolling back when the errors
// alarm goes off. `npx cdk synth` writes cdk.out/CdkOrders.template.json, which `sluice deploy` reads (README.md).
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

    new codedeploy.LambdaDeploymentGroup(this, "DeploymentGroup", {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [errors],
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
