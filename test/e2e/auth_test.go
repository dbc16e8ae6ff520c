package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

const signatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// TestAuth sends raw requests signed (or not) with the SDK's SigV4 signer and checks the gateway's answers.
func TestAuth(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	createFunction(t, srv.Lambda(), "orders")
	const list = "/2015-03-31/functions"

	fi, err := os.Stat(filepath.Join(srv.DataDir, "root-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("root-credentials.json mode %v, want 0600", fi.Mode().Perm())
	}

	good := doRaw(t, srv.signedRequest(t, http.MethodGet, list, nil, srv.creds(), time.Now()))
	if good.Status != http.StatusOK {
		t.Fatalf("properly signed ListFunctions: HTTP %d %s", good.Status, good.Body)
	}
	if names := functionNames(t, good.Body); !slices.Equal(names, []string{"orders"}) {
		t.Errorf("ListFunctions = %v, want [orders]", names)
	}

	unsigned, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+list, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRawError(t, "no Authorization header", doRaw(t, unsigned),
		wantErr{403, "MissingAuthenticationTokenException", "Missing Authentication Token", "", ""})

	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: srv.SecretAccessKey}
	checkRawError(t, "unknown access key", doRaw(t, srv.signedRequest(t, http.MethodGet, list, nil, unknown, time.Now())),
		wantErr{403, "UnrecognizedClientException", "The security token included in the request is invalid.", "", ""})

	wrongSecret := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: "not-the-secret-" + srv.SecretAccessKey[:10]}
	checkRawError(t, "wrong secret", doRaw(t, srv.signedRequest(t, http.MethodGet, list, nil, wrongSecret, time.Now())),
		wantErr{403, "InvalidSignatureException", signatureMismatch, "", ""})

	checkRawError(t, "X-Amz-Date 10 minutes old", doRaw(t, srv.signedRequest(t, http.MethodGet, list, nil, srv.creds(), time.Now().Add(-10*time.Minute))),
		wantErr{Status: 403, Code: "InvalidSignatureException", Prefix: "Signature expired:"})

	// A body changed after signing no longer matches the signature.
	body := []byte(`{"Tags":{"team":"payments"}}`)
	tampered := srv.signedRequest(t, http.MethodPost, "/2017-03-31/tags/"+arnPrefix+"orders", body, srv.creds(), time.Now())
	evil := []byte(`{"Tags":{"team":"mallory!"}}`)
	tampered.Body = readCloser(evil)
	tampered.ContentLength = int64(len(evil))
	checkRawError(t, "body changed after signing", doRaw(t, tampered), wantErr{Status: 403, Code: "InvalidSignatureException"})

	// The SDK sees the same errors as typed API errors.
	bad := lambda.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "wrong", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: sdkhttp.Wrap(nil)})
	_, err = bad.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	checkAPIError(t, "SDK with a wrong secret", err, wantErr{403, "InvalidSignatureException", signatureMismatch, "", ""})

	// The presigned (query-string) form of a GET.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+list+"?X-Amz-Expires=300", nil)
	if err != nil {
		t.Fatal(err)
	}
	signedURL, headers, err := v4.NewSigner().PresignHTTP(t.Context(), srv.creds(), req, emptySHA256, "lambda", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(signedURL, "X-Amz-Signature=") {
		t.Fatalf("presigned URL has no signature: %s", signedURL)
	}
	pre, err := http.NewRequestWithContext(t.Context(), http.MethodGet, signedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range headers {
		if !strings.EqualFold(k, "Host") {
			pre.Header[k] = vs
		}
	}
	r := doRaw(t, pre)
	if r.Status != http.StatusOK {
		t.Errorf("presigned ListFunctions: HTTP %d %s %s", r.Status, r.Header.Get("X-Amzn-Errortype"), r.Body)
	} else if names := functionNames(t, r.Body); !slices.Equal(names, []string{"orders"}) {
		t.Errorf("presigned ListFunctions = %v, want [orders]", names)
	}
	// Its signature covers the query: changing it breaks the URL.
	broken, err := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.Replace(signedURL, "X-Amz-Expires=300", "X-Amz-Expires=301", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := doRaw(t, broken); r.Status != http.StatusForbidden {
		t.Errorf("presigned URL with a changed X-Amz-Expires: HTTP %d, want 403", r.Status)
	}
}

func functionNames(t *testing.T, body []byte) []string {
	t.Helper()
	var out struct {
		Functions []struct{ FunctionName string }
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("ListFunctions body is not JSON: %v: %s", err, body)
	}
	var names []string
	for _, f := range out.Functions {
		names = append(names, f.FunctionName)
	}
	return names
}

// TestRootCredentialsFromEnv starts a server whose root credentials come from SLUICE_ROOT_ACCESS_KEY_ID and
// SLUICE_ROOT_SECRET_ACCESS_KEY, and uses them.
func TestRootCredentialsFromEnv(t *testing.T) {
	parallel(t)
	const id, secret = "AKIAE2EROOTFROMENV01", "e2e/secret+from+the+environment0123456789"
	srv := startServerEnv(t, []string{"SLUICE_ROOT_ACCESS_KEY_ID=" + id, "SLUICE_ROOT_SECRET_ACCESS_KEY=" + secret})
	if srv.AccessKeyID != id {
		t.Fatalf("harness picked %s", srv.AccessKeyID)
	}
	c := srv.Lambda()
	createFunction(t, c, "orders")
	out, err := c.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatalf("ListFunctions with the environment's credentials: %v", err)
	}
	if len(out.Functions) != 1 {
		t.Errorf("ListFunctions = %d functions, want 1", len(out.Functions))
	}
	other := lambda.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAOTHEROTHEROTHER0", secret, ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: sdkhttp.Wrap(nil)})
	_, err = other.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	checkAPIError(t, "another access key", err, wantErr{403, "UnrecognizedClientException", "The security token included in the request is invalid.", "", ""})

	// The AWS CLI works with them too.
	stdout, stderr, code := awsCLI(t, srv, false, "lambda", "list-functions")
	if code != 0 {
		t.Fatalf("aws lambda list-functions: exit %d: %s", code, stderr)
	}
	if names := functionNames(t, []byte(stdout)); !slices.Equal(names, []string{"orders"}) {
		t.Errorf("aws lambda list-functions = %v, want [orders]", names)
	}
}
