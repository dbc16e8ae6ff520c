"""Helpers shared by the boto3 scenario scripts.

The Go test (boto3_test.go) runs each script with AWS_ENDPOINT_URL, credentials and AWS_DEFAULT_REGION pointing at a
fresh Sluice server; boto3 picks them up by itself. A failed check raises AssertionError, so the script exits
non-zero with the message and a traceback.
"""
import io
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders"
ARN_PREFIX = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"


def client():
    # One attempt per call: every request the script makes is exactly one request to the server.
    return boto3.client("lambda", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def make_zip(tag):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, f"#!/bin/sh\n# {tag}\necho '{tag}'\n")
    return buf.getvalue()


def create(c, name, tag=None, **kwargs):
    return c.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Handler="bootstrap",
        Role=ROLE,
        Code={"ZipFile": make_zip(tag or name)},
        **kwargs,
    )


def wait(c, waiter, **kwargs):
    """Runs a waiter polling every second (the 5 s default of some would make the suite slow)."""
    c.get_waiter(waiter).wait(WaiterConfig={"Delay": 1, "MaxAttempts": 90}, **kwargs)


def expect_error(what, call, code, status, message=None, prefix=None, contains=None):
    """Asserts that call() fails with the given error code, HTTP status and message."""
    try:
        call()
    except ClientError as e:
        got_code = e.response["Error"]["Code"]
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        got_msg = e.response["Error"].get("Message", "")
        assert got_code == code, f"{what}: error code {got_code!r}, want {code!r} (HTTP {got_status}, {got_msg!r})"
        assert got_status == status, f"{what}: HTTP {got_status}, want {status} ({got_code}, {got_msg!r})"
        if message is not None:
            assert got_msg == message, f"{what}: message {got_msg!r}, want {message!r}"
        if prefix is not None:
            assert got_msg.startswith(prefix), f"{what}: message {got_msg!r}, want prefix {prefix!r}"
        if contains is not None:
            assert contains in got_msg, f"{what}: message {got_msg!r}, want it to contain {contains!r}"
        return e
    raise AssertionError(f"{what}: succeeded, want {status} {code}")


def status(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]
