"""Whose permissions a stack operation uses: the caller's own (a forward session), or the RoleARN's.

A user allowed CloudFormation but not Lambda cannot make a function through a stack: the engine's CreateFunction is
denied as the user's would be, and the creation is rolled back. Given a role that trusts CloudFormation and may use
Lambda, the same user can. A role CloudFormation cannot assume is refused; a user without cloudformation:CreateStack
is denied the call itself.
"""
import json

import boto3
from botocore.exceptions import WaiterError

from sluice_e2e import ACCOUNT, expect_error

iam = boto3.client("iam")
fast = {"Delay": 1, "MaxAttempts": 120}


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def allow(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource} for action, resource in statements]})


def user(name, policy=None):
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("cloudformation", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


dev = user("dev", allow(("cloudformation:*", "*"), ("iam:PassRole", "*")))
nobody = user("nobody")
iam.create_role(RoleName="cfn-exec", AssumeRolePolicyDocument=trust("cloudformation.amazonaws.com"))
iam.put_role_policy(RoleName="cfn-exec", PolicyName="p", PolicyDocument=allow(("lambda:*", "*")))
iam.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))

TEMPLATE = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::%s:role/orders
      Code: {ZipFile: "exports.handler = async () => 1;"}
""" % ACCOUNT

# As the caller: the user may not create functions, so neither may the stack.
dev.create_stack(StackName="as-dev", TemplateBody=TEMPLATE)
try:
    dev.get_waiter("stack_create_complete").wait(StackName="as-dev", WaiterConfig=fast)
    raise AssertionError("a user without lambda:CreateFunction created a function through a stack")
except WaiterError:
    pass
events = dev.describe_stack_events(StackName="as-dev")["StackEvents"]
failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
assert len(failed) == 1 and failed[0]["LogicalResourceId"] == "Fn", events
reason = failed[0]["ResourceStatusReason"]
assert f"arn:aws:iam::{ACCOUNT}:user/dev is not authorized to perform: lambda:CreateFunction" in reason, reason
assert dev.describe_stacks(StackName="as-dev")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"

# With a role that trusts CloudFormation: the role's permissions.
role = f"arn:aws:iam::{ACCOUNT}:role/cfn-exec"
dev.create_stack(StackName="as-role", TemplateBody=TEMPLATE, RoleARN=role)
dev.get_waiter("stack_create_complete").wait(StackName="as-role", WaiterConfig=fast)
s = dev.describe_stacks(StackName="as-role")["Stacks"][0]
assert s["StackStatus"] == "CREATE_COMPLETE" and s["RoleARN"] == role, s
fn = dev.describe_stack_resource(StackName="as-role", LogicalResourceId="Fn")["StackResourceDetail"]["PhysicalResourceId"]
assert boto3.client("lambda").get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn

# The stack's role deletes it too.
dev.delete_stack(StackName="as-role")
dev.get_waiter("stack_delete_complete").wait(StackName="as-role", WaiterConfig=fast)
assert boto3.client("lambda").list_functions()["Functions"] == []

lambda_only = f"arn:aws:iam::{ACCOUNT}:role/lambda-only"
expect_error("a role that does not trust CloudFormation", lambda: dev.create_stack(StackName="bad-role", TemplateBody=TEMPLATE,
             RoleARN=lambda_only), "ValidationError", 400, f"Role {lambda_only} is invalid or cannot be assumed")
expect_error("a user without cloudformation:CreateStack", lambda: nobody.create_stack(StackName="nope", TemplateBody=TEMPLATE),
             "AccessDenied", 403, f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: cloudformation:CreateStack "
             f"on resource: arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/nope/* because no identity-based policy allows the "
             "cloudformation:CreateStack action")
print("cloudformation iam: the caller's permissions, the role's, the refusals: ok")
