// Package auth owns who may call Sluice: the root credentials (from the environment or generated on first start
// and kept 0600 in the data dir) and the keyring the SigV4 verifier consults. Temporary session credentials (STS)
// plug into the same Keyring.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/durable"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// RootCredentialsFile is where generated root credentials live inside the data dir.
const RootCredentialsFile = "root-credentials.json"

// Env variables that set the root credentials explicitly.
const (
	EnvRootAccessKeyID     = "SLUICE_ROOT_ACCESS_KEY_ID"
	EnvRootSecretAccessKey = "SLUICE_ROOT_SECRET_ACCESS_KEY"
)

// RootCredentials are the long-lived account-root keys.
type RootCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// String keeps the secret out of logs and error messages.
func (c RootCredentials) String() string {
	return "RootCredentials{" + c.AccessKeyID + ", secret redacted}"
}

// LoadRoot returns the root credentials: from the environment when both variables are set, else from the data
// dir, generating and saving them (mode 0600) on first start.
func LoadRoot(dataDir string) (RootCredentials, error) {
	if c, ok, err := RootFromEnv(); ok || err != nil {
		return c, err
	}
	if c, err := ReadRootFile(dataDir); err == nil {
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return RootCredentials{}, err
	}
	c, err := GenerateRoot()
	if err != nil {
		return c, err
	}
	return c, SaveRoot(dataDir, c)
}

// RootFromEnv returns the root credentials the environment sets, if it sets them.
func RootFromEnv() (c RootCredentials, ok bool, err error) {
	id, secret := os.Getenv(EnvRootAccessKeyID), os.Getenv(EnvRootSecretAccessKey)
	if (id == "") != (secret == "") {
		return c, false, fmt.Errorf("set both %s and %s, or neither", EnvRootAccessKeyID, EnvRootSecretAccessKey)
	}
	return RootCredentials{AccessKeyID: id, SecretAccessKey: secret}, id != "", nil
}

// SaveRoot writes root credentials to the data dir (mode 0600, durably), where `sluice env` reads them.
func SaveRoot(dataDir string, c RootCredentials) error {
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := durable.WriteFile(filepath.Join(dataDir, RootCredentialsFile), b, 0o600); err != nil {
		return fmt.Errorf("save root credentials: %w", err)
	}
	return nil
}

// ReadRootFile reads generated root credentials from a data dir.
func ReadRootFile(dataDir string) (RootCredentials, error) {
	var c RootCredentials
	b, err := os.ReadFile(filepath.Join(dataDir, RootCredentialsFile))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("read %s: malformed", RootCredentialsFile)
	}
	return c, nil
}

// GenerateRoot makes new random root credentials.
func GenerateRoot() (RootCredentials, error) {
	id := make([]byte, 10)
	secret := make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return RootCredentials{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return RootCredentials{}, err
	}
	return RootCredentials{
		AccessKeyID:     "AKIA" + base32.StdEncoding.EncodeToString(id),
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
	}, nil
}

// Keyring is the set of credentials Sluice accepts. It implements sigv4.CredentialSource.
type Keyring struct {
	mu     sync.RWMutex
	creds  map[string]sigv4.Credential
	issued int
}

var _ sigv4.CredentialSource = (*Keyring)(nil)

// NewKeyring returns a keyring holding the root credentials, whose principal is the account root.
func NewKeyring(root RootCredentials, accountID string) *Keyring {
	k := &Keyring{creds: map[string]sigv4.Credential{}}
	k.Add(sigv4.Credential{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey,
		Principal: "arn:aws:iam::" + accountID + ":root"})
	return k
}

// Add registers a credential (replacing one with the same access key id).
func (k *Keyring) Add(c sigv4.Credential) {
	k.mu.Lock()
	k.creds[c.AccessKeyID] = c
	k.mu.Unlock()
}

// LookupCredential implements sigv4.CredentialSource.
func (k *Keyring) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	k.mu.RLock()
	c, ok := k.creds[id]
	k.mu.RUnlock()
	if !ok {
		return c, sigv4.ErrUnknownAccessKey
	}
	return c, nil
}

// NewSession mints temporary credentials (an ASIA… key with a session token) for principal, valid for ttl,
// without registering them: STS persists them first.
func NewSession(principal string, ttl time.Duration, now time.Time) (sigv4.Credential, error) {
	id := make([]byte, 10)
	secret := make([]byte, 30)
	token := make([]byte, 96)
	for _, b := range [][]byte{id, secret, token} {
		if _, err := rand.Read(b); err != nil {
			return sigv4.Credential{}, err
		}
	}
	return sigv4.Credential{
		AccessKeyID:     "ASIA" + base32.StdEncoding.EncodeToString(id),
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
		SessionToken:    base64.StdEncoding.EncodeToString(token),
		Expires:         now.Add(ttl),
		Principal:       principal,
	}, nil
}

// IssueSession mints temporary credentials for principal, valid for ttl, and accepts them from now on.
// Expired sessions are dropped from the keyring as new ones are issued.
func (k *Keyring) IssueSession(principal string, ttl time.Duration) (sigv4.Credential, error) {
	now := time.Now()
	c, err := NewSession(principal, ttl, now)
	if err != nil {
		return c, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.creds[c.AccessKeyID] = c
	if k.issued++; k.issued%256 == 0 {
		// Keep expired sessions an hour, so their use is answered "expired" rather than "unknown".
		for id, old := range k.creds {
			if !old.Expires.IsZero() && now.Sub(old.Expires) > ExpiredGrace {
				delete(k.creds, id)
			}
		}
	}
	return c, nil
}

// ExpiredGrace is how long an expired session stays known, so that its use is answered ExpiredToken.
const ExpiredGrace = time.Hour

// Remove forgets a credential (a deleted access key).
func (k *Keyring) Remove(accessKeyID string) {
	k.mu.Lock()
	delete(k.creds, accessKeyID)
	k.mu.Unlock()
}

// AssumedRolePrincipal is the identity of a session for role (an IAM role ARN) named session, as STS writes it:
// arn:aws:sts::<account>:assumed-role/<role name>/<session>.
func AssumedRolePrincipal(role, session string) string {
	account, name := "", role
	if parts := strings.SplitN(role, ":", 6); len(parts) == 6 {
		account = parts[4]
		name = parts[5][strings.LastIndex(parts[5], "/")+1:]
	}
	return "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + session
}
