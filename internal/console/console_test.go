package console

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

type keys map[string]sigv4.Credential

func (k keys) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	c, ok := k[id]
	if !ok {
		return c, sigv4.ErrUnknownAccessKey
	}
	return c, nil
}

const alice = "arn:aws:iam::000000000000:user/alice"

func newService(t *testing.T) (*Service, *clock, keys, store.Store) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	k := keys{"AKIAALICE": {AccessKeyID: "AKIAALICE", Principal: alice}}
	return New(Options{Store: storetest.RerunUpdates(db), Credentials: k, Now: c.now}), c, k, db
}

func TestLinkBecomesOneSession(t *testing.T) {
	s, c, _, _ := newService(t)
	ctx := t.Context()
	link, err := s.CreateLink(ctx, Identity{Principal: alice, AccessKeyID: "AKIAALICE"})
	if err != nil {
		t.Fatal(err)
	}
	if want := c.t.Add(DefaultLinkTTL); !link.Expires.Equal(want) {
		t.Errorf("link expires %v, want %v", link.Expires, want)
	}
	token, sess, err := s.Redeem(ctx, link.Token)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Principal != alice || sess.AccessKeyID != "AKIAALICE" || !sess.Expires.Equal(c.t.Add(DefaultSessionTTL)) {
		t.Errorf("session %+v", sess)
	}
	if token == link.Token {
		t.Error("the session's secret is the link's")
	}
	if _, _, err := s.Redeem(ctx, link.Token); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("second redeem: %v, want ErrInvalidLink", err)
	}
	got, err := s.Lookup(ctx, token)
	if err != nil || got.Principal != alice {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if err := s.End(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("lookup after End: %v", err)
	}
}

func TestExpiryAndRevocation(t *testing.T) {
	cases := []struct {
		name       string
		afterLink  func(*clock, keys)
		redeemErr  error
		afterLogin func(*clock, keys)
		lookupErr  error
	}{
		{name: "fresh", lookupErr: nil},
		{name: "link expired", afterLink: func(c *clock, _ keys) { c.advance(DefaultLinkTTL) }, redeemErr: ErrInvalidLink},
		{name: "session expired", afterLogin: func(c *clock, _ keys) { c.advance(DefaultSessionTTL) }, lookupErr: ErrNoSession},
		{name: "key deleted before redeem", afterLink: func(_ *clock, k keys) { delete(k, "AKIAALICE") }, redeemErr: ErrInvalidLink},
		{name: "key deleted", afterLogin: func(_ *clock, k keys) { delete(k, "AKIAALICE") }, lookupErr: ErrNoSession},
		{name: "key given to another principal", afterLogin: func(_ *clock, k keys) {
			k["AKIAALICE"] = sigv4.Credential{AccessKeyID: "AKIAALICE", Principal: "arn:aws:iam::000000000000:user/bob"}
		}, lookupErr: ErrNoSession},
		{name: "temporary key expires first", afterLogin: func(c *clock, k keys) {
			k["AKIAALICE"] = sigv4.Credential{AccessKeyID: "AKIAALICE", Principal: alice, Expires: c.t.Add(time.Minute)}
			c.advance(time.Minute)
		}, lookupErr: ErrNoSession},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c, k, _ := newService(t)
			ctx := t.Context()
			link, err := s.CreateLink(ctx, Identity{Principal: alice, AccessKeyID: "AKIAALICE"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.afterLink != nil {
				tc.afterLink(c, k)
			}
			token, _, err := s.Redeem(ctx, link.Token)
			if !errors.Is(err, tc.redeemErr) {
				t.Fatalf("redeem: %v, want %v", err, tc.redeemErr)
			}
			if err != nil {
				return
			}
			if tc.afterLogin != nil {
				tc.afterLogin(c, k)
			}
			if _, err := s.Lookup(ctx, token); !errors.Is(err, tc.lookupErr) {
				t.Fatalf("lookup: %v, want %v", err, tc.lookupErr)
			}
		})
	}
}

func TestJunkTokensNeverReachTheStore(t *testing.T) {
	s, _, _, _ := newService(t)
	for _, junk := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("/", 43), strings.Repeat("A", 4096)} {
		if _, _, err := s.Redeem(t.Context(), junk); !errors.Is(err, ErrInvalidLink) {
			t.Errorf("Redeem(%.10q): %v", junk, err)
		}
		if _, err := s.Lookup(t.Context(), junk); !errors.Is(err, ErrNoSession) {
			t.Errorf("Lookup(%.10q): %v", junk, err)
		}
	}
}

func TestStoreHoldsNoSecret(t *testing.T) {
	s, _, _, db := newService(t)
	ctx := t.Context()
	link, err := s.CreateLink(ctx, Identity{Principal: alice, AccessKeyID: "AKIAALICE"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Redeem(ctx, link.Token)
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(ctx, func(tx store.Tx) error {
		return tx.Scan("", "", func(key string, value []byte) (bool, error) {
			for _, secret := range []string{link.Token, token, CSRFToken(token)} {
				if strings.Contains(key, secret) || strings.Contains(string(value), secret) {
					t.Errorf("the store holds a secret at %s", key)
				}
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecordsAreBoundedAndSwept(t *testing.T) {
	s, c, _, db := newService(t)
	ctx := t.Context()
	// Fill the store to the limit directly (MaxRecords links through the API would be slow), then ask for one more.
	err := db.Update(ctx, func(tx store.Tx) error {
		for i := range MaxRecords {
			if err := store.PutJSON(tx, prefixLink+strconv.Itoa(i), record{Session{Expires: c.t.Add(time.Minute)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Principal: alice, AccessKeyID: "AKIAALICE"}
	if _, err := s.CreateLink(ctx, id); err == nil || !strings.Contains(err.Error(), "Too many") {
		t.Fatalf("link past the limit: %v", err)
	}
	c.advance(time.Minute)
	if _, err := s.CreateLink(ctx, id); err != nil {
		t.Fatalf("link once the others expired: %v", err)
	}
	n := 0
	_ = db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefixRoot, "", func(string, []byte) (bool, error) { n++; return true, nil })
	})
	if n != 1 {
		t.Errorf("%d records after the sweep, want 1", n)
	}
}

func TestCSRFTokenIsPerSession(t *testing.T) {
	a, b := CSRFToken("one"), CSRFToken("two")
	if a == b || a == "" || strings.Contains(a, "one") {
		t.Errorf("CSRF tokens %q %q", a, b)
	}
}
