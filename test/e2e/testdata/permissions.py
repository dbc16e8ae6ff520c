"""Resource-based policies as boto3 sees them: AddPermission's statement, GetPolicy's document and RevisionId,
RemovePermission, and their errors (code, HTTP status and message)."""
import json

from sluice_e2e import ACCOUNT, ARN_PREFIX, client, create, expect_error, status, wait

c = client()
create(c, "orders")
wait(c, "function_active_v2", FunctionName="orders")
version = c.publish_version(FunctionName="orders")["Version"]
c.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
fn = ARN_PREFIX + "orders"

resp = c.add_permission(FunctionName="orders", StatementId="s3", Action="lambda:InvokeFunction",
                        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads")
assert status(resp) == 201, resp
statement = json.loads(resp["Statement"])
assert statement == {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                     "Action": "lambda:InvokeFunction", "Resource": fn,
                     "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}}}, statement
assert list(statement) == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"], list(statement)

policy = c.get_policy(FunctionName="orders")
assert json.loads(policy["Policy"]) == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}, policy
# The policy's RevisionId is its own: it moves with each change to the policy, and AddPermission checks it.
expect_error("stale policy revision", lambda: c.add_permission(FunctionName="orders", StatementId="x",
                                                               Action="lambda:InvokeFunction", Principal="*",
                                                               RevisionId="stale"),
             "PreconditionFailedException", 412,
             message="The Revision Id provided does not match the latest Revision Id. "
                     "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
c.add_permission(FunctionName="orders", StatementId="sqs", Action="lambda:InvokeFunction", Principal="sqs.amazonaws.com",
                 RevisionId=policy["RevisionId"])
moved = c.get_policy(FunctionName="orders")["RevisionId"]
assert moved != policy["RevisionId"], moved
c.remove_permission(FunctionName="orders", StatementId="sqs", RevisionId=moved)

# Principals: "*", an account, an ARN; a function URL grant with every optional field.
for sid, principal, want in [
    ("anyone", "*", "*"),
    ("account", ACCOUNT, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    ("role", f"arn:aws:iam::{ACCOUNT}:role/orders", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/orders"}),
]:
    got = json.loads(c.add_permission(FunctionName="orders", StatementId=sid, Action="lambda:GetFunction",
                                      Principal=principal)["Statement"])
    assert got["Principal"] == want, (sid, got)
url = json.loads(c.add_permission(FunctionName=f"orders:{version}", Qualifier=version, StatementId="url",
                                  Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE",
                                  SourceAccount=ACCOUNT, PrincipalOrgID="o-1234567890")["Statement"])
assert url["Resource"] == f"{fn}:{version}", url
assert url["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT, "lambda:FunctionUrlAuthType": "NONE",
                                             "aws:PrincipalOrgID": "o-1234567890"}}, url
via = json.loads(c.add_permission(FunctionName="orders", Qualifier="live", StatementId="via",
                                  Action="lambda:InvokeFunction", Principal="*", InvokedViaFunctionUrl=True)["Statement"])
assert via["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}, via
assert via["Resource"] == fn + ":live", via

expect_error("alias revision", lambda: c.add_permission(FunctionName="orders", Qualifier="live", StatementId="x",
                                                        Action="lambda:InvokeFunction", Principal="*",
                                                        RevisionId="wrong"),
             "PreconditionFailedException", 412,
             message="The Revision Id provided does not match the latest Revision Id. "
                     "Call the GetPolicy API to retrieve the latest Revision Id")

expect_error("invalid statement id", lambda: c.add_permission(FunctionName="orders", StatementId="example.com",
                                                              Action="lambda:InvokeFunction",
                                                              Principal="s3.amazonaws.com"),
             "ValidationException", 400,
             message="1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: "
                     "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
expect_error("invalid principal", lambda: c.add_permission(FunctionName="orders", StatementId="x",
                                                           Action="lambda:InvokeFunction",
                                                           Principal="invalid.nonaws.com"),
             "InvalidParameterValueException", 400,
             message="The provided principal was invalid. Please check the principal and try again.")
expect_error("$LATEST", lambda: c.add_permission(FunctionName="orders:$LATEST", Qualifier="$LATEST", StatementId="x",
                                                 Action="lambda:InvokeFunction", Principal="*"),
             "InvalidParameterValueException", 400, message="We currently do not support adding policies for $LATEST.")
expect_error("missing function", lambda: c.add_permission(FunctionName="nope", StatementId="x",
                                                          Action="lambda:InvokeFunction", Principal="*"),
             "ResourceNotFoundException", 404, message="Function not found: " + ARN_PREFIX + "nope")
expect_error("missing alias", lambda: c.remove_permission(FunctionName="orders", Qualifier="gone", StatementId="x"),
             "ResourceNotFoundException", 404, message="Cannot find alias arn: " + fn + ":gone")
expect_error("missing policy", lambda: c.get_policy(FunctionName="nope"),
             "ResourceNotFoundException", 404, message="The resource you requested does not exist.")

# Removing every statement removes the policy.
for sid in ["s3", "anyone", "account"]:
    resp = c.remove_permission(FunctionName="orders", StatementId=sid)
    assert status(resp) == 204, resp
current = c.get_policy(FunctionName="orders")
assert [s["Sid"] for s in json.loads(current["Policy"])["Statement"]] == ["role"], current
c.remove_permission(FunctionName="orders", StatementId="role", RevisionId=current["RevisionId"])
expect_error("policy gone", lambda: c.get_policy(FunctionName="orders"),
             "ResourceNotFoundException", 404, message="The resource you requested does not exist.")
expect_error("nothing to remove", lambda: c.remove_permission(FunctionName="orders", StatementId="role"),
             "ResourceNotFoundException", 404, message="No policy is associated with the given resource.")
print("permissions: ok")
