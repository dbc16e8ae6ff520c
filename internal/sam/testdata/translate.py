#!/usr/bin/env python3
"""Translate a JSON SAM template with aws-sam-translator, the reference for package sam.

Usage: python3 translate.py TEMPLATE.json [PARAMETERS.json] > TRANSLATED.json

The translator only accepts S3 code locations, so a local CodeUri (any string that is not an s3:// URI, in a
function or in Globals.Function) is first replaced by the placeholder s3://sluice-local-code/<path>; the Go test
maps package sam's local Code strings to the same placeholder before comparing. PARAMETERS.json, if given, holds
parameter values ({"Name": "value"}). Exit status 2 and the translator's message on stderr for a template it
rejects.
"""
import json
import logging
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
logging.disable(logging.CRITICAL)

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

LOCAL_BUCKET = "sluice-local-code"


class NoManagedPolicies:
    """Managed policy loader that never calls IAM: the translator's bundled map is enough."""

    def load(self):
        return {}


def placeholder(props):
    uri = props.get("CodeUri") if isinstance(props, dict) else None
    if isinstance(uri, str) and not uri.startswith("s3://"):
        props["CodeUri"] = "s3://%s/%s" % (LOCAL_BUCKET, uri)


def main():
    with open(sys.argv[1]) as f:
        template = json.load(f)
    params = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            params = json.load(f)
    placeholder(template.get("Globals", {}).get("Function"))
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            placeholder(resource.get("Properties"))
    try:
        out = transform(template, params, NoManagedPolicies())
    except InvalidDocumentException as e:
        print("; ".join(err.message for err in e.causes), file=sys.stderr)
        sys.exit(2)
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
