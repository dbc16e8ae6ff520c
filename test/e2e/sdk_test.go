package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestVersions covers publishing: numbering, idempotence, preconditions, listing order, deletion, and that
// numbers are never reused, not even after the function is deleted and created again.
func TestVersions(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	fn := aws.String("orders")
	createFunction(t, c, "orders")

	first := publish(t, c, "orders")
	if aws.ToString(first.Version) != "1" {
		t.Fatalf("first version %s, want 1", aws.ToString(first.Version))
	}
	if st := httpStatus(first.ResultMetadata); st != http.StatusCreated {
		t.Errorf("PublishVersion: HTTP %d, want 201", st)
	}
	if aws.ToString(first.FunctionArn) != arnPrefix+"orders:1" {
		t.Errorf("version 1 FunctionArn %s, want %sorders:1", aws.ToString(first.FunctionArn), arnPrefix)
	}
	again := publish(t, c, "orders")
	if aws.ToString(again.Version) != "1" || aws.ToString(again.CodeSha256) != aws.ToString(first.CodeSha256) {
		t.Errorf("publishing an unchanged $LATEST gave version %s, want the existing 1", aws.ToString(again.Version))
	}
	if st := httpStatus(again.ResultMetadata); st != http.StatusCreated {
		t.Errorf("idempotent PublishVersion: HTTP %d, want 201", st)
	}

	if v := publishNew(t, c, "orders", "description only"); v != "2" {
		t.Errorf("after a description-only change, published %s, want 2", v)
	}
	updateCode(t, c, "orders", bootstrapZip(t, "code 3"))
	if v := aws.ToString(publish(t, c, "orders").Version); v != "3" {
		t.Errorf("after a code change, published %s, want 3", v)
	}

	// Preconditions of PublishVersion.
	setDescription(t, c, "orders", "four")
	latest, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, CodeSha256: aws.String(codeSha256([]byte("other")))})
	checkAPIError(t, "PublishVersion with a different CodeSha256", err, wantErr{Status: 400, Code: "InvalidParameterValueException", Prefix: "CodeSHA256 ("})
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, RevisionId: aws.String("4f3d1c58-0000-0000-0000-000000000000")})
	checkAPIError(t, "PublishVersion with a stale RevisionId", err, wantErr{412, "PreconditionFailedException",
		"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id", "", ""})
	v4, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn, CodeSha256: latest.CodeSha256, RevisionId: latest.RevisionId})
	if err != nil {
		t.Fatalf("PublishVersion with matching CodeSha256 and RevisionId: %v", err)
	}
	if aws.ToString(v4.Version) != "4" || aws.ToString(v4.Description) != "four" {
		t.Errorf("published %s %q, want 4 \"four\"", aws.ToString(v4.Version), aws.ToString(v4.Description))
	}

	// Enough versions that a lexical sort would show (10 before 2).
	for n := 5; n <= 11; n++ {
		if v := publishNew(t, c, "orders", "v"+strconv.Itoa(n)); v != strconv.Itoa(n) {
			t.Fatalf("published %s, want %d", v, n)
		}
	}
	want := []string{"$LATEST"}
	for n := 1; n <= 11; n++ {
		want = append(want, strconv.Itoa(n))
	}
	if got := listVersions(t, c, "orders"); !slices.Equal(got, want) {
		t.Errorf("ListVersionsByFunction = %v, want %v", got, want)
	}

	// Deleting versions.
	del, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("1")})
	if err != nil {
		t.Errorf("DeleteFunction Qualifier=1: %v", err)
	} else if st := httpStatus(del.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("DeleteFunction Qualifier=1: HTTP %d, want 204", st)
	}
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn, Qualifier: aws.String("1")})
	checkAPIError(t, "GetFunctionConfiguration of a deleted version", err,
		wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "orders:1", "", ""})
	if got := listVersions(t, c, "orders"); !slices.Equal(got, append([]string{"$LATEST"}, want[2:]...)) {
		t.Errorf("after deleting version 1, versions = %v", got)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("$LATEST")})
	checkAPIError(t, "DeleteFunction Qualifier=$LATEST", err,
		wantErr{400, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.", "", ""})
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("live")})
	checkAPIError(t, "DeleteFunction Qualifier=<alias>", err,
		wantErr{400, "InvalidParameterValueException", "Deletion of aliases is not currently supported.", "", ""})

	// Through the alias: the version's configuration under the alias ARN.
	viaAlias, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn, Qualifier: aws.String("live")})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration via alias: %v", err)
	}
	if aws.ToString(viaAlias.FunctionArn) != arnPrefix+"orders:live" || aws.ToString(viaAlias.Version) != "2" ||
		aws.ToString(viaAlias.Description) != "description only" {
		t.Errorf("via alias: arn %s version %s description %q, want %sorders:live, 2, \"description only\"",
			aws.ToString(viaAlias.FunctionArn), aws.ToString(viaAlias.Version), aws.ToString(viaAlias.Description), arnPrefix)
	}

	// Numbers are never reused: delete the whole function, create it again, and the next version is 12.
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn}); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	createFunction(t, c, "orders")
	if v := aws.ToString(publish(t, c, "orders").Version); v != "12" {
		t.Errorf("first version after delete and re-create = %s, want 12 (numbers are never reused)", v)
	}

	// The seed's short form of the same rule.
	createFunction(t, c, "reborn")
	publish(t, c, "reborn")
	publishNew(t, c, "reborn", "two")
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("reborn")}); err != nil {
		t.Fatal(err)
	}
	createFunction(t, c, "reborn")
	if v := aws.ToString(publish(t, c, "reborn").Version); v != "3" {
		t.Errorf("reborn: publish after delete and re-create = %s, want 3", v)
	}
	if got := listVersions(t, c, "reborn"); !slices.Equal(got, []string{"$LATEST", "3"}) {
		t.Errorf("reborn: versions %v, want [$LATEST 3]", got)
	}
}

// listVersions pages through ListVersionsByFunction four at a time.
func listVersions(t *testing.T, c *lambda.Client, name string) []string {
	t.Helper()
	var got []string
	p := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name), MaxItems: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListVersionsByFunction %s: %v", name, err)
		}
		if len(page.Versions) > 4 {
			t.Errorf("ListVersionsByFunction page of %d, want at most 4", len(page.Versions))
		}
		for _, v := range page.Versions {
			got = append(got, aws.ToString(v.Version))
		}
	}
	return got
}

// countingGetFunction signals each GetFunction the waiter makes, so the test can act after the first one.
type countingGetFunction struct {
	c     *lambda.Client
	calls atomic.Int32
	first chan struct{}
	once  sync.Once
}

func (g *countingGetFunction) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	out, err := g.c.GetFunction(ctx, in, opts...)
	g.calls.Add(1)
	g.once.Do(func() { close(g.first) })
	return out, err
}

// TestSDKWaiters runs every Lambda waiter of aws-sdk-go-v2 against a server that holds each settle for 1 s.
func TestSDKWaiters(t *testing.T) {
	parallel(t)
	srv := startServer(t, "--processing-delay", "1s")
	c := srv.Lambda()
	ctx := t.Context()
	fn := aws.String("orders")
	const minDelay, maxDelay = 100 * time.Millisecond, 500 * time.Millisecond

	// function_exists: the function is created only after the waiter has seen it missing.
	g := &countingGetFunction{c: c, first: make(chan struct{})}
	created := make(chan error, 1)
	firstZip := bootstrapZip(t, "waiters")
	go func() {
		select {
		case <-g.first:
		case <-ctx.Done():
			created <- ctx.Err()
			return
		}
		_, err := c.CreateFunction(ctx, createInput("orders", firstZip))
		created <- err
	}()
	exists := lambda.NewFunctionExistsWaiter(g, func(o *lambda.FunctionExistsWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	if err := exists.Wait(ctx, &lambda.GetFunctionInput{FunctionName: fn}, waitLimit); err != nil {
		t.Fatalf("FunctionExists waiter: %v", err)
	}
	if err := <-created; err != nil {
		t.Fatalf("CreateFunction from the other goroutine: %v", err)
	}
	if n := g.calls.Load(); n < 2 {
		t.Errorf("FunctionExists waiter made %d GetFunction calls, want at least 2 (missing, then found)", n)
	}

	activeV2 := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	out, err := activeV2.WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: fn}, waitLimit)
	if err != nil {
		t.Fatalf("FunctionActiveV2 waiter: %v", err)
	}
	if out.Configuration.State != types.StateActive {
		t.Errorf("FunctionActiveV2 returned State %s", out.Configuration.State)
	}

	second, err := c.CreateFunction(ctx, createInput("second", bootstrapZip(t, "second")))
	if err != nil {
		t.Fatal(err)
	}
	if second.State != types.StatePending {
		t.Errorf("CreateFunction State %s, want Pending", second.State)
	}
	active := lambda.NewFunctionActiveWaiter(c, func(o *lambda.FunctionActiveWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	cfg, err := active.WaitForOutput(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("second")}, waitLimit)
	if err != nil {
		t.Fatalf("FunctionActive waiter: %v", err)
	}
	if cfg.State != types.StateActive {
		t.Errorf("FunctionActive returned State %s", cfg.State)
	}

	newZip := bootstrapZip(t, "waiters v2")
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: newZip}); err != nil {
		t.Fatal(err)
	}
	updatedV2 := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	out, err = updatedV2.WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: fn}, waitLimit)
	if err != nil {
		t.Fatalf("FunctionUpdatedV2 waiter: %v", err)
	}
	if out.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful || aws.ToString(out.Configuration.CodeSha256) != codeSha256(newZip) {
		t.Errorf("FunctionUpdatedV2 returned %s sha %s", out.Configuration.LastUpdateStatus, aws.ToString(out.Configuration.CodeSha256))
	}

	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, MemorySize: aws.Int32(256)}); err != nil {
		t.Fatal(err)
	}
	updated := lambda.NewFunctionUpdatedWaiter(c, func(o *lambda.FunctionUpdatedWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	cfg, err = updated.WaitForOutput(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn}, waitLimit)
	if err != nil {
		t.Fatalf("FunctionUpdated waiter: %v", err)
	}
	if cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful || aws.ToInt32(cfg.MemorySize) != 256 {
		t.Errorf("FunctionUpdated returned %s memory %d", cfg.LastUpdateStatus, aws.ToInt32(cfg.MemorySize))
	}

	pub, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	published := lambda.NewPublishedVersionActiveWaiter(c, func(o *lambda.PublishedVersionActiveWaiterOptions) { o.MinDelay, o.MaxDelay = minDelay, maxDelay })
	cfg, err = published.WaitForOutput(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn, Qualifier: pub.Version}, waitLimit)
	if err != nil {
		t.Fatalf("PublishedVersionActive waiter: %v", err)
	}
	if cfg.State != types.StateActive || aws.ToString(cfg.Version) != "1" {
		t.Errorf("PublishedVersionActive returned version %s State %s", aws.ToString(cfg.Version), cfg.State)
	}
}

// TestSDKListFunctionsPagination pages through 7 functions three at a time with the SDK paginator.
func TestSDKListFunctionsPagination(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	names := []string{"lf-7", "lf-3", "lf-5", "lf-1", "lf-6", "lf-2", "lf-4"}
	for _, n := range names {
		createFunction(t, c, n)
	}
	publish(t, c, "lf-3")
	publishNew(t, c, "lf-3", "two")
	publish(t, c, "lf-6")
	sorted := slices.Sorted(slices.Values(names))

	collect := func(in *lambda.ListFunctionsInput) (got []string, pages int) {
		p := lambda.NewListFunctionsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("ListFunctions page %d: %v", pages, err)
			}
			pages++
			if len(page.Functions) > 3 {
				t.Errorf("page %d holds %d functions, want at most 3", pages, len(page.Functions))
			}
			for _, f := range page.Functions {
				if in.FunctionVersion != "" {
					got = append(got, aws.ToString(f.FunctionName)+":"+aws.ToString(f.Version))
				} else {
					got = append(got, aws.ToString(f.FunctionName))
				}
			}
			if pages > 20 {
				t.Fatalf("more than 20 pages")
			}
		}
		return got, pages
	}
	got, pages := collect(&lambda.ListFunctionsInput{MaxItems: aws.Int32(3)})
	if !slices.Equal(got, sorted) {
		t.Errorf("ListFunctions MaxItems=3 gave %v, want each function once, sorted: %v", got, sorted)
	}
	if pages != 3 {
		t.Errorf("7 functions in pages of 3 took %d pages, want 3", pages)
	}
	got, _ = collect(&lambda.ListFunctionsInput{MaxItems: aws.Int32(3), FunctionVersion: types.FunctionVersionAll})
	var want []string
	for _, n := range sorted {
		want = append(want, n+":$LATEST")
	}
	want = append(want, "lf-3:1", "lf-3:2", "lf-6:1")
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("ListFunctions FunctionVersion=ALL gave %v, want exactly %v", got, want)
	}
	// Listed configurations carry no state fields, as in AWS.
	list, err := c.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Functions) != 7 || list.NextMarker != nil {
		t.Errorf("unpaged ListFunctions: %d functions, NextMarker %v; want 7 and none", len(list.Functions), aws.ToString(list.NextMarker))
	}
}

// TestConcurrencyAccountTags covers reserved concurrency, account settings and tags.
func TestConcurrencyAccountTags(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	fn := aws.String("orders")
	arn := arnPrefix + "orders"
	createFunction(t, c, "orders", func(in *lambda.CreateFunctionInput) {
		in.Tags = map[string]string{"team": "payments", "env": "prod"}
	})
	createFunction(t, c, "billing")

	gf, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"team": "payments", "env": "prod"}; !maps.Equal(gf.Tags, want) {
		t.Errorf("GetFunction Tags = %v, want the ones given at creation %v", gf.Tags, want)
	}
	if gf.Concurrency != nil && gf.Concurrency.ReservedConcurrentExecutions != nil {
		t.Errorf("GetFunction Concurrency = %d before any was reserved", *gf.Concurrency.ReservedConcurrentExecutions)
	}

	put, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn, ReservedConcurrentExecutions: aws.Int32(10)})
	if err != nil {
		t.Fatalf("PutFunctionConcurrency 10: %v", err)
	}
	if aws.ToInt32(put.ReservedConcurrentExecutions) != 10 {
		t.Errorf("PutFunctionConcurrency returned %d, want 10", aws.ToInt32(put.ReservedConcurrentExecutions))
	}
	gc, err := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(gc.ReservedConcurrentExecutions) != 10 {
		t.Errorf("GetFunctionConcurrency = %v, want 10", gc.ReservedConcurrentExecutions)
	}
	checkAccount(t, c, 1000, 990, 2)
	gf, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if gf.Concurrency == nil || aws.ToInt32(gf.Concurrency.ReservedConcurrentExecutions) != 10 {
		t.Errorf("GetFunction Concurrency = %+v, want 10 reserved", gf.Concurrency)
	}

	_, err = c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("billing"), ReservedConcurrentExecutions: aws.Int32(950)})
	checkAPIError(t, "PutFunctionConcurrency 950", err, wantErr{400, "InvalidParameterValueException",
		"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].", "", ""})
	// Exactly the minimum left unreserved is allowed.
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("billing"), ReservedConcurrentExecutions: aws.Int32(890)}); err != nil {
		t.Errorf("PutFunctionConcurrency 890 (leaving exactly 100 unreserved): %v", err)
	} else {
		checkAccount(t, c, 1000, 100, 2)
		if _, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("billing")}); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, c, "orders")
	_, err = c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("orders:1"), ReservedConcurrentExecutions: aws.Int32(5)})
	checkAPIError(t, "PutFunctionConcurrency on a qualified name", err, wantErr{Status: 400, Code: "InvalidParameterValueException"})

	del, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: fn})
	if err != nil {
		t.Fatalf("DeleteFunctionConcurrency: %v", err)
	}
	if st := httpStatus(del.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("DeleteFunctionConcurrency: HTTP %d, want 204", st)
	}
	gc, err = c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if gc.ReservedConcurrentExecutions != nil {
		t.Errorf("GetFunctionConcurrency after delete = %d, want none", *gc.ReservedConcurrentExecutions)
	}
	checkAccount(t, c, 1000, 1000, 2)

	// Tags by function ARN.
	tag, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"owner": "alice"}})
	if err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if st := httpStatus(tag.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("TagResource: HTTP %d, want 204", st)
	}
	checkTags(t, c, arn, map[string]string{"team": "payments", "env": "prod", "owner": "alice"})
	untag, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"env", "absent"}})
	if err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if st := httpStatus(untag.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("UntagResource: HTTP %d, want 204", st)
	}
	checkTags(t, c, arn, map[string]string{"team": "payments", "owner": "alice"})
	gf, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"team": "payments", "owner": "alice"}; !maps.Equal(gf.Tags, want) {
		t.Errorf("GetFunction Tags = %v, want %v", gf.Tags, want)
	}
	_, err = c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn + ":1"), Tags: map[string]string{"a": "b"}})
	checkAPIError(t, "TagResource on a version ARN", err, wantErr{400, "InvalidParameterValueException",
		"Tags on function aliases and versions are not supported. Please specify a function ARN.", "", ""})
}

func checkAccount(t *testing.T, c *lambda.Client, limit, unreserved int32, functions int64) {
	t.Helper()
	acct, err := c.GetAccountSettings(t.Context(), &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatalf("GetAccountSettings: %v", err)
	}
	if acct.AccountLimit == nil || acct.AccountUsage == nil {
		t.Fatalf("GetAccountSettings without AccountLimit or AccountUsage: %+v", acct)
	}
	if acct.AccountLimit.ConcurrentExecutions != limit || aws.ToInt32(acct.AccountLimit.UnreservedConcurrentExecutions) != unreserved {
		t.Errorf("account concurrency %d, unreserved %d; want %d and %d", acct.AccountLimit.ConcurrentExecutions,
			aws.ToInt32(acct.AccountLimit.UnreservedConcurrentExecutions), limit, unreserved)
	}
	if acct.AccountUsage.FunctionCount != functions {
		t.Errorf("AccountUsage.FunctionCount = %d, want %d", acct.AccountUsage.FunctionCount, functions)
	}
}

func checkTags(t *testing.T, c *lambda.Client, arn string, want map[string]string) {
	t.Helper()
	out, err := c.ListTags(t.Context(), &lambda.ListTagsInput{Resource: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTags: %v", err)
	}
	if !maps.Equal(out.Tags, want) {
		t.Errorf("ListTags = %v, want %v", out.Tags, want)
	}
}

// TestCodeLocation downloads packages through GetFunction's Code.Location, a pre-signed plain-HTTP URL.
func TestCodeLocation(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	zipA := bootstrapZip(t, "package A")
	zipB := makeZip(t, zipFile{Name: "bootstrap", Mode: 0o755, Body: "#!/bin/sh\n"}, zipFile{Name: "lib/data.txt", Body: "package B"})
	if _, err := c.CreateFunction(ctx, createInput("orders", zipA)); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, "orders")
	publish(t, c, "orders")
	updateCode(t, c, "orders", zipB)

	location := func(qualifier string) string {
		in := &lambda.GetFunctionInput{FunctionName: aws.String("orders")}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		out, err := c.GetFunction(ctx, in)
		if err != nil {
			t.Fatalf("GetFunction %q: %v", qualifier, err)
		}
		if out.Code == nil || aws.ToString(out.Code.Location) == "" {
			t.Fatalf("GetFunction %q: no Code.Location", qualifier)
		}
		if aws.ToString(out.Code.RepositoryType) != "S3" {
			t.Errorf("Code.RepositoryType = %q, want S3", aws.ToString(out.Code.RepositoryType))
		}
		return aws.ToString(out.Code.Location)
	}
	get := func(u string) (int, []byte) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	for _, tc := range []struct {
		qualifier string
		want      []byte
	}{{"", zipB}, {"$LATEST", zipB}, {"1", zipA}} {
		st, body := get(location(tc.qualifier))
		if st != http.StatusOK || !bytes.Equal(body, tc.want) {
			t.Errorf("download of %q: HTTP %d, %d bytes (sha %s), want 200 with the %d uploaded bytes (sha %s)",
				tc.qualifier, st, len(body), codeSha256(body), len(tc.want), codeSha256(tc.want))
		}
	}

	u, err := url.Parse(location(""))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := q.Get("Signature")
	if sig == "" {
		t.Fatalf("Code.Location has no Signature query parameter: %s", u)
	}
	flipped := []byte(sig)
	if flipped[len(flipped)-1] == '0' {
		flipped[len(flipped)-1] = '1'
	} else {
		flipped[len(flipped)-1] = '0'
	}
	q.Set("Signature", string(flipped))
	u.RawQuery = q.Encode()
	if st, _ := get(u.String()); st != http.StatusForbidden {
		t.Errorf("download with a tampered Signature: HTTP %d, want 403", st)
	}
	q.Set("Signature", sig)
	if exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64); err == nil {
		q.Set("Expires", fmt.Sprint(exp+3600))
		u.RawQuery = q.Encode()
		if st, _ := get(u.String()); st != http.StatusForbidden {
			t.Errorf("download with a tampered Expires: HTTP %d, want 403", st)
		}
	}
}
