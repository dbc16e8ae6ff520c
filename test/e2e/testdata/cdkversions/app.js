// A CDK app whose function's code is one of three releases, for sluice deploy's e2e test of CloudFormation's update
// order (TestDeployCDKNewVersions in test/e2e/samdeploy_test.go): `RELEASE=v2 npx cdk synth` takes the code from
// src/v2. The alias live is on fn.currentVersion, whose logical id changes with the code (the CDK default), and a
// LambdaDeploymentGroup shifts it 10% for five minutes, then the rest, rolling back when the errors alarm goes off.
// synth.sh writes cdk.out.v1, cdk.out.v2 and cdk.out.v3, which the test deploys in turn.
const path = require("node:path");
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");
const codedeploy = require("aws-cdk-lib/aws-codedeploy");
const cloudwatch = require("aws-cdk-lib/aws-cloudwatch");

const release = process.env.RELEASE || "v1";

class CdkVersionsStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);

    const fn = new lambda.Function(this, "Fn", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromAsset(path.join(__dirname, "src", release)),
    });
    const alias = new lambda.Alias(this, "Live", { aliasName: "live", version: fn.currentVersion });

    const errors = new cloudwatch.Alarm(this, "Errors", {
      metric: alias.metricErrors({ statistic: cloudwatch.Stats.SUM, period: cdk.Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    new codedeploy.LambdaDeploymentGroup(this, "Deployments", {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [errors],
    });

    new cdk.CfnOutput(this, "FunctionName", { value: fn.functionName });
  }
}

const app = new cdk.App();
new CdkVersionsStack(app, "CdkVersions", {
  synthesizer: new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
});
