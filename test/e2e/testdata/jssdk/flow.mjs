// The seed flow (README walkthrough: roles, function, versions, aliases, weighted alias, alarm, CodeDeploy
// deployment with auto-rollback) driven by the AWS SDK for JavaScript v3.
//
// test/e2e/jssdk_test.go runs it with `node flow.mjs` against a fresh `sluice serve --min-settle-time 2s`, with
// AWS_ENDPOINT_URL, AWS_REGION and the server's root credentials in the environment. Every step prints one line;
// the first failed check prints "FAIL <step>: …" and exits 1.
import { createHash } from "node:crypto";

import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  PublishVersionCommand,
  CreateAliasCommand,
  UpdateAliasCommand,
  GetAliasCommand,
  InvokeCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import {
  IAMClient,
  CreateRoleCommand,
  GetRoleCommand,
  AttachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  waitUntilDeploymentSuccessful,
} from "@aws-sdk/client-codedeploy";
import { CloudWatchClient, PutMetricAlarmCommand, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";

const ACCOUNT = "000000000000";
const REGION = process.env.AWS_REGION;
const FN = "js-orders";
const ARN_PREFIX = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:`;
const EXEC_ROLE = "js-exec";
const DEPLOY_ROLE = "js-codedeploy";
const roleArn = (name) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ALARM = `${FN}-errors`;
const APP = FN;
const GROUP = "live";

for (const k of ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
  if (!process.env[k]) {
    console.error(`FAIL setup: ${k} is not set`);
    process.exit(2);
  }
}

// One attempt per call: every request the script makes is exactly one request to the server (waiters poll).
const config = {
  region: REGION,
  endpoint: process.env.AWS_ENDPOINT_URL,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  maxAttempts: 1,
};
const lambda = new LambdaClient(config);
const iam = new IAMClient(config);
const codedeploy = new CodeDeployClient(config);
const cloudwatch = new CloudWatchClient(config);

// Short polls: the server holds each settle for 2 s, so the waiters really wait, but not for their 1–15 s defaults.
const lambdaWaiter = { client: lambda, maxWaitTime: 60, minDelay: 0.2, maxDelay: 0.5 };

// ---- checks ----

class CheckError extends Error {}

function check(cond, msg) {
  if (!cond) throw new CheckError(msg);
}

function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  check(g === w, `${what}: got ${g}, want ${w}`);
}

const status = (out) => out.$metadata.httpStatusCode;

// expectError runs call, which must fail with the error name, HTTP status and message (exact, or a RegExp) the
// JS SDK exposes as err.name, err.$metadata.httpStatusCode and err.message.
async function expectError(what, call, { name, httpStatus, message }) {
  let out;
  try {
    out = await call();
  } catch (err) {
    if (err instanceof CheckError) throw err;
    const got = `${err.$metadata?.httpStatusCode} ${err.name}: ${JSON.stringify(err.message)}`;
    check(err.name === name, `${what}: error ${got}, want name ${name}`);
    check(err.$metadata?.httpStatusCode === httpStatus, `${what}: error ${got}, want HTTP ${httpStatus}`);
    if (message instanceof RegExp) {
      check(message.test(err.message), `${what}: error ${got}, want message matching ${message}`);
    } else {
      check(err.message === message, `${what}: error ${got}, want message ${JSON.stringify(message)}`);
    }
    return err;
  }
  throw new CheckError(`${what}: succeeded (HTTP ${out?.$metadata?.httpStatusCode}), want ${httpStatus} ${name}`);
}

let current = "setup";
const t0 = Date.now();

async function step(name, fn) {
  current = name;
  const start = Date.now();
  const detail = await fn();
  console.log(`ok   ${name} (${Date.now() - start} ms)${detail ? ": " + detail : ""}`);
}

// ---- a deployment package, zipped here (stored entries, no dependencies) ----

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zip builds a zip archive of {name: text} entries, stored (method 0), mode 0644, dated 2024-01-01.
function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const dosTime = 0;
  const dosDate = ((2024 - 1980) << 9) | (1 << 5) | 1;
  for (const [name, text] of Object.entries(files)) {
    const nameBuf = Buffer.from(name, "utf8");
    const data = Buffer.from(text, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBuf, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(((0o100644 << 16) >>> 0), 38); // external attributes: regular file 0644
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

// build is the Node handler of one release: it answers with its build tag and the version it runs as.
function build(tag) {
  return zip({
    "index.mjs": `export const handler = async (event, context) => {
  if (event.fail) throw new Error(event.fail);
  return { build: ${JSON.stringify(tag)}, version: context.functionVersion, fn: context.functionName, echo: event.echo ?? null };
};
`,
  });
}

const sha256 = (b) => createHash("sha256").update(b).digest("base64");
const text = (b) => new TextDecoder().decode(b);
const payload = (obj) => new TextEncoder().encode(JSON.stringify(obj));

async function invoke(qualifier, event) {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: FN, Qualifier: qualifier, Payload: payload(event), LogType: "Tail" }),
  );
  eq(status(out), 200, `Invoke ${qualifier} HTTP status`);
  check(out.FunctionError === undefined, `Invoke ${qualifier}: FunctionError ${out.FunctionError}: ${text(out.Payload)}`);
  return { out, body: JSON.parse(text(out.Payload)) };
}

async function publish(want) {
  const v = await lambda.send(new PublishVersionCommand({ FunctionName: FN }));
  eq(status(v), 201, "PublishVersion HTTP status");
  eq(v.Version, want, "PublishVersion Version");
  eq(v.FunctionArn, ARN_PREFIX + FN + ":" + want, "PublishVersion FunctionArn");
  await waitUntilFunctionActiveV2(lambdaWaiter, { FunctionName: FN, Qualifier: v.Version });
  return v;
}

async function updateCode(tag) {
  const pkg = build(tag);
  const out = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FN, ZipFile: pkg }));
  eq(out.LastUpdateStatus, "InProgress", "UpdateFunctionCode LastUpdateStatus");
  eq(out.CodeSha256, sha256(pkg), "UpdateFunctionCode CodeSha256");
  return pkg;
}

// ---- the flow ----

const lambdaTrust = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};
const builds = {}; // version -> build tag
let deploymentId;

async function main() {
  // IAM: the two roles the README creates — Sluice checks trust policies as AWS does.
  await step("iam: create the execution role (trusts lambda.amazonaws.com)", async () => {
    const out = await iam.send(
      new CreateRoleCommand({ RoleName: EXEC_ROLE, AssumeRolePolicyDocument: JSON.stringify(lambdaTrust) }),
    );
    eq(out.Role.Arn, roleArn(EXEC_ROLE), "CreateRole Arn");
    const got = await iam.send(new GetRoleCommand({ RoleName: EXEC_ROLE }));
    // IAM returns the trust policy URL-encoded, as AWS does.
    const doc = JSON.parse(decodeURIComponent(got.Role.AssumeRolePolicyDocument));
    eq(doc.Statement[0].Principal, { Service: "lambda.amazonaws.com" }, "GetRole trust principal");
    return out.Role.Arn;
  });

  await step("iam: a second CreateRole of the same name is EntityAlreadyExists (409)", async () => {
    await expectError(
      "CreateRole again",
      () => iam.send(new CreateRoleCommand({ RoleName: EXEC_ROLE, AssumeRolePolicyDocument: JSON.stringify(lambdaTrust) })),
      { name: "EntityAlreadyExistsException", httpStatus: 409, message: `Role with name ${EXEC_ROLE} already exists.` },
    );
  });

  await step("iam: create the CodeDeploy service role with AWSCodeDeployRoleForLambda", async () => {
    const trust = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "codedeploy.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
    await iam.send(new CreateRoleCommand({ RoleName: DEPLOY_ROLE, AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const policyArn = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda";
    await iam.send(new AttachRolePolicyCommand({ RoleName: DEPLOY_ROLE, PolicyArn: policyArn }));
    const got = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: DEPLOY_ROLE }));
    eq(
      got.AttachedPolicies.map((p) => p.PolicyArn),
      [policyArn],
      "ListAttachedRolePolicies",
    );
  });

  await step("lambda: a role Lambda cannot assume is refused (InvalidParameterValueException)", async () => {
    await expectError(
      "CreateFunction with the CodeDeploy role",
      () =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: FN,
            Runtime: "nodejs22.x",
            Handler: "index.handler",
            Role: roleArn(DEPLOY_ROLE),
            Code: { ZipFile: build("never") },
          }),
        ),
      {
        name: "InvalidParameterValueException",
        httpStatus: 400,
        message: "The role defined for the function cannot be assumed by Lambda.",
      },
    );
  });

  // Both answers as AWS recorded them (test/e2e/recorded_test.go): a role that is not an ARN fails the model's
  // pattern (ValidationException); an unknown runtime is InvalidParameterValueException with the enum's wording.
  await step("lambda: a role that is not a role ARN is a ValidationException", async () => {
    await expectError(
      "CreateFunction with Role r1",
      () =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: FN,
            Runtime: "nodejs22.x",
            Handler: "index.handler",
            Role: "r1",
            Code: { ZipFile: build("never") },
          }),
        ),
      {
        name: "ValidationException",
        httpStatus: 400,
        message:
          "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
      },
    );
  });

  await step("lambda: an unknown runtime is InvalidParameterValueException", async () => {
    await expectError(
      "CreateFunction with nodejs99.x",
      () =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: FN,
            Runtime: "nodejs99.x",
            Handler: "index.handler",
            Role: roleArn(EXEC_ROLE),
            Code: { ZipFile: build("never") },
          }),
        ),
      {
        name: "InvalidParameterValueException",
        httpStatus: 400,
        message:
          "Value nodejs99.x at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN",
      },
    );
  });

  await step("lambda: create the Node function (Pending) and waitUntilFunctionActiveV2", async () => {
    const pkg = build("build 1");
    const out = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: FN,
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Role: roleArn(EXEC_ROLE),
        Code: { ZipFile: pkg },
      }),
    );
    eq(status(out), 201, "CreateFunction HTTP status");
    eq(out.State, "Pending", "CreateFunction State (--min-settle-time)");
    eq(out.FunctionArn, ARN_PREFIX + FN, "CreateFunction FunctionArn");
    eq(out.CodeSha256, sha256(pkg), "CreateFunction CodeSha256");
    const w = await waitUntilFunctionActiveV2(lambdaWaiter, { FunctionName: FN });
    eq(w.state, "SUCCESS", "waitUntilFunctionActiveV2");
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: FN }));
    eq(got.Configuration.State, "Active", "GetFunction State");
    const { body } = await invoke(undefined, { echo: "hi" });
    eq(body, { build: "build 1", version: "$LATEST", fn: FN, echo: "hi" }, "Invoke $LATEST");
  });

  await step("lambda: updating during an update is ResourceConflictException (409)", async () => {
    await updateCode("build 2");
    await expectError(
      "UpdateFunctionConfiguration while InProgress",
      () =>
        lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: FN, Environment: { Variables: { LOG_LEVEL: "INFO" } } }),
        ),
      {
        name: "ResourceConflictException",
        httpStatus: 409,
        message: `The operation cannot be performed at this time. An update is in progress for resource: ${ARN_PREFIX}${FN}`,
      },
    );
  });

  await step("lambda: waitUntilFunctionUpdatedV2, configuration change, wait again", async () => {
    const w = await waitUntilFunctionUpdatedV2(lambdaWaiter, { FunctionName: FN });
    eq(w.state, "SUCCESS", "waitUntilFunctionUpdatedV2");
    const out = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: FN, Environment: { Variables: { LOG_LEVEL: "INFO" } } }),
    );
    eq(out.LastUpdateStatus, "InProgress", "UpdateFunctionConfiguration LastUpdateStatus");
    await waitUntilFunctionUpdatedV2(lambdaWaiter, { FunctionName: FN });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: FN }));
    eq(got.Configuration.Environment?.Variables, { LOG_LEVEL: "INFO" }, "GetFunction Environment");
    eq(got.Configuration.LastUpdateStatus, "Successful", "GetFunction LastUpdateStatus");
  });

  await step("lambda: publish version 1 and create alias live", async () => {
    const v = await publish("1");
    eq(v.CodeSha256, sha256(build("build 2")), "version 1 CodeSha256");
    eq(v.Environment?.Variables, { LOG_LEVEL: "INFO" }, "version 1 Environment");
    builds["1"] = "build 2";
    const a = await lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: "live", FunctionVersion: "1" }));
    eq(status(a), 201, "CreateAlias HTTP status");
    eq(a.AliasArn, ARN_PREFIX + FN + ":live", "CreateAlias AliasArn");
    eq(a.FunctionVersion, "1", "CreateAlias FunctionVersion");
  });

  await step("lambda: invoke through the alias (ExecutedVersion 1)", async () => {
    const { out, body } = await invoke("live", { echo: "via live" });
    eq(out.ExecutedVersion, "1", "Invoke live ExecutedVersion");
    eq(body, { build: "build 2", version: "1", fn: FN, echo: "via live" }, "Invoke live payload");
    const log = Buffer.from(out.LogResult ?? "", "base64").toString("utf8");
    check(/START RequestId: \S+ Version: 1/.test(log), `Invoke live LogResult has no START line for version 1: ${log}`);
    return `log tail ${log.split("\n").filter(Boolean).length} lines`;
  });

  await step("lambda: next release: update code, wait, publish version 2", async () => {
    await updateCode("build 3");
    await waitUntilFunctionUpdatedV2(lambdaWaiter, { FunctionName: FN });
    const v = await publish("2");
    eq(v.CodeSha256, sha256(build("build 3")), "version 2 CodeSha256");
    builds["2"] = "build 3";
  });

  await step("lambda: weighted alias: live = 1 + 50% of 2 (AdditionalVersionWeights)", async () => {
    const a = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: FN,
        Name: "live",
        FunctionVersion: "1",
        RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } },
      }),
    );
    eq(a.FunctionVersion, "1", "UpdateAlias FunctionVersion");
    eq(a.RoutingConfig?.AdditionalVersionWeights, { 2: 0.5 }, "UpdateAlias RoutingConfig");
    const got = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: "live" }));
    eq(got.RoutingConfig?.AdditionalVersionWeights, { 2: 0.5 }, "GetAlias RoutingConfig");
    eq(got.RevisionId, a.RevisionId, "GetAlias RevisionId");
    const seen = { 1: 0, 2: 0 };
    for (let i = 0; i < 10; i++) {
      const { out, body } = await invoke("live", { echo: i });
      check(out.ExecutedVersion in seen, `Invoke live #${i}: ExecutedVersion ${out.ExecutedVersion}, want 1 or 2`);
      eq(body.version, out.ExecutedVersion, `Invoke live #${i}: the version the handler ran as`);
      eq(body.build, builds[out.ExecutedVersion], `Invoke live #${i}: the build version ${out.ExecutedVersion} runs`);
      seen[out.ExecutedVersion]++;
    }
    check(seen[1] > 0 && seen[2] > 0, `10 invocations of live at 50%: ${JSON.stringify(seen)}, want both versions`);
    return `executed versions over 10 invocations ${JSON.stringify(seen)}`;
  });

  await step("lambda: not found names the qualifier (404 ResourceNotFoundException)", async () => {
    await expectError("Invoke version 9", () => invoke("9", {}), {
      name: "ResourceNotFoundException",
      httpStatus: 404,
      message: `Function not found: ${ARN_PREFIX}${FN}:9`,
    });
    await expectError(
      "GetFunction alias nope",
      () => lambda.send(new GetFunctionCommand({ FunctionName: FN, Qualifier: "nope" })),
      { name: "ResourceNotFoundException", httpStatus: 404, message: `Function not found: ${ARN_PREFIX}${FN}:nope` },
    );
    await expectError(
      "Invoke a function that does not exist",
      () => lambda.send(new InvokeCommand({ FunctionName: "js-missing" })),
      { name: "ResourceNotFoundException", httpStatus: 404, message: `Function not found: ${ARN_PREFIX}js-missing:$LATEST` },
    );
  });

  await step("lambda: an invalid qualifier is a ValidationException", async () => {
    await expectError(
      "GetFunction Qualifier invalid!",
      () => lambda.send(new GetFunctionCommand({ FunctionName: FN, Qualifier: "invalid!" })),
      {
        name: "ValidationException",
        httpStatus: 400,
        message:
          "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
      },
    );
  });

  await step("lambda: take the canary off live before CodeDeploy shifts it", async () => {
    const a = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: FN,
        Name: "live",
        FunctionVersion: "1",
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    const weights = a.RoutingConfig?.AdditionalVersionWeights ?? {};
    eq(Object.keys(weights).length, 0, `UpdateAlias routing ${JSON.stringify(a.RoutingConfig)}: want no weights`);
  });

  await step("cloudwatch: PutMetricAlarm on the alias's Errors", async () => {
    const out = await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: ALARM,
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [
          { Name: "FunctionName", Value: FN },
          { Name: "Resource", Value: `${FN}:live` },
        ],
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    );
    eq(status(out), 200, "PutMetricAlarm HTTP status");
    const got = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }));
    eq(got.MetricAlarms?.length, 1, "DescribeAlarms count");
    const a = got.MetricAlarms[0];
    eq(a.AlarmArn, `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${ALARM}`, "alarm ARN");
    eq([a.Namespace, a.MetricName, a.Statistic, a.Period, a.Threshold], ["AWS/Lambda", "Errors", "Sum", 60, 1], "alarm");
    check(a.StateValue !== "ALARM", `alarm state ${a.StateValue}: nothing failed yet`);
    return `state ${a.StateValue}`;
  });

  await step("codedeploy: application and deployment group (alarm, auto-rollback, LambdaAllAtOnce)", async () => {
    await codedeploy.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: "Lambda" }));
    const group = {
      applicationName: APP,
      deploymentGroupName: GROUP,
      deploymentConfigName: "CodeDeployDefault.LambdaAllAtOnce",
      deploymentStyle: { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" },
      alarmConfiguration: { enabled: true, alarms: [{ name: ALARM }] },
      autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
    };
    await expectError(
      "CreateDeploymentGroup with the execution role",
      () => codedeploy.send(new CreateDeploymentGroupCommand({ ...group, serviceRoleArn: roleArn(EXEC_ROLE) })),
      {
        name: "InvalidRoleException",
        httpStatus: 400,
        message: `AWS CodeDeploy does not have the permissions required to assume the role ${roleArn(EXEC_ROLE)}.`,
      },
    );
    const out = await codedeploy.send(
      new CreateDeploymentGroupCommand({ ...group, serviceRoleArn: roleArn(DEPLOY_ROLE) }),
    );
    check(out.deploymentGroupId, "CreateDeploymentGroup: no deploymentGroupId");
  });

  await step("lambda: the release to ship: update code, wait, publish version 3", async () => {
    await updateCode("build 4");
    await waitUntilFunctionUpdatedV2(lambdaWaiter, { FunctionName: FN });
    await publish("3");
    builds["3"] = "build 4";
  });

  await step("codedeploy: deployment with a JSON.stringify'd AppSpec (\"version\":0)", async () => {
    const appSpec = {
      version: 0.0,
      Resources: [
        {
          [FN]: {
            Type: "AWS::Lambda::Function",
            Properties: { Name: FN, Alias: "live", CurrentVersion: "1", TargetVersion: "3" },
          },
        },
      ],
    };
    const content = JSON.stringify(appSpec);
    check(content.startsWith('{"version":0,'), `the AppSpec as sent: ${content}, want "version":0`);
    const out = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: APP,
        deploymentGroupName: GROUP,
        revision: { revisionType: "AppSpecContent", appSpecContent: { content } },
      }),
    );
    check(/^d-[A-Z0-9]{9}$/.test(out.deploymentId ?? ""), `CreateDeployment deploymentId ${out.deploymentId}`);
    deploymentId = out.deploymentId;
    return `${deploymentId}, AppSpec ${content}`;
  });

  await step("codedeploy: waitUntilDeploymentSuccessful", async () => {
    const w = await waitUntilDeploymentSuccessful(
      { client: codedeploy, maxWaitTime: 60, minDelay: 0.5, maxDelay: 1 },
      { deploymentId },
    );
    eq(w.state, "SUCCESS", "waitUntilDeploymentSuccessful");
    const got = await codedeploy.send(new GetDeploymentCommand({ deploymentId }));
    const d = got.deploymentInfo;
    eq(d.status, "Succeeded", "GetDeployment status");
    eq(d.deploymentConfigName, "CodeDeployDefault.LambdaAllAtOnce", "GetDeployment deploymentConfigName");
    eq(d.autoRollbackConfiguration?.enabled, true, "GetDeployment autoRollbackConfiguration.enabled");
    check(d.rollbackInfo === undefined, `GetDeployment rollbackInfo ${JSON.stringify(d.rollbackInfo)}: want none`);
    return `status ${d.status}`;
  });

  await step("lambda: live now points at version 3", async () => {
    const a = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: "live" }));
    eq(a.FunctionVersion, "3", "GetAlias live FunctionVersion");
    eq(Object.keys(a.RoutingConfig?.AdditionalVersionWeights ?? {}).length, 0, "GetAlias live weights");
    for (let i = 0; i < 3; i++) {
      const { out, body } = await invoke("live", { echo: "after deploy" });
      eq(out.ExecutedVersion, "3", "Invoke live ExecutedVersion after the deployment");
      eq(body.build, "build 4", "Invoke live build after the deployment");
    }
  });
}

try {
  await main();
  console.log(`jssdk seed flow OK (${Date.now() - t0} ms)`);
} catch (err) {
  const what = err instanceof CheckError ? err.message : `${err.name}: ${err.message}\n${err.stack}`;
  console.log(`FAIL ${current}: ${what}`);
  process.exit(1);
}
