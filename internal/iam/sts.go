package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/oidc"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// STS error codes beyond IAM's.
const (
	CodeInvalidIdentityToken = "InvalidIdentityToken"
	CodeExpiredToken         = "ExpiredTokenException"
	CodeIDPCommunication     = "IDPCommunicationError"
)

// Provider is an IAM OpenID Connect provider.
type Provider struct {
	ARN, URL    string
	ClientIDs   []string
	Thumbprints []string
	Created     time.Time
	Tags        []Tag
}

type providerRecord struct {
	URL         string
	ClientIDs   []string
	Thumbprints []string
	Created     time.Time
	Tags        []Tag `json:",omitempty"`
}

var thumbprintPattern = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// providerHostPath is the provider's identity in its ARN and in condition keys: the URL without its scheme.
func providerHostPath(u string) string {
	return strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
}

// CreateOpenIDConnectProvider registers an identity provider. Its URL must be https (or http on a loopback
// address, for local issuers).
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, rawURL string, clientIDs, thumbprints []string, tags []Tag) (Provider, error) {
	if err := oidc.CheckIssuerURL(rawURL); err != nil {
		return Provider{}, fault.New(CodeInvalidInput, "Invalid Openid Connect Provider URL: %s", err)
	}
	for _, t := range thumbprints {
		if !thumbprintPattern.MatchString(t) {
			return Provider{}, fault.New(CodeInvalidInput, "Thumbprint must be a 40 character hexadecimal string.")
		}
	}
	if len(clientIDs) > 100 {
		return Provider{}, fault.New(CodeLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	}
	hostPath := providerHostPath(rawURL)
	rec := providerRecord{URL: rawURL, ClientIDs: dedupe(clientIDs), Thumbprints: thumbprints,
		Created: s.now().UTC().Truncate(time.Second), Tags: tags}
	err := s.update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, keyProvider+hostPath); err != nil {
			return err
		} else if ok {
			return fault.New(CodeEntityAlreadyExists, "Provider with url %s already exists.", rawURL)
		}
		return store.PutJSON(tx, keyProvider+hostPath, rec)
	})
	return s.provider(hostPath, rec), err
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) provider(hostPath string, r providerRecord) Provider {
	return Provider{ARN: s.providerARN(hostPath), URL: r.URL, ClientIDs: r.ClientIDs, Thumbprints: r.Thumbprints,
		Created: r.Created, Tags: r.Tags}
}

// providerKey maps a provider ARN to its store key.
func (s *Service) providerKey(arn string) (string, error) {
	prefix := "arn:aws:iam::" + s.account + ":oidc-provider/"
	if !strings.HasPrefix(arn, prefix) || len(arn) == len(prefix) {
		return "", fault.New(CodeInvalidInput, "Invalid ARN: %s", arn)
	}
	return keyProvider + strings.TrimPrefix(arn, prefix), nil
}

// GetOpenIDConnectProvider returns a provider by ARN.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, arn string) (Provider, error) {
	key, err := s.providerKey(arn)
	if err != nil {
		return Provider{}, err
	}
	var rec providerRecord
	err = s.db.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, key, &rec) })
	if errors.Is(err, store.ErrNotFound) {
		return Provider{}, notFound("OpenIDConnect Provider not found for arn %s", arn)
	}
	return s.provider(strings.TrimPrefix(key, keyProvider), rec), err
}

// ListOpenIDConnectProviders lists every provider.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context) ([]Provider, error) {
	var out []Provider
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(keyProvider, "", func(key string, v []byte) (bool, error) {
			var r providerRecord
			if err := unmarshal(v, &r); err != nil {
				return false, err
			}
			out = append(out, s.provider(strings.TrimPrefix(key, keyProvider), r))
			return true, nil
		})
	})
	return out, err
}

// DeleteOpenIDConnectProvider removes a provider; tokens it issued stop being accepted.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, arn string) error {
	key, err := s.providerKey(arn)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, key); err != nil {
			return err
		} else if !ok {
			return notFound("OpenIDConnect Provider not found for arn %s", arn)
		}
		return tx.Delete(key)
	})
}

// Session is what STS hands out.
type Session struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	AssumedRoleARN, AssumedRoleID              string
	PackedPolicySize                           int // percent of the allowed size; 0 when no session policy
	// Web identity only.
	Subject, Audience, Provider string
}

type sessionRecord struct {
	ID, Secret, Token, Principal string
	Expires                      time.Time
	Policy                       string `json:",omitempty"`
}

func (r sessionRecord) credential() sigv4.Credential {
	return sigv4.Credential{AccessKeyID: r.ID, SecretAccessKey: r.Secret, SessionToken: r.Token, Expires: r.Expires, Principal: r.Principal}
}

// WebIdentityInput is AssumeRoleWithWebIdentity's input.
type WebIdentityInput struct {
	RoleARN, RoleSessionName, Token string
	DurationSeconds                 int // 0 = one hour
	Policy                          string
}

// AssumeRoleWithWebIdentity exchanges an OIDC token for a session of a role whose trust policy lets that
// token's provider and claims in.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in WebIdentityInput) (Session, error) {
	const action = "sts:AssumeRoleWithWebIdentity"
	issuer, err := oidc.PeekIssuer(in.Token)
	if err != nil {
		return Session{}, stsTokenError(err)
	}
	hostPath := providerHostPath(issuer)
	var rec providerRecord
	err = s.db.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, keyProvider+hostPath, &rec) })
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.URL != issuer) {
		return Session{}, fault.New(CodeInvalidIdentityToken, "No OpenIDConnect provider found in your account for %s", issuer)
	}
	if err != nil {
		return Session{}, err
	}
	claims, err := s.verifier.Verify(ctx, in.Token, oidc.Provider{Issuer: rec.URL, ClientIDs: rec.ClientIDs})
	if err != nil {
		return Session{}, stsTokenError(err)
	}
	role, ok, err := s.RoleByARN(ctx, in.RoleARN)
	if err != nil {
		return Session{}, err
	}
	notAuthorized := fault.New(CodeAccessDenied, "Not authorized to perform %s", action)
	if !ok {
		return Session{}, notAuthorized
	}
	providerARN := s.providerARN(hostPath)
	trust, err := policy.Parse(role.TrustPolicy, policy.Trust)
	if err != nil {
		return Session{}, notAuthorized
	}
	context := policy.Context{}
	for name := range claims {
		if values := claims.StringValues(name); values != nil {
			context[hostPath+":"+name] = values
		}
	}
	context["aws:FederatedProvider"] = []string{providerARN}
	req := policy.Request{Action: action, Resource: role.ARN, Principal: policy.Principal{Federated: []string{providerARN}}, Context: context}
	if policy.Evaluate(req, trust) != policy.Allow {
		return Session{}, notAuthorized
	}
	audience := ""
	for _, a := range claims.Audience() {
		for _, c := range rec.ClientIDs {
			if a == c && audience == "" {
				audience = a
			}
		}
	}
	sess, err := s.issue(ctx, role, in.RoleSessionName, in.DurationSeconds, in.Policy)
	if err != nil {
		return Session{}, err
	}
	sess.Subject, sess.Audience, sess.Provider = claims.Subject(), audience, providerARN
	return sess, nil
}

func stsTokenError(err error) error {
	var oe *oidc.Error
	if errors.As(err, &oe) {
		return fault.New(oe.Code, "%s", oe.Message)
	}
	return err
}

// AssumeRoleInput is AssumeRole's input.
type AssumeRoleInput struct {
	RoleARN, RoleSessionName string
	DurationSeconds          int
	Policy                   string
}

// AssumeRole gives a caller of this account a session of a role: allowed when the role's trust policy names
// the caller (or the caller's account, and the caller's own policies allow sts:AssumeRole on the role).
func (s *Service) AssumeRole(ctx context.Context, principal, accessKeyID string, in AssumeRoleInput) (Session, error) {
	const action = "sts:AssumeRole"
	role, ok, err := s.RoleByARN(ctx, in.RoleARN)
	if err != nil {
		return Session{}, err
	}
	notAuthorized := fault.New(CodeAccessDenied, "User: %s is not authorized to perform: %s on resource: %s", principal, action, in.RoleARN)
	if !ok {
		return Session{}, notAuthorized
	}
	trust, err := policy.Parse(role.TrustPolicy, policy.Trust)
	if err != nil {
		return Session{}, notAuthorized
	}
	ids := []string{principal}
	if strings.Contains(principal, ":assumed-role/") {
		// A role session is also matched by its role's ARN in trust policies.
		parts := strings.SplitN(principal, "/", 3)
		if r, ok, _ := s.RoleByARN(ctx, "arn:aws:iam::"+s.account+":role/"+parts[1]); ok {
			ids = append(ids, r.ARN)
		}
	}
	req := policy.Request{Action: action, Resource: role.ARN, Principal: policy.Principal{AWS: ids}}
	if policy.Evaluate(req, trust) != policy.Allow {
		return Session{}, notAuthorized
	}
	// A trust policy naming the caller itself suffices; one that lets the caller's whole account in also needs
	// the caller's own permission, as in IAM.
	if parts := strings.SplitN(principal, ":", 6); len(parts) == 6 {
		accountRoot := policy.Request{Action: action, Resource: role.ARN, Principal: policy.Principal{AWS: []string{"arn:aws:iam::" + parts[4] + ":root"}}}
		if policy.Evaluate(accountRoot, trust) == policy.Allow {
			if err := s.Authorize(ctx, principal, accessKeyID, action, role.ARN); err != nil {
				return Session{}, notAuthorized
			}
		}
	}
	return s.issue(ctx, role, in.RoleSessionName, in.DurationSeconds, in.Policy)
}

// issue mints, persists and registers a session of role.
func (s *Service) issue(ctx context.Context, role Role, sessionName string, durationSeconds int, sessionPolicy string) (Session, error) {
	ttl := defaultSessionTTL
	if durationSeconds != 0 {
		ttl = time.Duration(durationSeconds) * time.Second
	}
	if ttl > time.Duration(role.MaxSessionDuration)*time.Second {
		return Session{}, fault.New(CodeValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	packed := 0
	if sessionPolicy != "" {
		// Parsed here to refuse a malformed one; the watch registers it with the session (cache.go).
		if _, err := policy.Parse(sessionPolicy, policy.Identity); err != nil {
			return Session{}, malformed(err)
		}
		packed = (len(compact(sessionPolicy))*100 + 2047) / 2048
	}
	principal := auth.AssumedRolePrincipal(role.ARN, sessionName)
	c, err := auth.NewSession(principal, time.Duration(float64(ttl)/s.scale), s.now())
	if err != nil {
		return Session{}, err
	}
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	rec := sessionRecord{ID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken, Principal: principal, Expires: c.Expires, Policy: sessionPolicy}
	if err := s.update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, keySession+c.AccessKeyID, rec) }); err != nil {
		return Session{}, err
	}
	return Session{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expires, AssumedRoleARN: principal, AssumedRoleID: role.ID + ":" + sessionName, PackedPolicySize: packed}, nil
}

// CallerIdentity is GetCallerIdentity's answer.
type CallerIdentity struct{ UserID, Account, ARN string }

// GetCallerIdentity describes the caller (no permission needed, as in AWS).
func (s *Service) GetCallerIdentity(ctx context.Context, principal string) (CallerIdentity, error) {
	out := CallerIdentity{Account: s.account, ARN: principal}
	parts := strings.SplitN(principal, ":", 6)
	switch {
	case principal == s.RootARN():
		out.UserID = s.account
	case len(parts) == 6 && strings.HasPrefix(parts[5], "user/"):
		u, err := s.GetUser(ctx, parts[5][strings.LastIndex(parts[5], "/")+1:])
		if err != nil {
			return out, err
		}
		out.UserID = u.ID
	case len(parts) == 6 && strings.HasPrefix(parts[5], "assumed-role/"):
		rest := strings.SplitN(strings.TrimPrefix(parts[5], "assumed-role/"), "/", 2)
		out.UserID = rest[len(rest)-1]
		if r, err := s.GetRole(ctx, rest[0]); err == nil {
			out.UserID = r.ID + ":" + rest[len(rest)-1]
		}
	}
	return out, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// EncodePolicy percent-encodes a policy document the way IAM returns documents (RFC 3986: everything but
// unreserved characters), which botocore decodes back and other SDKs leave to the caller.
func EncodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
