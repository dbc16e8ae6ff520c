package e2e

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// acked is what the server acknowledged for one function.
type acked struct {
	versions    map[string]ackedVersion // by version number
	aliasVer    string
	aliasW      map[string]float64
	aliasRev    string
	concurrency int32
	tags        map[string]string
	description string // of $LATEST
	code        []byte // of $LATEST
	deleted     bool
}

type ackedVersion struct {
	sha, description string
}

// TestDurabilityAfterKill makes many acknowledged mutations, SIGKILLs the server right after the last
// acknowledgement, restarts it on the same data dir and checks that every acknowledged change is there exactly.
func TestDurabilityAfterKill(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	state := map[string]*acked{}
	mutations := 0
	ack := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("mutation %d (%s): %v", mutations+1, what, err)
		}
		mutations++
	}

	names := []string{"dur-0", "dur-1", "dur-2", "dur-3"}
	for i, n := range names {
		zip := bootstrapZip(t, n+" initial")
		in := createInput(n, zip)
		in.Tags = map[string]string{"index": fmt.Sprint(i), "suite": "durability"}
		_, err := c.CreateFunction(ctx, in)
		ack("create "+n, err)
		state[n] = &acked{versions: map[string]ackedVersion{}, tags: maps.Clone(in.Tags), code: zip}
	}
	for _, n := range names {
		waitActive(t, c, n)
	}
	for round := 1; round <= 3; round++ {
		for _, n := range names {
			desc := fmt.Sprintf("%s round %d", n, round)
			_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(n), Description: aws.String(desc)})
			ack("describe "+n, err)
			state[n].description = desc
		}
		for _, n := range names {
			waitUpdated(t, c, n)
			out, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(n)})
			ack("publish "+n, err)
			if v := aws.ToString(out.Version); v != fmt.Sprint(round) {
				t.Fatalf("%s: published %s, want %d", n, v, round)
			}
			state[n].versions[aws.ToString(out.Version)] = ackedVersion{sha: aws.ToString(out.CodeSha256), description: aws.ToString(out.Description)}
		}
	}
	for i, n := range names {
		a, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(n), Name: aws.String("live"), FunctionVersion: aws.String("1")})
		ack("alias "+n, err)
		state[n].aliasVer, state[n].aliasRev = "1", aws.ToString(a.RevisionId)
		w := map[string]float64{"3": 0.05 * float64(i+1)}
		u, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(n), Name: aws.String("live"),
			FunctionVersion: aws.String("2"), RoutingConfig: weights(w), RevisionId: a.RevisionId})
		ack("weights "+n, err)
		state[n].aliasVer, state[n].aliasW, state[n].aliasRev = "2", w, aws.ToString(u.RevisionId)
		r := int32(5 + i)
		_, err = c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(n), ReservedConcurrentExecutions: aws.Int32(r)})
		ack("concurrency "+n, err)
		state[n].concurrency = r
		_, err = c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arnPrefix + n), Tags: map[string]string{"owner": "team-" + n}})
		ack("tag "+n, err)
		state[n].tags["owner"] = "team-" + n
	}
	// A new package for one function, and a function created and deleted again.
	newCode := bootstrapZip(t, "dur-0 second build")
	_, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("dur-0"), ZipFile: newCode})
	ack("code dur-0", err)
	state["dur-0"].code = newCode
	_, err = c.CreateFunction(ctx, createInput("dur-gone", bootstrapZip(t, "gone")))
	ack("create dur-gone", err)
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("dur-gone")})
	ack("delete dur-gone", err)
	state["dur-gone"] = &acked{deleted: true}
	_, err = c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arnPrefix + "dur-1"), TagKeys: []string{"suite"}})
	ack("untag dur-1", err)
	delete(state["dur-1"].tags, "suite")
	// The last acknowledged mutation, then SIGKILL at once.
	w := map[string]float64{"3": 0.5}
	u, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("dur-3"), Name: aws.String("live"),
		FunctionVersion: aws.String("1"), RoutingConfig: weights(w)})
	ack("final weights dur-3", err)
	srv.Kill(t)
	state["dur-3"].aliasVer, state["dur-3"].aliasW, state["dur-3"].aliasRev = "1", w, aws.ToString(u.RevisionId)
	if mutations < 40 {
		t.Fatalf("only %d mutations", mutations)
	}
	t.Logf("%d acknowledged mutations before SIGKILL", mutations)

	srv.Restart(t)
	c = srv.Lambda()
	for _, n := range slices.Sorted(maps.Keys(state)) {
		want := state[n]
		if want.deleted {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n)})
			checkAPIError(t, n+" (deleted) after restart", err, wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + n, "", ""})
			continue
		}
		// Pending work (dur-0's code update) resumes after the restart.
		waitUpdated(t, c, n)
		gf, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n)})
		if err != nil {
			t.Errorf("%s after restart: %v", n, err)
			continue
		}
		cfg := gf.Configuration
		if cfg.State != types.StateActive || aws.ToString(cfg.Description) != want.description || aws.ToString(cfg.CodeSha256) != codeSha256(want.code) {
			t.Errorf("%s $LATEST after restart: %s %q sha %s, want Active %q sha %s", n, cfg.State, aws.ToString(cfg.Description),
				aws.ToString(cfg.CodeSha256), want.description, codeSha256(want.code))
		}
		if !maps.Equal(gf.Tags, want.tags) {
			t.Errorf("%s tags after restart: %v, want %v", n, gf.Tags, want.tags)
		}
		if gf.Concurrency == nil || aws.ToInt32(gf.Concurrency.ReservedConcurrentExecutions) != want.concurrency {
			t.Errorf("%s concurrency after restart: %+v, want %d", n, gf.Concurrency, want.concurrency)
		}
		if body := download(t, aws.ToString(gf.Code.Location)); !bytes.Equal(body, want.code) {
			t.Errorf("%s package after restart: %d bytes (sha %s), want the acknowledged %d bytes", n, len(body), codeSha256(body), len(want.code))
		}
		versions := listVersions(t, c, n)
		wantVersions := append([]string{"$LATEST"}, slices.Sorted(maps.Keys(want.versions))...)
		if !slices.Equal(versions, wantVersions) {
			t.Errorf("%s versions after restart: %v, want %v", n, versions, wantVersions)
		}
		for v, wv := range want.versions {
			vc, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n), Qualifier: aws.String(v)})
			if err != nil {
				t.Errorf("%s:%s after restart: %v", n, v, err)
				continue
			}
			if aws.ToString(vc.CodeSha256) != wv.sha || aws.ToString(vc.Description) != wv.description {
				t.Errorf("%s:%s after restart: sha %s %q, want %s %q", n, v, aws.ToString(vc.CodeSha256), aws.ToString(vc.Description), wv.sha, wv.description)
			}
		}
		a, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(n), Name: aws.String("live")})
		if err != nil {
			t.Errorf("%s alias after restart: %v", n, err)
			continue
		}
		var gotW map[string]float64
		if a.RoutingConfig != nil {
			gotW = a.RoutingConfig.AdditionalVersionWeights
		}
		if aws.ToString(a.FunctionVersion) != want.aliasVer || !maps.Equal(gotW, want.aliasW) || aws.ToString(a.RevisionId) != want.aliasRev {
			t.Errorf("%s alias after restart: %s %v rev %s, want %s %v rev %s", n, aws.ToString(a.FunctionVersion), gotW,
				aws.ToString(a.RevisionId), want.aliasVer, want.aliasW, want.aliasRev)
		}
	}
	checkAccount(t, c, 1000, 1000-(5+6+7+8), 4)

	// Version numbers keep counting after the restart.
	setDescription(t, c, "dur-1", "after restart")
	if v := aws.ToString(publish(t, c, "dur-1").Version); v != "4" {
		t.Errorf("first version published after restart = %s, want 4", v)
	}
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET Code.Location: HTTP %d: %s", resp.StatusCode, b)
	}
	return b
}

// TestKillWhilePending kills the server while a function is Pending and while an update is InProgress (the server
// holds each settle for 2 s); after a restart the background work resumes and settles.
func TestKillWhilePending(t *testing.T) {
	parallel(t)
	srv := startServer(t, "--processing-delay", "2s")
	c := srv.Lambda()
	ctx := t.Context()

	created, err := c.CreateFunction(ctx, createInput("orders", bootstrapZip(t, "pending")))
	if err != nil {
		t.Fatal(err)
	}
	if created.State != types.StatePending {
		t.Errorf("CreateFunction State %s, want Pending", created.State)
	}
	srv.Kill(t)
	srv.Restart(t)
	c = srv.Lambda()
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if cfg.State != types.StatePending && cfg.State != types.StateActive {
		t.Errorf("after restart State %s (%s), want Pending or Active", cfg.State, aws.ToString(cfg.StateReason))
	}
	waitActive(t, c, "orders")

	newZip := bootstrapZip(t, "in progress")
	upd, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("orders"), ZipFile: newZip})
	if err != nil {
		t.Fatal(err)
	}
	if upd.LastUpdateStatus != types.LastUpdateStatusInProgress {
		t.Errorf("UpdateFunctionCode LastUpdateStatus %s, want InProgress", upd.LastUpdateStatus)
	}
	srv.Kill(t)
	srv.Restart(t)
	c = srv.Lambda()
	waitUpdated(t, c, "orders")
	gf, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if gf.Configuration.State != types.StateActive || gf.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful ||
		aws.ToString(gf.Configuration.CodeSha256) != codeSha256(newZip) {
		t.Errorf("after restart: %s %s sha %s, want Active Successful sha %s", gf.Configuration.State,
			gf.Configuration.LastUpdateStatus, aws.ToString(gf.Configuration.CodeSha256), codeSha256(newZip))
	}
	if body := download(t, aws.ToString(gf.Code.Location)); !bytes.Equal(body, newZip) {
		t.Errorf("package after restart differs from the acknowledged upload")
	}
	// And a graceful stop and start keeps it all too.
	srv.Stop(t)
	srv.Restart(t)
	cfg, err = srv.Lambda().GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders")})
	if err != nil || aws.ToString(cfg.CodeSha256) != codeSha256(newZip) || cfg.State != types.StateActive {
		t.Errorf("after a graceful restart: %v %+v", err, cfg)
	}
}
