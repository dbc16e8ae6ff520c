package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

func TestSanitizeStackName(t *testing.T) {
	cases := map[string]string{"orders": "orders", "my_app": "my-app", "2fast": "fast", "_": "stack", "Orders-API": "Orders-API"}
	for in, want := range cases {
		if got := sanitizeStackName(in); got != want {
			t.Errorf("sanitizeStackName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeployExit(t *testing.T) {
	watching := fmt.Errorf("stopped watching (the deployments go on): %w", context.Canceled)
	canary := stackdeploy.ShiftState{Name: "orders", Alias: "live", DeploymentID: "d-CANARY01", Status: "InProgress"}
	done := stackdeploy.ShiftState{Name: "payments", Alias: "live", DeploymentID: "d-DONE0001", Status: "Succeeded"}
	rolledBack := fmt.Errorf("%w: orders:live stayed on version 2", stackdeploy.ErrRolledBack)
	rollbackFailed := fmt.Errorf("%w; %w: Fn: restore MemorySize: boom", rolledBack, stackdeploy.ErrRollbackFailed)
	canceled := fmt.Errorf("create change set: %w", context.Canceled)
	running := &stackdeploy.Result{Stack: "orders", Status: "UPDATE_IN_PROGRESS"}
	goesOn := "the operation on stack orders goes on in Sluice: `sluice stack show orders` (or `aws cloudformation describe-stack-events --stack-name orders`) follows it"
	shiftGoesOn := "the CodeDeploy deployment d-CANARY01 of orders:live goes on: `sluice deployments show d-CANARY01` follows it, " +
		"`sluice rollback orders --alias live` stops it (and the stack rolls back)"
	for _, tc := range []struct {
		name        string
		interrupted bool
		executed    bool
		err         error
		seen        []stackdeploy.ShiftState
		res         *stackdeploy.Result
		wantCode    int
		wantMsg     string
	}{
		{name: "success", wantCode: 0},
		{name: "failure", err: errors.New("Fn: create: boom"), wantCode: 1, wantMsg: "Fn: create: boom"},
		{name: "rolled back", err: rolledBack, wantCode: 2, wantMsg: rolledBack.Error()},
		{name: "an update failed and was rolled back", err: errors.New("Broken: create: boom"),
			res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_ROLLBACK_COMPLETE"}, wantCode: 1, wantMsg: "Broken: create: boom"},
		{name: "the rollback failed", err: rollbackFailed, res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_ROLLBACK_FAILED"},
			wantCode: 1, wantMsg: rollbackFailed.Error()},
		{name: "no error, yet the stack ended failed", res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_ROLLBACK_COMPLETE",
			Changes: []stackdeploy.Change{{LogicalID: "Fn", Action: stackdeploy.ActionUpdate}}}, wantCode: 1, wantMsg: "stack orders is UPDATE_ROLLBACK_COMPLETE"},
		{name: "nothing to change after a rolled-back deploy", res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_ROLLBACK_COMPLETE",
			Changes: []stackdeploy.Change{{LogicalID: "Fn", Action: stackdeploy.ActionNone}}}, wantCode: 0},
		{name: "cleaned up", res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_COMPLETE"}, wantCode: 0},
		{name: "a dry run after a rolled-back deploy", res: &stackdeploy.Result{Stack: "orders", Status: "UPDATE_ROLLBACK_COMPLETE", DryRun: true}, wantCode: 0},
		{name: "interrupted before the change set ran", interrupted: true, err: canceled, wantCode: 130,
			wantMsg: "interrupted; nothing was changed"},
		{name: "interrupted during a dry run", interrupted: true, err: canceled, res: &stackdeploy.Result{Stack: "orders", DryRun: true}, wantCode: 130,
			wantMsg: "interrupted; nothing was changed"},
		{name: "interrupted while the stack is updated", interrupted: true, executed: true, err: watching, res: running, wantCode: 130,
			wantMsg: "interrupted; " + goesOn},
		{name: "interrupted during a canary", interrupted: true, executed: true, err: watching, seen: []stackdeploy.ShiftState{canary, done}, res: running,
			wantCode: 130, wantMsg: "interrupted; " + goesOn + "; " + shiftGoesOn},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		if tc.interrupted {
			cancel()
		}
		o := &progressObserver{r: progress.NewPlain(io.Discard)}
		if tc.seen != nil {
			o.Shifting(stackdeploy.ShiftSnapshot{Stack: "orders", Functions: tc.seen, Now: time.Now()})
		}
		err := deployExit(ctx, tc.err, o.unfinished(), tc.res, tc.executed)
		cancel()
		var exit *ExitError
		switch {
		case tc.wantCode == 0 && err != nil:
			t.Errorf("%s: deployExit = %v, want nil", tc.name, err)
		case tc.wantCode != 0 && (!errors.As(err, &exit) || exit.Code != tc.wantCode || errorLine(err) != tc.wantMsg):
			t.Errorf("%s: deployExit = %v (%T), want exit %d with %q", tc.name, err, err, tc.wantCode, tc.wantMsg)
		case tc.interrupted && !strings.Contains(debugLine(err), "context canceled"):
			t.Errorf("%s: --debug would not show the cause: %s", tc.name, debugLine(err))
		}
	}
}

// TestShowDeploymentPutsLogLinesUnderTheirSentence: a timeline entry's first line is its row; the lines after it
// (a failed hook's last log lines) go under its detail column, one each.
func TestShowDeploymentPutsLogLinesUnderTheirSentence(t *testing.T) {
	for _, tc := range []struct {
		name, kind, weight, detail string
		want                       []string // the timeline's lines, after its heading
	}{
		{name: "one line", kind: "shift", weight: "0.1", detail: "traffic shifted", want: []string{"  T  shift  10%  traffic shifted"}},
		{name: "a failed hook's log lines", kind: "hookProblem", weight: "null", detail: "hook pre invocation failed: Boom: boom — waiting for its status until T2\n  | line one\n  | line two",
			want: []string{
				"  T  hookProblem    hook pre invocation failed: Boom: boom — waiting for its status until T2",
				strings.Repeat(" ", len("  T  hookProblem    ")) + "  | line one",
				strings.Repeat(" ", len("  T  hookProblem    ")) + "  | line two",
			}},
	} {
		var d deploymentInfo
		body, _ := json.Marshal(tc.detail)
		if err := json.Unmarshal([]byte(`{"deploymentId":"d-1","sluiceTimeline":[{"time":"T","kind":"`+tc.kind+`","weight":`+tc.weight+`,"detail":`+string(body)+`}]}`), &d); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		showDeployment(&out, d)
		_, timeline, ok := strings.Cut(out.String(), "Timeline:\n")
		if got := strings.Split(strings.TrimRight(timeline, "\n"), "\n"); !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: the timeline reads\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}
