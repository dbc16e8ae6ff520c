// Package runtimes knows how Sluice starts the process of each Lambda runtime, and ships the runtime shims
// that stand in for the runtime clients AWS bundles with its managed Node.js and Python runtimes.
//
// A function process talks the Lambda Runtime API (GET /2018-06-01/runtime/invocation/next, POST
// .../invocation/{id}/response, .../invocation/{id}/error, .../init/error) at $AWS_LAMBDA_RUNTIME_API. For
// provided, provided.al2 and provided.al2023 the function's own executable, $LAMBDA_TASK_ROOT/bootstrap (an
// aws-lambda-go binary, say), is that client. For nodejs18.x-24.x and python3.9-3.14 Sluice runs the host's
// node or python3 on one of the shims embedded here, which loads the handler named by _HANDLER and runs the
// invoke loop the way AWS's runtime does.
//
// # API
//
// [Lookup] maps a runtime identifier to a [Runtime]: its family and a Command (argv) to start it. [Names]
// lists the identifiers; [Runtime.Env] gives the variables AWS defines for a runtime (AWS_EXECUTION_ENV,
// NODE_PATH, LAMBDA_RUNTIME_DIR, TZ, LANG, ...). [FindInterpreters] picks the node and python3 at startup
// and records them for [Runtime.Command]; [Runtime.CommandFor] takes them explicitly. [WriteShims] writes
// the shims into a directory that Sluice mounts read-only in the sandbox, e.g. at /opt/sluice-runtime:
//
//	dir/                      0755
//	dir/node/                 0755
//	dir/node/index.js         0444  the Node.js shim (CommonJS; built-in modules only)
//	dir/node/package.json     0444  {"type":"commonjs"}, so no package.json above dir can make index.js ESM
//	dir/python/               0755
//	dir/python/bootstrap.py   0444  the Python shim (standard library only)
//
// Commands (shimDir is where the shims are mounted, taskRoot the code directory, normally /var/task):
//
//	provided*   [taskRoot/bootstrap]
//	nodejs*     [node, shimDir/node/index.js]
//	python*     [python3, -s, -u, shimDir/python/bootstrap.py]
//
// For Python, -u makes stdout and stderr unbuffered (the shim also wraps them as AWS does) and -s keeps the
// sandbox user's ~/.local site-packages off sys.path; PYTHONPATH still works. The interpreter paths are host
// paths: the sandbox shows the host's /usr etc. as they are. Every nodejs runtime runs on the one host node,
// and every python runtime on the one host python3: "python3.12" on a host with Python 3.11 runs 3.11 (the
// shim sets AWS_EXECUTION_ENV from Env, so runtime-specific behaviour follows the runtime's name).
//
// # Interpreters
//
// Function processes run as an unprivileged user, so an interpreter only qualifies if that user can run it.
// FindInterpreters judges this from mode bits, since Sluice usually runs as root: every directory on the
// interpreter's path (and on the path of its symlink target) must be o+x, the file o+x, and o+r if it is a
// "#!" script. A pyenv shim below /root (mode 0700) is thus passed over for /usr/bin/python3; the reasons
// are returned in Interpreters.Skipped. It also requires Node.js >= 18 and Python >= 3.9.
//
// boto3: AWS's Python runtimes can import boto3 without bundling it. The shim does not need boto3, but
// functions expect it. Sluice provides it either by running a python3 that has it (Debian's python3 with the
// python3-boto3 package, which installs into the system dist-packages that -s leaves alone) or by adding a
// site-packages directory holding boto3 to PYTHONPATH (readable by the sandbox user). The function's own
// copy, if it bundles one, wins: LAMBDA_TASK_ROOT comes first on sys.path. boto3 and the AWS CLI reach
// Sluice because the shim leaves AWS_ENDPOINT_URL, AWS_REGION and the credentials in the environment
// untouched. Node.js is different: AWS's nodejs18.x+ runtimes include the AWS SDK for JavaScript v3 and
// Sluice does not, so Node.js functions must bundle the @aws-sdk/* packages they use (an unbundled
// require('@aws-sdk/client-s3') fails with "Cannot find module"). Neither shim needs network access other
// than to the Runtime API, nor write access anywhere: Python finds the task root read-only and writes no
// bytecode there; nothing is written to /tmp.
//
// # The Node.js shim
//
// It follows AWS's runtime client for nodejs18.x-22.x (aws-lambda-nodejs-runtime-interface-client, the
// JavaScript version):
//
//   - _HANDLER "dir/module.a.b": the module is dir/module resolved against LAMBDA_TASK_ROOT, tried as is, then
//     .js (require, or import() when the nearest package.json says "type": "module"), .mjs (import()), .cjs
//     (require), then as a package name (node_modules, NODE_PATH); the export path a.b may be nested. Errors,
//     posted to /init/error: "Runtime.MalformedHandlerName" ("Bad handler", or a handler containing ".."),
//     "Runtime.ImportModuleError" ("Error: Cannot find module 'index'\nRequire stack:\n- <shim path>"),
//     "Runtime.UserCodeSyntaxError" ("SyntaxError: ..."), "Runtime.HandlerNotFound" ("index.handler is
//     undefined or not exported", "index.handler is not a function"); an exception thrown by the module's top
//     level is posted as is (errorType = its name). nodejs24.x rejects callback-style handlers (3 or more
//     parameters) with "Runtime.CallbackHandlerDeprecated", as AWS's Node.js 24 runtime does.
//   - Error bodies are AWS's Node.js shape, {"errorType", "errorMessage", "trace"}: errorType is error.name
//     (so a class extending Error reports "Error" unless it sets this.name, as on AWS), trace is error.stack
//     split into lines, including its first "Name: message" line. This is what AWS's Node.js runtimes send
//     and what an Invoke of a failing function returns on AWS; it is "trace", not the "stackTrace" of the
//     Runtime API documentation and of the Python runtime. A thrown non-Error gets errorType typeof value
//     ("string", "object", ...), errorMessage String(value), trace []; context.fail() without an argument
//     gives errorType "string", errorMessage "handled". The Lambda-Runtime-Function-Error-Type header carries
//     errorType (stripped of characters a header cannot hold), with Content-Type
//     application/vnd.aws.lambda.error+json.
//   - Results: JSON.stringify(result), undefined → null; a result JSON.stringify cannot serialise fails the
//     invocation with errorType "Error", errorMessage "Unable to stringify response body".
//   - Handler styles: an async handler or one returning a promise completes when it settles. A
//     callback(err, result) completes when called, but with context.callbackWaitsForEmptyEventLoop (default
//     true) the response is held until the event loop has drained, exactly as AWS does it: on process
//     'beforeExit', which is reliable here because the shim holds no reference to the loop while a handler
//     runs (the Runtime API's kept-alive sockets are unref'd while idle). context.succeed/fail/done complete
//     at once. Only the first completion counts. A handler that is neither async nor calls its callback
//     (a plain function returning a value) answers null once the loop drains, as on AWS; an async handler
//     whose promise can no longer settle fails with "Runtime.NodeJsExit".
//   - Uncaught exceptions and unhandled rejections while an invocation runs fail that invocation (errorType
//     the error's name, or "Runtime.UnhandledPromiseRejection" with errorMessage String(reason)) and end the
//     process with status 129 or 128, as AWS does; Sluice then starts a new environment. Init failures
//     (above) exit with status 129 after posting the init error, without asking for an invocation.
//   - context: functionName, functionVersion, invokedFunctionArn, memoryLimitInMB (a string, from
//     AWS_LAMBDA_FUNCTION_MEMORY_SIZE), awsRequestId, logGroupName, logStreamName, clientContext and
//     identity (parsed JSON, or undefined when the header is absent), getRemainingTimeInMillis() (deadline
//     minus now, can go negative), callbackWaitsForEmptyEventLoop, succeed, fail, done. _X_AMZN_TRACE_ID is
//     set from Lambda-Runtime-Trace-Id for each invocation, or removed.
//   - Logging: console.log/info/warn/error/debug/trace (and console.fatal) write
//     "<ISO-8601 UTC ms>\t<request id>\t<LEVEL>\t<util.format(...)>" to stdout, newlines within a message
//     turned into "\r", LEVEL INFO (log and info), WARN, ERROR, DEBUG, TRACE, FATAL; the request id reads
//     "undefined" before the first invocation, as on AWS. AWS_LAMBDA_LOG_LEVEL (TRACE...FATAL) drops lower
//     levels. Invocation errors are logged as "Invoke Error \t{json}", init failures as
//     "Uncaught Exception \t{json}". process.stdout/stderr writes go out unchanged.
//   - Response streaming: the global awslambda (unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1 or true) has
//     streamifyResponse(handler, {highWaterMark}) and HttpResponseStream. A streamified handler is called
//     (event, responseStream, context) and its stream goes to the Runtime API as it is written: one POST to
//     /response with "Lambda-Runtime-Function-Response-Mode: streaming", the error trailers declared
//     ("Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body") and a chunked body,
//     Content-Type application/octet-stream unless responseStream.setContentType(...) said otherwise before the
//     first write (after it: "Runtime.InvalidStreamingOperation", "Cannot set content-type, too late."). Writes
//     of values other than strings and byte arrays send their JSON. The stream exposes Writable's methods and
//     writable* properties, not the request itself. A handler that throws or rejects, one that is not async
//     ("Streaming does not support non-async handlers.", errorType "string" as AWS's runtime sends it) or whose
//     stream is not finished once the Runtime API answered ("Response stream is not finished.") fails the
//     invocation through the trailers: the error type and the base64 of {errorType, errorMessage, trace}; it is
//     logged as "Invoke Error". A handler whose promise settles while its stream is still open leaves the
//     invocation to time out, as on AWS. The next invocation starts once the event loop has drained (unless
//     context.callbackWaitsForEmptyEventLoop is false). HttpResponseStream.from(stream, {statusCode, headers,
//     cookies}) sets the Content-Type application/vnd.awslambda.http-integration-response and writes the
//     prelude — the JSON of the metadata, then 8 NUL bytes — before the body; unlike AWS's runtime client, the
//     prelude is also written when the body is empty (end() with nothing written).
//
// Differences from AWS: no JSON log format (AWS_LAMBDA_LOG_FORMAT is ignored) and no telemetry log fd; no
// AWS SDK (above); node is started without AWS's --max-old-space-size/--max-semi-space-size derived from the
// memory size and without --expose-gc; the X-Ray error cause header is not sent; nodejs24.x keeps
// context.succeed/fail/done for non-callback handlers.
//
// # The Python shim
//
// It follows awslambdaric, the runtime client of AWS's Python runtimes:
//
//   - _HANDLER "path/module.function" (the module part may use "/" or "."), imported with
//     importlib.import_module after putting LAMBDA_TASK_ROOT first on sys.path (in place of the shim's own
//     directory), followed by the layer directories /opt/python/lib/pythonX.Y/site-packages and /opt/python.
//     Errors, posted to /init/error with requestId "" and stackTrace []: "Runtime.MalformedHandlerName" ("Bad
//     handler 'app': not enough values to unpack (expected 2, got 1)"), "Runtime.BuiltInModuleConflict",
//     "Runtime.ImportModuleError" ("Unable to import module 'app': No module named 'app'"),
//     "Runtime.UserCodeSyntaxError" ("Syntax error in module 'app': ...", with a one-element stackTrace
//     '  File "..." Line N\n    <source>'), "Runtime.HandlerNotFound" ("Handler 'handler' missing on module
//     'app'"); another exception raised by the module's top level is posted with its class name and message.
//     After an init error the shim logs AWS's LAMBDA_WARNING line and the error, and exits with status 1.
//   - handler(event, context): the event is json.loads of the body (unless the Runtime API says its
//     Content-Type is something other than application/json: then the raw bytes; a body that is not JSON
//     fails with "Runtime.UnmarshalError"). The result is json.dumps-like JSON (a str result becomes
//     "\"text\"", None becomes null); bytes are posted as they are with Content-Type application/unknown;
//     decimal.Decimal values are written as JSON numbers with their exact digits and bytes nested in a
//     structure as UTF-8 strings (awslambdaric uses simplejson, which does both); non-ASCII characters are
//     \u-escaped except when AWS_EXECUTION_ENV is AWS_Lambda_python3.12, as in awslambdaric. A value that
//     cannot be serialised fails with "Runtime.MarshalError", "Unable to marshal response: Object of type X
//     is not JSON serializable".
//   - An exception fails the invocation with {"errorMessage": str(e), "errorType": type(e).__name__,
//     "requestId": id, "stackTrace": traceback.format_list(...)} (frames of the shim itself dropped), logged
//     to stdout as AWS does: "[ERROR] Type: message\rTraceback (most recent call last):\r..." with leading
//     spaces as U+00A0. The process keeps serving. BaseExceptions that are not Exceptions (SystemExit,
//     KeyboardInterrupt) end it, as on AWS.
//   - context: function_name, function_version, invoked_function_arn, memory_limit_in_mb (a string, as in
//     awslambdaric: it is the environment variable's value), aws_request_id, log_group_name,
//     log_stream_name, client_context (None, or an object with custom, env and client — itself with
//     installation_id, app_title, app_version_name, app_version_code, app_package_name), identity (always an
//     object; cognito_identity_id and cognito_identity_pool_id, None without the header),
//     get_remaining_time_in_millis() (never negative), log(msg). _X_AMZN_TRACE_ID is set or removed per
//     invocation.
//   - Logging: a handler on the root logger formats records as
//     "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n" in UTC; the root
//     logger's level stays Python's default WARNING unless AWS_LAMBDA_LOG_LEVEL sets it (TRACE means DEBUG),
//     so logger.info needs logger.setLevel(logging.INFO) as on AWS. print and sys.stdout/sys.stderr are
//     unbuffered.
//
// Differences from AWS: no JSON log format and no telemetry log fd; no SnapStart hooks; the X-Ray error cause
// header is not sent; simplejson's encoding of namedtuples as objects is not reproduced (they become arrays);
// the w3c fields of newer awslambdaric client contexts are not extracted.
package runtimes
