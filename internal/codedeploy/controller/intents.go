package controller

import (
	"errors"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// intents is what API callers asked of one deployment, kept at cd/intent/<id>, apart from the record the
// controller writes, so that no reconcile pass can overwrite it. Seq counts every intent written for the
// deployment — a stop request here, a hook report in the dispatch log — so that a pass can tell, when it saves,
// whether one arrived while it was deciding.
type intents struct {
	Seq int64 `json:"seq"`
	// Stop is the first StopDeployment request, with its rollback choice.
	Stop *codedeploy.StopRequest `json:"stop,omitempty"`
	// Controls are the traffic controls accepted for the deployment (pause, resume, skip, promote), oldest first;
	// the record counts those a pass applied (Deployment.ControlsApplied).
	Controls []codedeploy.TrafficControl `json:"controls,omitempty"`
	// HookProblems are what went wrong with hook runs that their statuses would not tell (an invocation that
	// failed or was refused, a status report IAM denied), for the next pass to put on the record.
	HookProblems []hookProblem `json:"hookProblems,omitempty"`
}

// hookProblem is one problem with the run of one hook execution, as NoteHookProblem records it on the event.
type hookProblem struct {
	Execution string `json:"execution"`
	Detail    string `json:"detail"`
}

// loadIntents returns a deployment's intents; none is the zero value.
func loadIntents(tx store.Tx, id string) (intents, error) {
	var in intents
	err := store.GetJSON(tx, intentKey(id), &in)
	if errors.Is(err, store.ErrNotFound) {
		return intents{}, nil
	}
	return in, err
}

// putIntents writes a deployment's intents, counting the write.
func putIntents(tx store.Tx, id string, in intents) error {
	in.Seq++
	return store.PutJSON(tx, intentKey(id), in)
}
