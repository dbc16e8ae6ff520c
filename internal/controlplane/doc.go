// Package controlplane owns the Lambda control plane's use cases: it applies the rules of package lambda to
// durable records in a store.Store, keeps account-wide aggregates, and runs the background processor that
// settles functions (Pending → Active, InProgress → Successful/Failed) after their packages are really processed.
//
// Store layout (all values JSON):
//
//	fn/<name>                    lambda.Function ($LATEST and function-level settings)
//	ver/<name>/<0000000042>      lambda.Version (immutable snapshot)
//	alias/<name>/<alias>         lambda.Alias
//	seq/<name>                   last version number ever issued — kept when the function is deleted, so numbers
//	                             are never reused (the seed's rule; AWS restarts at 1)
//	work/<name>                  present while the processor owes the function work
//	acct/usage                   {FunctionCount, TotalCodeSize, ReservedConcurrency}
package controlplane
