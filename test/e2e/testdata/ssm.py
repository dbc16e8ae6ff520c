"""boto3 against Parameter Store: put/get with selectors, SecureString, labels, the paginators of
get_parameters_by_path, describe_parameters and get_parameter_history, and AWS's errors as boto3 types them."""
import boto3
from botocore.config import Config

c = boto3.client("ssm", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

assert c.put_parameter(Name="/svc/endpoint", Value="https://a", Type="String")["Version"] == 1
assert c.put_parameter(Name="/svc/endpoint", Value="https://b", Overwrite=True)["Version"] == 2
c.put_parameter(Name="/svc/token", Value="t0ken", Type="SecureString", KeyId="alias/svc")
for i in range(23):
    c.put_parameter(Name=f"/svc/hosts/h{i:02d}", Value=f"10.0.0.{i}", Type="String", Tags=[{"Key": "n", "Value": str(i)}])

p = c.get_parameter(Name="/svc/endpoint:1")["Parameter"]
assert (p["Value"], p["Version"], p["Selector"]) == ("https://a", 1, ":1"), p
assert p["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/svc/endpoint", p["ARN"]
assert c.get_parameter(Name="/svc/token", WithDecryption=True)["Parameter"]["Value"] == "t0ken"
assert c.get_parameter(Name="/svc/token")["Parameter"]["Value"] != "t0ken"
# A parameter is also read by its ARN.
assert c.get_parameter(Name="arn:aws:ssm:us-east-1:000000000000:parameter/svc/endpoint")["Parameter"]["Value"] == "https://b"

res = c.label_parameter_version(Name="/svc/endpoint", ParameterVersion=1, Labels=["blue", "awsbad"])
assert res["InvalidLabels"] == ["awsbad"] and res["ParameterVersion"] == 1, res
assert c.get_parameter(Name="/svc/endpoint:blue")["Parameter"]["Value"] == "https://a"
res = c.unlabel_parameter_version(Name="/svc/endpoint", ParameterVersion=1, Labels=["blue", "green"])
assert res["RemovedLabels"] == ["blue"] and res["InvalidLabels"] == ["green"], res

names = []
for page in c.get_paginator("get_parameters_by_path").paginate(Path="/svc", Recursive=True, WithDecryption=True,
                                                                PaginationConfig={"PageSize": 4}):
    assert len(page["Parameters"]) <= 4, page
    names += [p["Name"] for p in page["Parameters"]]
assert len(names) == 25 and names == sorted(names), names

hosts = [p["Name"] for page in c.get_paginator("describe_parameters").paginate(
    ParameterFilters=[{"Key": "tag:n", "Values": ["1"], "Option": "BeginsWith"}]) for p in page["Parameters"]]
assert hosts == [f"/svc/hosts/h{i:02d}" for i in (1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)], hosts

history = [p["Version"] for page in c.get_paginator("get_parameter_history").paginate(
    Name="/svc/endpoint", PaginationConfig={"PageSize": 1}) for p in page["Parameters"]]
assert history == [1, 2], history

try:
    c.get_parameter(Name="/svc/missing")
    raise AssertionError("a missing parameter was found")
except c.exceptions.ParameterNotFound as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
try:
    c.put_parameter(Name="/svc/endpoint", Value="x", Type="String")
    raise AssertionError("overwrote without Overwrite")
except c.exceptions.ParameterAlreadyExists as e:
    assert "set the overwrite option in the request to true" in str(e), e
try:
    c.get_parameter(Name="/svc/endpoint:7")
    raise AssertionError("found version 7")
except c.exceptions.ParameterVersionNotFound:
    pass
try:
    c.delete_parameter(Name="/svc/missing")
    raise AssertionError("deleted a missing parameter")
except c.exceptions.ParameterNotFound:
    pass
try:
    c.describe_parameters(ParameterFilters=[{"Key": "Label", "Values": ["x"]}])
    raise AssertionError("a Label filter in describe_parameters")
except c.exceptions.InvalidFilterKey:
    pass

c.delete_parameter(Name="/svc/token")
print("ssm ok:", len(names), "parameters by path")
