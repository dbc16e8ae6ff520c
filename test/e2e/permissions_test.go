package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestPermissions drives AddPermission, GetPolicy and RemovePermission with the Go SDK, then checks that the
// Lambda API honours a function's resource-based policy for a caller of the account whose identity-based policies
// allow nothing: a statement naming the caller lets it in, for that action on that function, version or alias
// only, until it is removed; a statement naming the account does not (it delegates to identity policies); an
// explicit deny in an identity policy wins.
func TestPermissions(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	createFunction(t, c, "orders")
	v := publish(t, c, "orders")
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: v.Version}); err != nil {
		t.Fatal(err)
	}
	fn := arnPrefix + "orders"

	add, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::uploads"),
		SourceAccount: aws.String(accountID)})
	if err != nil {
		t.Fatal(err)
	}
	s3 := `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn +
		`","Condition":{"StringEquals":{"AWS:SourceAccount":"` + accountID + `"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}}`
	if got := aws.ToString(add.Statement); got != s3 {
		t.Errorf("AddPermission Statement\n%s\nwant\n%s", got, s3)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Version":"2012-10-17","Id":"default","Statement":[` + s3 + `]}`; aws.ToString(pol.Policy) != want {
		t.Errorf("GetPolicy Policy\n%s\nwant\n%s", aws.ToString(pol.Policy), want)
	}
	// The policy's RevisionId is its own: publishing a version moves the function's, not the policy's.
	setDescription(t, c, "orders", "v2")
	publish(t, c, "orders")
	if again, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("orders")}); err != nil ||
		aws.ToString(again.RevisionId) != aws.ToString(pol.RevisionId) {
		t.Errorf("GetPolicy after a publish: RevisionId %v (%v), want %s", again, err, aws.ToString(pol.RevisionId))
	}
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("sns"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"), RevisionId: pol.RevisionId})
	if err != nil {
		t.Fatalf("AddPermission with the policy's RevisionId: %v", err)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("sns")}); err != nil {
		t.Fatal(err)
	}

	// The SDK's typed errors.
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	checkAPIError(t, "duplicate statement id", err, wantErr{Status: 409, Code: "ResourceConflictException",
		Message: "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement."})
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("x"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), RevisionId: aws.String("stale")})
	checkAPIError(t, "stale revision", err, wantErr{Status: 412, Code: "PreconditionFailedException",
		Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"})
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
	checkAPIError(t, "alias without a policy", err, wantErr{Status: 404, Code: "ResourceNotFoundException", Message: "The resource you requested does not exist."})
	_, err = c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("nope")})
	checkAPIError(t, "missing statement", err, wantErr{Status: 404, Code: "ResourceNotFoundException", Message: "Statement nope is not found in resource policy."})
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String("url"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone})
	checkAPIError(t, "auth type on InvokeFunction", err, wantErr{Status: 400, Code: "InvalidParameterValueException",
		Message: "FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action"})

	// A user whose identity-based policies allow nothing.
	admin := srv.IAM()
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")})
	if err != nil {
		t.Fatal(err)
	}
	carolARN := "arn:aws:iam::" + accountID + ":user/carol"
	carol := srv.Lambda(func(o *lambda.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	})
	invoke := func(qualifier string) error {
		in := &lambda.InvokeInput{FunctionName: aws.String("orders"), InvocationType: types.InvocationTypeDryRun}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := carol.Invoke(ctx, in)
		return err
	}
	getFunction := func(qualifier string) error {
		in := &lambda.GetFunctionInput{FunctionName: aws.String("orders")}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := carol.GetFunction(ctx, in)
		return err
	}
	grant := func(sid, action, principal, qualifier string) {
		t.Helper()
		in := &lambda.AddPermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String(sid), Action: aws.String(action), Principal: aws.String(principal)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		if _, err := c.AddPermission(ctx, in); err != nil {
			t.Fatalf("AddPermission %s: %v", sid, err)
		}
	}
	revoke := func(sid, qualifier string) {
		t.Helper()
		in := &lambda.RemovePermissionInput{FunctionName: aws.String("orders"), StatementId: aws.String(sid)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		if _, err := c.RemovePermission(ctx, in); err != nil {
			t.Fatalf("RemovePermission %s: %v", sid, err)
		}
	}
	denied := func(action, resource string) wantErr {
		return wantErr{Status: 403, Code: "AccessDeniedException", Message: "User: " + carolARN + " is not authorized to perform: " + action +
			" on resource: " + resource + " because no identity-based policy allows the " + action + " action"}
	}
	steps := []struct {
		name string
		do   func()
		call func() error
		want *wantErr // nil: allowed
	}{
		{"nothing granted", func() {}, func() error { return invoke("") }, ptrTo(denied("lambda:InvokeFunction", fn))},
		{"the account named: delegated, not granted", func() { grant("account", "lambda:InvokeFunction", accountID, "") },
			func() error { return invoke("") }, ptrTo(denied("lambda:InvokeFunction", fn))},
		{"carol named", func() { grant("carol-invoke_1", "lambda:InvokeFunction", carolARN, "") }, func() error { return invoke("") }, nil},
		{"not another action", func() {}, func() error { return getFunction("") }, ptrTo(denied("lambda:GetFunction", fn))},
		{"not the alias", func() {}, func() error { return invoke("live") }, ptrTo(denied("lambda:InvokeFunction", fn+":live"))},
		{"the alias's own grant", func() { grant("carol", "lambda:GetFunction", carolARN, "live") }, func() error { return getFunction("live") }, nil},
		{"revoked on the function", func() { revoke("carol-invoke_1", "") }, func() error { return invoke("") }, ptrTo(denied("lambda:InvokeFunction", fn))},
		{"granted again", func() { grant("carol", "lambda:InvokeFunction", carolARN, "") }, func() error { return invoke("") }, nil},
		{"an identity policy's deny wins", func() {
			if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("no-invoke"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"*"}]}`)}); err != nil {
				t.Fatal(err)
			}
		}, func() error { return invoke("") }, &wantErr{Status: 403, Code: "AccessDeniedException", Message: "User: " + carolARN +
			" is not authorized to perform: lambda:InvokeFunction on resource: " + fn + " with an explicit deny in an identity-based policy"}},
	}
	for _, st := range steps {
		st.do()
		err := st.call()
		if st.want == nil {
			if err != nil {
				t.Errorf("%s: %v", st.name, err)
			}
			continue
		}
		checkAPIError(t, st.name, err, *st.want)
	}

	// The policies go with the function: a new function of the same name starts without one.
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	createFunction(t, c, "orders")
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("orders")})
	checkAPIError(t, "policy of the recreated function", err, wantErr{Status: 404, Code: "ResourceNotFoundException", Message: "The resource you requested does not exist."})
}

func ptrTo[T any](v T) *T { return &v }

// TestAWSCLIPermissions: a function URL grant as AWS's documentation has users run it and an S3 grant, with AWS CLI
// v1 and v2, then get-policy as text and remove-permission; and a conflict and a missing policy as the CLI reports
// them. (The CLI v2 installed here predates --invoked-via-function-url; boto3 covers it.)
func TestAWSCLIPermissions(t *testing.T) {
	parallelLong(t)
	srv := startServer(t)
	createFunction(t, srv.Lambda(), "orders")
	for _, v2 := range []bool{false, true} {
		t.Run(cliName(v2), func(t *testing.T) {
			if v2 {
				requireCLIv2(t)
			} else {
				cliV1(t)
			}
			cli := func(args ...string) string {
				t.Helper()
				stdout, stderr, code := awsCLI(t, srv, v2, append([]string{"lambda"}, args...)...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				return stdout
			}
			var added struct{ Statement string }
			mustJSON(t, "add-permission", cli("add-permission", "--function-name", "orders", "--statement-id", "FunctionURLAllowPublicAccess",
				"--action", "lambda:InvokeFunctionUrl", "--principal", "*", "--function-url-auth-type", "NONE"), &added)
			want := `{"Sid":"FunctionURLAllowPublicAccess","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` +
				arnPrefix + `orders","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`
			if added.Statement != want {
				t.Errorf("add-permission Statement\n%s\nwant\n%s", added.Statement, want)
			}
			cli("add-permission", "--function-name", "orders", "--statement-id", "s3", "--action", "lambda:InvokeFunction",
				"--principal", "s3.amazonaws.com", "--source-arn", "arn:aws:s3:::uploads", "--source-account", accountID)
			policy := strings.TrimSpace(cli("get-policy", "--function-name", "orders", "--query", "Policy", "--output", "text"))
			wantPolicy := `{"Version":"2012-10-17","Id":"default","Statement":[` + want +
				`,{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` +
				arnPrefix + `orders","Condition":{"StringEquals":{"AWS:SourceAccount":"` + accountID + `"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}}]}`
			if policy != wantPolicy {
				t.Errorf("get-policy\n%s\nwant\n%s", policy, wantPolicy)
			}
			_, stderr, code := awsCLI(t, srv, v2, "lambda", "add-permission", "--function-name", "orders", "--statement-id",
				"FunctionURLAllowPublicAccess", "--action", "lambda:InvokeFunctionUrl", "--principal", "*", "--debug")
			checkCLIError(t, "add-permission again", stderr, code, wantErr{Status: 409, Code: "ResourceConflictException",
				Message: "The statement id (FunctionURLAllowPublicAccess) provided already exists. Please provide a new statement id, or remove the existing statement."}, true)
			for _, sid := range []string{"FunctionURLAllowPublicAccess", "s3"} {
				cli("remove-permission", "--function-name", "orders", "--statement-id", sid)
			}
			_, stderr, code = awsCLI(t, srv, v2, "lambda", "get-policy", "--function-name", "orders", "--debug")
			checkCLIError(t, "get-policy after removing all", stderr, code, wantErr{Status: 404, Code: "ResourceNotFoundException",
				Message: "The resource you requested does not exist."}, true)
		})
	}
}
