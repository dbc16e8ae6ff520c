package codedeployapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/api/codedeployapi"
	"github.com/sluice-dev/sluice/internal/codedeploy"
)

type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// post sends one JSON 1.1 request as a client would (unsigned: the handler sits behind the gateway).
func post(t *testing.T, url, target, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResponse{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r.body); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

const target = "CodeDeploy_20141006."

func TestProtocolErrors(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		name, target, body string
		status             int
		code, message      string
	}{
		{"unknown operation", target + "DescribeEverything", `{}`, 400, "UnknownOperationException", "Unknown operation CodeDeploy_20141006.DescribeEverything"},
		{"other service's target", "Logs_20140328.GetLogEvents", `{}`, 400, "UnknownOperationException", "Unknown operation Logs_20140328.GetLogEvents"},
		{"no target", "", `{}`, 400, "UnknownOperationException", "Unknown operation POST /"},
		{"not JSON", target + "GetApplication", `{"applicationName":`, 400, "SerializationException", "Request body is not valid JSON: unexpected end of JSON input"},
		{"wrong type", target + "GetApplication", `{"applicationName":5}`, 400, "SerializationException", "Cannot deserialize value of applicationName: expected string, got number"},
		{"bad timestamp", target + "ListDeployments", `{"createTimeRange":{"start":"yesterday"}}`, 400, "SerializationException", `Invalid timestamp "yesterday": expected epoch seconds`},
		{"deployment ID", target + "GetDeploymentTarget", `{"targetId":"orders:live"}`, 400, "DeploymentIdRequiredException", "At least one deployment ID must be specified."},
		{"target ID", target + "BatchGetDeploymentTargets", `{"deploymentId":"d-RPCR1U3TW","targetIds":[]}`, 400, "DeploymentTargetIdRequiredException", "A deployment target ID must be specified."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL, tc.target, tc.body)
			want := map[string]any{"__type": tc.code, "message": tc.message}
			if r.status != tc.status || !reflect.DeepEqual(r.body, want) || r.header.Get("x-amzn-ErrorType") != tc.code {
				t.Errorf("got %d %s %v, want %d %v", r.status, r.header.Get("x-amzn-ErrorType"), r.body, tc.status, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/", nil)
		req.Header.Set("X-Amz-Target", target+"ListApplications")
		if r := do(t, req); r.status != 400 || r.body["__type"] != "UnknownOperationException" {
			t.Errorf("got %d %v", r.status, r.body)
		}
	})
	t.Run("InternalFailure", func(t *testing.T) {
		s.fake.fail = failOn("ListApplications", io.ErrUnexpectedEOF)
		defer func() { s.fake.fail = nil }()
		r := post(t, s.URL, target+"ListApplications", `{}`)
		id := r.header.Get("x-amzn-RequestId")
		want := map[string]any{"__type": "InternalFailure", "message": "An internal error occurred. Request ID: " + id}
		if r.status != 500 || id == "" || !reflect.DeepEqual(r.body, want) || r.header.Get("x-amzn-ErrorType") != "InternalFailure" {
			t.Errorf("got %d %v, want 500 %v", r.status, r.body, want)
		}
	})
}

// TestEmptyBody: an empty request body is an empty input (botocore sends "{}", but the protocol allows none).
func TestEmptyBody(t *testing.T) {
	s := newServer(t)
	s.fake.names = nil
	r := post(t, s.URL, target+"ListApplications", "")
	if r.status != 200 || r.raw != `{"applications":[]}` {
		t.Errorf("got %d %s", r.status, r.raw)
	}
}

// TestDeploymentInfoWire checks deploymentInfo as bytes on the wire: epoch seconds with their fraction, the
// capitalised deploymentOverview members, the members left out before a deployment starts, and the Sluice
// extension members.
func TestDeploymentInfoWire(t *testing.T) {
	s := newServer(t)
	r := post(t, s.URL, target+"GetDeployment", `{"deploymentId":"`+idInProgress+`"}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	d := r.body["deploymentInfo"].(map[string]any)
	for member, want := range map[string]any{
		"createTime":               json.Number("1780315200.25"),
		"startTime":                json.Number("1780315202.25"),
		"status":                   "InProgress",
		"computePlatform":          "Lambda",
		"creator":                  "user",
		"deploymentOverview":       map[string]any{"Pending": json.Number("0"), "InProgress": json.Number("1"), "Succeeded": json.Number("0"), "Failed": json.Number("0"), "Skipped": json.Number("0"), "Ready": json.Number("0")},
		"deploymentStyle":          map[string]any{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
		"revision":                 map[string]any{"revisionType": "AppSpecContent", "appSpecContent": map[string]any{"content": appSpecYAML}},
		"deploymentStatusMessages": []any{},
		"sluiceBlastRadius":        map[string]any{"targetInvocations": json.Number("120"), "targetErrors": json.Number("3")},
	} {
		if got := d[member]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", member, got, want)
		}
	}
	for _, absent := range []string{"completeTime", "errorInformation", "rollbackInfo"} {
		if v, ok := d[absent]; ok {
			t.Errorf("%s = %v, want absent", absent, v)
		}
	}
	tl := d["sluiceTimeline"].([]any)
	if len(tl) != 3 {
		t.Fatalf("sluiceTimeline %v", tl)
	}
	if e := tl[0].(map[string]any); e["kind"] != "created" || e["time"] != json.Number("1780315200.25") || e["weight"] != nil {
		t.Errorf("first entry %v", e)
	}
	if e := tl[2].(map[string]any); e["kind"] != "step" || e["weight"] != json.Number("0.1") || e["detail"] != "alias live: version 2 at 10%" {
		t.Errorf("step entry %v", e)
	}

	r = post(t, s.URL, target+"GetDeployment", `{"deploymentId":"`+idNotStarted+`"}`)
	d = r.body["deploymentInfo"].(map[string]any)
	for _, absent := range []string{"startTime", "completeTime"} {
		if v, ok := d[absent]; ok {
			t.Errorf("not started: %s = %v, want absent", absent, v)
		}
	}
	if d["status"] != "Created" || d["deploymentOverview"].(map[string]any)["Pending"] != json.Number("1") {
		t.Errorf("not started: %v", d)
	}
}

// TestTimestampsIn: createTimeRange accepts epoch seconds as integers, fractions and strings, and RFC 3339.
func TestTimestampsIn(t *testing.T) {
	s := newServer(t)
	for _, v := range []string{`1780315200.25`, `"1780315200.25"`, `"2026-06-01T12:00:00.25Z"`} {
		r := post(t, s.URL, target+"ListDeployments", `{"createTimeRange":{"start":`+v+`,"end":null}}`)
		calls := s.fake.takeCalls()
		if r.status != 200 || len(calls) != 1 || !calls[0].Args.(codedeploy.ListDeploymentsFilter).CreatedAfter.Equal(tCreate) {
			t.Errorf("%s: %d %s %+v", v, r.status, r.raw, calls)
		}
	}
}

// TestAuthErrors: the gateway's authentication failures are written in JSON 1.1 form.
func TestAuthErrors(t *testing.T) {
	h := codedeployapi.New(newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := httptest.NewRecorder()
	h.WriteAuthError(w, httptest.NewRequest(http.MethodPost, "/", nil), "InvalidSignatureException", 403, "The request signature we calculated does not match the signature you provided.")
	if w.Code != 403 || w.Header().Get("x-amzn-ErrorType") != "InvalidSignatureException" || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" ||
		w.Body.String() != `{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided."}` {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}
