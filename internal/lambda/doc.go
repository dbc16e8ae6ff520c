// Package lambda owns the rules of Lambda's control plane, free of HTTP and storage: function, version and alias
// records; function names, ARNs and qualifiers; configuration defaults and limits; the state machine (Pending /
// Active / Inactive / Failed and LastUpdateStatus); publish idempotence; and alias routing constraints.
//
// Everything here is a pure function of its inputs and returns *fault.Error values carrying AWS's exception names
// and messages, so the API edge only has to encode them.
package lambda
