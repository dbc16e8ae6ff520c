// Package sam implements the AWS::Serverless-2016-10-31 transform for sluice deploy: it expands every
// AWS::Serverless::Function of a SAM template into the plain CloudFormation resources aws-sam-translator
// generates, with the same logical IDs, types, properties and resource attributes, so that the deploy engine
// can create them through Sluice's Lambda, IAM and CodeDeploy APIs.
//
// The package is pure: no I/O, no AWS calls. Templates are the long form a JSON decoder produces
// (map[string]any, intrinsics as {"Ref": …}, {"Fn::GetAtt": […]}, {"Fn::Sub": …}); it evaluates no intrinsic
// except where SAM itself does (Refs to parameters, and Fn::FindInMap for DeploymentPreference switches) and
// does not depend on the cfn package.
//
//	if sam.IsServerless(tpl) {
//		tpl, err = sam.Transform(tpl, sam.Options{Parameters: values})
//	}
//
// # Generated resources
//
// For a function Fn (Condition, DeletionPolicy and UpdateReplacePolicy of Fn are copied onto each; DependsOn,
// Metadata and UpdatePolicy stay on Fn itself):
//
//   - Fn, AWS::Lambda::Function. Code: a local CodeUri path stays the string it is (as `aws cloudformation
//     package` accepts it; the deploy engine refuses it, as CloudFormation does, so `sluice deploy` uploads it first), s3://bucket/key?versionId=v and {Bucket, Key,
//     Version} become {S3Bucket, S3Key, S3ObjectVersion}, InlineCode {ZipFile}, ImageUri {ImageUri}. Tags gain
//     lambda:createdBy=SAM as a [{Key, Value}] list (sorted by key). Tracing becomes TracingConfig.Mode,
//     DeadLetterQueue DeadLetterConfig. Role is the given one or GetAtt FnRole.Arn.
//   - FnRole, AWS::IAM::Role, unless Role is given: trust lambda.amazonaws.com (or AssumeRolePolicyDocument);
//     ManagedPolicyArns service-role/AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess with Tracing,
//     service-role/AWSLambdaVPCAccessExecutionRole with VpcConfig, then the Policies names (as ARNs) and ARNs
//     without duplicates; Policies: DeadLetterQueuePolicy, the event invoke destination policies, then each
//     inline document or policy template as FnRolePolicy<index in Policies>; Path, PermissionsBoundary, Tags.
//   - With AutoPublishAlias: FnVersion<hash> (AWS::Lambda::Version, DeletionPolicy Retain unless the function
//     or VersionDeletionPolicy says otherwise) and FnAlias<name> with - → D and _ → U (AWS::Lambda::Alias,
//     FunctionVersion GetAtt FnVersion<hash>.Version, ProvisionedConcurrencyConfig).
//   - With an enabled DeploymentPreference: the alias gets UpdatePolicy CodeDeployLambdaAliasUpdate
//     {ApplicationName, DeploymentGroupName, BeforeAllowTrafficHook, AfterAllowTrafficHook}, and FnDeploymentGroup
//     (AWS::CodeDeploy::DeploymentGroup) is generated. Once per template: ServerlessDeploymentApplication
//     (AWS::CodeDeploy::Application, ComputePlatform Lambda) and, unless every enabled preference has a Role,
//     CodeDeployServiceRole (trust codedeploy.amazonaws.com, service-role/AWSCodeDeployRoleForLambda). The nine
//     predefined Type names become {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": name}]},
//     also inside an Fn::If; other names pass through. With PassthroughCondition the group gets the function's
//     Condition, and when all enabled preferences have one the shared resources get it (or the
//     ServerlessCodeDeployCondition Fn::Or added to Conditions).
//   - With EventInvokeConfig: FnEventInvokeConfig (Qualifier the alias name or $LATEST, DependsOn the alias),
//     plus FnEventInvokeConfigOnSuccessQueue / …Topic for an SQS or SNS destination without Destination.
//   - With FunctionUrlConfig: FnUrl (AWS::Lambda::Url: AuthType, Cors unless empty, InvokeMode, and
//     TargetFunctionArn a Ref to the alias — its ARN, so the URL is the alias's and follows its traffic shifts —
//     or, without AutoPublishAlias, to the function). With AuthType NONE, the two statements a public URL needs
//     (AWS::Lambda::Permission, Principal "*", FunctionName the same Ref): FnUrlPublicPermissions
//     (lambda:InvokeFunctionUrl, FunctionUrlAuthType NONE) and FnURLInvokeAllowPublicAccess
//     (lambda:InvokeFunction, InvokedViaFunctionUrl true), which Lambda has required of new URLs since October
//     2025. aws-sam-translator 1.110.0 (the cross-check's) emits both; older ones emit only the first, whose URL
//     Lambda now answers 403.
//
// References SAM resolves are resolved everywhere in the template: {"Ref": "Fn.Alias"}, Fn.Version,
// Fn.DestinationQueue and Fn.DestinationTopic, in Ref, Fn::GetAtt and Fn::Sub.
//
// Globals.Function is merged into every function as SAM does: maps merged key by key (Environment.Variables
// too), lists concatenated (global first), scalars and intrinsics overridden, IgnoreGlobals honoured.
//
// # The version hash
//
// The 10 characters ending FnVersion<hash> are the first 10 hex digits of the SHA-256 of the compact JSON
// (object keys sorted, as encoding/json writes maps) of an object holding
//
//   - Code: the generated Code value (the CodeUri path string, the S3 location, the inline code, the image);
//   - Environment, MemorySize, and SnapStart when its ApplyOn is not None, as generated;
//   - or, when AutoPublishAliasAllProperties is true, instead of the three above, Properties: every property
//     of the generated AWS::Lambda::Function with Code as above;
//   - AutoPublishCodeSha256, when given;
//
// with every Ref to a template parameter replaced by its value first. So a new version is published exactly
// when the code, the environment or the memory size (or any property, with AutoPublishAliasAllProperties)
// changes, including through a parameter. The translator hashes similar inputs with SHA-1 (parameters resolved
// in the code only) and uses AutoPublishCodeSha256's own first 10 characters when given; the IDs differ, the
// rule is the same.
//
// # Supported and refused
//
// Function properties passed through: Architectures, CodeSigningConfigArn, Description, Environment,
// EphemeralStorage, FileSystemConfigs, FunctionName, Handler, ImageConfig, KmsKeyArn, Layers, LoggingConfig,
// MemorySize, PackageType, RecursiveLoop, ReservedConcurrentExecutions, Runtime, RuntimeManagementConfig,
// SnapStart, Timeout, VpcConfig. Translated: AssumeRolePolicyDocument, AutoPublishAlias,
// AutoPublishAliasAllProperties, AutoPublishCodeSha256, CodeUri, DeadLetterQueue, DeploymentPreference,
// EventInvokeConfig (all destination types), FunctionUrlConfig, ImageUri, InlineCode, PermissionsBoundary,
// Policies, PropagateTags,
// ProvisionedConcurrencyConfig, Role, RolePath, SourceKMSKeyArn, Tags, Tracing, VersionDeletionPolicy,
// VersionDescription. Policy templates: CloudWatchPutMetricPolicy, DynamoDBCrudPolicy, DynamoDBReadPolicy,
// LambdaInvokePolicy, S3ReadPolicy, SNSPublishMessagePolicy, SQSSendMessagePolicy.
//
// Refused with an *Error wrapping ErrUnsupported ("OrdersFunction: property Events is not supported by sluice
// deploy yet"): the properties Events, CapacityProviderConfig, FunctionScalingConfig,
// PublishToLatestPublished, TenancyConfig and DurableConfig; every AWS::Serverless type other than Function
// (Api, HttpApi, SimpleTable, LayerVersion, StateMachine, Application, Connector, GraphQLApi, …); the
// Connectors attribute; other policy templates; Fn::If in Policies; Fn::If with an AWS::NoValue branch in Role
// or an event invoke Destination; SourceKMSKeyArn with a local CodeUri; transforms other than SAM's.
// Nothing is dropped silently.
//
// # Where this package is stricter than the translator
//
// The translator ignores what it does not read; here these are errors: unknown keys in DeploymentPreference,
// Hooks, EventInvokeConfig, DeadLetterQueue, CodeUri, FunctionUrlConfig and policy template parameters; a
// FunctionUrlConfig that is empty (the translator generates nothing) or an intrinsic function; a non-integral
// Cors.MaxAge; InlineCode and CodeUri both
// on one function (the translator silently prefers InlineCode; one from Globals still yields to the function's);
// ImageUri with PackageType Zip; Policies, AssumeRolePolicyDocument, RolePath or PermissionsBoundary next to
// Role; AutoPublishCodeSha256, VersionDescription or AutoPublishAliasAllProperties on a function without
// AutoPublishAlias; an empty DeploymentPreference; a DeploymentPreference.Enabled that does not resolve; a
// reference to Fn.Alias (…) that Fn does not generate; generated logical IDs colliding with the template's.
// CodeUri may also be a Ref to a parameter holding a path or s3:// URI. Managed policy names are mapped to ARNs
// from a short table of non-root paths (service-role/…, job-function/…); other names are taken to be root
// policies (arn:aws:iam::aws:policy/<name>) where the translator would leave an unknown name as it is.
//
// # Faithful oddities
//
// Kept because the translator does them: PropagateTags replaces the Tags of the function, its role and any
// destination queue or topic with the template's tags alone (lambda:createdBy disappears), and gives the
// CodeDeploy resources the tags too; the EventInvokeConfig carries every resource attribute of the function
// (Metadata and UpdatePolicy included); AutoPublishCodeSha256 is appended to the function's Description; the
// SNS destination policy's action is spelled "sns:publish"; managed policy ARNs are plain strings in the aws
// partition; pseudo parameters in EventInvokeConfig are resolved when Options.Parameters has them (the
// translator takes AWS::Region and AWS::Partition from its session); a FunctionUrlConfig.AuthType given as a Ref
// (to a parameter holding NONE) gets no permissions, so that URL answers 403 until some are added.
//
// # Tests
//
// translator_test.go runs every template of testdata/ through Transform and through aws-sam-translator
// (testdata/translate.py) and compares the results resource by resource; testdata/seed.translated.json and
// urls.translated.json keep the translator's output (1.110.0) for the seed template and the function URL
// fixture so that they are checked without Python too.
package sam
