package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/deployer"
)

// TestToProgressCopiesEveryField fills every field of the engine's report and checks the progress view carries
// each one: a field added to one side and not the other fails here.
func TestToProgressCopiesEveryField(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 3, 0, time.UTC)
	in := deployer.ShiftSnapshot{Stack: "orders", Now: at, Functions: []deployer.ShiftState{{
		Name: "orders", Alias: "live", FromVersion: "3", ToVersion: "4", DeploymentID: "d-1", Status: "InProgress",
		Config: "CodeDeployDefault.LambdaCanary10Percent5Minutes", NewWeight: 0.1, Step: "canary at 10%",
		NextShiftAt: at.Add(time.Minute), Alarms: []deployer.ShiftAlarm{{Name: "Errors", State: "OK"}},
		Hooks:          []deployer.ShiftHook{{Event: "BeforeAllowTraffic", Function: "CodeDeployHook_pre", Status: "Succeeded"}},
		NewInvocations: 1204, NewErrors: 2, Message: "note"}}}
	want := progress.Snapshot{Stack: "orders", Now: at, Functions: []progress.Function{{
		Name: "orders", Alias: "live", FromVersion: "3", ToVersion: "4", DeploymentID: "d-1", Status: "InProgress",
		Config: "CodeDeployDefault.LambdaCanary10Percent5Minutes", NewWeight: 0.1, Step: "canary at 10%",
		NextShiftAt: at.Add(time.Minute), Alarms: []progress.Alarm{{Name: "Errors", State: "OK"}},
		Hooks:          []progress.Hook{{Event: "BeforeAllowTraffic", Function: "CodeDeployHook_pre", Status: "Succeeded"}},
		NewInvocations: 1204, NewErrors: 2, Message: "note"}}}
	if got := toProgress(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("toProgress:\n got %+v\nwant %+v", got, want)
	}
	// Same number of fields on both sides, so a new field is noticed.
	for _, p := range [][2]any{{deployer.ShiftState{}, progress.Function{}}, {deployer.ShiftSnapshot{}, progress.Snapshot{}},
		{deployer.ShiftAlarm{}, progress.Alarm{}}, {deployer.ShiftHook{}, progress.Hook{}}} {
		a, b := reflect.TypeOf(p[0]), reflect.TypeOf(p[1])
		if a.NumField() != b.NumField() {
			t.Errorf("%v has %d fields, %v has %d: copy the new one in toProgress", a, a.NumField(), b, b.NumField())
		}
	}
}
