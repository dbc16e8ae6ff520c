"""Sends CloudWatch calls through botocore, for the Go tests of the CloudWatch edge (botocore_test.go).

usage: python3 botocore_calls.py json|cbor|query ENDPOINT < calls.json

  json   botocore as boto3 and AWS CLI v1 use it: CloudWatch's model lists smithy-rpc-v2-cbor, json and query,
         and botocore (1.43) picks the first of its own priority list it finds there, which is json;
  cbor   the same botocore made to prefer smithy-rpc-v2-cbor, to exercise its CBOR serializer and parser;
  query  the botocore vendored by Debian's AWS CLI v2 (awscli.botocore, whose CloudWatch model is query only).

calls.json is a list of {"op": "PutMetricAlarm", "params": {...}}; {"$time": <epoch seconds>} in params is a
timestamp. The output is {"protocol": ..., "results": [...]}, one result per call: {"response": {...}} (the
parsed response without ResponseMetadata, timestamps as {"$time": <epoch seconds>}) or {"error": {...}} (code,
message, type, status, the botocore exception class).
"""
import datetime
import json
import sys


def main():
    flavor, endpoint = sys.argv[1], sys.argv[2]
    if flavor == "query":
        from awscli.botocore import xform_name
        from awscli.botocore.config import Config
        from awscli.botocore.session import get_session
    else:
        import botocore.model
        from botocore import xform_name
        from botocore.config import Config
        from botocore.session import get_session

        if flavor == "cbor":
            order = botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS
            botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor",) + tuple(
                p for p in order if p != "smithy-rpc-v2-cbor")

    client = get_session().create_client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        # One attempt per call (this fork of botocore counts the first attempt in max_attempts).
        config=Config(retries={"max_attempts": 1} if flavor == "query" else {"total_max_attempts": 1}),
    )
    results = []
    for call in json.load(sys.stdin):
        method = getattr(client, xform_name(call["op"]))
        try:
            response = method(**decode(call["params"]))
            response.pop("ResponseMetadata", None)
            results.append({"response": encode(response)})
        except Exception as e:  # ClientError, of whichever botocore built the exception classes
            if not hasattr(e, "response"):
                raise
            err = e.response.get("Error", {})
            results.append({"error": {
                "code": err.get("Code"),
                "message": err.get("Message"),
                "type": err.get("Type"),
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "exception": type(e).__name__,
            }})
    model = client.meta.service_model
    json.dump({"protocol": getattr(model, "resolved_protocol", model.protocol), "results": results}, sys.stdout)


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
