package runtimes

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type shimCase struct {
	name    string
	runtime string // default: the language's default runtime
	files   map[string]string
	handler string
	env     map[string]string
	check   func(t *testing.T, h *harness)
}

func runShimCases(t *testing.T, in Interpreters, defaultRuntime string, cases []shimCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := tc.runtime
			if name == "" {
				name = defaultRuntime
			}
			h := start(t, mustLookup(t, name), in, tc.files, tc.handler, tc.env)
			tc.check(t, h)
		})
	}
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestNodeShim(t *testing.T) {
	in := needNode(t)
	index := func(js string) map[string]string { return map[string]string{"index.js": js} }

	cases := []shimCase{{
		name:    "async handler result",
		files:   index(`exports.handler = async (event, context) => ({ echo: event, n: 1 });`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Body: `{"a":[1,"x"]}`})
			wantEqual(t, "kind", o.Kind, "response")
			wantEqual(t, "body", string(o.Body), `{"echo":{"a":[1,"x"]},"n":1}`)
			wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "application/json")
		},
	}, {
		name:    "ES module",
		files:   map[string]string{"index.mjs": `export const handler = async (event) => 'esm:' + event.x;`},
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{"x":1}`), `"esm:1"`)
		},
	}, {
		name: "package.json type module",
		files: map[string]string{
			"package.json": `{"type":"module"}`,
			"app.js":       `import { hostname } from 'node:os'; export async function handler() { return typeof hostname(); }`,
		},
		handler: "app.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"string"`)
		},
	}, {
		name:    "directory, .cjs and nested export path",
		files:   map[string]string{"lib/fn.cjs": `module.exports = { nested: { handler: async () => 'nested' } };`},
		handler: "lib/fn.nested.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `"nested"`)
		},
	}, {
		name:    "callback handler",
		files:   index(`exports.handler = (event, context, callback) => { callback(null, { via: 'callback', got: event.v }); };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{"v":7}`), `{"via":"callback","got":7}`)
		},
	}, {
		name: "callback waits for the empty event loop",
		files: index(`exports.handler = (event, context, callback) => {
  setTimeout(() => console.log('timer fired'), 400);
  callback(null, 'after the timer');
};`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			start := time.Now()
			_, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), `"after the timer"`)
			if d := time.Since(start); d < 350*time.Millisecond {
				t.Errorf("response after %v: callbackWaitsForEmptyEventLoop should have held it until the timer fired", d)
			}
			if !strings.Contains(h.stdout.String(), "timer fired") {
				eventually(t, "the timer's log line", func() bool { return strings.Contains(h.stdout.String(), "timer fired") })
			}
		},
	}, {
		name: "callbackWaitsForEmptyEventLoop false",
		files: index(`let n = 0;
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('timer fired'), 600000);
  callback(null, ++n);
};`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "first", h.respond(`{}`), `1`)
			wantEqual(t, "second", h.respond(`{}`), `2`)
			if strings.Contains(h.stdout.String(), "timer fired") {
				t.Error("the responses waited for the 10-minute timer")
			}
		},
	}, {
		name: "only the first completion counts",
		files: index(`exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  callback(null, 'first');
  callback(null, 'second');
  context.succeed('third');
  context.fail(new Error('fourth'));
};`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "first invocation", h.respond(`{}`), `"first"`)
			wantEqual(t, "second invocation", h.respond(`{}`), `"first"`)
		},
	}, {
		name:    "context.succeed",
		files:   index(`exports.handler = (event, context) => { context.succeed({ legacy: true }); };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `{"legacy":true}`)
		},
	}, {
		name:    "context.fail",
		files:   index(`exports.handler = (event, context) => { context.fail(new Error('legacy fail')); };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "Error")
			wantEqual(t, "errorMessage", e.ErrorMessage, "legacy fail")
		},
	}, {
		name:    "sync handler without callback answers null",
		files:   index(`exports.handler = (event) => 42;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `null`)
		},
	}, {
		name:    "undefined result is null",
		files:   index(`exports.handler = async () => undefined;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `null`)
		},
	}, {
		name:    "thrown Error",
		files:   index("exports.handler = async () => {\n  throw new Error('boom');\n};"),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "Error")
			wantEqual(t, "errorMessage", e.ErrorMessage, "boom")
			if len(e.Trace) < 2 || e.Trace[0] != "Error: boom" || !strings.Contains(e.Trace[1], "index.js:2") {
				t.Errorf("trace = %q, want [\"Error: boom\", \"    at ... index.js:2:...\", ...]", e.Trace)
			}
			eventually(t, "the Invoke Error log line", func() bool {
				return strings.Contains(h.stdout.String(), "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"")
			})
			// The process survives a failed invocation.
			_, e = h.fails(`{}`)
			wantEqual(t, "second errorType", e.ErrorType, "Error")
		},
	}, {
		name: "custom error class, thrown synchronously",
		files: index(`class ValidationError extends Error {
  constructor(message) { super(message); this.name = 'ValidationError'; }
}
exports.handler = (event, context, callback) => { throw new ValidationError('bad input'); };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "ValidationError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "bad input")
		},
	}, {
		name:    "callback with a string error",
		files:   index(`exports.handler = (event, context, callback) => callback('plain failure');`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "string")
			wantEqual(t, "errorMessage", e.ErrorMessage, "plain failure")
			wantEqual(t, "trace length", len(e.Trace), 0)
		},
	}, {
		name:    "result that cannot be stringified",
		files:   index(`exports.handler = async () => { const a = {}; a.self = a; return a; };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "Error")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Unable to stringify response body")
		},
	}, {
		name: "unhandled rejection fails the invocation and ends the process",
		files: index(`exports.handler = async () => {
  Promise.reject(new Error('lost'));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return 'late';
};`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, e := h.fails(`{}`)
			wantEqual(t, "errorType", e.ErrorType, "Runtime.UnhandledPromiseRejection")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Error: lost")
			wantEqual(t, "exit code", h.exitCode(), 128)
		},
	}, {
		name:    "async handler that never settles",
		files:   index(`exports.handler = async () => { await new Promise(() => {}); };`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			for i := 0; i < 2; i++ {
				_, e := h.fails(`{}`)
				wantEqual(t, "errorType", e.ErrorType, "Runtime.NodeJsExit")
			}
		},
	}, {
		name:    "missing module",
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.ImportModuleError")
			if !strings.HasPrefix(e.ErrorMessage, "Error: Cannot find module 'index'\nRequire stack:\n- ") {
				t.Errorf("errorMessage = %q", e.ErrorMessage)
			}
			if len(e.Trace) == 0 || !strings.HasPrefix(e.Trace[0], "Runtime.ImportModuleError: Error: Cannot find module 'index'") {
				t.Errorf("trace = %q", e.Trace)
			}
			wantEqual(t, "exit code", code, 129)
			if !strings.Contains(h.stdout.String(), "\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\"") {
				t.Errorf("stdout lacks the Uncaught Exception line:\n%s", h.stdout.String())
			}
		},
	}, {
		name:    "handler not exported",
		files:   index(`exports.other = async () => 1;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.HandlerNotFound")
			wantEqual(t, "errorMessage", e.ErrorMessage, "index.handler is undefined or not exported")
			wantEqual(t, "exit code", code, 129)
		},
	}, {
		name:    "handler not a function",
		files:   index(`exports.handler = 5;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.HandlerNotFound")
			wantEqual(t, "errorMessage", e.ErrorMessage, "index.handler is not a function")
		},
	}, {
		name:    "malformed handler",
		files:   index(`exports.handler = async () => 1;`),
		handler: "index",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.MalformedHandlerName")
			wantEqual(t, "errorMessage", e.ErrorMessage, "Bad handler")
		},
	}, {
		name:    "handler with ..",
		handler: "../etc/index.handler",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.MalformedHandlerName")
			wantEqual(t, "errorMessage", e.ErrorMessage, "'../etc/index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.")
		},
	}, {
		name:    "syntax error",
		files:   index(`exports.handler = async () => { return 1;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.UserCodeSyntaxError")
			if !strings.HasPrefix(e.ErrorMessage, "SyntaxError: ") {
				t.Errorf("errorMessage = %q", e.ErrorMessage)
			}
			wantEqual(t, "exit code", code, 129)
		},
	}, {
		name:    "exception during init",
		files:   index(`throw new TypeError('init failed');`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, code := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "TypeError")
			wantEqual(t, "errorMessage", e.ErrorMessage, "init failed")
			wantEqual(t, "exit code", code, 129)
		},
	}, {
		name:    "callback handlers are rejected from nodejs24.x on",
		runtime: "nodejs24.x",
		files:   index(`exports.handler = (event, context, callback) => callback(null, 1);`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			e, _ := h.initError()
			wantEqual(t, "errorType", e.ErrorType, "Runtime.CallbackHandlerDeprecated")
		},
	}, {
		name: "context",
		files: index(`exports.handler = async (event, context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  clientContext: context.clientContext,
  identity: context.identity,
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			ev, o := h.invoke(fakeEvent{
				Deadline:      time.Now().Add(20 * time.Second),
				ClientContext: `{"custom":{"k":"v"},"env":{"locale":"en"}}`,
				Cognito:       `{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`,
			})
			m := decodeJSON(t, o)
			wantEqual(t, "functionName", m["functionName"], "fn-test")
			wantEqual(t, "functionVersion", m["functionVersion"], "$LATEST")
			wantEqual(t, "invokedFunctionArn", m["invokedFunctionArn"], ev.ARN)
			wantEqual(t, "memoryLimitInMB", m["memoryLimitInMB"], "256")
			wantEqual(t, "awsRequestId", m["awsRequestId"], ev.ID)
			wantEqual(t, "logGroupName", m["logGroupName"], "/aws/lambda/fn-test")
			wantEqual(t, "logStreamName", m["logStreamName"], "2024/01/01/[$LATEST]0123456789abcdef")
			wantEqual(t, "callbackWaitsForEmptyEventLoop", m["callbackWaitsForEmptyEventLoop"], true)
			if r, _ := m["remaining"].(float64); r <= 0 || r > 20000 {
				t.Errorf("remaining = %v, want in (0, 20000]", m["remaining"])
			}
			cc, _ := m["clientContext"].(map[string]any)
			custom, _ := cc["custom"].(map[string]any)
			wantEqual(t, "clientContext.custom.k", custom["k"], "v")
			id, _ := m["identity"].(map[string]any)
			wantEqual(t, "identity.cognitoIdentityId", id["cognitoIdentityId"], "id-1")
		},
	}, {
		name:    "large client context header",
		files:   index(`exports.handler = async (event, context) => context.clientContext.custom.big.length;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{ClientContext: `{"custom":{"big":"` + strings.Repeat("x", 30000) + `"}}`})
			wantEqual(t, "body", string(o.Body), "30000")
		},
	}, {
		name: "no client context",
		files: index(`exports.handler = async (event, context) =>
  [context.clientContext === undefined, context.identity === undefined];`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "body", h.respond(`{}`), `[true,true]`)
		},
	}, {
		name:    "warm reuse",
		files:   index(`let count = 0; exports.handler = async () => ++count;`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			wantEqual(t, "first", h.respond(`{}`), `1`)
			wantEqual(t, "second", h.respond(`{}`), `2`)
			wantEqual(t, "third", h.respond(`{}`), `3`)
		},
	}, {
		name: "console format",
		files: index(`exports.handler = async () => {
  console.log('hello %s', 'world');
  console.info('multi\nline');
  console.warn('careful');
  console.error('broken', { code: 7 });
  console.debug('details');
  return 'logged';
};`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			ev, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), `"logged"`)
			ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
			id := regexp.QuoteMeta(ev.ID)
			for _, want := range []string{
				`(?m)^` + ts + `\t` + id + `\tINFO\thello world$`,
				`(?m)^` + ts + `\t` + id + `\tINFO\tmulti\rline$`,
				`(?m)^` + ts + `\t` + id + `\tWARN\tcareful$`,
				`(?m)^` + ts + `\t` + id + `\tERROR\tbroken \{ code: 7 \}$`,
				`(?m)^` + ts + `\t` + id + `\tDEBUG\tdetails$`,
			} {
				re := regexp.MustCompile(want)
				eventually(t, want, func() bool { return re.MatchString(h.stdout.String()) })
			}
		},
	}, {
		name:    "AWS_LAMBDA_LOG_LEVEL filters console",
		files:   index(`exports.handler = async () => { console.debug('hidden'); console.warn('shown'); return 1; };`),
		handler: "index.handler",
		env:     map[string]string{"AWS_LAMBDA_LOG_LEVEL": "warn"},
		check: func(t *testing.T, h *harness) {
			h.respond(`{}`)
			eventually(t, "the WARN line", func() bool { return strings.Contains(h.stdout.String(), "\tWARN\tshown") })
			if strings.Contains(h.stdout.String(), "hidden") {
				t.Errorf("debug line logged at level WARN:\n%s", h.stdout.String())
			}
		},
	}, {
		name: "environment",
		files: index(`exports.handler = async () => ({
  endpoint: process.env.AWS_ENDPOINT_URL,
  key: process.env.AWS_ACCESS_KEY_ID,
  region: process.env.AWS_REGION,
  trace: process.env._X_AMZN_TRACE_ID || null,
  execEnv: process.env.AWS_EXECUTION_ENV,
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"})
			m := decodeJSON(t, o)
			wantEqual(t, "AWS_ENDPOINT_URL", m["endpoint"], "http://127.0.0.1:9324")
			wantEqual(t, "AWS_ACCESS_KEY_ID", m["key"], "AKIDSLUICETEST")
			wantEqual(t, "AWS_REGION", m["region"], "us-east-1")
			wantEqual(t, "_X_AMZN_TRACE_ID", m["trace"], "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
			wantEqual(t, "AWS_EXECUTION_ENV", m["execEnv"], "AWS_Lambda_nodejs20.x")
			// The next invocation has no trace header: the variable goes away.
			_, o = h.invoke(fakeEvent{})
			wantEqual(t, "_X_AMZN_TRACE_ID without header", decodeJSON(t, o)["trace"], nil)
		},
	}, {
		name: "response streaming handler",
		files: index(`exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  responseStream.end('stream ' + context.functionName);
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			for range 2 { // and the next invocation runs as well
				_, o := h.invoke(fakeEvent{})
				wantEqual(t, "kind", o.Kind, "response")
				wantEqual(t, "body", string(o.Body), "hello stream fn-test")
				wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "text/plain")
				wantEqual(t, "response mode", o.Header.Get("Lambda-Runtime-Function-Response-Mode"), "streaming")
				wantEqual(t, "chunked", o.Chunked, true)
				_, typeDeclared := o.Trailer["Lambda-Runtime-Function-Error-Type"]
				_, bodyDeclared := o.Trailer["Lambda-Runtime-Function-Error-Body"]
				wantEqual(t, "error trailers declared", typeDeclared && bodyDeclared, true)
				wantEqual(t, "error trailer", o.Trailer.Get("Lambda-Runtime-Function-Error-Type"), "")
			}
		},
	}, {
		// The first piece reaches the Runtime API while the handler still waits for the test to let it go on.
		name: "response streamed as written",
		files: index(`const fs = require('fs');
const path = require('path');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('one');
  await new Promise((resolve) => {
    const poll = setInterval(() => {
      if (fs.existsSync(path.join(event.dir, 'go'))) { clearInterval(poll); resolve(); }
    }, 5);
  });
  responseStream.write('two');
  responseStream.end();
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			dir := t.TempDir()
			_, ch := h.api.send(fakeEvent{Body: `{"dir":"` + dir + `"}`})
			select {
			case piece := <-h.api.pieces:
				wantEqual(t, "first piece", piece, "one")
			case o := <-ch:
				t.Fatalf("the response ended (%v) before the handler was let go on", o)
			case <-time.After(waitFor):
				t.Fatal("no piece of the response arrived")
			}
			if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			select {
			case o := <-ch:
				wantEqual(t, "body", string(o.Body), "onetwo")
				wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "application/octet-stream")
			case <-time.After(waitFor):
				t.Fatal("no end of the response")
			}
		},
	}, {
		name: "response streaming error mid-stream",
		files: index(`exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('partial');
  if (event.fail) throw new TypeError('bad input');
  responseStream.end('!');
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{Body: `{"fail":true}`})
			wantEqual(t, "kind", o.Kind, "response")
			wantEqual(t, "body", string(o.Body), "partial")
			wantEqual(t, "error type trailer", o.Trailer.Get("Lambda-Runtime-Function-Error-Type"), "TypeError")
			doc, err := base64.StdEncoding.DecodeString(o.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
			if err != nil {
				t.Fatalf("error body trailer %q: %v", o.Trailer.Get("Lambda-Runtime-Function-Error-Body"), err)
			}
			var e errorBody
			if err := json.Unmarshal(doc, &e); err != nil || e.ErrorType != "TypeError" || e.ErrorMessage != "bad input" || len(e.Trace) == 0 || e.Trace[0] != "TypeError: bad input" {
				t.Errorf("error body %s (%v)", doc, err)
			}
			eventually(t, "the Invoke Error line", func() bool { return strings.Contains(h.stdout.String(), "\tERROR\tInvoke Error \t{") })
			// The runtime goes on with the next invocation.
			wantEqual(t, "next", h.respond(`{}`), "partial!")
		},
	}, {
		name:    "response streaming handler not async",
		files:   index(`exports.handler = awslambda.streamifyResponse((event, responseStream) => {});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), "")
			wantEqual(t, "error type", o.Trailer.Get("Lambda-Runtime-Function-Error-Type"), "string")
			doc, _ := base64.StdEncoding.DecodeString(o.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
			wantEqual(t, "error body", string(doc), `{"errorType":"string","errorMessage":"Streaming does not support non-async handlers.","trace":[]}`)
		},
	}, {
		name:    "response streaming content type too late",
		files:   index(`exports.handler = awslambda.streamifyResponse(async (event, s) => { s.write({ a: 1 }); s.setContentType('text/plain'); });`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			_, o := h.invoke(fakeEvent{})
			wantEqual(t, "body", string(o.Body), `{"a":1}`)
			wantEqual(t, "error type", o.Trailer.Get("Lambda-Runtime-Function-Error-Type"), "Runtime.InvalidStreamingOperation")
			doc, _ := base64.StdEncoding.DecodeString(o.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
			if !strings.Contains(string(doc), `"errorMessage":"Cannot set content-type, too late."`) {
				t.Errorf("error body %s", doc)
			}
		},
	}, {
		name: "HTTP integration prelude",
		files: index(`exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const meta = { statusCode: 201, headers: { 'x-custom': 'yes' }, cookies: ['a=1'] };
  const s = awslambda.HttpResponseStream.from(responseStream, meta);
  if (event.empty) { s.end(); return; }
  s.write('body');
  s.end();
});`),
		handler: "index.handler",
		check: func(t *testing.T, h *harness) {
			prelude := `{"statusCode":201,"headers":{"x-custom":"yes"},"cookies":["a=1"]}` + strings.Repeat("\x00", 8)
			for _, tc := range []struct{ event, want string }{{`{}`, prelude + "body"}, {`{"empty":true}`, prelude}} {
				_, o := h.invoke(fakeEvent{Body: tc.event})
				wantEqual(t, "body of "+tc.event, string(o.Body), tc.want)
				wantEqual(t, "Content-Type", o.Header.Get("Content-Type"), "application/vnd.awslambda.http-integration-response")
			}
		},
	}}
	runShimCases(t, in, "nodejs20.x", cases)
}

func decodeJSON(t *testing.T, o outcome) map[string]any {
	t.Helper()
	if o.Kind != "response" {
		t.Fatalf("want a response, got %v", o)
	}
	var m map[string]any
	if err := json.Unmarshal(o.Body, &m); err != nil {
		t.Fatalf("response %q: %v", o.Body, err)
	}
	return m
}
