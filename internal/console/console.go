// Package console owns the web console's sign-in: the short-lived, single-use links an API caller asks for with
// its own SigV4 credentials (`sluice ui`), and the browser sessions those links become. A session is bound to the
// IAM identity that asked for the link — its principal and access key — and lasts no longer than that access key
// does: every lookup checks the key is still valid for the same principal, so deleting the key or letting an STS
// session expire ends the browser session too.
//
// Secrets are never stored: the store holds the SHA-256 of each link and session token (console/link/<hex>,
// console/session/<hex>), so a copy of the store signs nobody in. A link is redeemed in one transaction that deletes
// it and creates the session, so it signs in one browser at most, on any node sharing the store. Expired records
// are swept as new links are made, and at most MaxRecords links and sessions exist at once.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// Defaults of Options.
const (
	DefaultLinkTTL    = time.Minute
	DefaultSessionTTL = 8 * time.Hour
	// MaxRecords bounds the links and sessions that exist at once (a caller asking for links in a loop).
	MaxRecords = 10000
)

// Store keys.
const (
	prefixRoot    = "console/"
	prefixLink    = "console/link/"
	prefixSession = "console/session/"
)

// Error codes of the faults the service returns.
const (
	CodeLimitExceeded = "LimitExceededException"
)

// ErrInvalidLink is returned by Redeem for a link that is unknown, used or expired (one answer for all three, so
// that a guesser learns nothing).
var ErrInvalidLink = errors.New("console: the sign-in link is invalid, used or expired")

// ErrNoSession is returned by Lookup for a session that is unknown, ended or expired, or whose access key is no
// longer valid.
var ErrNoSession = errors.New("console: no valid session")

// Identity is who a link or session acts as: the verified caller of the API request that asked for the link.
type Identity struct {
	Principal   string `json:"principal"`
	AccessKeyID string `json:"accessKeyId"`
}

// Session is a signed-in browser.
type Session struct {
	Identity
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

type record struct {
	Session
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Credentials resolves access keys (the server's keyring): a session lives only while its key does.
	Credentials sigv4.CredentialSource
	LinkTTL     time.Duration // 0: DefaultLinkTTL
	SessionTTL  time.Duration // 0: DefaultSessionTTL
	Now         func() time.Time
}

// Service makes links and sessions.
type Service struct {
	o Options
}

// New returns the service.
func New(o Options) *Service {
	if o.LinkTTL <= 0 {
		o.LinkTTL = DefaultLinkTTL
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}
}

// Link is a new sign-in link's secret and when it stops working.
type Link struct {
	Token   string
	Expires time.Time
}

// CreateLink makes a single-use link for id, valid for LinkTTL. Expired links and sessions are swept in the same
// transaction; if MaxRecords remain, the link is refused with LimitExceededException.
func (s *Service) CreateLink(ctx context.Context, id Identity) (Link, error) {
	if id.Principal == "" || id.AccessKeyID == "" {
		return Link{}, errors.New("console: a link needs a verified identity")
	}
	token, err := newToken()
	if err != nil {
		return Link{}, err
	}
	now := s.o.Now()
	rec := record{Session{Identity: id, Created: now, Expires: now.Add(s.o.LinkTTL)}}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		live, err := sweep(tx, now)
		if err != nil {
			return err
		}
		if live >= MaxRecords {
			return fault.New(CodeLimitExceeded, "Too many sign-in links and console sessions exist (%d); try again once some have expired.", MaxRecords)
		}
		return store.PutJSON(tx, prefixLink+digest(token), rec)
	})
	if err != nil {
		return Link{}, err
	}
	return Link{Token: token, Expires: rec.Expires}, nil
}

// sweep deletes the expired records and counts the others.
func sweep(tx store.Tx, now time.Time) (live int, err error) {
	var expired []string
	err = tx.Scan(prefixRoot, "", func(key string, value []byte) (bool, error) {
		var r record
		if err := json.Unmarshal(value, &r); err != nil || !now.Before(r.Expires) {
			expired = append(expired, key)
			return true, nil
		}
		live++
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range expired {
		if err := tx.Delete(k); err != nil {
			return 0, err
		}
	}
	return live, nil
}

// Redeem turns a link into a session: the link is deleted and the session created in one transaction, so a link
// signs in once. The session lasts SessionTTL, or until the link's access key expires if that is sooner. It
// returns the session's secret, for the browser's cookie.
func (s *Service) Redeem(ctx context.Context, linkToken string) (token string, sess Session, err error) {
	if !wellFormed(linkToken) {
		return "", Session{}, ErrInvalidLink
	}
	token, err = newToken()
	if err != nil {
		return "", Session{}, err
	}
	now := s.o.Now()
	var link record
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		key := prefixLink + digest(linkToken)
		if err := store.GetJSON(tx, key, &link); errors.Is(err, store.ErrNotFound) {
			return ErrInvalidLink
		} else if err != nil {
			return err
		}
		if err := tx.Delete(key); err != nil {
			return err
		}
		if !now.Before(link.Expires) {
			return errExpiredLink // deleted all the same, below
		}
		sess = Session{Identity: link.Identity, Created: now, Expires: now.Add(s.o.SessionTTL)}
		return store.PutJSON(tx, prefixSession+digest(token), record{sess})
	})
	if errors.Is(err, errExpiredLink) {
		_ = s.o.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(prefixLink + digest(linkToken)) })
		return "", Session{}, ErrInvalidLink
	}
	if err != nil {
		return "", Session{}, err
	}
	if c, ok := s.credential(ctx, sess.Identity); !ok {
		_ = s.End(ctx, token)
		return "", Session{}, ErrInvalidLink
	} else if !c.Expires.IsZero() && c.Expires.Before(sess.Expires) {
		sess.Expires = c.Expires // Lookup holds the session to it as well
	}
	return token, sess, nil
}

var errExpiredLink = errors.New("console: expired link")

// Lookup returns the live session a cookie's token names.
func (s *Service) Lookup(ctx context.Context, token string) (Session, error) {
	if !wellFormed(token) {
		return Session{}, ErrNoSession
	}
	var r record
	err := s.o.Store.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, prefixSession+digest(token), &r) })
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	now := s.o.Now()
	if !now.Before(r.Expires) {
		return Session{}, ErrNoSession
	}
	c, ok := s.credential(ctx, r.Identity)
	if !ok || (!c.Expires.IsZero() && !now.Before(c.Expires)) {
		return Session{}, ErrNoSession
	}
	if !c.Expires.IsZero() && c.Expires.Before(r.Expires) {
		r.Expires = c.Expires
	}
	return r.Session, nil
}

// credential reports whether id's access key still exists for the same principal.
func (s *Service) credential(ctx context.Context, id Identity) (sigv4.Credential, bool) {
	if s.o.Credentials == nil {
		return sigv4.Credential{}, true
	}
	c, err := s.o.Credentials.LookupCredential(ctx, id.AccessKeyID)
	if err != nil || c.Principal != id.Principal {
		return sigv4.Credential{}, false
	}
	return c, true
}

// End signs a session out.
func (s *Service) End(ctx context.Context, token string) error {
	if !wellFormed(token) {
		return nil
	}
	return s.o.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(prefixSession + digest(token)) })
}

// CSRFToken is the anti-forgery token of the session whose secret is token: a page embeds it in its forms and an
// action must carry it back. It is derived, not stored: only a holder of the session's secret (the browser's
// HttpOnly cookie, never readable by a page's script) gets it, through a page the server rendered for that session.
func CSRFToken(token string) string {
	sum := sha256.Sum256([]byte("sluice console csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenBytes is the entropy of a link or session secret.
const tokenBytes = 32

func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// WellFormed reports whether t could be a link's or session's secret (the sign-in page shows no form for junk).
func WellFormed(t string) bool { return wellFormed(t) }

// wellFormed reports whether t could be a token, so that junk never reaches the store.
func wellFormed(t string) bool {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil && len(b) == tokenBytes
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
