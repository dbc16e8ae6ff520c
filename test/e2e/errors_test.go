package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func weights(w map[string]float64) *types.AliasRoutingConfiguration {
	return &types.AliasRoutingConfiguration{AdditionalVersionWeights: w}
}

// TestRoutingConstraintErrors covers every rule of weighted aliases and alias bookkeeping, each with its status,
// error code and AWS's message.
func TestRoutingConstraintErrors(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	fn := aws.String("orders")
	createFunction(t, c, "orders")
	for i, d := range []string{"one", "two", "three"} {
		if v := publishNew(t, c, "orders", d); v != string(rune('1'+i)) {
			t.Fatalf("published %s, want %d", v, i+1)
		}
	}
	live, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1")})
	if err != nil {
		t.Fatalf("CreateAlias live: %v", err)
	}
	if st := httpStatus(live.ResultMetadata); st != http.StatusCreated {
		t.Errorf("CreateAlias: HTTP %d, want 201", st)
	}

	updateLive := func(primary string, w map[string]float64) func() error {
		return func() error {
			_, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"),
				FunctionVersion: aws.String(primary), RoutingConfig: weights(w)})
			return err
		}
	}
	cases := []struct {
		name string
		call func() error
		want wantErr
	}{
		{"two additional versions", updateLive("1", map[string]float64{"2": 0.1, "3": 0.1}),
			wantErr{400, "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1", "", ""}},
		{"weight above 1", updateLive("1", map[string]float64{"2": 1.5}),
			wantErr{Status: 400, Code: "ValidationException", Contains: "Member must have value less than or equal to 1.0"}},
		{"additional version is the primary", updateLive("1", map[string]float64{"1": 0.1}),
			wantErr{400, "InvalidParameterValueException", "Invalid function version 1. Function version 1 is already included in routing configuration.", "", ""}},
		{"$LATEST primary with weights", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("canary"),
				FunctionVersion: aws.String("$LATEST"), RoutingConfig: weights(map[string]float64{"1": 0.1})})
			return err
		}, wantErr{400, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version", "", ""}},
		{"$LATEST primary with weights (update)", updateLive("$LATEST", map[string]float64{"1": 0.1}),
			wantErr{400, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version", "", ""}},
		{"missing additional version", updateLive("1", map[string]float64{"99": 0.1}),
			wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "orders:99", "", ""}},
		{"all-digit alias name", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("2024"), FunctionVersion: aws.String("1")})
			return err
		}, wantErr{Status: 400, Code: "ValidationException"}},
		{"duplicate alias", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("2")})
			return err
		}, wantErr{409, "ResourceConflictException", "Alias already exists: " + arnPrefix + "orders:live", "", ""}},
		{"GetAlias of a missing alias", func() error {
			_, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("nope")})
			return err
		}, wantErr{404, "ResourceNotFoundException", "Cannot find alias arn: " + arnPrefix + "orders:nope", "", ""}},
		{"delete a version an alias references", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn, Qualifier: aws.String("1")})
			return err
		}, wantErr{409, "ResourceConflictException", "Unable to delete version because the following aliases reference it: [live]", "", ""}},
	}
	for _, tc := range cases {
		checkAPIError(t, tc.name, tc.call(), tc.want)
	}

	// The rejected updates left live untouched.
	a, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("live")})
	if err != nil {
		t.Fatalf("GetAlias live: %v", err)
	}
	if aws.ToString(a.FunctionVersion) != "1" || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0) ||
		aws.ToString(a.RevisionId) != aws.ToString(live.RevisionId) {
		t.Errorf("after rejected updates live = %s %+v rev %s, want 1, no routing, rev %s",
			aws.ToString(a.FunctionVersion), a.RoutingConfig, aws.ToString(a.RevisionId), aws.ToString(live.RevisionId))
	}

	// A valid weighted update works, and changes the RevisionId; the stale one is then refused.
	up, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: weights(map[string]float64{"2": 0.1}), RevisionId: live.RevisionId})
	if err != nil {
		t.Fatalf("UpdateAlias live 1 + 2 (10%%) with the current RevisionId: %v", err)
	}
	if aws.ToString(up.RevisionId) == aws.ToString(live.RevisionId) {
		t.Errorf("UpdateAlias did not change the alias RevisionId")
	}
	if up.RoutingConfig == nil || up.RoutingConfig.AdditionalVersionWeights["2"] != 0.1 {
		t.Errorf("UpdateAlias response routing %+v, want {2: 0.1}", up.RoutingConfig)
	}
	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"), Description: aws.String("stale"),
		RevisionId: live.RevisionId})
	checkAPIError(t, "UpdateAlias with a stale RevisionId", err, wantErr{412, "PreconditionFailedException",
		"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id", "", ""})

	// Deleting a missing alias is not an error.
	del, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: fn, Name: aws.String("nope")})
	if err != nil {
		t.Errorf("DeleteAlias of a missing alias: %v, want success (204)", err)
	} else if st := httpStatus(del.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("DeleteAlias of a missing alias: HTTP %d, want 204", st)
	}

	// Versions of one weighted alias must share the execution role...
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, Role: aws.String("arn:aws:iam::000000000000:role/other")})
	if v := aws.ToString(publish(t, c, "orders").Version); v != "4" {
		t.Fatalf("published %s, want 4", v)
	}
	checkAPIError(t, "weights across versions with different roles", updateLive("1", map[string]float64{"4": 0.1})(),
		wantErr{Status: 400, Code: "InvalidParameterValueException"})
	// ...and the dead-letter queue.
	updateConfig(t, c, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, Role: aws.String(roleARN),
		DeadLetterConfig: &types.DeadLetterConfig{TargetArn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders-dlq")}})
	if v := aws.ToString(publish(t, c, "orders").Version); v != "5" {
		t.Fatalf("published %s, want 5", v)
	}
	checkAPIError(t, "weights across versions with different dead-letter queues", updateLive("1", map[string]float64{"5": 0.1})(),
		wantErr{Status: 400, Code: "InvalidParameterValueException"})
	// Version 4 (other role) as the primary with 5 (other DLQ) is refused too; 2 and 3 still combine.
	checkAPIError(t, "weights across versions 4 and 5", updateLive("4", map[string]float64{"5": 0.1})(),
		wantErr{Status: 400, Code: "InvalidParameterValueException"})
	if err := updateLive("2", map[string]float64{"3": 0.5})(); err != nil {
		t.Errorf("UpdateAlias live 2 + 3 (50%%): %v", err)
	}
}

// TestInProgressConflicts is the negative side of the seed's §6: a second change while the first one is still
// being applied is refused with 409 until function-updated-v2 says the function is ready. The server holds each
// settle for 2 s, and the conflicting calls are made right after the mutating call.
func TestInProgressConflicts(t *testing.T) {
	parallel(t)
	srv := startServer(t, "--processing-delay", "2s")
	c := srv.Lambda()
	ctx := t.Context()
	fn := aws.String("orders")

	created, err := c.CreateFunction(ctx, createInput("orders", bootstrapZip(t, "v0")))
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if created.State != types.StatePending {
		t.Errorf("CreateFunction State = %q, want Pending", created.State)
	}
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: bootstrapZip(t, "v1")})
	checkAPIError(t, "UpdateFunctionCode while Pending", err, wantErr{409, "ResourceConflictException",
		"The operation cannot be performed at this time. The function is currently in the following state: Pending", "", ""})
	waitActive(t, c, "orders")

	newZip := bootstrapZip(t, "v1")
	upd, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: newZip})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if upd.LastUpdateStatus != types.LastUpdateStatusInProgress {
		t.Errorf("UpdateFunctionCode LastUpdateStatus = %q, want InProgress", upd.LastUpdateStatus)
	}
	inProgress := wantErr{409, "ResourceConflictException",
		"The operation cannot be performed at this time. An update is in progress for resource: " + arnPrefix + "orders", "", ""}
	envIn := &lambda.UpdateFunctionConfigurationInput{FunctionName: fn,
		Environment: &types.Environment{Variables: map[string]string{"LOG_LEVEL": "INFO"}}}
	_, err = c.UpdateFunctionConfiguration(ctx, envIn)
	checkAPIError(t, "UpdateFunctionConfiguration right after UpdateFunctionCode", err, inProgress)
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	checkAPIError(t, "PublishVersion during InProgress", err, inProgress)

	waitUpdated(t, c, "orders")
	if _, err := c.UpdateFunctionConfiguration(ctx, envIn); err != nil {
		t.Fatalf("UpdateFunctionConfiguration after the waiter: %v", err)
	}
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn})
	checkAPIError(t, "PublishVersion right after UpdateFunctionConfiguration", err, inProgress)
	waitUpdated(t, c, "orders")
	pub := publish(t, c, "orders")
	if aws.ToString(pub.Version) != "1" || pub.Environment == nil || pub.Environment.Variables["LOG_LEVEL"] != "INFO" ||
		aws.ToString(pub.CodeSha256) != codeSha256(newZip) {
		t.Errorf("published %s env %+v sha %s, want version 1 with LOG_LEVEL=INFO and sha %s",
			aws.ToString(pub.Version), pub.Environment, aws.ToString(pub.CodeSha256), codeSha256(newZip))
	}
}

// TestFunctionReferences checks every way of naming a function, and the errors of names that do not resolve.
func TestFunctionReferences(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	createFunction(t, c, "orders")
	publishNew(t, c, "orders", "first")
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	setDescription(t, c, "orders", "unpublished")

	for _, tc := range []struct {
		name, qualifier  string
		wantArn, wantVer string
		wantDesc         string
	}{
		{"orders", "", arnPrefix + "orders", "$LATEST", "unpublished"},
		{"orders:1", "", arnPrefix + "orders:1", "1", "first"},
		{"orders", "1", arnPrefix + "orders:1", "1", "first"},
		{"000000000000:function:orders", "", arnPrefix + "orders", "$LATEST", "unpublished"},
		{arnPrefix + "orders", "", arnPrefix + "orders", "$LATEST", "unpublished"},
		{arnPrefix + "orders:live", "", arnPrefix + "orders:live", "1", "first"},
		{"orders", "live", arnPrefix + "orders:live", "1", "first"},
		{arnPrefix + "orders:$LATEST", "", arnPrefix + "orders:$LATEST", "$LATEST", "unpublished"},
	} {
		in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(tc.name)}
		if tc.qualifier != "" {
			in.Qualifier = aws.String(tc.qualifier)
		}
		out, err := c.GetFunctionConfiguration(ctx, in)
		if err != nil {
			t.Errorf("GetFunctionConfiguration %q qualifier %q: %v", tc.name, tc.qualifier, err)
			continue
		}
		if got := aws.ToString(out.FunctionArn); got != tc.wantArn {
			t.Errorf("GetFunctionConfiguration %q qualifier %q: FunctionArn %s, want %s", tc.name, tc.qualifier, got, tc.wantArn)
		}
		if aws.ToString(out.Version) != tc.wantVer || aws.ToString(out.Description) != tc.wantDesc || aws.ToString(out.FunctionName) != "orders" {
			t.Errorf("GetFunctionConfiguration %q qualifier %q: name %s version %s description %q, want orders %s %q", tc.name, tc.qualifier,
				aws.ToString(out.FunctionName), aws.ToString(out.Version), aws.ToString(out.Description), tc.wantVer, tc.wantDesc)
		}
	}

	getConfig := func(name, qualifier string) error {
		in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := c.GetFunctionConfiguration(ctx, in)
		return err
	}
	checkAPIError(t, "qualifier in the ARN differs from Qualifier", getConfig(arnPrefix+"orders:1", "live"),
		wantErr{400, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.", "", ""})
	checkAPIError(t, "ARN in another region", getConfig("arn:aws:lambda:us-west-2:000000000000:function:orders", ""),
		wantErr{404, "ResourceNotFoundException", "Functions from 'us-west-2' are not reachable in this region ('us-east-1')", "", ""})
	checkAPIError(t, "missing function", getConfig("nope", ""),
		wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "nope", "", ""})
	_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	checkAPIError(t, "GetFunction of a missing function", err,
		wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "nope", "", ""})
	checkAPIError(t, "missing version", getConfig("orders", "7"),
		wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "orders:7", "", ""})

	_, err = c.CreateFunction(ctx, createInput("orders", bootstrapZip(t, "again")))
	checkAPIError(t, "CreateFunction of an existing name", err,
		wantErr{409, "ResourceConflictException", "Function already exist: orders", "", ""})

	del, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	if st := httpStatus(del.ResultMetadata); st != http.StatusNoContent {
		t.Errorf("DeleteFunction: HTTP %d, want 204", st)
	}
	for _, ref := range []string{"orders", "orders:1", "orders:live"} {
		checkAPIError(t, "GetFunctionConfiguration "+ref+" after DeleteFunction", getConfig(ref, ""),
			wantErr{Status: 404, Code: "ResourceNotFoundException", Prefix: "Function not found: " + arnPrefix + "orders"})
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("orders")})
	checkAPIError(t, "DeleteFunction of a deleted function", err,
		wantErr{404, "ResourceNotFoundException", "Function not found: " + arnPrefix + "orders", "", ""})
}

// TestBadInput sends CreateFunction requests that must all be refused; afterwards the server still serves and has
// created nothing.
func TestBadInput(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	good := bootstrapZip(t, "good")
	unzipMsg := "Could not unzip uploaded file. Please check your file, then try to upload again."

	cases := []struct {
		name string
		mod  func(*lambda.CreateFunctionInput)
		want wantErr
	}{
		{"not a zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("this is not a zip file") },
			wantErr{400, "InvalidParameterValueException", unzipMsg, "", ""}},
		{"zip slip", func(in *lambda.CreateFunctionInput) {
			in.Code.ZipFile = makeZip(t, zipFile{Name: "bootstrap", Mode: 0o755, Body: "#!/bin/sh\n"}, zipFile{Name: "../evil", Body: "x"})
		}, wantErr{Status: 400, Code: "InvalidParameterValueException", Prefix: unzipMsg}},
		{"timeout 901", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) },
			wantErr{Status: 400, Code: "ValidationException", Contains: "Member must have value less than or equal to 900"}},
		{"memory 64", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) },
			wantErr{Status: 400, Code: "ValidationException", Contains: "Member must have value greater than or equal to 128"}},
		{"bad role ARN", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("not-a-role") },
			wantErr{Status: 400, Code: "ValidationException", Contains: "at 'role' failed to satisfy constraint"}},
		{"reserved environment variable", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"LOG_LEVEL": "INFO", "AWS_REGION": "eu-west-1"}}
		}, wantErr{400, "InvalidParameterValueException", "Lambda was unable to configure your environment variables because the " +
			"environment variables you have provided contains reserved keys that are currently not supported for modification. " +
			"Reserved keys used in this request: AWS_REGION", "", ""}},
		{"65-character name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(strings.Repeat("a", 65)) },
			wantErr{Status: 400, Code: "InvalidParameterValueException", Contains: "Member must have length less than or equal to 64"}},
	}
	for i, tc := range cases {
		in := createInput("bad-"+string(rune('a'+i)), good)
		tc.mod(in)
		_, err := c.CreateFunction(ctx, in)
		checkAPIError(t, "CreateFunction with "+tc.name, err, tc.want)
	}

	// A body that is not JSON at all, signed properly.
	r := doRaw(t, srv.signedRequest(t, http.MethodPost, "/2015-03-31/functions", []byte(`{"FunctionName": "bad-json", "Code": {`), srv.creds(), time.Now()))
	if r.Status != http.StatusBadRequest || r.errorCode() == "" {
		t.Errorf("malformed JSON body: HTTP %d x-amzn-ErrorType %q body %s, want 400 with an error type", r.Status, r.Header.Get("X-Amzn-Errortype"), r.Body)
	}

	resp, err := http.Get(srv.URL + "/_sluice/health")
	if err != nil {
		t.Fatalf("health after bad input: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health after bad input: HTTP %d", resp.StatusCode)
	}
	list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatalf("ListFunctions after bad input: %v", err)
	}
	if len(list.Functions) != 0 {
		var names []string
		for _, f := range list.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
		t.Errorf("bad requests created functions: %v", names)
	}
	// The server still accepts a good one.
	createFunction(t, c, "good")
}
