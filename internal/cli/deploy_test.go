package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	for _, tc := range []struct {
		name        string
		interrupted bool
		err         error
		seen        []stackdeploy.ShiftState
		wantCode    int
		wantMsg     string
	}{
		{name: "success", wantCode: 0},
		{name: "failure", err: errors.New("Fn: create: boom"), wantCode: 1, wantMsg: "Fn: create: boom"},
		{name: "rolled back", err: rolledBack, wantCode: 2, wantMsg: rolledBack.Error()},
		{name: "interrupted before any shift", interrupted: true, err: fmt.Errorf("Fn: create: %w", context.Canceled), wantCode: 130,
			wantMsg: "interrupted"},
		{name: "interrupted during a canary", interrupted: true, err: watching, seen: []stackdeploy.ShiftState{canary, done}, wantCode: 130,
			wantMsg: "interrupted; the CodeDeploy deployment d-CANARY01 of orders:live goes on: `sluice deployments show d-CANARY01` follows it, " +
				"`sluice rollback orders --alias live` stops it"},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		if tc.interrupted {
			cancel()
		}
		o := &progressObserver{r: progress.NewPlain(io.Discard)}
		if tc.seen != nil {
			o.Shifting(stackdeploy.ShiftSnapshot{Stack: "orders", Functions: tc.seen, Now: time.Now()})
		}
		err := deployExit(ctx, tc.err, o.unfinished())
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
