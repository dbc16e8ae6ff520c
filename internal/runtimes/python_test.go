package runtimes

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPythonShim(t *testing.T) {
	in := needPython(t)
	app := func(py string) map[string]string { return map[string]string{"app.py": py} }

	cases := []shimCase{{
		name:    "sync handler result",
		files:   app("def handler(event, context):\n    return {\"echo\": event, \"n\": 1}\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Body: `{"a":[1,"x"]}`})
			wantEqual(t, "kind", o.Kind, "response")
			wantEqual(t, "body", string(o.Body), `{"echo": {"a": [1, "x"]}, "n": 1}`)
			wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "application/json")
		},
	}, {
		name:    "string result is JSON-encoded",
		files:   app("def handler(event, context):\n    return 'text'\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"text"`)
		},
	}, {
		name:    "None result is null",
		files:   app("def handler(event, context):\n    pass\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `null`)
		},
	}, {
		name:    "non-ASCII result is escaped",
		files:   app("def handler(event, context):\n    return 'h\\u00e9'\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"h\u00e9"`)
		},
	}, {
		name:    "Decimal result keeps its digits",
		files:   app("from decimal import Decimal\n\ndef handler(event, context):\n    return {'price': Decimal('1.10'), 'big': Decimal('12345678901234567890.5')}\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `{"price": 1.10, "big": 12345678901234567890.5}`)
		},
	}, {
		name:    "bytes result is sent as is",
		files:   app("def handler(event, context):\n    return b'raw\\x00bytes'\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), "raw\x00bytes")
			wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "application/unknown")
		},
	}, {
		name:    "non-serialisable result",
		files:   app("def handler(event, context):\n    return {1, 2}\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			ev, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "Runtime.MarshalError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Unable to marshal response: Object of type set is not JSON serializable")
			if e.RequestID == nil || *e.RequestID != ev.ID {
				t.Errorf("requestId = %v, want %q", e.RequestID, ev.ID)
			}
		},
	}, {
		name:    "exception",
		files:   app("def handler(event, context):\n    raise ValueError(\"boom\")\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			ev, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "ValueError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "boom")
			if e.RequestID == nil || *e.RequestID != ev.ID {
				t.Errorf("requestId = %v, want %q", e.RequestID, ev.ID)
			}
			want := "  File \"" + filepath.Join(h.taskRoot, "app.py") + "\", line 2, in handler\n    raise ValueError(\"boom\")\n"
			if len(e.StackTrace) != 1 || e.StackTrace[0] != want {
				t.Errorf("stackTrace = %q, want [%q]", e.StackTrace, want)
			}
			eventually(t, "the [ERROR] log line", func() bool {
				return strings.Contains(h.stdout.String(), "[ERROR] ValueError: boom\rTraceback (most recent call last):\r\u00a0\u00a0File \"")
			})
			// The process survives a failed invocation.
			_, e = h.fails(`{}`)
			wantEqual(t, "second errorType", e.ErrorType, "ValueError")
		},
	}, {
		name: "custom exception class",
		files: app(`class OrderRejected(Exception):
    pass


def handler(event, context):
    raise OrderRejected("out of stock")
`),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "OrderRejected")
			wantEqual(t, "errorMessage", e.ErrorMessage, "out of stock")
		},
	}, {
		name:    "invalid event JSON",
		files:   app("def handler(event, context):\n    return event\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{not json`)
			wantEqual(t, "errorType", e.ErrorType, "Runtime.UnmarshalError")
			if !strings.HasPrefix(e.ErrorMessage, "Unable to unmarshal input: ") {
				t.Errorf("errorMessage = %q", e.ErrorMessage)
			}
		},
	}, {
		name:    "missing module",
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.ImportModuleError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Unable to import module 'app': No module named 'app'")
			if e.RequestID == nil || *e.RequestID != "" || e.StackTrace == nil || len(e.StackTrace) != 0 {
				t.Errorf("requestId = %v, stackTrace = %#v; want \"\" and []", e.RequestID, e.StackTrace)
			}
			wantEqual(t, "exit code", code, 1)
			eventually(t, "the init error log lines", func() bool {
				out := h.stdout.String()
				return strings.Contains(out, "[WARNING]\t") && strings.Contains(out, "LAMBDA_WARNING: Unhandled exception.") &&
					strings.Contains(out, "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'app'\rTraceback (most recent call last):\n")
			})
		},
	}, {
		name:    "missing dependency",
		files:   app("import requests_not_installed_here\n\ndef handler(event, context):\n    return 1\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.ImportModuleError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Unable to import module 'app': No module named 'requests_not_installed_here'")
		},
	}, {
		name:    "missing handler",
		files:   app("def other(event, context):\n    return 1\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.HandlerNotFound")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Handler 'handler' missing on module 'app'")
			wantEqual(t, "exit code", code, 1)
		},
	}, {
		name:    "malformed handler",
		files:   app("def handler(event, context):\n    return 1\n"),
		handler: "app",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.MalformedHandlerName")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Bad handler 'app': not enough values to unpack (expected 2, got 1)")
		},
	}, {
		name:    "built-in module conflict",
		handler: "sys.handler",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.BuiltInModuleConflict")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Cannot use built-in module sys as a handler module")
		},
	}, {
		name:    "syntax error",
		files:   app("def handler(event, context)\n    return 1\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.UserCodeSyntaxError")
			if !strings.HasPrefix(e.ErrorMessage, "Syntax error in module 'app': ") {
				t.Errorf("errorMessage = %q", e.ErrorMessage)
			}
			if len(e.StackTrace) != 1 || !strings.HasPrefix(e.StackTrace[0], "  File \""+filepath.Join(h.taskRoot, "app.py")+"\" Line 1\n") {
				t.Errorf("stackTrace = %q", e.StackTrace)
			}
			wantEqual(t, "exit code", code, 1)
		},
	}, {
		name:    "exception during init",
		files:   app("raise RuntimeError('init failed')\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "RuntimeError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "init failed")
			if len(e.StackTrace) == 0 || !strings.Contains(e.StackTrace[len(e.StackTrace)-1], "app.py\", line 1, in <module>") {
				t.Errorf("stackTrace = %q", e.StackTrace)
			}
			wantEqual(t, "exit code", code, 1)
		},
	}, {
		name:    "module path with a slash",
		files:   map[string]string{"src/app.py": "def lambda_handler(event, context):\n    return 'src'\n"},
		handler: "src/app.lambda_handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"src"`)
		},
	}, {
		name: "dotted module path",
		files: map[string]string{
			"pkg/__init__.py": "",
			"pkg/mod.py":      "from . import helper\n\ndef handler(event, context):\n    return helper.VALUE\n",
			"pkg/helper.py":   "VALUE = 'dotted'\n",
		},
		handler: "pkg.mod.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"dotted"`)
		},
	}, {
		name: "context",
		files: app(`def handler(event, context):
    cc = context.client_context
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
        "env": cc.env if cc else None,
        "installation_id": cc.client.installation_id if cc and cc.client else None,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
    }
`),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			ev, o := h.invoke(fakeEvent{
				Deadline:      time.Now().Add(20 * time.Second),
				ClientContext: `{"custom":{"k":"v"},"env":{"locale":"en"},"client":{"installation_id":"inst-1"}}`,
				Cognito:       `{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`,
			})
			m := decodeJSON(t, o)
			wantEqual(t, "function_name", m["function_name"], "fn-test")
			wantEqual(t, "function_version", m["function_version"], "$LATEST")
			wantEqual(t, "invoked_function_arn", m["invoked_function_arn"], ev.ARN)
			wantEqual(t, "memory_limit_in_mb", m["memory_limit_in_mb"], "256")
			wantEqual(t, "aws_request_id", m["aws_request_id"], ev.ID)
			wantEqual(t, "log_group_name", m["log_group_name"], "/aws/lambda/fn-test")
			wantEqual(t, "log_stream_name", m["log_stream_name"], "2024/01/01/[$LATEST]0123456789abcdef")
			if r, _ := m["remaining"].(float64); r <= 0 || r > 20000 {
				t.Errorf("remaining = %v, want in (0, 20000]", m["remaining"])
			}
			custom, _ := m["custom"].(map[string]any)
			wantEqual(t, "client_context.custom[k]", custom["k"], "v")
			env, _ := m["env"].(map[string]any)
			wantEqual(t, "client_context.env[locale]", env["locale"], "en")
			wantEqual(t, "client_context.client.installation_id", m["installation_id"], "inst-1")
			wantEqual(t, "identity.cognito_identity_id", m["cognito_identity_id"], "id-1")
			wantEqual(t, "identity.cognito_identity_pool_id", m["cognito_identity_pool_id"], "pool-1")

			// Without the optional headers: no client context, an identity whose fields are None.
			_, o = h.invoke(fakeEvent{})
			m = decodeJSON(t, o)
			wantEqual(t, "custom without header", m["custom"], nil)
			wantEqual(t, "cognito_identity_id without header", m["cognito_identity_id"], nil)
		},
	}, {
		name:    "expired deadline",
		files:   app("def handler(event, context):\n    return context.get_remaining_time_in_millis()\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Deadline: time.Now().Add(-time.Second)})
			wantEqual(t, "body", string(o.Body), "0")
		},
	}, {
		name:    "socket.setdefaulttimeout in the function does not break the long poll",
		files:   app("import socket\nsocket.setdefaulttimeout(0.1)\n\ndef handler(event, context):\n    return 'patient'\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			time.Sleep(400 * time.Millisecond)
			wantEqual(t, "body", h.respond(`{}`), `"patient"`)
		},
	}, {
		name:    "warm reuse",
		files:   app("count = 0\n\ndef handler(event, context):\n    global count\n    count += 1\n    return count\n"),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "first", h.respond(`{}`), `1`)
			wantEqual(t, "second", h.respond(`{}`), `2`)
			wantEqual(t, "third", h.respond(`{}`), `3`)
		},
	}, {
		name: "print and logging",
		files: app(`import logging
import sys

logger = logging.getLogger()

def handler(event, context):
    print("hello from print")
    logger.info("not shown: the root logger is at WARNING by default")
    logger.setLevel(logging.INFO)
    logger.info("info %s", "line")
    logging.getLogger("child").warning("child warning")
    sys.stderr.write("to stderr\n")
    return "logged"
`),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			ev, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), `"logged"`)
			ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
			id := regexp.QuoteMeta(ev.ID)
			for _, want := range []string{
				`(?m)^hello from print$`,
				`(?m)^\[INFO\]\t` + ts + `\t` + id + `\tinfo line$`,
				`(?m)^\[WARNING\]\t` + ts + `\t` + id + `\tchild warning$`,
			} {
				re := regexp.MustCompile(want)
				eventually(t, want, func() bool { return re.MatchString(h.stdout.String()) })
			}
			if strings.Contains(h.stdout.String(), "not shown") {
				t.Errorf("an INFO record was logged at the default WARNING level")
			}
			eventually(t, "stderr", func() bool { return strings.Contains(h.stderr.String(), "to stderr") })
		},
	}, {
		name:    "AWS_LAMBDA_LOG_LEVEL sets the root logger's level",
		files:   app("import logging\n\ndef handler(event, context):\n    logging.getLogger().debug('debug shown')\n    return 1\n"),
		handler: "app.handler",
		env:     map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"},
		check: func(t *testing.T, h *harness) {
			h.respond(`{}`)
			eventually(t, "the DEBUG line", func() bool { return strings.Contains(h.stdout.String(), "[DEBUG]\t") })
		},
	}, {
		name:    "environment",
		runtime: "python3.12",
		files: app(`import os, sys

def handler(event, context):
    return {
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "token": os.environ.get("AWS_SESSION_TOKEN"),
        "region": os.environ.get("AWS_REGION"),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "exec_env": os.environ.get("AWS_EXECUTION_ENV"),
        "path0": sys.path[0],
    }
`),
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"})
			m := decodeJSON(t, o)
			wantEqual(t, "AWS_ENDPOINT_URL", m["endpoint"], "http://127.0.0.1:9324")
			wantEqual(t, "AWS_ACCESS_KEY_ID", m["key"], "AKIDSLUICETEST")
			wantEqual(t, "AWS_SESSION_TOKEN", m["token"], "token")
			wantEqual(t, "AWS_REGION", m["region"], "us-east-1")
			wantEqual(t, "_X_AMZN_TRACE_ID", m["trace"], "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
			wantEqual(t, "AWS_EXECUTION_ENV", m["exec_env"], "AWS_Lambda_python3.12")
			wantEqual(t, "sys.path[0]", m["path0"], h.taskRoot)
			_, o = h.invoke(fakeEvent{})
			wantEqual(t, "_X_AMZN_TRACE_ID without header", decodeJSON(t, o)["trace"], nil)
		},
	}, {
		name:    "python3.12 writes non-ASCII as is",
		files:   app("def handler(event, context):\n    return 'h\\u00e9'\n"),
		handler: "app.handler",
		env:     map[string]string{"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"},
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), "\"h\u00e9\"")
		},
	}}
	runShimCases(t, in, "python3.11", cases)
}
