package codedeploy

import (
	"encoding/base64"
	"fmt"
	"io"
)

// IDSource mints the identifiers Decide needs: hook execution IDs and the IDs of rollback deployments. RandomIDs
// is the production implementation; tests use a deterministic one.
type IDSource interface {
	DeploymentID() (string, error)
	HookExecutionID() (string, error)
}

// RandomIDs draws identifiers from Rand (crypto/rand.Reader in production).
type RandomIDs struct{ Rand io.Reader }

// DeploymentID implements IDSource.
func (r RandomIDs) DeploymentID() (string, error) { return NewDeploymentID(r.Rand) }

// HookExecutionID implements IDSource.
func (r RandomIDs) HookExecutionID() (string, error) { return NewHookExecutionID(r.Rand) }

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// DeploymentIDLength is the length of a deployment ID: "d-" and nine characters.
const DeploymentIDLength = 11

// NewDeploymentID returns "d-" followed by nine characters drawn uniformly from A–Z and 0–9, CodeDeploy's shape
// (d-RPCR1U3TW). Bytes of 252 and above are discarded so that every character is equally likely.
func NewDeploymentID(rand io.Reader) (string, error) {
	out := make([]byte, 2, DeploymentIDLength)
	copy(out, "d-")
	var buf [16]byte
	for len(out) < DeploymentIDLength {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return "", fmt.Errorf("deployment id: %w", err)
		}
		for _, b := range buf {
			if b >= 252 || len(out) == DeploymentIDLength {
				continue
			}
			out = append(out, idAlphabet[int(b)%len(idAlphabet)])
		}
	}
	return string(out), nil
}

// ValidDeploymentID reports whether id has the shape NewDeploymentID produces.
func ValidDeploymentID(id string) bool {
	if len(id) != DeploymentIDLength || id[:2] != "d-" {
		return false
	}
	for i := 2; i < len(id); i++ {
		c := id[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// NewHookExecutionID returns an opaque, URL- and JSON-safe execution ID (32 random bytes, base64url). Clients must
// treat it as opaque, as they do AWS's.
func NewHookExecutionID(rand io.Reader) (string, error) {
	var buf [32]byte
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return "", fmt.Errorf("hook execution id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf[:]), nil
}
