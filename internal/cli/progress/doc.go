// Package progress owns how `sluice deploy` shows a deployment while CodeDeploy shifts traffic: the
// [Snapshot] of each function's deployment the command polls, and two [Renderer]s that print it.
//
// The package only formats; it never polls, sleeps or reads the clock except when a Snapshot leaves Now zero.
// Time comes in as Snapshot.Now, so output is a pure function of the snapshots and tests are golden strings.
//
// # Terminal
//
// [NewTerminal] redraws one compact block in place: it moves the cursor up over the lines it drew last time
// (CSI n A), clears and rewrites each line (CSI 2K), and clears whatever a longer previous block left below
// (CSI J). There is no alternate screen, so scrollback keeps what was printed before, and [Renderer.Close]
// leaves the final state on screen. Per function:
//
//	orders:live  v3 → v4  Canary10Percent5Minutes  InProgress
//	  [███░░░░░░░░░░░░░░░░░░░░░░░░░]  10% → v4  canary at 10%  next shift in 3m12s
//	  alarms: OrdersErrorsAlarm OK · OrdersLatencyP99Alarm OK   hooks: pre ✓ post …   blast radius: 1,204 req, 0 errors
//	  <Message, word-wrapped, when there is one>
//
// Lines are laid out to the width given, minus one column: writing the last column makes some terminals
// wrap early, which would break the cursor-up count. When space runs short the least useful parts go first:
// the step text, the configuration name and the versions are left out; the bar narrows to keep the countdown,
// then the countdown goes; alarms, hooks and blast radius move onto lines of their own and alarms that are OK
// are counted instead of named; last, text is cut with "…". Colour (SGR) is used only when asked for and the NO_COLOR
// environment variable is unset or empty (https://no-color.org).
//
// # Plain
//
// [NewPlain] is for CI logs and pipes: one line per change of a function's state, stamped with
// Snapshot.Now in UTC, and nothing when a poll finds nothing new:
//
//	2026-11-26T12:00:03Z orders:live v4 InProgress 10% canary at 10% (next shift 12:05:03) alarms OK hooks pre=Succeeded
//
// The blast-radius counters grow on every poll while traffic flows, so they are printed with each line (once
// the new version has served a request) but do not count as a change, except the first error. Close prints each function's final line, counters included,
// unless that exact line was already printed.
//
// Text that comes from the server (step, message, names) is printed with control characters replaced by
// spaces, so a multi-line hook error cannot break the layout or inject escape sequences.
package progress
