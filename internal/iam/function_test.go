package iam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store"
)

// node is a second iam.Service on the same store, with a keyring of its own: another cluster node.
type node struct {
	keys     *auth.Keyring
	svc      *Service
	progress *store.Progress
}

func (e *env) node() *node {
	e.t.Helper()
	n := &node{keys: auth.NewKeyring(auth.RootCredentials{AccessKeyID: "AKIAROOT", SecretAccessKey: "s"}, account), progress: store.NewProgress()}
	svc, err := New(context.Background(), Options{Store: e.db, Keyring: n.keys, AccountID: account, Progress: n.progress, Now: func() time.Time { return e.now }})
	e.must(err)
	n.svc = svc
	return n
}

// caughtUp waits until the node's caches applied everything committed so far.
func (n *node) caughtUp(e *env) {
	e.t.Helper()
	var rev int64
	e.must(e.db.View(context.Background(), func(tx store.Tx) error { rev = tx.Revision(); return nil }))
	e.must(n.progress.Wait(context.Background(), rev))
}

// verifies signs a request with c (aws-sdk-go-v2's signer) and returns what the node's verifier makes of it.
func (n *node) verifies(e *env, c sigv4.Credential) (sigv4.Identity, error) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9324/2015-03-31/functions", nil)
	sum := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	e.must(v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "lambda", "us-east-1", e.now))
	v := &sigv4.Verifier{Credentials: n.keys, Now: func() time.Time { return e.now }}
	return v.Verify(context.Background(), r, nil)
}

// Ensure function session credentials minted by one node verify on another sharing the store, are reused by the
// node that minted them while they have FunctionSessionReuse left, and stop working everywhere when revoked.
func TestFunctionCredentialsVerifyOnEveryNode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.node(), e.node()
	const role = "arn:aws:iam::123456789012:role/orders-exec"

	first, err := a.svc.FunctionCredentials(ctx, role, "orders")
	e.must(err)
	if want := "arn:aws:sts::123456789012:assumed-role/orders-exec/orders"; first.Principal != want {
		t.Fatalf("principal %q, want %q", first.Principal, want)
	}
	// The minting node accepts them as soon as FunctionCredentials returns.
	if id, err := a.verifies(e, first); err != nil || id.Principal != first.Principal {
		t.Fatalf("on the minting node: %+v, %v", id, err)
	}
	b.caughtUp(e)
	if id, err := b.verifies(e, first); err != nil || id.Principal != first.Principal {
		t.Fatalf("on another node: %+v, %v", id, err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		sameAs  bool // the same session is handed out again
	}{
		{"cold start right after", 0, true},
		{"still FunctionSessionReuse left", FunctionSessionTTL - FunctionSessionReuse - time.Second, true},
		{"less than FunctionSessionReuse left", 2 * time.Second, false},
	}
	current := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.now = e.now.Add(st.advance)
			got, err := a.svc.FunctionCredentials(ctx, role, "orders")
			e.must(err)
			if same := got.AccessKeyID == current.AccessKeyID; same != st.sameAs {
				t.Fatalf("same session: %v, want %v", same, st.sameAs)
			}
			current = got
			b.caughtUp(e)
			if _, err := b.verifies(e, got); err != nil {
				t.Fatalf("on another node: %v", err)
			}
		})
	}

	// Another function of the same role gets a session of its own.
	other, err := a.svc.FunctionCredentials(ctx, role, "billing")
	e.must(err)
	if other.AccessKeyID == current.AccessKeyID {
		t.Fatal("two functions share a session")
	}

	// Revoked through one node: refused on both, and the minting node mints a new one.
	e.must(b.svc.RevokeSession(ctx, current.AccessKeyID))
	a.caughtUp(e)
	for name, n := range map[string]*node{"minting node": a, "revoking node": b} {
		var ae *sigv4.Error
		if _, err := n.verifies(e, current); !errors.As(err, &ae) {
			t.Errorf("%s accepts a revoked session: %v", name, err)
		}
	}
	renewed, err := a.svc.FunctionCredentials(ctx, role, "orders")
	e.must(err)
	if renewed.AccessKeyID == current.AccessKeyID {
		t.Fatal("a revoked session was handed out again")
	}
	b.caughtUp(e)
	if _, err := b.verifies(e, renewed); err != nil {
		t.Fatalf("the renewed session on another node: %v", err)
	}
}

// Ensure STS sessions assumed through one node work on another, and a revoked one stops working on both.
func TestSessionsRevokedOnEveryNode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.node(), e.node()
	_, err := a.svc.CreateRole(ctx, CreateRoleInput{Name: "deploy", TrustPolicy: rootTrust})
	e.must(err)
	sess, err := a.svc.AssumeRole(ctx, a.svc.RootARN(), "AKIAROOT", AssumeRoleInput{RoleARN: "arn:aws:iam::123456789012:role/deploy", RoleSessionName: "ci"})
	e.must(err)
	c := sigv4.Credential{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken}
	b.caughtUp(e)
	if _, err := b.verifies(e, c); err != nil {
		t.Fatalf("a session assumed through another node: %v", err)
	}
	e.must(a.svc.RevokeSession(ctx, sess.AccessKeyID))
	b.caughtUp(e)
	for name, n := range map[string]*node{"assuming node": a, "other node": b} {
		if _, err := n.verifies(e, c); err == nil {
			t.Errorf("%s accepts a revoked session", name)
		}
	}
}
