"""The seed walkthrough (§1 deploy, §6 configuration change, §2 weighted alias) with boto3.

The server holds every settle for 1 s, so the waiters must really wait.
"""
import base64
import hashlib

from sluice_e2e import ARN_PREFIX, ROLE, client, create, expect_error, make_zip, status, wait


def sha(b):
    return base64.b64encode(hashlib.sha256(b).digest()).decode()


c = client()

# §1: create, wait, update code, wait, publish, alias.
r = create(c, "orders", tag="build 1")
assert status(r) == 201, f"create_function HTTP {status(r)}, want 201"
assert r["State"] == "Pending", f"create_function State {r['State']!r}, want Pending"
assert r["FunctionArn"] == ARN_PREFIX + "orders", r["FunctionArn"]
assert r["Role"] == ROLE and r["Runtime"] == "provided.al2023" and r["Handler"] == "bootstrap", r
wait(c, "function_active_v2", FunctionName="orders")
assert c.get_function(FunctionName="orders")["Configuration"]["State"] == "Active"

build2 = make_zip("build 2")
r = c.update_function_code(FunctionName="orders", ZipFile=build2)
assert r["LastUpdateStatus"] == "InProgress", f"update_function_code LastUpdateStatus {r['LastUpdateStatus']!r}"
wait(c, "function_updated_v2", FunctionName="orders")
v = c.publish_version(FunctionName="orders")
assert status(v) == 201, f"publish_version HTTP {status(v)}, want 201"
assert v["Version"] == "1", f"first version {v['Version']!r}, want '1'"
assert v["CodeSha256"] == sha(build2), f"version 1 CodeSha256 {v['CodeSha256']}, want {sha(build2)}"
a = c.create_alias(FunctionName="orders", Name="live", FunctionVersion=v["Version"])
assert status(a) == 201, f"create_alias HTTP {status(a)}"
assert a["AliasArn"] == ARN_PREFIX + "orders:live" and a["FunctionVersion"] == "1", a

# §1 later: the next release moves live.
c.update_function_code(FunctionName="orders", ZipFile=make_zip("build 3"))
wait(c, "function_updated_v2", FunctionName="orders")
v2 = c.publish_version(FunctionName="orders")
assert v2["Version"] == "2", f"second version {v2['Version']!r}"
a = c.update_alias(FunctionName="orders", Name="live", FunctionVersion=v2["Version"])
assert a["FunctionVersion"] == "2", a
assert c.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"

# §6 negative: a configuration change right after a code change is refused until the update settles.
c.update_function_code(FunctionName="orders", ZipFile=make_zip("build 4"))
expect_error(
    "update_function_configuration during InProgress",
    lambda: c.update_function_configuration(FunctionName="orders", Environment={"Variables": {"LOG_LEVEL": "INFO"}}),
    "ResourceConflictException", 409,
    message="The operation cannot be performed at this time. An update is in progress for resource: " + ARN_PREFIX + "orders",
)
# §6: wait, then the configuration change, wait, publish.
wait(c, "function_updated_v2", FunctionName="orders")
c.update_function_configuration(FunctionName="orders", Environment={"Variables": {"LOG_LEVEL": "INFO"}})
wait(c, "function_updated_v2", FunctionName="orders")
v3 = c.publish_version(FunctionName="orders")
assert v3["Version"] == "3", f"§6 version {v3['Version']!r}, want '3'"
assert v3["Environment"]["Variables"] == {"LOG_LEVEL": "INFO"}, v3["Environment"]
got = c.get_function_configuration(FunctionName="orders", Qualifier="3")
assert got["Environment"]["Variables"].get("LOG_LEVEL") == "INFO", got["Environment"]

# §2: a 3 % canary of version 2 on live.
a = c.update_alias(FunctionName="orders", Name="live", FunctionVersion="1",
                   RoutingConfig={"AdditionalVersionWeights": {"2": 0.03}})
assert a["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.03}, a
got = c.get_alias(FunctionName="orders", Name="live")
assert got["FunctionVersion"] == "1" and got["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.03}, got
assert got["RevisionId"] == a["RevisionId"], (got["RevisionId"], a["RevisionId"])

print("seed flow OK")
