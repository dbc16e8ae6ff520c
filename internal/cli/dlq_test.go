package cli

import (
	"testing"

	"github.com/sluice-dev/sluice/internal/api/lambdaapi"
)

// TestDeadLettersPathAgrees keeps the client's copy of the dead-letters route equal to the route the edge serves.
func TestDeadLettersPathAgrees(t *testing.T) {
	if deadLettersPath != lambdaapi.DeadLettersPath {
		t.Fatalf("cli calls %q, lambdaapi serves %q", deadLettersPath, lambdaapi.DeadLettersPath)
	}
}
