"""Sluice runtime shim for the python3.9 ... python3.14 runtimes.

It plays the part of AWS's Python runtime interface client (awslambdaric, the code in /var/runtime of AWS's
managed Python runtimes): it imports the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on the
Lambda Runtime API at http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/..., calling handler(event, context)
once per event.

Standard library only; runs on Python 3.9 and later; writes nothing to disk; leaves the environment alone
except for _X_AMZN_TRACE_ID, which it sets (or removes) for each invocation as AWS does. AWS_ENDPOINT_URL and
the AWS credentials stay as they are, so SDK clients the function creates (boto3) reach Sluice.

Behaviour follows awslambdaric; internal/runtimes/doc.go lists where and why it differs.
"""

import decimal
import http.client
import importlib
import json
import logging
import math
import os
import re
import sys
import time
import traceback

RUNTIME_PATH = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_CONTENT_TYPE = "application/vnd.aws.lambda.error+json"
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE U+00A0

LAMBDA_UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be "
    "applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# --------------------------------------------------------------------------------------------------------------
# JSON, as awslambdaric's simplejson-based marshaller produces it: Decimal values are written as JSON numbers
# with their exact digits, bytes inside a structure as UTF-8 strings; anything else not serialisable is a
# Runtime.MarshalError.

_RAW_TAG = "sluice-raw-" + os.urandom(8).hex()
_RAW_MARK = "\x00" + _RAW_TAG + ":"
_RAW_RE = re.compile(r'"\\u0000' + _RAW_TAG + r':([^"\\]*)\\u0000"')


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            return _RAW_MARK + str(o) + "\x00"
        if isinstance(o, (bytes, bytearray)):
            return bytes(o).decode("utf-8")
        return super().default(o)


def _ensure_ascii():
    # awslambdaric writes non-ASCII characters as-is only on python3.12.
    return os.environ.get("AWS_EXECUTION_ENV") not in ("AWS_Lambda_python3.12",)


def to_json(obj):
    text = _Encoder(ensure_ascii=_ensure_ascii()).encode(obj)
    if _RAW_TAG in text:
        text = _RAW_RE.sub(lambda m: m.group(1), text)
    return text


def unmarshal_request(body, content_type):
    if content_type and content_type.split(";")[0].strip().lower() != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultException(
            FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)), None
        )


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(
            FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)), None
        )


# --------------------------------------------------------------------------------------------------------------
# Runtime API client: one kept-alive http.client connection; a request that fails because the server closed the
# idle connection is retried once on a new one.


class RuntimeClient(object):
    def __init__(self, address):
        host, sep, port = address.rpartition(":")
        if not sep:
            host, port = address, "80"
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.host = host
        self.port = int(port)
        self.conn = None

    def _request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                # timeout=None: blocking, whatever socket.setdefaulttimeout() the function's code set; the
                # long poll for the next invocation must never time out.
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=None)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                return resp.status, resp.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if fresh or attempt:
                    raise
            except Exception:
                self.conn.close()
                self.conn = None
                raise

    def wait_next_invocation(self):
        status, headers, body = self._request("GET", RUNTIME_PATH + "/invocation/next")
        if status != 200:
            raise RuntimeError(
                "GET /invocation/next answered %d: %s" % (status, body.decode("utf-8", "replace"))
            )
        deadline = headers.get("Lambda-Runtime-Deadline-Ms")
        return {
            "invoke_id": headers.get("Lambda-Runtime-Aws-Request-Id"),
            "x_amzn_trace_id": headers.get("Lambda-Runtime-Trace-Id"),
            "invoked_function_arn": headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            "deadline_time_in_ms": int(deadline) if deadline else 0,
            "client_context": headers.get("Lambda-Runtime-Client-Context"),
            "cognito_identity": headers.get("Lambda-Runtime-Cognito-Identity"),
            "content_type": headers.get("Content-Type"),
            "event_body": body,
        }

    def _post(self, path, body, content_type, extra_headers=None):
        headers = {"Content-Type": content_type}
        headers.update(extra_headers or {})
        status, _, data = self._request("POST", path, body, headers)
        if status < 200 or status > 299:
            # Not fatal: the Runtime API refused this one result (too large, unknown or finished invocation...).
            sys.__stderr__.write(
                "sluice runtime: POST %s answered %d: %s\n" % (path, status, data.decode("utf-8", "replace"))
            )
            sys.__stderr__.flush()

    def post_invocation_result(self, invoke_id, result_data, content_type="application/json"):
        self._post(RUNTIME_PATH + "/invocation/%s/response" % _quote(invoke_id), result_data, content_type)

    def post_invocation_error(self, invoke_id, error_result):
        self._post(
            RUNTIME_PATH + "/invocation/%s/error" % _quote(invoke_id),
            to_json(error_result).encode("utf-8"),
            ERROR_CONTENT_TYPE,
            _error_type_header(error_result.get("errorType")),
        )

    def post_init_error(self, error_result):
        self._post(
            RUNTIME_PATH + "/init/error",
            to_json(error_result).encode("utf-8"),
            ERROR_CONTENT_TYPE,
            _error_type_header(error_result.get("errorType")),
        )


def _quote(value):
    from urllib.parse import quote

    return quote(value or "", safe="")


def _error_type_header(error_type):
    value = re.sub(r"[^\t\x20-\x7e]", "", str(error_type or ""))
    return {ERROR_TYPE_HEADER: value} if value else {}


# --------------------------------------------------------------------------------------------------------------
# Loading the handler: "path/to/module.function", imported like awslambdaric does.


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(e))
        )

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, str(e))
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )

    try:
        request_handler = getattr(m, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname), None
        )
    return request_handler


# --------------------------------------------------------------------------------------------------------------
# Errors.


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    # The frames of the traceback from the first one outside this file on.
    tb_tuples = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(tb_tuples)):
        if "/bootstrap.py" not in tb_tuples[i][0]:
            return tb_tuples[i:]
    return tb_tuples


def build_fault_result(exc_info, msg):
    etype, value, tb = exc_info
    return make_error(msg if msg else str(value), etype.__name__, traceback.format_list(_user_frames(tb)))


def _replace_line_indentation(line, indent_char, new_indent_char):
    count = 0
    for c in line:
        if c != indent_char:
            break
        count += 1
    return (new_indent_char * count) + line[count:]


def log_error(error_result):
    """Writes an error the way awslambdaric does on stdout: one line, its parts separated by carriage returns."""
    description = "[ERROR]"
    error_type = error_result.get("errorType")
    if error_type:
        description += " " + error_type
    error_message = error_result.get("errorMessage")
    if error_message:
        if error_type:
            description += ":"
        description += " " + error_message
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for trace_line in element.splitlines():
                    lines.append(_replace_line_indentation(trace_line, " ", ERROR_LOG_IDENT))
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# --------------------------------------------------------------------------------------------------------------
# The context object.


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms, invoked_function_arn=None):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn

        self.client_context = _make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _make_obj_from_dict(Client, self.client_context.client)

        self.identity = _make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        epoch_now_in_ms = int(time.time() * 1000)
        delta_ms = self._epoch_deadline_time_in_ms - epoch_now_in_ms
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])"
            % (
                self.__class__.__name__,
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
            )
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__,
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "%s([installation_id=%s,app_title=%s,app_version_name=%s,app_version_code=%s,app_package_name=%s])" % (
            self.__class__.__name__,
            self.installation_id,
            self.app_title,
            self.app_version_name,
            self.app_version_code,
            self.app_package_name,
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (self.__class__.__name__, self.custom, self.env, self.client)


def _make_obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field, None) if isinstance(d, dict) else None)
    return obj


def _parse_json_header(header, name):
    try:
        return json.loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(name, str(e)), None
        )


def create_lambda_context(client_context_json, cognito_identity_json, deadline_ms, invoke_id, invoked_function_arn):
    client_context = None
    if client_context_json:
        client_context = _parse_json_header(client_context_json, "Client Context")
    cognito_identity = None
    if cognito_identity_json:
        cognito_identity = _parse_json_header(cognito_identity_json, "Cognito Identity")
    return LambdaContext(invoke_id, client_context, cognito_identity, deadline_ms, invoked_function_arn)


# --------------------------------------------------------------------------------------------------------------
# Logging and output.

_GLOBAL_AWS_REQUEST_ID = None


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _GLOBAL_AWS_REQUEST_ID or ""
        return True


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()
    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    env_level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    level = {"TRACE": "DEBUG"}.get(env_level, env_level)
    if level in logging._nameToLevel:
        logger.setLevel(level)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)


def _update_xray_env_variable(trace_id):
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    elif "_X_AMZN_TRACE_ID" in os.environ:
        del os.environ["_X_AMZN_TRACE_ID"]


# --------------------------------------------------------------------------------------------------------------
# The loop.


def handle_event_request(client, request_handler, req):
    invoke_id = req["invoke_id"]
    error_result = None
    try:
        lambda_context = create_lambda_context(
            req["client_context"],
            req["cognito_identity"],
            req["deadline_time_in_ms"],
            invoke_id,
            req["invoked_function_arn"],
        )
        event = unmarshal_request(req["event_body"], req["content_type"])
        response = request_handler(event, lambda_context)
        result, result_content_type = marshal_response(response)
    except FaultException as e:
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        error_result = make_error(
            str(value), etype.__name__, traceback.format_list(_user_frames(tb)), invoke_id
        )

    if error_result is not None:
        log_error(error_result)
        client.post_invocation_error(invoke_id, error_result)
    else:
        client.post_invocation_result(invoke_id, result, result_content_type)


def run(handler, client):
    global _GLOBAL_AWS_REQUEST_ID
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)

    try:
        _setup_logging()
        request_handler = _get_handler(handler)
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info(), None)
        logging.warning(LAMBDA_UNHANDLED_EXCEPTION_WARNING)
        log_error(error_result)
        client.post_init_error(error_result)
        sys.exit(1)

    while True:
        req = client.wait_next_invocation()
        _GLOBAL_AWS_REQUEST_ID = req["invoke_id"]
        _update_xray_env_variable(req["x_amzn_trace_id"])
        handle_event_request(client, request_handler, req)


def _set_sys_path(task_root):
    # Replace the entry for this script's own directory (sys.path[0]) with the task root, then add the
    # directories AWS puts layers' Python packages in.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == here:
        del sys.path[0]
    version = "python%d.%d" % sys.version_info[:2]
    front = [task_root, "/opt/python/lib/%s/site-packages" % version, "/opt/python"]
    sys.path[:0] = [p for p in front if p not in sys.path]


class _EndpointFromEnvironment(object):
    """Makes an older botocore honour AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>.

    botocore reads these variables itself from 1.31 on. Distributions ship older ones (Debian 12: 1.29), and
    Sluice hands functions AWS_ENDPOINT_URL so that SDK clients reach it unchanged. This import hook waits until
    the function imports botocore.session and then, only for versions that lack the feature, gives create_client
    a default endpoint_url. Functions that never import boto3 pay nothing.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        original_exec = spec.loader.exec_module

        def exec_module(module):
            original_exec(module)
            _patch_botocore(module)

        spec.loader.exec_module = exec_module
        return spec


def _patch_botocore(session_module):
    try:
        import botocore
        major, minor = (int(x) for x in botocore.__version__.split(".")[:2])
    except Exception:
        return
    if (major, minor) >= (1, 31):
        return
    original = session_module.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        if kwargs.get("endpoint_url") is None and not (len(args) >= 5 and args[4]):
            env_name = "AWS_ENDPOINT_URL_" + re.sub(r"[^A-Z0-9]", "_", service_name.upper())
            url = os.environ.get(env_name) or os.environ.get("AWS_ENDPOINT_URL")
            if url:
                kwargs["endpoint_url"] = url
        return original(self, service_name, *args, **kwargs)

    session_module.Session.create_client = create_client


def main():
    if os.environ.get("AWS_ENDPOINT_URL"):
        import importlib.util  # noqa: F401  (used by the hook)
        sys.meta_path.insert(0, _EndpointFromEnvironment())
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("sluice runtime: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _set_sys_path(task_root)
    run(os.environ.get("_HANDLER", ""), RuntimeClient(address))


if __name__ == "__main__":
    main()
