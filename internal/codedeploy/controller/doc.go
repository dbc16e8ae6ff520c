// Package controller runs CodeDeploy-style deployments of Lambda aliases: it keeps applications, deployment groups,
// custom configs and deployment records in the store, and drives every open deployment with level-triggered
// reconcile passes, several deployments at once, each asking deploy.Decide what to do next and doing it — move the
// alias, invoke a hook, start a rollback. It wakes on its schedule, on hook reports and stop requests, and at once
// when an alarm changes state, so a rollback follows an alarm within milliseconds, whatever other deployments are
// doing. A restart simply reconciles every open deployment again.
//
// # Store layout
//
// JSON values; the keys are built in keys.go and nowhere else.
//
//	cd/app/<application>             deploy.Application
//	cd/dg/<application>/<group>      deploy.DeploymentGroup
//	cd/dc/<config>                   deploy.DeploymentConfig (custom ones; predefined ones are built in)
//	cd/dep/<id>                      deploy.Deployment, with its StoreRevision
//	cd/open/<id>                     present while the deployment is not terminal
//	cd/intent/<id>                   intents: the stop request, and Seq, which counts every intent written
//	cd/hook/<id>/<execution>         a dispatched hook execution (value: its result, "" while pending)
//	cd/settle/<id>                   a finished deployment whose blast radius is still being recounted
//
// # Who writes what
//
// A deployment record is written by CreateDeployment and otherwise only by the controller. What API callers ask of
// a running deployment lives apart from it, where a pass never writes: StopDeployment puts its request in
// cd/intent/<id>; PutLifecycleEventHookExecutionStatus puts the report in cd/hook/<id>/<execution>. Both bump the
// intents' Seq in the same transaction, after checking the call against the record as it is then (a completed
// deployment refuses both). The controller adds an execution to the dispatch log only if it is not there yet, so a
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
// delays another's pass, and an alarm-triggered rollback in particular. Ids are queued by an alarm change (every
// open deployment, from the alarm's notification), by API calls (a kick: every open deployment), by each
// deployment's own wake-up timer, by a pass that acted, started a rollback (the rollback's id) or lost its
// compare-and-swap, and once a second for every open deployment. There is no lock across passes: passes over
// different deployments meet only in the store, where the compare-and-swap above orders them, and the
// controller's one mutex guards its timers and is never held across I/O. API calls never wait for a pass.
//
// ReconcileAll, for tests, runs one pass over every open deployment on the caller's goroutine instead; it must not
// run alongside Run.
package controller
