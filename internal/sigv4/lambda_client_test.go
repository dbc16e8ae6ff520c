package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// lambdaStub answers like the Lambda REST API after verifying the request
// (with the real clock), and records what it saw.
type lambdaStub struct {
	*httptest.Server
	v *Verifier

	mu         sync.Mutex
	identity   Identity
	requestURI string
}

func newLambdaStub(t *testing.T) *lambdaStub {
	t.Helper()
	st := &lambdaStub{v: &Verifier{Credentials: realClockCredentials()}} // real clock
	st.Server = httptest.NewServer(http.HandlerFunc(st.serve))
	t.Cleanup(st.Close)
	return st
}

func (st *lambdaStub) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, verr := st.v.Verify(r.Context(), r, body)
	st.mu.Lock()
	st.identity, st.requestURI = id, r.RequestURI
	st.mu.Unlock()
	if verr != nil {
		var e *Error
		errors.As(verr, &e)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": e.Message})
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/invocations"):
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		_, _ = w.Write(body) // echo the payload
	case strings.HasSuffix(r.URL.Path, "/configuration"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"FunctionName":"orders","Version":"$LATEST"}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Functions":[]}`)
	}
}

func (st *lambdaStub) seen() (Identity, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.identity, st.requestURI
}

func (st *lambdaStub) client(creds aws.Credentials) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(st.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		RetryMaxAttempts: 1,
		HTTPClient:       st.Client(),
	})
}

// TestVerifyRealLambdaClient drives the stock aws-sdk-go-v2 Lambda client
// against a server that verifies with this package.
func TestVerifyRealLambdaClient(t *testing.T) {
	st := newLambdaStub(t)
	ctx := context.Background()
	const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:orders"

	t.Run("GetFunctionConfiguration by ARN with $LATEST", func(t *testing.T) {
		out, err := st.client(longTermCreds).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{
			FunctionName: aws.String(fnARN),
			Qualifier:    aws.String("$LATEST"),
		})
		if err != nil {
			t.Fatalf("GetFunctionConfiguration: %v", err)
		}
		if aws.ToString(out.FunctionName) != "orders" {
			t.Errorf("FunctionName = %q", aws.ToString(out.FunctionName))
		}
		id, uri := st.seen()
		if id.AccessKeyID != testAKID || id.Service != "lambda" || id.Region != testRegion {
			t.Errorf("identity = %+v", id)
		}
		// The client percent-encodes the ARN's colons and the '$' on the
		// wire; the signature covers that form encoded once more.
		if want := "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders/configuration?Qualifier=%24LATEST"; uri != want {
			t.Errorf("request target = %q, want %q", uri, want)
		}
	})

	t.Run("Invoke with a JSON payload", func(t *testing.T) {
		payload := []byte(`{"orderId":"o-123","lines":[1,2,3],"note":"a  b"}`)
		out, err := st.client(longTermCreds).Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   aws.String("orders"),
			Payload:        payload,
			InvocationType: types.InvocationTypeRequestResponse,
			LogType:        types.LogTypeTail,
			Qualifier:      aws.String("live"),
		})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if string(out.Payload) != string(payload) {
			t.Errorf("payload = %s", out.Payload)
		}
	})

	t.Run("ListFunctions with query parameters", func(t *testing.T) {
		_, err := st.client(longTermCreds).ListFunctions(ctx, &lambda.ListFunctionsInput{
			Marker:          aws.String("next page/2 +x"),
			MaxItems:        aws.Int32(5),
			FunctionVersion: types.FunctionVersionAll,
		})
		if err != nil {
			t.Fatalf("ListFunctions: %v", err)
		}
	})

	t.Run("temporary credentials", func(t *testing.T) {
		_, err := st.client(tempCreds).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders")})
		if err != nil {
			t.Fatalf("GetFunctionConfiguration: %v", err)
		}
		if id, _ := st.seen(); id.SessionToken != tempToken || id.Principal == "" {
			t.Errorf("identity = %+v", id)
		}
	})

	rejects := []struct {
		name   string
		creds  aws.Credentials
		code   string
		status int
	}{
		{"wrong secret", aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "wrong"}, CodeInvalidSignature, 403},
		{"unknown key", aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: testSecret}, CodeUnrecognizedClient, 403},
		{"wrong session token", aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: "nope"}, CodeUnrecognizedClient, 403},
	}
	for _, tc := range rejects {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := st.client(tc.creds).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fnARN)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an API error", err)
			}
			if apiErr.ErrorCode() != tc.code {
				t.Errorf("code = %q, want %q (%v)", apiErr.ErrorCode(), tc.code, err)
			}
			var respErr interface{ HTTPStatusCode() int }
			if errors.As(err, &respErr) && respErr.HTTPStatusCode() != tc.status {
				t.Errorf("status = %d, want %d", respErr.HTTPStatusCode(), tc.status)
			}
		})
	}
}
