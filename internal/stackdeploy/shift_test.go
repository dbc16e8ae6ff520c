package stackdeploy

import (
	"slices"
	"testing"
)

// TestRecordUnwatched: a deploy that stops before its shifts all ended (interrupted, or failed elsewhere) still
// names each deployment it started, with the status it last saw — Created when it never looked — so that the
// caller can say which go on; shifts awaitShifts recorded are left as they are.
func TestRecordUnwatched(t *testing.T) {
	const goesOn = "not watched to its end: the deployment goes on"
	fresh := &pendingShift{res: &resource{id: "OrdersAlias"}, function: "orders", alias: "live", from: "1", to: "2", id: "d-FRESH001"}
	canary := &pendingShift{res: &resource{id: "PaymentsAlias"}, function: "payments", alias: "live", from: "3", to: "4", id: "d-CANARY01",
		seen: "InProgress", invocations: 7, errorsCount: 1}
	ended := &pendingShift{res: &resource{id: "UsersAlias"}, function: "users", alias: "live", from: "5", to: "6", id: "d-ENDED001",
		seen: "Succeeded", done: true, status: "Succeeded"}
	recorded := Shift{Function: "orders", Alias: "live", DeploymentID: "d-FRESH001", Status: "Failed"}
	for _, tc := range []struct {
		name     string
		pending  []*pendingShift
		recorded []Shift
		want     []Shift
	}{
		{name: "no shift started"},
		{name: "started, never looked at", pending: []*pendingShift{fresh},
			want: []Shift{{LogicalID: "OrdersAlias", Function: "orders", Alias: "live", FromVersion: "1", ToVersion: "2", DeploymentID: "d-FRESH001", Status: "Created", Message: goesOn}}},
		{name: "one mid-canary, one ended", pending: []*pendingShift{canary, ended},
			want: []Shift{
				{LogicalID: "PaymentsAlias", Function: "payments", Alias: "live", FromVersion: "3", ToVersion: "4", DeploymentID: "d-CANARY01", Status: "InProgress", Message: goesOn, Invocations: 7, Errors: 1},
				{LogicalID: "UsersAlias", Function: "users", Alias: "live", FromVersion: "5", ToVersion: "6", DeploymentID: "d-ENDED001", Status: "Succeeded"},
			}},
		{name: "already recorded by awaitShifts", pending: []*pendingShift{fresh}, recorded: []Shift{recorded}, want: []Shift{recorded}},
	} {
		r := &run{pending: tc.pending, result: Result{Shifts: slices.Clone(tc.recorded)}}
		r.recordUnwatched()
		if !slices.Equal(r.result.Shifts, tc.want) {
			t.Errorf("%s: shifts %+v, want %+v", tc.name, r.result.Shifts, tc.want)
		}
	}
}
