// Package iam owns identities and what they may do: IAM roles with trust and inline policies, users with
// long-lived access keys, OpenID Connect providers, the temporary sessions STS hands out (AssumeRole,
// AssumeRoleWithWebIdentity), and the authorization decision every API call goes through.
//
// Records live in the store under iam/ (see keys below) and are cached in memory; every credential Sluice accepts
// — root, access keys, sessions — is registered with the auth.Keyring the SigV4 verifier consults. Policy
// language rules live in internal/iam/policy, token checks in internal/oidc; this package joins them.
package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/oidc"
	"github.com/sluice-dev/sluice/internal/store"
)

// Store keys.
const (
	keyRole       = "iam/role/"       // iam/role/<name> → roleRecord
	keyRolePolicy = "iam/rolepolicy/" // iam/rolepolicy/<role>/<policy> → policy document text
	keyUser       = "iam/user/"       // iam/user/<name> → userRecord
	keyUserPolicy = "iam/userpolicy/" // iam/userpolicy/<user>/<policy> → policy document text
	keyAccessKey  = "iam/accesskey/"  // iam/accesskey/<id> → accessKeyRecord
	keyProvider   = "iam/oidc/"       // iam/oidc/<host/path> → providerRecord
	keySession    = "iam/session/"    // iam/session/<access key id> → sessionRecord
)

// IAM's error codes (the query protocol's <Code>).
const (
	CodeNoSuchEntity        = "NoSuchEntity"
	CodeEntityAlreadyExists = "EntityAlreadyExists"
	CodeMalformedPolicy     = "MalformedPolicyDocument"
	CodeInvalidInput        = "InvalidInput"
	CodeLimitExceeded       = "LimitExceeded"
	CodeDeleteConflict      = "DeleteConflict"
	CodeValidation          = "ValidationError"
	CodeAccessDenied        = "AccessDenied"
)

// Limits IAM enforces that matter here.
const (
	maxRolePoliciesSize = 10240 // aggregate inline policy characters per role
	maxUserPoliciesSize = 2048
	maxAccessKeys       = 2
	defaultSessionTTL   = time.Hour
	minSessionTTL       = 15 * time.Minute
	defaultMaxSession   = time.Hour
)

// Options configure a Service.
type Options struct {
	Store     store.Store
	Keyring   *auth.Keyring
	AccountID string
	// Verifier checks web identity tokens (nil: a default oidc.Verifier).
	Verifier *oidc.Verifier
	Now      func() time.Time
	Logger   *slog.Logger
	// SessionTimeScale shortens sessions to 1/SessionTimeScale of their duration, for tests of expiry (0 or 1:
	// real time). The Expiration reported is the shortened one.
	SessionTimeScale float64
	// Progress is where the identity caches report how far they applied the store's changes (nil: a private one).
	Progress *store.Progress
}

// Service is IAM and STS for one account.
type Service struct {
	db       store.Store
	keys     *auth.Keyring
	account  string
	verifier *oidc.Verifier
	now      func() time.Time
	log      *slog.Logger
	scale    float64

	mu sync.RWMutex
	// policies caches each principal's parsed identity policies: "role/<name>" or "user/<name>".
	policies map[string][]*policy.Document
	// generation counts policy changes, so that a read racing a change does not cache what it read.
	generation uint64
	// sessionPolicies holds the session policy a session was issued with, by access key id.
	sessionPolicies map[string]*policy.Document
	// registered holds the access key ids this service added to the keyring (to remove the ones gone on a re-list).
	registered map[string]bool

	progress *store.Progress
	applied  *store.Applied

	// resources answers for resource-based policies (UseResourcePolicies); nil: none are consulted.
	resources ResourcePolicies

	// functionSessions holds the session this node hands to environments of each (role, function) (function.go).
	functionMu       sync.Mutex
	functionSessions map[functionSessionKey]*functionSession
}

// New opens the service: it registers every stored access key and live session with the keyring, follows the
// store's changes to them until ctx ends or the store closes (cache.go), and deletes sessions long expired.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Verifier == nil {
		o.Verifier = &oidc.Verifier{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionTimeScale <= 0 {
		o.SessionTimeScale = 1
	}
	s := &Service{db: o.Store, keys: o.Keyring, account: o.AccountID, verifier: o.Verifier, now: o.Now, scale: o.SessionTimeScale,
		log: o.Logger.With("component", "iam"), policies: map[string][]*policy.Document{},
		sessionPolicies: map[string]*policy.Document{}, registered: map[string]bool{}, progress: o.Progress,
		functionSessions: map[functionSessionKey]*functionSession{}}
	if s.progress == nil {
		s.progress = store.NewProgress()
	}
	s.applied = s.progress.Register("iam")
	rev, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.applied.Advance(rev)
	go s.follow(ctx, rev)
	return s, s.SweepSessions(ctx)
}

// AccountID is the account the service serves.
func (s *Service) AccountID() string { return s.account }

// RootARN is the account root's principal.
func (s *Service) RootARN() string { return "arn:aws:iam::" + s.account + ":root" }

func (s *Service) roleARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":role" + path + name
}

func (s *Service) userARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":user" + path + name
}

func (s *Service) providerARN(hostPath string) string {
	return "arn:aws:iam::" + s.account + ":oidc-provider/" + hostPath
}

// newID returns an IAM unique id: a four-letter prefix (AROA roles, AIDA users, AKIA keys) and 17 characters.
func newID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 17)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func notFound(format string, args ...any) error {
	return fault.New(CodeNoSuchEntity, format, args...)
}

func malformed(err error) error {
	var m *policy.MalformedError
	if errors.As(err, &m) {
		return fault.New(CodeMalformedPolicy, "%s", m.Message)
	}
	return fault.New(CodeMalformedPolicy, "Syntax errors in policy.")
}

// parsePath checks an IAM path ("/" or "/a/b/"), defaulting to "/".
func parsePath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return "", fault.New(CodeValidation, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

// nameFromARN returns the resource name of an IAM ARN of the given type ("role", "user") and its path.
func (s *Service) nameFromARN(arn, kind string) (path, name string, ok bool) {
	prefix := "arn:aws:iam::" + s.account + ":" + kind + "/"
	if !strings.HasPrefix(arn, prefix) {
		return "", "", false
	}
	rest := arn[len(prefix)-1:]
	i := strings.LastIndex(rest, "/")
	return rest[:i+1], rest[i+1:], rest[i+1:] != ""
}
