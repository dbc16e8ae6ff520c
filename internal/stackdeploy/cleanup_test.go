package stackdeploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/stack"
)

// app is a stack in the shape CDK's fn.currentVersion gives: a function, a version whose logical id changes with
// the code, and the alias live on it, moved by CodeDeploy.
type app struct {
	release string // the function's code
	memory  int
	// version is the version's logical id; versionAttrs are its resource attributes (DeletionPolicy, …), as YAML
	// lines indented by four; description is its Description (a new one replaces it under the same id).
	version, versionAttrs, description string
	// s3Key: the code is this object of the bucket "assets" (Code.S3Bucket/S3Key), which Lambda reads itself.
	s3Key string
	// extra are more resources, as YAML indented by two.
	extra string
}

func (a app) template() string {
	code := fmt.Sprintf(`{ZipFile: "exports.handler = async () => '%s'"}`, a.release)
	if a.s3Key != "" {
		code = "{S3Bucket: assets, S3Key: " + a.s3Key + "}"
	}
	if a.memory == 0 {
		a.memory = 128
	}
	if a.description == "" {
		a.description = "current"
	}
	return fmt.Sprintf(`Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: orders
      Role: arn:aws:iam::000000000000:role/orders
      Runtime: nodejs22.x
      Handler: index.handler
      MemorySize: %d
      Code: %s
  %s:
    Type: AWS::Lambda::Version
%s    Properties:
      FunctionName: !Ref Fn
      Description: %s
  Live:
    Type: AWS::Lambda::Alias
    UpdatePolicy:
      CodeDeployLambdaAliasUpdate:
        ApplicationName: !Ref App
        DeploymentGroupName: !Ref Group
    Properties:
      FunctionName: !Ref Fn
      FunctionVersion: !GetAtt %s.Version
      Name: live
  App:
    Type: AWS::CodeDeploy::Application
    Properties: {ApplicationName: orders, ComputePlatform: Lambda}
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: !Ref App
      DeploymentGroupName: orders-live
      ServiceRoleArn: arn:aws:iam::000000000000:role/codedeploy
      DeploymentConfigName: CodeDeployDefault.LambdaCanary10Percent5Minutes
      DeploymentStyle: {DeploymentType: BLUE_GREEN, DeploymentOption: WITH_TRAFFIC_CONTROL}
%s`, a.memory, code, a.version, a.versionAttrs, a.description, a.version, a.extra)
}

// world is a fake AWS and a stack store: what a deploy needs.
type world struct {
	t      *testing.T
	aws    *fakeAWS
	stacks *memStacks
	clock  *fakeClock
	// events are the last deploy's (recorder).
	events []string
}

func newWorld(t *testing.T) *world {
	return &world{t: t, aws: newFakeAWS(t), stacks: newMemStacks(), clock: &fakeClock{now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}}
}

// deploy deploys a as the stack "orders", as the CloudFormation API's service does (world.run).
func (w *world) deploy(a app) (*Result, error) {
	w.t.Helper()
	return w.run(w.t.Context(), a.template(), Options{})
}

// mustDeploy deploys a, which must succeed.
func (w *world) mustDeploy(a app) *Result {
	w.t.Helper()
	res, err := w.deploy(a)
	if err != nil {
		w.t.Fatalf("deploy: %v\n%s", err, strings.Join(w.events, "\n"))
	}
	return res
}

func (w *world) record() stack.Stack {
	w.t.Helper()
	st, err := w.stacks.Get(w.t.Context(), "orders")
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// statusesSince are the statuses the record went through from the n-th on.
func (w *world) statusesSince(n int) []stack.Status { return slices.Clone(w.stacks.statuses[n:]) }

// withoutStatus is a record's resources with their statuses left out.
func withoutStatus(rs map[string]stack.ResourceState) map[string]stack.ResourceState {
	out := map[string]stack.ResourceState{}
	for id, r := range rs {
		r.Status, r.Reason, r.Updated = "", "", time.Time{}
		out[id] = r
	}
	return out
}

// at is where the first log entry starting with prefix is (-1: none).
func at(log []string, prefix string) int {
	return slices.IndexFunc(log, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// checkNothingDeletedUnderAnAlias fails if a deletion was refused (Lambda: the version is routed to) or a version
// was deleted while a deployment was still moving traffic.
func checkNothingDeletedUnderAnAlias(t *testing.T, log []string) {
	t.Helper()
	open := map[string]bool{}
	for _, e := range log {
		f := strings.Fields(e)
		switch {
		case strings.HasSuffix(e, " refused"):
			t.Errorf("a deletion was refused: %s\n%s", e, strings.Join(log, "\n"))
		case f[0] == "CreateDeployment":
			open[f[1]] = true
		case f[0] == "Deployment":
			delete(open, f[1])
		case f[0] == "DeleteFunction" && strings.Contains(f[1], ":") && len(open) > 0:
			t.Errorf("%s while deployments %v were moving traffic\n%s", e, open, strings.Join(log, "\n"))
		}
	}
}

const versionARN = "arn:aws:lambda:us-east-1:000000000000:function:orders:"

// TestSupersededResources: what a deploy supersedes — a version CDK's currentVersion gives a new logical id, a
// version replaced under the same id — is deleted in the cleanup phase, once the traffic shift has succeeded, and
// only then; the policies keep what they name (UpdateReplacePolicy a replaced resource, DeletionPolicy one that
// left the template; neither the other); a rolled-back shift deletes what the deploy created and keeps what it
// superseded, unless DeletionPolicy: Retain keeps the new one (RetainExceptOnCreate does not).
func TestSupersededResources(t *testing.T) {
	v1 := app{release: "v1", version: "VersionA"}
	v2 := app{release: "v2", version: "VersionB"}
	withAttrs := func(a app, attrs string) app { a.versionAttrs = attrs; return a }
	sameID := func(a app, description string) app { a.version, a.description = "Version", description; return a }
	const (
		deletionRetain = "    DeletionPolicy: Retain\n"
		replaceRetain  = "    UpdateReplacePolicy: Retain\n"
		exceptOnCreate = "    DeletionPolicy: RetainExceptOnCreate\n"
	)
	completed := []stack.Status{stack.StatusUpdateInProgress, stack.StatusUpdateCompleteCleanupInProgress, stack.StatusUpdateComplete}
	rolledBack := []stack.Status{stack.StatusUpdateInProgress, stack.StatusUpdateRollbackInProgress,
		stack.StatusUpdateRollbackCompleteCleanupInProgress, stack.StatusUpdateRollbackComplete}
	for _, tc := range []struct {
		name          string
		first, second app
		outcome       string // of the shift
		wantStatuses  []stack.Status
		wantErr       error
		wantVersions  []string // published versions left
		wantAlias     string
		wantCleanup   []stack.Removal
		wantResources []string // version logical ids in the record
	}{
		{name: "a new version under a new logical id (CDK's currentVersion)", first: v1, second: v2,
			wantStatuses: completed, wantVersions: []string{"2"}, wantAlias: "2", wantResources: []string{"VersionB"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionA", Why: stack.RemovalRemoved, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "1"}}},
		{name: "a version replaced under the same logical id", first: sameID(v1, "one"), second: sameID(v2, "two"),
			wantStatuses: completed, wantVersions: []string{"2"}, wantAlias: "2", wantResources: []string{"Version"},
			wantCleanup: []stack.Removal{{LogicalID: "Version", Why: stack.RemovalReplaced, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "1"}}},
		{name: "UpdateReplacePolicy: Retain keeps the replaced version", first: withAttrs(sameID(v1, "one"), replaceRetain),
			second:       withAttrs(sameID(v2, "two"), replaceRetain),
			wantStatuses: completed, wantVersions: []string{"1", "2"}, wantAlias: "2", wantResources: []string{"Version"},
			wantCleanup: []stack.Removal{{LogicalID: "Version", Why: stack.RemovalReplaced, Outcome: stack.OutcomeRetained, PhysicalID: versionARN + "1",
				Reason: "UpdateReplacePolicy: Retain"}}},
		{name: "DeletionPolicy: Retain does not keep a replaced version", first: withAttrs(sameID(v1, "one"), deletionRetain),
			second:       withAttrs(sameID(v2, "two"), deletionRetain),
			wantStatuses: completed, wantVersions: []string{"2"}, wantAlias: "2", wantResources: []string{"Version"},
			wantCleanup: []stack.Removal{{LogicalID: "Version", Why: stack.RemovalReplaced, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "1"}}},
		{name: "DeletionPolicy: Retain keeps the version that left the template", first: withAttrs(v1, deletionRetain), second: v2,
			wantStatuses: completed, wantVersions: []string{"1", "2"}, wantAlias: "2", wantResources: []string{"VersionB"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionA", Why: stack.RemovalRemoved, Outcome: stack.OutcomeRetained, PhysicalID: versionARN + "1",
				Reason: "DeletionPolicy: Retain"}}},
		{name: "UpdateReplacePolicy: Retain does not keep a version that left the template", first: withAttrs(v1, replaceRetain), second: v2,
			wantStatuses: completed, wantVersions: []string{"2"}, wantAlias: "2", wantResources: []string{"VersionB"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionA", Why: stack.RemovalRemoved, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "1"}}},
		{name: "a rolled-back shift deletes the new version and keeps the old", first: v1, second: v2, outcome: "Failed",
			wantStatuses: rolledBack, wantErr: ErrRolledBack, wantVersions: []string{"1"}, wantAlias: "1", wantResources: []string{"VersionA"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionB", Why: stack.RemovalRolledBack, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "2"}}},
		{name: "a rolled-back replacement deletes the new version and puts the old back", first: sameID(v1, "one"), second: sameID(v2, "two"), outcome: "Failed",
			wantStatuses: rolledBack, wantErr: ErrRolledBack, wantVersions: []string{"1"}, wantAlias: "1", wantResources: []string{"Version"},
			wantCleanup: []stack.Removal{{LogicalID: "Version", Why: stack.RemovalRolledBack, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "2"}}},
		{name: "DeletionPolicy: Retain keeps the new version of a rolled-back deploy", first: withAttrs(v1, deletionRetain), second: withAttrs(v2, deletionRetain),
			outcome: "Failed", wantStatuses: rolledBack, wantErr: ErrRolledBack, wantVersions: []string{"1", "2"}, wantAlias: "1", wantResources: []string{"VersionA"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionB", Why: stack.RemovalRolledBack, Outcome: stack.OutcomeRetained, PhysicalID: versionARN + "2",
				Reason: "DeletionPolicy: Retain"}}},
		{name: "RetainExceptOnCreate does not keep the new version of a rolled-back deploy", first: withAttrs(v1, exceptOnCreate), second: withAttrs(v2, exceptOnCreate),
			outcome: "Failed", wantStatuses: rolledBack, wantErr: ErrRolledBack, wantVersions: []string{"1"}, wantAlias: "1", wantResources: []string{"VersionA"},
			wantCleanup: []stack.Removal{{LogicalID: "VersionB", Why: stack.RemovalRolledBack, Outcome: stack.OutcomeDeleted, PhysicalID: versionARN + "2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.mustDeploy(tc.first)
			before := len(w.stacks.statuses)
			if tc.outcome != "" {
				w.aws.outcome = tc.outcome
			}
			res, err := w.deploy(tc.second)
			switch {
			case tc.wantErr == nil && err != nil, tc.wantErr != nil && !errors.Is(err, tc.wantErr), errors.Is(err, ErrRollbackFailed):
				t.Fatalf("deploy: %v, want %v\n%s", err, tc.wantErr, strings.Join(w.events, "\n"))
			}
			rec := w.record()
			if got := w.statusesSince(before); !slices.Equal(got, tc.wantStatuses) || res.Status != rec.Status {
				t.Errorf("statuses %v (result %s), want %v", got, res.Status, tc.wantStatuses)
			}
			if res.Status.Failed() != (tc.wantErr != nil) {
				t.Errorf("status %s: Failed() = %v", res.Status, res.Status.Failed())
			}
			log := w.aws.logged()
			checkNothingDeletedUnderAnAlias(t, log)
			if got := w.aws.versions("orders"); !slices.Equal(got, tc.wantVersions) {
				t.Errorf("versions %v, want %v\n%s", got, tc.wantVersions, strings.Join(log, "\n"))
			}
			if got := w.aws.functions["orders"].aliases["live"]; got.version != tc.wantAlias || len(got.weights) != 0 {
				t.Errorf("live → %s %v, want %s", got.version, got.weights, tc.wantAlias)
			}
			for i := range tc.wantCleanup {
				tc.wantCleanup[i].Type = "AWS::Lambda::Version"
			}
			if !reflect.DeepEqual(rec.Cleanup, tc.wantCleanup) || !reflect.DeepEqual(res.Cleanup, tc.wantCleanup) {
				t.Errorf("cleanup recorded %+v, result %+v, want %+v", rec.Cleanup, res.Cleanup, tc.wantCleanup)
			}
			var versions []string
			for id, r := range rec.Resources {
				if r.Type == "AWS::Lambda::Version" {
					versions = append(versions, id)
				}
			}
			if !slices.Equal(versions, tc.wantResources) {
				t.Errorf("the record's versions %v, want %v", versions, tc.wantResources)
			}
			if live := rec.Resources["Live"]; str(live.Properties, "FunctionVersion") != tc.wantAlias {
				t.Errorf("the record has live on %v, want %s", live.Properties["FunctionVersion"], tc.wantAlias)
			}
		})
	}
}

// TestCleanupAfterTheShiftInReverseDependencyOrder: resources that left the template are deleted once the shift
// has succeeded, each before what it depended on — by the references recorded when it was deployed, not by its
// type (a CDK::Metadata referring to a function goes before it, a function another refers to after it).
func TestCleanupAfterTheShiftInReverseDependencyOrder(t *testing.T) {
	const extra = `  Alpha:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: alpha, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "a"}}
  AlphaVersion:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Alpha}
  AlphaRetries:
    Type: AWS::Lambda::EventInvokeConfig
    Properties: {FunctionName: !Ref Alpha, Qualifier: !GetAtt AlphaVersion.Version, MaximumRetryAttempts: 0}
  Beta:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: beta
      Role: arn:aws:iam::000000000000:role/orders
      Runtime: nodejs22.x
      Handler: index.handler
      Code: {ZipFile: "b"}
      Environment: {Variables: {ALPHA: !Ref Alpha}}
  BetaMetadata:
    Type: AWS::CDK::Metadata
    Properties: {Analytics: !Ref Beta}
`
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "VersionA", extra: extra})
	res := w.mustDeploy(app{release: "v2", version: "VersionB"})
	var order []string
	for _, c := range res.Cleanup {
		order = append(order, c.LogicalID)
		if c.Outcome != stack.OutcomeDeleted || c.Why != stack.RemovalRemoved {
			t.Errorf("cleanup of %s: %+v", c.LogicalID, c)
		}
	}
	if want := []string{"AlphaRetries", "AlphaVersion", "VersionA", "BetaMetadata", "Beta", "Alpha"}; !slices.Equal(order, want) {
		t.Errorf("deletion order %v, want %v", order, want)
	}
	log := w.aws.logged()
	checkNothingDeletedUnderAnAlias(t, log)
	ended := at(log, "Deployment d-1 Succeeded")
	for _, deletion := range []string{"DeleteFunctionEventInvokeConfig alpha:1", "DeleteFunction alpha:1", "DeleteFunction orders:1", "DeleteFunction beta", "DeleteFunction alpha"} {
		if i := at(log, deletion); i < ended {
			t.Errorf("%q at %d, before the shift ended (%d)\n%s", deletion, i, ended, strings.Join(log, "\n"))
		}
	}
	if res.Status != stack.StatusUpdateComplete || len(w.record().Resources) != 5 {
		t.Errorf("status %s, resources %v", res.Status, w.record().Resources)
	}
}

// TestDeletionOrder: the order deletions take, given the dependencies recorded.
func TestDeletionOrder(t *testing.T) {
	r := func(id, typ string, deps ...string) removal {
		return removal{id: id, state: stack.ResourceState{Type: typ, DependsOn: deps}}
	}
	const (
		fn      = "AWS::Lambda::Function"
		version = "AWS::Lambda::Version"
		alias   = "AWS::Lambda::Alias"
		role    = "AWS::IAM::Role"
		meta    = "AWS::CDK::Metadata"
	)
	for _, tc := range []struct {
		name string
		gone []removal
		want []string
	}{
		{name: "a chain goes from its end", gone: []removal{r("Role", role), r("Fn", fn, "Role"), r("V", version, "Fn"), r("Live", alias, "Fn", "V")},
			want: []string{"Live", "V", "Fn", "Role"}},
		{name: "dependencies outrank types", gone: []removal{r("A", fn), r("B", fn, "A"), r("Meta", meta, "B")},
			want: []string{"Meta", "B", "A"}},
		{name: "dependencies on resources that stay do not hold anything", gone: []removal{r("V", version, "Fn"), r("Role", role, "Kept")},
			want: []string{"V", "Role"}},
		{name: "records without dependencies go by type", gone: []removal{r("Role", role), r("Fn", fn), r("V", version), r("Live", alias)},
			want: []string{"Live", "V", "Fn", "Role"}},
		{name: "a cycle is broken by type", gone: []removal{r("Fn", fn, "V", "Role"), r("V", version, "Fn"), r("Role", role)},
			want: []string{"V", "Fn", "Role"}},
	} {
		var got []string
		for _, g := range deletionOrder(tc.gone) {
			got = append(got, g.id)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRollback: a failed update — its shift rolled back, a resource failing after the shift started (the shift is
// stopped), an update failing half-way, or one shift succeeding and another not — is rolled back: the function gets its
// previous code and configuration back (inline code or code in S3 alike), aliases return to their version, what the
// deploy created is deleted once nothing routes to it, and the record is the one before the deploy. Only a rolled-
// back shift is ErrRolledBack (exit 2); the stack is UPDATE_ROLLBACK_COMPLETE either way.
func TestRollback(t *testing.T) {
	const broken = `  Broken:
    Type: AWS::Lambda::Function
    DependsOn: Live
    Properties: {FunctionName: broken, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "x"}}
`
	const payments = `  Payments:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: payments, Role: arn:aws:iam::000000000000:role/orders, Runtime: nodejs22.x, Handler: index.handler, Code: {ZipFile: "%s"}}
  Payments%s:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Payments}
  PaymentsLive:
    Type: AWS::Lambda::Alias
    UpdatePolicy:
      CodeDeployLambdaAliasUpdate: {ApplicationName: !Ref App, DeploymentGroupName: !Ref Group}
    Properties: {FunctionName: !Ref Payments, FunctionVersion: !GetAtt Payments%s.Version, Name: live}
`
	pay := func(release string) string { return fmt.Sprintf(payments, release, release, release) }
	for _, tc := range []struct {
		name          string
		first, second app
		outcomes      map[string]string
		failOnce      string // an operation on orders that fails the first time
		wantErr       error
		wantInLog     []string // in this order
		wantPayments  []string // payments' versions left, when it is in the stack
		wantRestored  []string // ActionRestore changes
		wantNewGone   []string // rolled-back removals
		wantStopFirst bool
	}{
		{name: "the shift is rolled back (inline code)", first: app{release: "v1", version: "VersionA"},
			second:   app{release: "v2", version: "VersionB", memory: 256},
			outcomes: map[string]string{"orders": "Failed"}, wantErr: ErrRolledBack,
			wantInLog:    []string{"Deployment d-1 Failed", "UpdateFunctionCode orders", "UpdateFunctionConfiguration orders MemorySize=128", "DeleteFunction orders:2"},
			wantRestored: []string{"Fn"}, wantNewGone: []string{"VersionB"}},
		{name: "the shift is rolled back (code in S3)", first: app{release: "v1", version: "VersionA", s3Key: "asset-1.zip"},
			second:   app{release: "v2", version: "VersionB", s3Key: "asset-2.zip"},
			outcomes: map[string]string{"orders": "Failed"}, wantErr: ErrRolledBack,
			wantInLog:    []string{"Deployment d-1 Failed", "UpdateFunctionCode orders from s3://assets/asset-1.zip?", "DeleteFunction orders:2"},
			wantRestored: []string{"Fn"}, wantNewGone: []string{"VersionB"}},
		{name: "a resource fails after the shift started", first: app{release: "v1", version: "VersionA"},
			second:    app{release: "v2", version: "VersionB", extra: broken},
			wantInLog: []string{"CreateDeployment d-1", "StopDeployment d-1", "Deployment d-1 Stopped", "UpdateFunctionCode orders", "DeleteFunction orders:2"},
			// The alias was put back by CodeDeploy's rollback of the stopped deployment, not by the deploy.
			wantRestored: []string{"Fn"}, wantNewGone: []string{"VersionB"}},
		{name: "an update fails half-way", first: app{release: "v1", version: "VersionA"},
			second: app{release: "v2", version: "VersionB", memory: 256}, failOnce: "UpdateFunctionConfiguration",
			wantInLog:    []string{"UpdateFunctionCode orders", "UpdateFunctionCode orders", "UpdateFunctionConfiguration orders MemorySize=128"},
			wantRestored: []string{"Fn"}},
		{name: "a shift that succeeded is put back when another is rolled back", first: app{release: "v1", version: "VersionA", extra: pay("P1")},
			second:   app{release: "v2", version: "VersionB", extra: pay("P2")},
			outcomes: map[string]string{"orders": "Succeeded", "payments": "Failed"}, wantErr: ErrRolledBack,
			wantInLog:    []string{"Deployment d-1 Succeeded", "UpdateAlias orders:live → 1", "DeleteFunction orders:2"},
			wantPayments: []string{"1"}, wantRestored: []string{"Live", "Fn", "Payments"}, wantNewGone: []string{"PaymentsP2", "VersionB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.mustDeploy(tc.first)
			was := w.record()
			wasSha := w.aws.functions["orders"].sha
			before := len(w.stacks.statuses)
			w.aws.outcomes = tc.outcomes
			failed := false
			w.aws.fail = func(op, target string) string {
				switch {
				case op == "CreateFunction" && target == "broken":
					return "the broken function cannot be created"
				case op == tc.failOnce && target == "orders" && !failed:
					failed = true
					return op + " fails once"
				}
				return ""
			}
			res, err := w.deploy(tc.second)
			if err == nil || (tc.wantErr != nil) != errors.Is(err, tc.wantErr) || tc.wantErr == nil && errors.Is(err, ErrRolledBack) || errors.Is(err, ErrRollbackFailed) {
				t.Fatalf("deploy: %v, want %v\n%s", err, tc.wantErr, strings.Join(w.events, "\n"))
			}
			want := []stack.Status{stack.StatusUpdateInProgress, stack.StatusUpdateRollbackInProgress, stack.StatusUpdateRollbackCompleteCleanupInProgress,
				stack.StatusUpdateRollbackComplete}
			if got := w.statusesSince(before); !slices.Equal(got, want) || res.Status != stack.StatusUpdateRollbackComplete {
				t.Errorf("statuses %v (result %s), want %v", got, res.Status, want)
			}
			log := w.aws.logged()
			checkNothingDeletedUnderAnAlias(t, log)
			last := -1
			for _, e := range tc.wantInLog {
				i := at(log[last+1:], e)
				if i < 0 {
					t.Fatalf("%q is not in the log after entry %d:\n%s", e, last, strings.Join(log, "\n"))
				}
				last += 1 + i
			}
			if got := w.aws.versions("orders"); !slices.Equal(got, []string{"1"}) {
				t.Errorf("orders versions %v, want [1]", got)
			}
			if got := w.aws.versions("payments"); !slices.Equal(got, tc.wantPayments) {
				t.Errorf("payments versions %v, want %v", got, tc.wantPayments)
			}
			fn := w.aws.functions["orders"]
			if fn.sha != wasSha || fn.memory != 128 || fn.aliases["live"].version != "1" || len(fn.aliases["live"].weights) != 0 {
				t.Errorf("orders after the rollback: code %s (was %s), memory %d, live → %s %v", fn.sha, wasSha, fn.memory, fn.aliases["live"].version, fn.aliases["live"].weights)
			}
			if w.aws.functions["broken"] != nil {
				t.Error("the broken function exists")
			}
			rec := w.record()
			// The resources are what they were; their statuses tell the rollback's own steps (UPDATE_COMPLETE where
			// it put something back), as CloudFormation's do.
			if !reflect.DeepEqual(withoutStatus(rec.Resources), withoutStatus(was.Resources)) || !reflect.DeepEqual(rec.Outputs, was.Outputs) || rec.TemplateSHA256 != was.TemplateSHA256 {
				t.Errorf("the record after the rollback:\n%+v\nwant the one before the deploy:\n%+v", rec.Resources, was.Resources)
			}
			var restored, gone []string
			for _, c := range res.Changes {
				if c.Action == ActionRestore {
					restored = append(restored, c.LogicalID)
				}
			}
			for _, c := range rec.Cleanup {
				if c.Why != stack.RemovalRolledBack || c.Outcome != stack.OutcomeDeleted {
					t.Errorf("cleanup %+v", c)
				}
				gone = append(gone, c.LogicalID)
			}
			if !slices.Equal(restored, tc.wantRestored) || !slices.Equal(gone, tc.wantNewGone) {
				t.Errorf("restored %v, deleted %v; want %v, %v", restored, gone, tc.wantRestored, tc.wantNewGone)
			}
		})
	}
}

// TestRollbackFailed: when what a deploy changed cannot be put back, the stack is UPDATE_ROLLBACK_FAILED
// (ErrRollbackFailed, exit 1), nothing is deleted — the new version may still be needed by what kept its new
// properties — and the record says what exists: the new version, the function as the deploy left it, and the version
// it replaced as superseded, which the cleanup of the next deploy that succeeds deletes.
func TestRollbackFailed(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "Version", description: "one"})
	before := len(w.stacks.statuses)
	w.aws.outcome = "Failed"
	configurations := 0
	w.aws.fail = func(op, target string) string {
		if op == "UpdateFunctionConfiguration" && target == "orders" {
			if configurations++; configurations > 1 {
				return "the configuration cannot be put back"
			}
		}
		return ""
	}
	v2 := app{release: "v2", version: "Version", description: "two", memory: 256}
	res, err := w.deploy(v2)
	if !errors.Is(err, ErrRollbackFailed) || !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "the configuration cannot be put back") {
		t.Fatalf("deploy: %v", err)
	}
	want := []stack.Status{stack.StatusUpdateInProgress, stack.StatusUpdateRollbackInProgress, stack.StatusUpdateRollbackFailed}
	if got := w.statusesSince(before); !slices.Equal(got, want) || res.Status != stack.StatusUpdateRollbackFailed || !res.Status.Failed() {
		t.Errorf("statuses %v (result %s), want %v", got, res.Status, want)
	}
	if got := w.aws.versions("orders"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("versions %v, want [1 2]: nothing is deleted when the rollback failed", got)
	}
	rec := w.record()
	if rec.Resources["Version"].PhysicalID != versionARN+"2" || str(rec.Resources["Fn"].Properties, "MemorySize") != "256" {
		t.Errorf("the record does not say what exists: %+v", rec.Resources)
	}
	if len(rec.Superseded) != 1 || rec.Superseded[0].Resource.PhysicalID != versionARN+"1" || len(rec.Cleanup) != 0 {
		t.Errorf("superseded %+v, cleanup %+v", rec.Superseded, rec.Cleanup)
	}
	if rec.Status != stack.StatusUpdateRollbackFailed || rec.Reason != "The following resource(s) failed to update: [Live]. " {
		t.Errorf("record %s: %q", rec.Status, rec.Reason)
	}
	if !slices.ContainsFunc(w.events, func(e string) bool {
		return strings.HasPrefix(e, "Fn UPDATE_FAILED: ") && strings.Contains(e, "the configuration cannot be put back")
	}) {
		t.Errorf("no event tells why Fn could not be put back:\n%s", strings.Join(w.events, "\n"))
	}

	// Deployed again once the problem is gone, live moves to version 2, and only then is version 1 deleted.
	w.aws.outcome, w.aws.fail = "Succeeded", nil
	if res := w.mustDeploy(v2); res.Status != stack.StatusUpdateComplete {
		t.Fatalf("the next deploy: %s", res.Status)
	}
	checkNothingDeletedUnderAnAlias(t, w.aws.logged())
	rec = w.record()
	if got := w.aws.versions("orders"); !slices.Equal(got, []string{"2"}) || len(rec.Superseded) != 0 || len(rec.Cleanup) != 1 || rec.Cleanup[0].Why != stack.RemovalReplaced {
		t.Errorf("after the next deploy: versions %v, superseded %+v, cleanup %+v", got, rec.Superseded, rec.Cleanup)
	}
}

// TestInterruptedDeployLeavesTheCleanupToItsResumption: a deploy interrupted during its shift (the server stopped)
// records no end and rolls nothing back (the deployment goes on): the stack stays in progress under its owner, the
// version it replaced recorded as superseded, undeleted; resumed — the deployment having succeeded meanwhile — it
// adopts the deployment and deletes that version in its cleanup.
func TestInterruptedDeployLeavesTheCleanupToItsResumption(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "Version", description: "one"})
	v2 := app{release: "v2", version: "Version", description: "two"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w.aws.onPoll(cancel) // the server stops while the deployment runs
	if _, err := w.run(ctx, v2.template(), Options{}); err == nil || ctx.Err() == nil {
		t.Fatalf("interrupted deploy: %v", err)
	}
	w.aws.onPoll(nil)
	rec := w.record()
	if rec.Status != stack.StatusUpdateInProgress || rec.Owner != owner {
		t.Fatalf("after the interruption: %s, owner %q", rec.Status, rec.Owner)
	}
	if len(rec.Superseded) != 1 || rec.Superseded[0].LogicalID != "Version" || rec.Superseded[0].Resource.PhysicalID != versionARN+"1" {
		t.Fatalf("superseded %+v", rec.Superseded)
	}
	if got := w.aws.versions("orders"); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("versions %v after the interruption", got)
	}
	w.aws.finish("d-1") // the deployment went on, and succeeded
	res, err := w.run(t.Context(), v2.template(), Options{Resuming: true})
	if err != nil {
		t.Fatalf("resumed: %v\n%s", err, strings.Join(w.events, "\n"))
	}
	rec = w.record()
	if res.Status != stack.StatusUpdateComplete || len(rec.Superseded) != 0 || !slices.Equal(w.aws.versions("orders"), []string{"2"}) {
		t.Errorf("resumed: %s, superseded %+v, versions %v", res.Status, rec.Superseded, w.aws.versions("orders"))
	}
	if got := w.aws.deployments(); len(got) != 1 {
		t.Errorf("deployments %v: the resumed deploy started another", got)
	}
	checkNothingDeletedUnderAnAlias(t, w.aws.logged())
}

// TestCleanupSkipsWhatItCannotDelete: as in CloudFormation, a deletion that fails in the cleanup is skipped — the
// update has succeeded (UPDATE_COMPLETE, no error) — and the record says the resource was left in the account.
func TestCleanupSkipsWhatItCannotDelete(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "VersionA"})
	w.aws.functions["orders"].aliases["pinned"] = &fakeAlias{version: "1"} // made by hand, outside the stack
	res, err := w.deploy(app{release: "v2", version: "VersionB"})
	if err != nil || res.Status != stack.StatusUpdateComplete {
		t.Fatalf("deploy: %v, %s", err, res.Status)
	}
	rec := w.record()
	if len(rec.Cleanup) != 1 || rec.Cleanup[0].Outcome != stack.OutcomeDeleteFailed || !strings.Contains(rec.Cleanup[0].Reason, "[pinned]") {
		t.Fatalf("cleanup %+v", rec.Cleanup)
	}
	if _, kept := rec.Resources["VersionA"]; kept || !slices.Equal(w.aws.versions("orders"), []string{"1", "2"}) {
		t.Errorf("resources %v, versions %v", rec.Resources, w.aws.versions("orders"))
	}
	for _, c := range res.Changes {
		if c.LogicalID == "VersionA" && (c.Action != ActionDelete || !strings.Contains(c.Detail, "not deleted")) {
			t.Errorf("change %+v", c)
		}
	}
}

// TestDeleteStackDeletesWhatWasSuperseded: deleting a stack deletes, in reverse dependency order, its resources and
// the physical resources a deploy replaced and no cleanup deleted yet (its rollback failed: UPDATE_ROLLBACK_FAILED,
// which a DeleteStack may follow).
func TestDeleteStackDeletesWhatWasSuperseded(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "Version", description: "one"})
	w.aws.outcome = "Failed"
	configurations := 0
	w.aws.fail = func(op, target string) string {
		if op == "UpdateFunctionConfiguration" && target == "orders" {
			if configurations++; configurations > 1 {
				return "the configuration cannot be put back"
			}
		}
		return ""
	}
	if _, err := w.deploy(app{release: "v2", version: "Version", description: "two", memory: 256}); !errors.Is(err, ErrRollbackFailed) {
		t.Fatalf("deploy: %v", err)
	}
	if rec := w.record(); rec.Status != stack.StatusUpdateRollbackFailed || len(rec.Superseded) != 1 {
		t.Fatalf("after the deploy: %s, superseded %+v", rec.Status, rec.Superseded)
	}
	w.aws.fail = nil
	res, err := w.remove()
	if err != nil || res.Status != stack.StatusDeleteComplete || w.record().Status != stack.StatusDeleteComplete {
		t.Fatalf("delete: %v %s", err, res.Status)
	}
	log := w.aws.logged()
	if w.aws.functions["orders"] != nil || len(w.aws.groups) != 0 {
		t.Errorf("left after the delete: %v\n%s", w.aws.functions, strings.Join(log, "\n"))
	}
	deletions := log[at(log, "DeleteAlias"):]
	want := []string{"DeleteAlias orders:live", "DeleteDeploymentGroup orders/orders-live", "DeleteFunction orders:2", "DeleteFunction orders:1",
		"DeleteFunction orders", "DeleteApplication orders"}
	if !slices.Equal(deletions, want) {
		t.Errorf("deletions\n%s\nwant\n%s", strings.Join(deletions, "\n"), strings.Join(want, "\n"))
	}
}

// TestS3Code: a template whose Code names an S3 object (as `aws cloudformation package` and CDK's asset publishing
// leave it) is passed to Lambda as Code.S3Bucket/S3Key, which reads the object itself; a new key is new code
// (UpdateFunctionCode from the new object); and a rolled-back shift restores the object the stack had.
func TestS3Code(t *testing.T) {
	w := newWorld(t)
	w.mustDeploy(app{release: "v1", version: "VersionA", s3Key: "asset-1.zip"})
	log := w.aws.logged()
	if at(log, "CreateFunction orders from s3://assets/asset-1.zip?") < 0 {
		t.Fatalf("first deploy:\n%s", strings.Join(log, "\n"))
	}
	w.mustDeploy(app{release: "v2", version: "VersionB", s3Key: "asset-2.zip"})
	log = w.aws.logged()
	if at(log, "UpdateFunctionCode orders from s3://assets/asset-2.zip?") < 0 {
		t.Fatalf("second deploy:\n%s", strings.Join(log, "\n"))
	}
	w.aws.outcome = "Failed"
	if _, err := w.deploy(app{release: "v3", version: "VersionC", s3Key: "asset-3.zip"}); err == nil {
		t.Fatal("a failed shift deployed")
	}
	log = w.aws.logged()
	restore := at(log, "UpdateFunctionCode orders from s3://assets/asset-3.zip?")
	back := slices.IndexFunc(log[restore+1:], func(s string) bool { return s == "UpdateFunctionCode orders from s3://assets/asset-2.zip?" })
	if restore < 0 || back < 0 {
		t.Errorf("the rollback did not restore the previous object:\n%s", strings.Join(log, "\n"))
	}
}
