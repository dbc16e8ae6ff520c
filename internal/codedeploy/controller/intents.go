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
