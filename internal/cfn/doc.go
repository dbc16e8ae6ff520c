// Package cfn owns the reading of CloudFormation and SAM templates and the evaluation of their intrinsic
// functions, with CloudFormation's semantics and, where it has them, its error messages. It is pure: no API calls,
// no files, no clock. The SAM transform works on Template.Raw; the deploy engine works on Template and Evaluator.
//
// # Reading
//
// Parse accepts YAML or JSON and rewrites YAML's short-form tags to the long form (!GetAtt A.B becomes
// {"Fn::GetAtt": ["A", "B"]}), so that everything downstream sees one shape. Scalars keep their YAML types; the
// declaration order of resources is kept in ResourceOrder. Errors carry the source line. FromMap accepts a document
// produced by a transform. Both check what CloudFormation checks before creating anything: the known sections, the
// resource and output attributes, parameter declarations, and that conditions named by resources and outputs exist.
//
// # Evaluating
//
// NewEvaluator binds parameter values (validated like CloudFormation: types, AllowedValues, AllowedPattern,
// lengths, bounds) and pseudo parameters, and evaluates every condition. Eval then resolves intrinsic functions in
// any part of the template, asking a Refs implementation for the values of resources, so that the same code serves
// a deployment and a dry run. Order sorts the resources for creation, References tells which resources a value
// needs, Outputs evaluates the outputs.
//
// AWS::SSM::Parameter::Value<…> parameters name an SSM parameter: SSMParameters lists them, the caller (the deploy
// engine, an API client) reads their values, and NewEvaluatorWith takes them; one that something uses and that
// has no value is an error wrapping ErrUnsupported. Sluice has no cross-stack exports and no macros:
// Fn::ImportValue, Fn::Cidr and Fn::Transform are errors wrapping ErrUnsupported. Fn::GetAZs answers three zones,
// <region>a to <region>c.
package cfn
