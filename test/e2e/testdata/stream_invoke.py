"""InvokeWithResponseStream through boto3 (argv: the streaming function and one that does not stream, as
stream_test.go creates them). The streaming function writes "chunk 1", waits at a gate this script serves, then
writes "chunk 2": the first chunk must arrive while the gate is still closed."""
import base64
import http.server
import json
import sys
import threading

import boto3

streamer, buffered = sys.argv[1], sys.argv[2]
client = boto3.client("lambda")

arrived = threading.Event()  # the function's GET reached the gate
opened = threading.Event()


class Gate(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        arrived.set()
        opened.wait(60)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"go")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gate)
threading.Thread(target=server.serve_forever, daemon=True).start()
gate = "http://127.0.0.1:%d/gate" % server.server_address[1]


def drain(events):
    """The payload of the remaining PayloadChunk events, and the InvokeComplete event, which must be last."""
    payload, complete = b"", None
    for event in events:
        assert complete is None, "an event after InvokeComplete: %r" % event
        if "PayloadChunk" in event:
            payload += event["PayloadChunk"]["Payload"]
        else:
            complete = event["InvokeComplete"]
    assert complete is not None, "no InvokeComplete"
    return payload, complete


# The first chunk arrives while the function waits at the closed gate.
r = client.invoke_with_response_stream(FunctionName=streamer, Payload=json.dumps({"gate": gate}), LogType="Tail")
assert r["StatusCode"] == 200, r
assert r["ExecutedVersion"] == "$LATEST", r
assert r["ResponseStreamContentType"] == "application/vnd.amazon.eventstream", r
events = iter(r["EventStream"])
first = next(events)
assert first == {"PayloadChunk": {"Payload": b"chunk 1\n"}}, first
assert not opened.is_set()
assert arrived.wait(60), "the function never reached its gate"
opened.set()
payload, complete = drain(events)
assert payload == b"chunk 2\n", payload
assert "ErrorCode" not in complete and "ErrorDetails" not in complete, complete
assert "START RequestId:" in base64.b64decode(complete["LogResult"]).decode(), complete
print("streamed: chunk 1 before the gate opened, then chunk 2")

# An error after the first chunk ends the stream with InvokeComplete's error.
r = client.invoke_with_response_stream(FunctionName=streamer, Payload=json.dumps({"fail": True}))
payload, complete = drain(r["EventStream"])
assert payload == b"chunk 1\n", payload
assert complete.get("ErrorCode") == "Error" and complete.get("ErrorDetails") == "boom mid-stream", complete
assert "LogResult" not in complete, complete
print("mid-stream error:", complete)

# A function that does not stream: its whole response in the stream.
r = client.invoke_with_response_stream(FunctionName=buffered, Payload=b"{}")
payload, complete = drain(r["EventStream"])
assert json.loads(payload) == {"hello": "world"}, payload
assert complete == {}, complete
print("buffered function:", payload.decode())

r = client.invoke_with_response_stream(FunctionName=streamer, InvocationType="DryRun")
assert r["StatusCode"] == 204, r
print("dry run: 204")
