// Package deployctl runs CodeDeploy-style deployments of Lambda aliases: it keeps applications, deployment groups,
// custom configs and deployment records in the store, and drives every open deployment with a level-triggered
// reconcile loop that asks deploy.Decide what to do next and does it — move the alias, invoke a hook, start a
// rollback. It wakes on its schedule, on hook reports and stop requests, and at once when an alarm changes state,
// so a rollback follows an alarm within milliseconds. A restart simply reconciles every open deployment again.
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
// Passes are serialised by the controller's mutex; API calls never take it and never wait for a pass.
package deployctl
