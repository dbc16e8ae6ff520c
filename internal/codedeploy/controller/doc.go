// Package controller runs CodeDeploy-style deployments of Lambda aliases: it keeps applications, deployment groups,
// custom configs and deployment records in the store, and drives every open deployment with level-triggered
// reconcile passes, several deployments at once, each asking deploy.Decide what to do next and doing it — move the
// alias, invoke a hook, start a rollback. It wakes on its schedule, on every write to a deployment's keys that the
// store's watch shows — a new deployment, a stop request, a hook report, made through this process or any other
// sharing the store —, and at once when an alarm changes state, so a rollback follows an alarm within
// milliseconds, whatever other deployments are doing. A restart simply reconciles every open deployment again.
//
// # Store layout
//
// JSON values; the keys are built in keys.go and nowhere else.
//
//	cd/app/<application>             deploy.Application
//	cd/dg/<application>/<group>      deploy.DeploymentGroup
//	cd/dc/<config>                   deploy.DeploymentConfig (custom ones; predefined ones are built in)
//	cd/dep/<id>                      deploy.Deployment, with its StoreRevision
//	cd/open/<id>                     present while the deployment is not terminal (put once, when it is created)
//	cd/intent/<id>                   intents: the stop request, the traffic controls, and Seq, which counts every intent written
//	cd/hook/<id>/<execution>         a dispatched hook execution (value: its result, "" while pending)
//	cd/settle/<id>                   a finished deployment whose blast radius is still being recounted
//
// # Who writes what
//
// A deployment record is written by CreateDeployment and otherwise only by the controller. What API callers ask of
// a running deployment lives apart from it, where a pass never writes: StopDeployment puts its request in
// cd/intent/<id>; PutLifecycleEventHookExecutionStatus puts the report in cd/hook/<id>/<execution>; a traffic
// control (pause, resume, skip, promote: ControlDeployment) is appended to the list in cd/intent/<id>. Each bumps
// the intents' Seq in the same transaction, after checking the call against the record as it is then (a completed
// deployment refuses all three). The controller adds an execution to the dispatch log only if it is not there yet, so a
// hook answering before its invocation returns keeps its report. ContinueDeployment writes nothing (a Lambda
// deployment never waits to be continued).
//
// # A pass
//
// Controllers are level-triggered and compare-and-swap, in controller-runtime's model. A pass over one deployment
// reads, in one view, the record, its intents and its hook log; observes the world (the alias, the target version,
// the alarms); calls Decide with the stop request and the hook results in the observation; pre-warms and counts the
// blast radius; then saves the decided record, with the rollback deployments it started, in one transaction that
// first checks that the record is still at the StoreRevision and the intents still at the Seq it read. If either
// moved — a stop or a hook report arrived while the pass was deciding — nothing is written, the decision and its
// actions are dropped, and the deployment is requeued for another pass, which decides from what is stored now.
// Only after a successful save are the actions performed (alias update, hook invocation), so a crash or a dropped
// decision loses only actions Decide will ask for again.
//
// Consequently a StopDeployment answered Pending is always honoured: either its transaction committed before a
// pass saved (which then fails its check and decides again, with the stop), or the pass's record was already
// terminal when the request was checked, and the request was refused with DeploymentAlreadyCompletedException.
//
// # Workers
//
// Run works on deployments through a queue of deployment ids, again in controller-runtime's model: an id queued
// twice before a worker takes it is worked on once; an id is held by at most one worker at a time (queued again
// if it was added meanwhile), so two passes over one deployment never overlap; Workers workers take ids, so
// deployments progress independently — one deployment's pre-warm, hook invocation or slow observation never
// delays another's pass, and an alarm-triggered rollback in particular. There is no lock across passes: passes
// over different deployments meet only in the store, where the compare-and-swap above orders them, and the
// controller's one mutex guards what Run keeps in memory (timers, the open set, who waits for whom) and is never
// held across I/O. API calls never wait for a pass, nor tell Run anything: they write to the store, and Run
// learns of the write from its watch, as it would of a write made by another process.
//
// # Wake-ups
//
// Run lists the open and settling deployments (cd/open/, cd/settle/) and the revision it read them at, queues
// them all, and watches cd/ from the next revision. Each commit queues exactly the deployments whose keys it
// changed, and only for the keys that call for a pass: a new open key (a deployment created, or a rollback a pass
// started), an intent (a stop request, the count of a hook report), a hook report in the dispatch log (not the
// controller's own note of a dispatch). A record write (cd/dep/) wakes nothing — it is a pass's own output, and were
// it to wake its deployment, two controllers sharing the store would wake each other for ever; nor do
// applications, groups and configurations, which a deployment copied when it was created. The removal of an open
// key queues the deployments Queued behind the one that ended (a pass that leaves its deployment Queued notes whom
// it waits for, then looks once more, so a removal the watch applied meanwhile is not missed). A settle key starts
// the deployment's blast-radius recount, which then runs every second on its own timer until blastRadiusSettle
// after the end; its removal stops it.
//
// Besides the watch, a deployment is queued by its own wake-up timer (the WakeAt of its last pass, or a second
// after a pass that failed), by a pass that acted, started a rollback (the rollback's id) or lost its
// compare-and-swap, and by an alarm changing state (every open deployment, from the open set the watch keeps, on
// the alarm's notification goroutine). When the watch falls behind the store's history (ErrCompacted, ErrLagged)
// Run lists again and watches from the new listing; it also lists again every 30 seconds, as a backstop for what
// it does not watch — the world outside its keys: an alias moved by hand, a version deleted, an alarm evaluated by
// another process. A pass reads the other open deployments only for a deployment that has not started (the one
// place they matter: Observe.BlockedBy). All of Run's timers go through Options.AfterFunc, so a test steps Run
// with a fake clock.
//
// ReconcileAll, for tests, runs one pass over every open deployment on the caller's goroutine instead; it must not
// run alongside Run.
package controller
