// Package cloudformation owns stacks as the CloudFormation API sees them: the use cases of CreateStack,
// UpdateStack, DeleteStack, the change sets, the describes and listings, and the controller that carries the
// operations out.
//
// A stack is one record in package stack's store — the same record `sluice deploy` keeps, so `sluice stack
// status` and the API list the same stacks — with the API's settings in it (its ID, capabilities, tags, the
// parameters as given, outputs' descriptions and exports). An API call validates, then commits in one
// transaction the stack in its *_IN_PROGRESS status with the Operation still owed, the stack's first event and a
// work key; it answers at once, as CloudFormation does. The controller (controller.go) is level-triggered, in
// controller-runtime's model: it lists the work keys, follows the store's watch of them, and for each stack runs
// the engine (the Engine interface; internal/stackdeploy behind an adapter the server wires), which records every
// step in the record itself, compare-and-swap on its revision, and reports each resource's step as an event; once
// the engine returns, the controller ends the operation in one transaction. A restart, or another node taking the
// controller's leadership in a cluster, runs the engine again and it resumes from the record (its journal, the
// traffic shifts it started). Change sets are computed by the controller the same way, with the engine's dry run.
//
// The engine acts as the caller: every API call it makes is signed with a session minted for the operation —
// the caller's own permissions (a forward access session) or, when the stack has a RoleARN, a session of that
// role, which must trust cloudformation.amazonaws.com — and authorized as AWS would authorize it. The session is
// revoked when the operation ends.
//
// # Store layout
//
//	stack/<name>                  the stack record (package stack), with the Operation the controller owes
//	cfn/op/<name>                 work: the stack has an operation (value: its ID)
//	cfn/csop/<stack>/<change set> work: a change set to compute (keyed by stack name and change set UUID)
//	cfn/cs/<stack>/<change set>   a change set (ChangeSet), by stack name and change set UUID
//	cfn/tpl/<key>                 a template as given and as processed (storedTemplate)
//	cfn/ev/<stack uuid>/<seq>     a stack's events, oldest first (at most MaxEventsPerStack; the oldest go)
//	cfn/evseq/<stack uuid>        the next event's sequence number and the first one kept
//	cfn/deleted/<stack uuid>      a deleted stack as listings and describes by ID show it (DELETE_COMPLETE)
//	cfn/deletedat/<time>/<uuid>   the order deleted stacks are forgotten in (at most MaxDeletedStacks)
package cloudformation
