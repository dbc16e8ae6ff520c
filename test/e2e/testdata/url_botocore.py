"""Calls an AWS_IAM function URL signed by botocore's SigV4 signer (service lambda), as awscurl does.

argv: the function URL, the server's address (host:port the *.localhost name stands for). Prints the status and body.
"""
import http.client
import sys
import urllib.parse

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

url, addr = sys.argv[1], sys.argv[2]
creds = botocore.session.get_session().get_credentials()
body = b'{"from":"botocore"}'
req = AWSRequest(method="POST", url=url + "signed?by=botocore", data=body, headers={"Content-Type": "application/json"})
SigV4Auth(creds, "lambda", "us-east-1").add_auth(req)
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=60)
u = urllib.parse.urlsplit(req.url)
headers = dict(req.headers.items())
headers["Host"] = u.netloc  # botocore signs the URL's host; http.client would send the address it dials
conn.request("POST", u.path + "?" + u.query, body=body, headers=headers)
resp = conn.getresponse()
print(resp.status)
print(resp.read().decode())
