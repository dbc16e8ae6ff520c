package iam

import (
	"context"
	"testing"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/store"
)

// Ensure a second service on the same store — another cluster node — follows what the first one writes: access
// keys and sessions start and stop working there too, and policy changes change its decisions.
func TestCachesFollowAnotherWriter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	other := auth.NewKeyring(auth.RootCredentials{AccessKeyID: "AKIAROOT", SecretAccessKey: "s"}, account)
	progress := store.NewProgress()
	peer, err := New(ctx, Options{Store: e.db, Keyring: other, AccountID: account, Progress: progress})
	e.must(err)
	// caughtUp waits until the peer applied everything committed so far.
	caughtUp := func() {
		t.Helper()
		var rev int64
		e.must(e.db.View(ctx, func(tx store.Tx) error { rev = tx.Revision(); return nil }))
		e.must(progress.Wait(ctx, rev))
	}
	known := func(id string) bool {
		_, err := other.LookupCredential(ctx, id)
		return err == nil
	}

	_, err = e.svc.CreateUser(ctx, "ci", "", nil)
	e.must(err)
	k, err := e.svc.CreateAccessKey(ctx, "ci")
	e.must(err)
	caughtUp()
	if !known(k.ID) {
		t.Fatal("an access key created through another service is unknown here")
	}
	user := e.svc.userARN("/", "ci")
	if err := peer.Authorize(ctx, user, k.ID, "lambda:InvokeFunction", "*"); code(err) != "AccessDenied" {
		t.Fatalf("before any policy: %v, want AccessDenied", err)
	}
	e.must(e.svc.PutUserPolicy(ctx, "ci", "invoke", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}`))
	caughtUp()
	if err := peer.Authorize(ctx, user, k.ID, "lambda:InvokeFunction", "*"); err != nil {
		t.Fatalf("after another service allowed it: %v", err)
	}
	e.must(e.svc.DeleteUserPolicy(ctx, "ci", "invoke"))
	caughtUp()
	if err := peer.Authorize(ctx, user, k.ID, "lambda:InvokeFunction", "*"); code(err) != "AccessDenied" {
		t.Fatalf("after another service removed the policy: %v, want AccessDenied", err)
	}
	e.must(e.svc.DeleteAccessKey(ctx, "ci", k.ID))
	caughtUp()
	if known(k.ID) {
		t.Error("an access key deleted through another service still works here")
	}
}
