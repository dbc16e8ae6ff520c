// Package controlplane owns the Lambda control plane's use cases: it applies the rules of package lambda to
// durable records in a store.Store, keeps account-wide aggregates, and runs the background processor that
// settles functions (Pending → Active, InProgress → Successful/Failed) after their packages are really processed.
//
// Store layout (all values JSON):
//
//	fn/<name>                    lambda.Function ($LATEST and function-level settings)
//	ver/<name>/<0000000042>      lambda.Version (immutable snapshot)
//	alias/<name>/<alias>         lambda.Alias
//	eic/<name>/<qualifier>       EventInvokeConfig (asynchronous invocation settings; "$LATEST" for the function)
//	url/<name>/<qualifier>       URLConfig (a function URL; "$LATEST" for the function's own)
//	pc/<name>/<qualifier>        ProvisionedConfig (a provisioned-concurrency request)
//	pcstate/<name>/<qualifier>   ProvisionedReport: what the execution layer last reported about that request's
//	                             environments (written by invoke through ReportProvisioned, read by Get/List)
//	policy/<name>/<qualifier>    resourcePolicy: the statements and RevisionId of the resource-based policy of
//	                             the function ("$LATEST"), a version or an alias (AddPermission)
//	seq/<name>                   last version number ever issued — kept when the function is deleted, so numbers
//	                             are never reused (the seed's rule; AWS restarts at 1)
//	work/<name>                  present while the processor owes the function work
//	acct/usage                   {FunctionCount, TotalCodeSize, ReservedConcurrency}
//
// What the invoke path knows about a function is a cache of fn/, ver/, alias/, eic/, pc/ and url/ (Snapshot), kept
// current by WatchFunctions, which turns the store's watch into the names of changed functions. No lock spans a
// commit: a call that wrote or read revision R returns once the process's caches have applied R (Options.Progress),
// so a client that saw an alias move or an update succeed invokes what it saw. The resource-based policies are a
// cache of policy/ of their own (policycache.go), read by ResourcePolicyAllows.
package controlplane
