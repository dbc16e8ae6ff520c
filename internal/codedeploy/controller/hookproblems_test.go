package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

// hookEvent returns the deployment's BeforeAllowTraffic event.
func hookEvent(t *testing.T, d codedeploy.Deployment) codedeploy.LifecycleEvent {
	t.Helper()
	for _, ev := range d.Events {
		if ev.Name == codedeploy.EventBeforeAllowTraffic {
			return ev
		}
	}
	t.Fatalf("deployment %s has no BeforeAllowTraffic event", d.ID)
	return codedeploy.LifecycleEvent{}
}

// hasProblem reports whether the deployment's hook event and timeline both carry the problem want.
func hasProblem(d codedeploy.Deployment, ev codedeploy.LifecycleEvent, want string) bool {
	if !slices.Contains(ev.HookProblems, want) {
		return false
	}
	return slices.ContainsFunc(d.Timeline, func(e codedeploy.TimelineEntry) bool {
		return e.Kind == codedeploy.KindHookProblem && e.Detail == want
	})
}

// TestFailedHookInvocationIsRecorded: a hook whose invocation fails says so on its lifecycle event and in the
// timeline at once — a refused one (the service role may not invoke it) failing at once, any other failure while
// the deployment keeps waiting for the status until the hook timeout, as CodeDeploy does.
func TestFailedHookInvocationIsRecorded(t *testing.T) {
	refused := fmt.Errorf("%w: role %q may not perform lambda:InvokeFunction on %s", ErrHookNotAuthorized,
		"arn:aws:iam::000000000000:role/cd", "arn:aws:lambda:us-east-1:000000000000:function:smoke")
	missing := fault.New("ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:CodeDeployHook_gone")
	for _, tc := range []struct {
		name, hook string
		err        error
		want       string
		status     codedeploy.Status // what the deployment becomes without a report
	}{
		{name: "refused by IAM", hook: "smoke", err: refused, status: codedeploy.StatusFailed,
			want: "hook smoke invocation failed: " + refused.Error() + " — the hook fails at once"},
		{name: "function missing", hook: "CodeDeployHook_gone", err: missing, status: codedeploy.StatusInProgress,
			want: "hook CodeDeployHook_gone invocation failed: " + missing.Error() + " — waiting for its status until " +
				t0.Add(codedeploy.DefaultHookTimeout).UTC().Format(time.RFC3339)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w, _, ctx := running(t)
			w.mu.Lock()
			w.invokeErr = tc.err
			w.mu.Unlock()
			id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, tc.hook)
			var d codedeploy.Deployment
			await(t, c, w, "the hook's problem on the record", func() bool {
				d = mustGet(t, c, ctx, id)
				return hasProblem(d, hookEvent(t, d), tc.want)
			})
			d = awaitStatus(t, c, w, ctx, id, tc.status)
			if n := len(hookEvent(t, d).HookProblems); n != 1 {
				t.Fatalf("the problem is recorded %d times: %q", n, hookEvent(t, d).HookProblems)
			}
		})
	}
}

// TestDeniedHookReportIsRecorded: a hook that ran but whose report IAM denied is told on the deployment at once,
// once however often it retries; reports about other executions, or no deployment, are dropped.
func TestDeniedHookReportIsRecorded(t *testing.T) {
	c, w, _, ctx := running(t)
	id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "CodeDeployHook_pre")
	var execution string
	await(t, c, w, "the hook's execution ID", func() bool {
		execution = hookEvent(t, mustGet(t, c, ctx, id)).HookExecutionID
		return execution != ""
	})
	const denied = "User: arn:aws:sts::000000000000:assumed-role/hook/CodeDeployHook_pre is not authorized to perform: " +
		"codedeploy:PutLifecycleEventHookExecutionStatus on resource: arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:app/grp " +
		"because no identity-based policy allows the codedeploy:PutLifecycleEventHookExecutionStatus action"
	for range 3 { // a hook retrying its report
		if err := c.NoteHookReportDenied(ctx, id, execution, denied); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.NoteHookReportDenied(ctx, id, "not-an-execution", denied); err != nil {
		t.Fatal(err)
	}
	if err := c.NoteHookReportDenied(ctx, "d-NOSUCHDEP", execution, denied); err != nil {
		t.Fatalf("a denied report about no deployment: %v", err)
	}
	want := "hook CodeDeployHook_pre could not report its status: " + denied
	var d codedeploy.Deployment
	await(t, c, w, "the denied report on the record", func() bool {
		d = mustGet(t, c, ctx, id)
		return hasProblem(d, hookEvent(t, d), want)
	})
	if got := hookEvent(t, d).HookProblems; len(got) != 1 {
		t.Fatalf("hook problems %q, want just %q", got, want)
	}
	if d.Status != codedeploy.StatusInProgress {
		t.Fatalf("a denied report ended the deployment: %s", d.Status)
	}
}

// TestFailedHookAttemptIsRecorded: an attempt of a hook's asynchronous invocation that ends in a function error (a
// Python hook without boto3) is told on the deployment at once, with the function's error and the last lines it
// logged, while the deployment keeps waiting for the status; invocations that are not this deployment's hook
// events are ignored, and a retry that logged the same failure at another time is no news.
func TestFailedHookAttemptIsRecorded(t *testing.T) {
	c, w, _, ctx := running(t)
	id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "CodeDeployHook_pre")
	var execution string
	await(t, c, w, "the hook's execution ID", func() bool {
		execution = hookEvent(t, mustGet(t, c, ctx, id)).HookExecutionID
		return execution != ""
	})
	event := fmt.Sprintf(`{"DeploymentId":%q,"LifecycleEventHookExecutionId":%q}`, id, execution)
	answer := `{"errorType":"Runtime.ImportModuleError","errorMessage":"Unable to import module 'index': No module named 'boto3'"}`
	logTail := func(at string) string {
		return "START RequestId: 1 Version: $LATEST\n" + at + " [ERROR] Runtime.ImportModuleError: Unable to import module 'index': No module named 'boto3'\n" +
			at + " loading index\n" +
			"Traceback (most recent call last):\n\n  File \"/var/task/index.py\", line 1, in <module>\n    import boto3\n" +
			"ModuleNotFoundError: No module named 'boto3'\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 1.00 ms\t\n"
	}
	for _, tc := range []struct{ payload, response, logTail string }{
		{event, answer, logTail("02:00:00")},
		{event, answer, logTail("02:01:00")}, // the queue's retry: recorded once
		{`{"unrelated":"event"}`, answer, ""},
		{fmt.Sprintf(`{"DeploymentId":%q,"LifecycleEventHookExecutionId":"other"}`, id), answer, ""},
		{`{"DeploymentId":"d-NOSUCHDEP","LifecycleEventHookExecutionId":"x"}`, answer, ""},
		{`not json`, `not json either`, "\xff\xfe"},
	} {
		if err := c.NoteHookInvocationFailed(ctx, []byte(tc.payload), []byte(tc.response), []byte(tc.logTail)); err != nil {
			t.Fatalf("payload %s: %v", tc.payload, err)
		}
	}
	want := "hook CodeDeployHook_pre invocation failed: Runtime.ImportModuleError: Unable to import module 'index': " +
		"No module named 'boto3' — waiting for its status until " + t0.Add(codedeploy.DefaultHookTimeout).UTC().Format(time.RFC3339) +
		"\n  | 02:00:00 loading index" +
		"\n  | Traceback (most recent call last):" +
		"\n  | File \"/var/task/index.py\", line 1, in <module>" +
		"\n  | import boto3" +
		"\n  | ModuleNotFoundError: No module named 'boto3'"
	var d codedeploy.Deployment
	await(t, c, w, "the failed attempt on the record", func() bool {
		d = mustGet(t, c, ctx, id)
		return hasProblem(d, hookEvent(t, d), want)
	})
	if got := hookEvent(t, d).HookProblems; len(got) != 1 {
		t.Fatalf("hook problems %q, want just %q", got, want)
	}
	if d.Status != codedeploy.StatusInProgress {
		t.Fatalf("a failed attempt ended the deployment: %s", d.Status)
	}
}

// TestHookLogLines: what of a failed attempt's log tail follows the problem's sentence — the function's own
// lines, the last few, each short and on one line.
func TestHookLogLines(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tc := range []struct {
		name, tail, message string
		want                []string
	}{
		{name: "none", tail: "", want: nil},
		{name: "only the platform's", tail: "INIT_START Runtime Version: python:3.12\nSTART RequestId: 1 Version: 2\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 2 ms\n", want: nil},
		{name: "the function's, trimmed", tail: "START RequestId: 1 Version: 2\n  boom\r\n\n\tat f (index.js:3)\nEND RequestId: 1\n", want: []string{"boom", "at f (index.js:3)"}},
		{name: "the last five", tail: "1\n2\n3\n4\n5\n6\n7\nEND RequestId: 1\n", want: []string{"3", "4", "5", "6", "7"}},
		{name: "long lines cut, control characters blanked", tail: long + "\nx\x1b[31my\n", want: []string{long[:maxHookLogLine] + "…", "x [31my"}},
		{name: "not UTF-8", tail: "ok\xff\n", want: []string{"ok"}},
		{name: "the error message repeated", tail: "[ERROR] KeyError: 'FUNCTION_NAME' is not set\ntrace\n", message: "'FUNCTION_NAME' is not set",
			want: []string{"trace"}},
		{name: "the Python runtime's boilerplate", tail: "[WARNING]\t2026-12-07T02:56:43.656Z\t\tLAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code.\nboom\n",
			want: []string{"boom"}},
		{name: "a Python traceback, one record", tail: "[ERROR] KeyError: 'FUNCTION_NAME'\rTraceback (most recent call last):\r  File \"/var/task/hook.py\", line 8, in handler\r" +
			"    run_smoke_tests()\r  File \"/var/task/hook.py\", line 5, in run_smoke_tests\r    raise KeyError(\"FUNCTION_NAME\")\n",
			want: []string{"Traceback (most recent call last):", `File "/var/task/hook.py", line 8, in handler`, "run_smoke_tests()",
				`File "/var/task/hook.py", line 5, in run_smoke_tests`, `raise KeyError("FUNCTION_NAME")`}},
		{name: "a short message is not enough", tail: "Error: boom\n", message: "boom", want: []string{"Error: boom"}},
	} {
		if got := hookLogLines([]byte(tc.tail), tc.message); !slices.Equal(got, tc.want) {
			t.Errorf("%s: hookLogLines = %q, want %q", tc.name, got, tc.want)
		}
	}
}
