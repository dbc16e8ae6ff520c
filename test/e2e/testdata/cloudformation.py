"""The CloudFormation API with boto3: create-stack, its events and its waiters, a failed creation rolled back, delete-stack.

A stack of an IAM role and a Node function with inline code; the parameters include a NoEcho one. Waiters poll every
second (their default is 30 s).
"""
import json

import boto3
from botocore.exceptions import ClientError, WaiterError

from sluice_e2e import expect_error

cfn = boto3.client("cloudformation")
lam = boto3.client("lambda")
iam = boto3.client("iam")
fast = {"Delay": 1, "MaxAttempts": 120}

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Description: hello, made by CloudFormation
Parameters:
  Greeting:
    Type: String
    AllowedValues: [hello, hi]
  ApiKey:
    Type: String
    NoEcho: true
Resources:
  HelloRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
  Hello:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt HelloRole.Arn
      Environment: {Variables: {GREETING: !Ref Greeting}}
      Code:
        ZipFile: |
          exports.handler = async (event) => ({greeting: process.env.GREETING, name: event.name});
Outputs:
  FunctionName:
    Description: the function
    Value: !Ref Hello
    Export: {Name: hello-function}
"""

params = [{"ParameterKey": "Greeting", "ParameterValue": "hi"}, {"ParameterKey": "ApiKey", "ParameterValue": "s3cr3t"}]

v = cfn.validate_template(TemplateBody=TEMPLATE)
assert [p["ParameterKey"] for p in v["Parameters"]] == ["Greeting", "ApiKey"], v["Parameters"]
assert v["Capabilities"] == ["CAPABILITY_IAM"], v
assert v["CapabilitiesReason"] == "The following resource(s) require capabilities: [AWS::IAM::Role]", v

expect_error("without CAPABILITY_IAM", lambda: cfn.create_stack(StackName="hello", TemplateBody=TEMPLATE, Parameters=params),
             "InsufficientCapabilitiesException", 400, "Requires capabilities : [CAPABILITY_IAM]")
expect_error("a value not allowed", lambda: cfn.create_stack(StackName="hello", TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
             Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "yo"}, params[1]]),
             "ValidationError", 400, "Parameter 'Greeting' must be one of AllowedValues")
expect_error("a bad name", lambda: cfn.create_stack(StackName="hello world", TemplateBody=TEMPLATE),
             "ValidationError", 400, "1 validation error detected: Value 'hello world' at 'stackName' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*")

stack_id = cfn.create_stack(StackName="hello", TemplateBody=TEMPLATE, Parameters=params, Capabilities=["CAPABILITY_IAM"],
                            Tags=[{"Key": "team", "Value": "web"}], ClientRequestToken="create-hello-1")["StackId"]
assert stack_id.startswith("arn:aws:cloudformation:us-east-1:000000000000:stack/hello/"), stack_id
expect_error("the same name again", lambda: cfn.create_stack(StackName="hello", TemplateBody=TEMPLATE, Parameters=params,
             Capabilities=["CAPABILITY_IAM"]), "AlreadyExistsException", 400, "Stack [hello] already exists")
cfn.get_waiter("stack_create_complete").wait(StackName="hello", WaiterConfig=fast)

s = cfn.describe_stacks(StackName="hello")["Stacks"][0]
assert s["StackId"] == stack_id and s["StackStatus"] == "CREATE_COMPLETE", s
assert s["Description"] == "hello, made by CloudFormation", s
assert {p["ParameterKey"]: p["ParameterValue"] for p in s["Parameters"]} == {"Greeting": "hi", "ApiKey": "****"}, s["Parameters"]
assert s["Tags"] == [{"Key": "team", "Value": "web"}], s["Tags"]
assert s["Capabilities"] == ["CAPABILITY_IAM"] and s["DisableRollback"] is False, s
out = {o["OutputKey"]: o for o in s["Outputs"]}
fn = out["FunctionName"]["OutputValue"]
assert fn.startswith("hello-Hello-") and out["FunctionName"]["ExportName"] == "hello-function", out
assert out["FunctionName"]["Description"] == "the function", out
assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackName"] == "hello"

r = lam.invoke(FunctionName=fn, Payload=json.dumps({"name": "cfn"}))
assert json.loads(r["Payload"].read()) == {"greeting": "hi", "name": "cfn"}

# The events, newest first, as CloudFormation reports them.
events = cfn.describe_stack_events(StackName="hello")["StackEvents"]
steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
assert steps == [("hello", "CREATE_IN_PROGRESS"), ("HelloRole", "CREATE_IN_PROGRESS"), ("HelloRole", "CREATE_COMPLETE"),
                 ("Hello", "CREATE_IN_PROGRESS"), ("Hello", "CREATE_COMPLETE"), ("hello", "CREATE_COMPLETE")], steps
first = events[-1]
assert first["ResourceStatusReason"] == "User Initiated" and first["ClientRequestToken"] == "create-hello-1", first
assert first["ResourceType"] == "AWS::CloudFormation::Stack" and first["PhysicalResourceId"] == stack_id, first
for e in events:
    for k in ("StackId", "EventId", "StackName", "LogicalResourceId", "ResourceType", "Timestamp", "ResourceStatus"):
        assert k in e, (k, e)
    assert e["StackId"] == stack_id, e
done = [e for e in events if e["LogicalResourceId"] == "Hello" and e["ResourceStatus"] == "CREATE_COMPLETE"][0]
assert done["PhysicalResourceId"] == fn and done["ResourceType"] == "AWS::Lambda::Function", done

res = cfn.list_stack_resources(StackName="hello")["StackResourceSummaries"]
assert sorted((r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"]) for r in res) == [
    ("Hello", "AWS::Lambda::Function", "CREATE_COMPLETE"), ("HelloRole", "AWS::IAM::Role", "CREATE_COMPLETE")], res
d = cfn.describe_stack_resource(StackName="hello", LogicalResourceId="Hello")["StackResourceDetail"]
assert d["PhysicalResourceId"] == fn, d
expect_error("nothing to update", lambda: cfn.update_stack(StackName="hello", UsePreviousTemplate=True, Capabilities=["CAPABILITY_IAM"],
             Parameters=[{"ParameterKey": "Greeting", "UsePreviousValue": True}, {"ParameterKey": "ApiKey", "UsePreviousValue": True}]),
             "ValidationError", 400, "No updates are to be performed.")
assert cfn.get_template(StackName="hello")["TemplateBody"] == TEMPLATE

# A creation that fails is rolled back: what it made is deleted, and the stack stays in ROLLBACK_COMPLETE.
BROKEN = """
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: codedeploy.amazonaws.com}, Action: sts:AssumeRole}]
  Broken:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt DeployRole.Arn
      Code: {ZipFile: "exports.handler = async () => 1;"}
"""
roles_before = {r["RoleName"] for r in iam.list_roles()["Roles"]}
broken_id = cfn.create_stack(StackName="broken", TemplateBody=BROKEN, Capabilities=["CAPABILITY_IAM"])["StackId"]
try:
    cfn.get_waiter("stack_create_complete").wait(StackName="broken", WaiterConfig=fast)
    raise AssertionError("the waiter accepted a failed creation")
except WaiterError as e:
    assert "ROLLBACK_COMPLETE" in str(e), e
s = cfn.describe_stacks(StackName="broken")["Stacks"][0]
assert s["StackStatus"] == "ROLLBACK_COMPLETE", s
steps = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
         for e in reversed(cfn.describe_stack_events(StackName="broken")["StackEvents"])]
failed = [st for st in steps if st[1] == "CREATE_FAILED"]
assert len(failed) == 1 and failed[0][0] == "Broken" and "cannot be assumed by Lambda" in failed[0][2], steps
assert ("broken", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Broken]. Rollback requested by user.") in steps, steps
assert ("DeployRole", "DELETE_COMPLETE", "") in steps and steps[-1][:2] == ("broken", "ROLLBACK_COMPLETE"), steps
assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == roles_before, "the rollback left a role"
assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == [fn], "the rollback left a function"
expect_error("updating a stack rolled back at creation", lambda: cfn.update_stack(StackName="broken", TemplateBody=BROKEN,
             Capabilities=["CAPABILITY_IAM"]), "ValidationError", 400, f"Stack:{broken_id} is in ROLLBACK_COMPLETE state and can not be updated.")

# SSM-typed parameters are read from Parameter Store as the caller; DescribeStacks gives their ResolvedValue. One
# that does not exist fails the creation, rolled back.
ssm = boto3.client("ssm")
ssm.put_parameter(Name="/hello/greeting", Value="hello", Type="String")
WITH_SSM = TEMPLATE.replace("""  Greeting:
    Type: String
    AllowedValues: [hello, hi]""", """  Greeting:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /hello/greeting""")
cfn.create_stack(StackName="from-ssm", TemplateBody=WITH_SSM, Parameters=[params[1]], Capabilities=["CAPABILITY_IAM"])
cfn.get_waiter("stack_create_complete").wait(StackName="from-ssm", WaiterConfig=fast)
s = cfn.describe_stacks(StackName="from-ssm")["Stacks"][0]
greeting = [p for p in s["Parameters"] if p["ParameterKey"] == "Greeting"][0]
assert greeting == {"ParameterKey": "Greeting", "ParameterValue": "/hello/greeting", "ResolvedValue": "hello"}, greeting
ssm_fn = [o["OutputValue"] for o in s["Outputs"]][0]
assert json.loads(lam.invoke(FunctionName=ssm_fn, Payload=b"{}")["Payload"].read())["greeting"] == "hello"
cfn.create_stack(StackName="no-ssm", TemplateBody=WITH_SSM, Capabilities=["CAPABILITY_IAM"],
                 Parameters=[params[1], {"ParameterKey": "Greeting", "ParameterValue": "/hello/missing"}])
try:
    cfn.get_waiter("stack_create_complete").wait(StackName="no-ssm", WaiterConfig=fast)
    raise AssertionError("a creation with a missing SSM parameter succeeded")
except WaiterError:
    pass
s = cfn.describe_stacks(StackName="no-ssm")["Stacks"][0]
assert s["StackStatus"] == "ROLLBACK_COMPLETE", s
assert "Unable to fetch parameters [/hello/missing] from parameter store for this account." in s.get("StackStatusReason", ""), s
for name in ("from-ssm", "no-ssm"):
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=fast)

# delete-stack, and its waiter; the deleted stack is gone by name and still there by ID.
for name in ("hello", "broken"):
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=fast)
expect_error("a deleted stack by name", lambda: cfn.describe_stacks(StackName="hello"), "ValidationError", 400, "Stack with id hello does not exist")
s = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
assert s["StackStatus"] == "DELETE_COMPLETE" and "DeletionTime" in s, s
deleted = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
assert sorted(d["StackName"] for d in deleted) == ["broken", "from-ssm", "hello", "no-ssm"], deleted
assert lam.list_functions()["Functions"] == [], "delete-stack left a function"
steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(cfn.describe_stack_events(StackName=stack_id)["StackEvents"])]
assert steps[-6:] == [("hello", "DELETE_IN_PROGRESS"), ("Hello", "DELETE_IN_PROGRESS"), ("Hello", "DELETE_COMPLETE"),
                      ("HelloRole", "DELETE_IN_PROGRESS"), ("HelloRole", "DELETE_COMPLETE"), ("hello", "DELETE_COMPLETE")], steps
print("cloudformation: create, events, waiters, rollback of a failed creation, delete: ok")
