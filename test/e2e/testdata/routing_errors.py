"""Weighted-alias and version errors as boto3 sees them: code, HTTP status and message."""
from sluice_e2e import ARN_PREFIX, client, create, expect_error, status, wait

c = client()
create(c, "orders")
wait(c, "function_active_v2", FunctionName="orders")
for i, desc in enumerate(["one", "two", "three"], start=1):
    c.update_function_configuration(FunctionName="orders", Description=desc)
    wait(c, "function_updated_v2", FunctionName="orders")
    v = c.publish_version(FunctionName="orders")
    assert v["Version"] == str(i), f"published {v['Version']!r}, want {i}"
live = c.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")


def update_live(primary, weights, **kw):
    return lambda: c.update_alias(FunctionName="orders", Name="live", FunctionVersion=primary,
                                  RoutingConfig={"AdditionalVersionWeights": weights}, **kw)


expect_error("two additional versions", update_live("1", {"2": 0.1, "3": 0.1}),
             "InvalidParameterValueException", 400,
             message="Number of items in AdditionalVersionWeights cannot be greater than 1")
expect_error("weight 1.5", update_live("1", {"2": 1.5}), "ValidationException", 400,
             contains="Member must have value less than or equal to 1.0")
expect_error("additional = primary", update_live("1", {"1": 0.1}), "InvalidParameterValueException", 400,
             message="Invalid function version 1. Function version 1 is already included in routing configuration.")
expect_error("$LATEST with weights",
             lambda: c.create_alias(FunctionName="orders", Name="canary", FunctionVersion="$LATEST",
                                    RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}}),
             "InvalidParameterValueException", 400,
             message="$LATEST is not supported for an alias pointing to more than 1 version")
expect_error("missing version 99", update_live("1", {"99": 0.1}), "ResourceNotFoundException", 404,
             message="Function not found: " + ARN_PREFIX + "orders:99")
expect_error("all-digit alias name",
             lambda: c.create_alias(FunctionName="orders", Name="2024", FunctionVersion="1"),
             "ValidationException", 400)
expect_error("duplicate alias",
             lambda: c.create_alias(FunctionName="orders", Name="live", FunctionVersion="2"),
             "ResourceConflictException", 409, message="Alias already exists: " + ARN_PREFIX + "orders:live")
expect_error("get missing alias", lambda: c.get_alias(FunctionName="orders", Name="nope"),
             "ResourceNotFoundException", 404, message="Cannot find alias arn: " + ARN_PREFIX + "orders:nope")
expect_error("delete referenced version", lambda: c.delete_function(FunctionName="orders", Qualifier="1"),
             "ResourceConflictException", 409,
             message="Unable to delete version because the following aliases reference it: [live]")

ok = update_live("1", {"2": 0.25}, RevisionId=live["RevisionId"])()
assert ok["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.25}, ok
expect_error("stale RevisionId", update_live("1", {"2": 0.5}, RevisionId=live["RevisionId"]),
             "PreconditionFailedException", 412,
             message="The Revision Id provided does not match the latest Revision Id. "
                     "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
r = c.delete_alias(FunctionName="orders", Name="nope")
assert status(r) == 204, f"delete_alias of a missing alias: HTTP {status(r)}, want 204"

expect_error("delete $LATEST", lambda: c.delete_function(FunctionName="orders", Qualifier="$LATEST"),
             "InvalidParameterValueException", 400,
             message="$LATEST version cannot be deleted without deleting the function.")
expect_error("delete alias via delete_function", lambda: c.delete_function(FunctionName="orders", Qualifier="live"),
             "InvalidParameterValueException", 400, message="Deletion of aliases is not currently supported.")
expect_error("missing function", lambda: c.get_function(FunctionName="nope"), "ResourceNotFoundException", 404,
             message="Function not found: " + ARN_PREFIX + "nope")
expect_error("other region",
             lambda: c.get_function(FunctionName="arn:aws:lambda:us-west-2:000000000000:function:orders"),
             "ResourceNotFoundException", 404,
             message="Functions from 'us-west-2' are not reachable in this region ('us-east-1')")
expect_error("CodeSha256 mismatch",
             lambda: c.publish_version(FunctionName="orders", CodeSha256="bm90IHRoZSBjb2Rl"),
             "InvalidParameterValueException", 400, prefix="CodeSHA256 (")

# Different execution roles cannot share a weighted alias.
c.update_function_configuration(FunctionName="orders", Role="arn:aws:iam::000000000000:role/other")
wait(c, "function_updated_v2", FunctionName="orders")
assert c.publish_version(FunctionName="orders")["Version"] == "4"
expect_error("different roles", update_live("1", {"4": 0.1}), "InvalidParameterValueException", 400)

print("routing errors OK")
