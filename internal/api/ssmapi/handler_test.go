package ssmapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/parameterstore"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	params, err := parameterstore.New(parameterstore.Options{Store: db, Key: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return New(params, lambda.Account{Region: "us-east-1", ID: "000000000000"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// call sends one JSON 1.1 request to the edge (no gateway: nothing is authorized) and returns the status, the
// error type and the body.
func call(t *testing.T, h http.Handler, target, body string) (int, string, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, rec.Header().Get("x-amzn-ErrorType"), out
}

// TestWire: the model's checks in AWS's words (every violation, in the model's member order), the protocol's own
// errors, and the shapes of answers.
func TestWire(t *testing.T) {
	h := newHandler(t)
	long := strings.Repeat("n", 2049)
	for _, tc := range []struct {
		name, target, body string
		status             int
		code, message      string
	}{
		{"every violation, in the model's order", "AmazonSSM.PutParameter", `{"Name":"` + long + `","Description":"` + strings.Repeat("d", 1025) + `","Value":"v","Type":"Text"}`,
			400, "ValidationException", "3 validation errors detected: Value '" + long + "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048; " +
				"Value '" + strings.Repeat("d", 1025) + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024; " +
				"Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]"},
		{"required", "AmazonSSM.GetParameter", `{}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"list size", "AmazonSSM.GetParameters", `{"Names":["a","b","c","d","e","f","g","h","i","j","k"]}`, 400, "ValidationException",
			"1 validation error detected: Value '[a, b, c, d, e, f, g, h, i, j, k]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"nested filter key", "AmazonSSM.DescribeParameters", `{"ParameterFilters":[{"Key":"Colour","Values":["x"]}]}`, 400, "ValidationException",
			"1 validation error detected: Value 'Colour' at 'parameterFilters.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType"},
		{"unknown operation", "AmazonSSM.SendCommand", `{}`, 400, "UnknownOperationException", "Unknown operation AmazonSSM.SendCommand"},
		{"another service's target", "AmazonSSMx.GetParameter", `{}`, 400, "UnknownOperationException", "Unknown operation AmazonSSMx.GetParameter"},
		{"wrong JSON type", "AmazonSSM.GetParameter", `{"Name":5}`, 400, "SerializationException", ""},
		{"not JSON", "AmazonSSM.GetParameter", `{"Name":`, 400, "SerializationException", ""},
		{"missing", "AmazonSSM.GetParameter", `{"Name":"/nope"}`, 400, "ParameterNotFound", ""},
		{"other resource types", "AmazonSSM.ListTagsForResource", `{"ResourceType":"Document","ResourceId":"x"}`, 400, "InvalidResourceType", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, body := call(t, h, tc.target, tc.body)
			if status != tc.status || code != tc.code || body["__type"] != tc.code {
				t.Fatalf("got %d %s %v, want %d %s", status, code, body, tc.status, tc.code)
			}
			if tc.message != "" && body["message"] != tc.message {
				t.Errorf("message:\n got %q\nwant %q", body["message"], tc.message)
			}
		})
	}

	status, _, body := call(t, h, "AmazonSSM.PutParameter", `{"Name":"/a/b","Value":"v","Type":"String"}`)
	if status != 200 || body["Version"] != 1.0 || body["Tier"] != "Standard" {
		t.Fatalf("put: %d %v", status, body)
	}
	status, _, body = call(t, h, "AmazonSSM.GetParameter", `{"Name":"arn:aws:ssm:us-east-1:000000000000:parameter/a/b"}`)
	p, _ := body["Parameter"].(map[string]any)
	if status != 200 || p["Name"] != "/a/b" || p["ARN"] != "arn:aws:ssm:us-east-1:000000000000:parameter/a/b" || p["Selector"] != nil {
		t.Fatalf("get by ARN: %d %v", status, body)
	}
	if _, ok := p["LastModifiedDate"].(float64); !ok {
		t.Errorf("LastModifiedDate is not epoch seconds: %v", p["LastModifiedDate"])
	}
	status, _, body = call(t, h, "AmazonSSM.GetParameters", `{"Names":["/none"]}`)
	if status != 200 || len(body["Parameters"].([]any)) != 0 || len(body["InvalidParameters"].([]any)) != 1 {
		t.Errorf("GetParameters answers empty lists, not nulls: %v", body)
	}
	status, _, _ = call(t, h, "AmazonSSM.PutParameter", `{"Name":"/a/c","Value":"`+strings.Repeat("x", MaxBodyBytes)+`","Type":"String"}`)
	if status != 400 {
		t.Errorf("a body over %d bytes: %d", MaxBodyBytes, status)
	}
}
