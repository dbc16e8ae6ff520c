// Package codedeploy owns the rules of Sluice's CodeDeploy-compatible deployments of Lambda aliases: deployment
// configurations and their traffic schedules, AppSpec revisions, the deployment record with its lifecycle, and
// Decide, the one function a level-triggered controller calls to move a deployment forward.
//
// The package is pure: no store, no HTTP, no goroutines, no clock (time is an input), no randomness except through
// an io.Reader or IDSource. Errors for API calls are *fault.Error values carrying CodeDeploy's exception names
// (InvalidRevisionException, DeploymentConfigDoesNotExistException, …); deployment failures are recorded in the
// record's errorInformation with CodeDeploy's error codes (HOOK_EXECUTION_FAILURE, ALARM_ACTIVE, …).
//
// # Model
//
//   - DeploymentConfig / TrafficRouting: AllAtOnce, TimeBasedCanary or TimeBasedLinear with a percentage and an
//     interval in minutes. The nine CodeDeployDefault.Lambda* configurations are built in (PredefinedConfigs,
//     IsPredefined); custom ones are validated by NewCustomConfig. ConfigNameFromSAM maps SAM's short names.
//   - Steps / ProgressAt: the schedule as a list of (offset, percent) increments and where it stands at a moment,
//     at a time scale (a configured minute lasts 60/scale seconds).
//   - Revision / AppSpec: CreateDeployment's RevisionLocation and the parsed AppSpec (ParseRevision).
//   - Deployment: the persisted record — inputs (config, AppSpec, alarms, auto-rollback), status, errorInformation,
//     the five lifecycle events (Start, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic, End) with their
//     status, times and hook execution IDs, rollbackInfo, the weight last asked of the alias, a timeline,
//     blast-radius counters the controller fills in, and StoreRevision, the count of its writes to the store that
//     the controller's compare-and-swap checks. It is plain JSON-encodable data.
//   - NewDeployment (CreateDeployment) validates a creation and returns the Created record.
//   - User intents — StopDeployment and PutLifecycleEventHookExecutionStatus — are validated by NewStopRequest and
//     CheckHookReport, which return what to keep apart from the record and hand to Decide in Observe
//     (StopRequested, Hooks). RequestStop and ReportHookStatus are their variants for a controller that keeps
//     intents in the record itself; Sluice's does not (see below).
//   - Traffic controls (control.go), Sluice's extensions: PauseDeployment, ResumeDeployment, SkipWaitTime and
//     PromoteDeployment, validated by CheckControl against the record and the controls accepted before it, kept
//     apart from the record like a stop, and handed to Decide in Observe.Controls; Decide applies the ones the
//     record has not (ControlsApplied), in order, each checked again (one that no longer fits is noted as
//     controlIgnored). A pause (Hold) freezes the schedule's clock and lets no lifecycle event begin — a hook
//     running finishes, alarms and stops act as ever; a resume moves the schedule's origin (ScheduleOrigin) later by
//     the time paused, so the step in effect keeps the wait it had left; a skip moves the origin so that the next
//     step is in effect at once (while paused, it moves the held step); a promote (Promoted) puts AllowTraffic at
//     100 % as soon as it begins and ends a pause. A paused deployment stays InProgress; StatusMessages says so.
//   - Decide(d, Observe, IDSource) returns the next record and the Actions to perform: SetAlias, InvokeHook,
//     StartRollback.
//
// # The controller's contract
//
// On every tick (at the latest at the record's WakeAt, and whenever an input changes: a hook report, a stop, an
// alarm evaluation) the controller reads the record with the intents kept apart from it (the stop request, the
// hook dispatch log with its reports), observes the alias and the alarms, calls Decide, and persists the returned
// record with a compare-and-swap: the write succeeds only if neither the record nor the intents changed since they
// were read, and otherwise nothing is written, the decision and its actions are dropped, and the deployment is
// decided again from what is stored now. Only then does it perform the actions. User intents are never written by
// the controller's pass, so a pass cannot overwrite them; with the compare-and-swap, a stop accepted (Pending) while
// a pass was deciding is performed by the next pass instead of being lost under a decision made without it.
// A StartRollback record is a store write and belongs in the same transaction as the record (RollbackOf rebuilds
// it if it was lost). A crash between persisting and acting loses nothing: alias updates are re-derived from the
// observed alias, and a hook execution the dispatch log (Observe.Hooks) does not list is invoked again with the
// same ID. Calling Decide again after the actions were applied returns no action; a restart is just another call.
// internal/codedeploy/controller describes the store keys and transactions that implement this.
//
// # Lifecycle
//
// Start validates the function as it is: the alias must exist and point at CurrentVersion with no additional
// version, TargetVersion must exist, and CurrentVersion == TargetVersion is only allowed for AllAtOnce (AWS fails
// canary and linear deployments of an unchanged version). Failures end the deployment Failed with
// INVALID_LAMBDA_CONFIGURATION (INVALID_LAMBDA_FUNCTION when the function is gone) and AWS's message, e.g. "… The
// Lambda function alias version does not match the current version in AppSpec file.", and never roll back.
//
// BeforeAllowTraffic and AfterAllowTraffic invoke their hook (asynchronously, payload {"DeploymentId",
// "LifecycleEventHookExecutionId"}) with a fresh execution ID and wait for Succeeded or Failed; an event without a
// hook is Skipped. A Failed report fails the deployment with HOOK_EXECUTION_FAILURE; no report within
// Observe.HookTimeout (default one hour, real time, never scaled) fails it with TIMEOUT. A pre-traffic failure
// leaves the alias untouched.
//
// AllowTraffic asks the alias for the schedule's current increment — FunctionVersion=CurrentVersion with
// AdditionalVersionWeights {TargetVersion: w} while w < 1, then FunctionVersion=TargetVersion with the routing
// removed — and completes only once the alias is observed in the final state. Only published version numbers are
// ever written.
//
// At any moment, in every phase (hooks included), an alarm of the deployment in ALARM stops it: Stopped,
// ALARM_ACTIVE, "One or more alarms have been activated … Activated alarms: <name> …". A recorded stop request
// stops it with MANUAL_STOP. On failure or stop the event in progress becomes Failed and the ones not started
// Skipped.
//
// Rollback happens when the triggering event is covered — DEPLOYMENT_FAILURE (hook failure or timeout),
// DEPLOYMENT_STOP_ON_ALARM, or for a stop the request's autoRollbackEnabled (nil: DEPLOYMENT_STOP_ON_REQUEST) —
// and the deployment got past Start. Decide then asks for the alias back on CurrentVersion with no routing and
// creates a rollback deployment (creator codeDeployRollback, CodeDeployDefault.LambdaAllAtOnce, the AppSpec with
// the versions swapped, no hooks, no alarms, no auto-rollback) which the controller reconciles like any other and
// which, level-based, finishes putting the alias back. rollbackInfo on both records uses AWS's wording: "Deployment
// d-X terminated. Automatic rollback is triggered with a DeploymentId d-Y." and "Deployment d-Y is triggered to
// roll back deployment d-X.". A stop without rollback leaves the alias split, as on AWS.
//
// # Decisions where AWS is silent
//
//   - Linear schedules: ⌈100/p⌉ increments of p % (the last capped at 100 %), one interval apart, the first at
//     once: Linear10PercentEvery1Minute gives 10 % … 90 % at minutes 0 … 8 and 100 % at minute 9 (a recorded
//     CodeDeploy linear shift reached 100 % about nine intervals after its first increment; the reference table's
//     "≈ 10 min" counts ten increments). Canary: p % at once, 100 % after the interval. Weights are p/100, so they
//     are the floats nearest 0.1, 0.2, … without accumulated noise.
//   - Custom configuration limits (the API model declares none): percentages 1–99; a canary interval 1–2880
//     minutes; a linear interval ≥ 1 with interval × ⌊100/p⌋ ≤ 2880 (what CodeDeploy was measured to accept; its
//     messages are reused). A block of the other routing type is ignored.
//   - AppSpec: YAML or JSON (JSON read by encoding/json so tab-indented JSON works), keys case-insensitive, version
//     written 0.0 or "0.0", versions positive integers (leading zeros dropped), Hooks as a list of single-key maps
//     or a map, unknown top-level keys ignored but unknown resource or property keys refused, YAML aliases
//     expanded under a node budget. Exactly one AWS::Lambda::Function resource: AWS deploys one function per
//     deployment (one target per resource); more is refused instead of partially deployed. S3 and GitHub
//     revisions are refused with InvalidRevisionException. The AppSpec is validated at CreateDeployment
//     (InvalidRevisionException); what depends on the function's state is validated at Start.
//   - Alias drift: if, after Start, the alias is seen in a state the deployment could not have put it in (another
//     version, a weight not on the schedule, a split during a hook, the alias deleted), the deployment fails with
//     INVALID_LAMBDA_CONFIGURATION and is not rolled back: the alias now belongs to whoever changed it. During
//     AllowTraffic any state of the schedule is accepted (a lost update or a clock stepping back is re-issued,
//     not treated as drift). Zero weights are ignored and weights compared to within 1e-9.
//   - An alarm (or a stop) before the deployment got past Start stops it without a rollback deployment (nothing
//     was changed); rollbackInfo.rollbackMessage says so. Alarm states that cannot be read stop the deployment
//     with ALARM_ACTIVE unless ignorePollAlarmFailure; alarms are ignored when the configuration is disabled, and
//     by rollback deployments (the alarm that triggered them is usually still in ALARM).
//   - Stop: StopDeployment answers Pending (Decide performs the stop on its next call, noting the request at the
//     time it was made); a second request while one is pending keeps the first's rollback choice; a deployment
//     already completed when the request is checked answers DeploymentAlreadyCompletedException. A deployment
//     stopped before it started is Stopped with every event Skipped.
//   - Hook reports: only Succeeded and Failed are accepted (InvalidLifecycleEventHookExecutionStatusException), for
//     an execution ID of this deployment (InvalidLifecycleEventHookExecutionIdException) whose event is still
//     waiting (else LifecycleEventAlreadyCompletedException — also after a timeout or stop). A re-invoked
//     execution keeps its ID, so a late report of the first invocation still counts.
//   - Queued is used when Observe.BlockedBy names a deployment that must finish first; Baking and Ready are never
//     used. The target (and deploymentOverview) of a failed or stopped deployment is Failed if an event failed,
//     else Skipped.
//   - Messages: the INVALID_LAMBDA_CONFIGURATION prefix, the alias-mismatch sentence, the HOOK_EXECUTION_FAILURE and
//     ALARM_ACTIVE messages, the rollback messages, "No deployment configuration found for name: X", "No Deployment
//     Group found for name: X" and the configuration-limit messages are AWS's; the others (TIMEOUT, MANUAL_STOP,
//     drift, AppSpec details) follow its style.
package codedeploy
