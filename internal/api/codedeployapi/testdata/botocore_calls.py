"""Sends CodeDeploy calls through botocore, for the Go tests of the CodeDeploy edge (botocore_test.go).

usage: python3 botocore_calls.py boto3|awscli ENDPOINT < calls.json

  boto3   a boto3 client (the botocore that boto3 and AWS CLI v1 use);
  awscli  the botocore vendored by Debian's AWS CLI v2 (awscli.botocore), run by /usr/bin/python3.

calls.json is a list of {"op": "GetDeployment", "params": {...}} or, to run a waiter,
{"waiter": "deployment_successful", "params": {...}}; {"$time": <epoch seconds>} in params is a timestamp. The
output is one result per call: {"response": {...}} (the parsed response without ResponseMetadata, timestamps as
{"$time": <epoch seconds>}), {"error": {...}} (code, message, status, the botocore exception class),
{"waited": true} or {"waiter_error": "<reason>", "last_status": ...}.
"""
import datetime
import json
import sys


def main():
    flavor, endpoint = sys.argv[1], sys.argv[2]
    if flavor == "awscli":
        from awscli.botocore import xform_name
        from awscli.botocore.config import Config
        from awscli.botocore.session import get_session

        client = get_session().create_client(
            "codedeploy", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            # One attempt per call (this fork of botocore counts the first attempt in max_attempts).
            config=Config(retries={"max_attempts": 1}))
    else:
        import boto3
        from botocore import xform_name
        from botocore.config import Config

        client = boto3.session.Session().client(
            "codedeploy", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1}))

    results = []
    for call in json.load(sys.stdin):
        params = decode(call["params"])
        if "waiter" in call:
            try:
                client.get_waiter(call["waiter"]).wait(WaiterConfig={"Delay": 0, "MaxAttempts": 2}, **params)
                results.append({"waited": True})
            except Exception as e:  # WaiterError, of whichever botocore (AWS CLI v2's is not importable by name)
                if type(e).__name__ != "WaiterError":
                    raise
                results.append({"waiter_error": e.kwargs.get("reason"),
                                "last_status": e.last_response.get("deploymentInfo", {}).get("status")})
            continue
        try:
            response = getattr(client, xform_name(call["op"]))(**params)
            response.pop("ResponseMetadata", None)
            results.append({"response": encode(response)})
        except Exception as e:  # ClientError, of whichever botocore built the exception classes
            if not hasattr(e, "response"):
                raise
            err = e.response.get("Error", {})
            results.append({"error": {
                "code": err.get("Code"),
                "message": err.get("Message"),
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "exception": type(e).__name__,
            }})
    json.dump(results, sys.stdout)


def decode(v):
    if isinstance(v, dict):
        if set(v) == {"$time"}:
            return datetime.datetime.fromtimestamp(v["$time"], tz=datetime.timezone.utc)
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def encode(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return {"$time": v.timestamp()}
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [encode(x) for x in v]
    return v


if __name__ == "__main__":
    main()
