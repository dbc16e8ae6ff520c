package cloudwatchapi_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/metrics"
)

const (
	cborPath = "/service/GraniteServiceVersion20100801/operation/"
	target   = "GraniteServiceVersion20100801."
)

// rawRequest builds a request in one protocol by hand: op and a body that is CBOR (any), JSON (any) or a form.
func rawRequest(t *testing.T, url, protocol, op string, body any) *http.Request {
	t.Helper()
	var req *http.Request
	var err error
	switch protocol {
	case "rpcv2Cbor":
		b, ok := body.([]byte)
		if !ok {
			if b, err = cbor.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		req, err = http.NewRequest(http.MethodPost, url+cborPath+op, bytes.NewReader(b))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		req.Header.Set("Content-Type", "application/cbor")
	case "awsJson1_0":
		b, ok := body.([]byte)
		if !ok {
			b, _ = json.Marshal(body)
		}
		req, err = http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(b))
		req.Header.Set("X-Amz-Target", target+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	case "awsQuery":
		form, _ := body.(string)
		if op != "" {
			form = "Action=" + op + "&Version=2010-08-01&" + form
		}
		req, err = http.NewRequest(http.MethodPost, url+"/", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if err != nil {
		t.Fatal(err)
	}
	return req
}

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, b}
}

// rawError is an error response as each protocol spells it.
type rawError struct {
	Status  int
	Code    string // query <Code>, or the x-amzn-query-error code
	Type    string // __type (JSON, CBOR), or <Code> again (query)
	Message string
	Sender  bool // Sender (not Receiver) in x-amzn-query-error or <Type>
}

func parseError(t *testing.T, protocol string, r rawResponse) rawError {
	t.Helper()
	e := rawError{Status: r.status}
	switch protocol {
	case "rpcv2Cbor", "awsJson1_0":
		var body map[string]any
		var err error
		if protocol == "rpcv2Cbor" {
			if r.header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.header.Get("Content-Type") != "application/cbor" {
				t.Errorf("CBOR error headers %v", r.header)
			}
			err = cbor.Unmarshal(r.body, &body)
		} else {
			if r.header.Get("Content-Type") != "application/x-amz-json-1.0" {
				t.Errorf("JSON error headers %v", r.header)
			}
			err = json.Unmarshal(r.body, &body)
		}
		if err != nil {
			t.Fatalf("error body %q: %v", r.body, err)
		}
		e.Type, _ = body["__type"].(string)
		e.Message, _ = body["message"].(string)
		code, fault, _ := strings.Cut(r.header.Get("X-Amzn-Query-Error"), ";")
		e.Code, e.Sender = code, fault == "Sender"
	case "awsQuery":
		var doc struct {
			Error     struct{ Type, Code, Message string }
			RequestID string `xml:"RequestId"`
		}
		if err := xmlUnmarshal(r.body, &doc); err != nil {
			t.Fatalf("error body %q: %v", r.body, err)
		}
		if doc.RequestID == "" || doc.RequestID != r.header.Get("X-Amzn-Requestid") {
			t.Errorf("RequestId %q, header %q", doc.RequestID, r.header.Get("X-Amzn-Requestid"))
		}
		e.Code, e.Message, e.Sender, e.Type = doc.Error.Code, doc.Error.Message, doc.Error.Type == "Sender", doc.Error.Code
	}
	return e
}

// TestProtocolErrors checks error responses byte by byte where no client is at hand: unknown operations,
// undecodable bodies, members of the wrong type.
func TestProtocolErrors(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		name, protocol, op string
		body               any
		want               rawError
	}{
		{"unknown operation", "rpcv2Cbor", "PutDashboard", map[string]any{}, rawError{Status: 404, Code: "UnknownOperationException", Type: "UnknownOperationException", Message: "Unknown operation PutDashboard", Sender: true}},
		{"unknown operation", "awsJson1_0", "PutDashboard", map[string]any{}, rawError{Status: 400, Code: "UnknownOperationException", Type: "UnknownOperationException", Message: "Unknown operation PutDashboard", Sender: true}},
		{"unknown operation", "awsQuery", "PutDashboard", "", rawError{Status: 400, Code: "InvalidAction", Type: "InvalidAction", Message: "Could not find operation PutDashboard for version 2010-08-01", Sender: true}},
		{"missing action", "awsQuery", "", "Version=2010-08-01", rawError{Status: 400, Code: "MissingAction", Type: "MissingAction", Message: "The request must contain the parameter Action.", Sender: true}},
		{"other version", "awsQuery", "", "Action=ListMetrics&Version=2009-01-01", rawError{Status: 400, Code: "InvalidAction", Type: "InvalidAction", Message: "Could not find operation ListMetrics for version 2009-01-01", Sender: true}},
		{"not CBOR", "rpcv2Cbor", "ListMetrics", []byte{0xff, 0x00}, rawError{Status: 400, Code: "SerializationException", Type: "SerializationException", Message: "Request body is not valid CBOR: cbor: unexpected \"break\" code", Sender: true}},
		{"not a structure", "rpcv2Cbor", "ListMetrics", []any{1}, rawError{Status: 400, Code: "SerializationException", Type: "SerializationException", Message: "Request body must be a structure, got a list", Sender: true}},
		{"not JSON", "awsJson1_0", "ListMetrics", []byte("{"), rawError{Status: 400, Code: "SerializationException", Type: "SerializationException", Message: "Request body is not valid JSON: unexpected EOF", Sender: true}},
		{"wrong type", "rpcv2Cbor", "DescribeAlarms", map[string]any{"MaxRecords": "ten"}, rawError{Status: 400, Code: "SerializationException", Type: "SerializationException", Message: "Cannot deserialize value of MaxRecords: expected an integer, got the string \"ten\"", Sender: true}},
		{"wrong type", "awsJson1_0", "PutMetricData", map[string]any{"Namespace": "N", "MetricData": []any{map[string]any{"MetricName": "M", "Value": true}}},
			rawError{Status: 400, Code: "SerializationException", Type: "SerializationException", Message: "Cannot deserialize value of MetricData.member.1.Value: expected a double, got the boolean true", Sender: true}},
		{"wrong type", "awsQuery", "DescribeAlarms", "MaxRecords=ten", rawError{Status: 400, Code: "InvalidParameterValue", Type: "InvalidParameterValue", Message: "Value (ten) for parameter MaxRecords is invalid. Expected an integer.", Sender: true}},
		{"empty list", "awsQuery", "DeleteAlarms", "AlarmNames=", rawError{Status: 400, Code: "MissingParameter", Type: "MissingParameter", Message: "The parameter AlarmNames is required.", Sender: true}},
		{"constraint", "awsJson1_0", "DescribeAlarms", map[string]any{"MaxRecords": 101}, rawError{Status: 400, Code: "ValidationError", Type: "com.amazonaws.cloudwatch#ValidationException",
			Message: "1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", Sender: true}},
		{"modelled", "rpcv2Cbor", "PutMetricData", map[string]any{"Namespace": "AWS/EC2", "MetricData": []any{map[string]any{"MetricName": "M", "Value": 1.0}}},
			rawError{Status: 400, Code: "InvalidParameterValue", Type: "com.amazonaws.cloudwatch#InvalidParameterValueException", Message: "The value AWS/ for parameter Namespace is invalid.", Sender: true}},
	} {
		t.Run(tc.protocol+" "+tc.name, func(t *testing.T) {
			got := parseError(t, tc.protocol, do(t, rawRequest(t, s.URL, tc.protocol, tc.op, tc.body)))
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func xmlUnmarshal(b []byte, v any) error { return xml.NewDecoder(bytes.NewReader(b)).Decode(v) }

// TestCBORWire checks what botocore's and the SDK's parsers rely on in a CBOR response: the headers, timestamps
// as tag 1 (integer seconds, or float seconds with a fraction), doubles as floats, absent members left out.
func TestCBORWire(t *testing.T) {
	s := newServer(t)
	a := ordersAlarm()
	a.StateUpdated = base // whole seconds
	a.Description = ""
	s.fake.alarms = []alarms.Alarm{a}
	r := do(t, rawRequest(t, s.URL, "rpcv2Cbor", "DescribeAlarms", map[string]any{}))
	if r.status != 200 || r.header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.header.Get("Content-Type") != "application/cbor" {
		t.Fatalf("%d %v %q", r.status, r.header, r.body)
	}
	var raw struct {
		MetricAlarms []map[string]cbor.RawMessage
	}
	if err := cbor.Unmarshal(r.body, &raw); err != nil || len(raw.MetricAlarms) != 1 {
		t.Fatalf("%v %x", err, r.body)
	}
	m := raw.MetricAlarms[0]
	var tag cbor.RawTag
	if err := cbor.Unmarshal(m["StateUpdatedTimestamp"], &tag); err != nil || tag.Number != 1 {
		t.Fatalf("StateUpdatedTimestamp %x is not tag 1: %v", []byte(m["StateUpdatedTimestamp"]), err)
	}
	if tag.Content[0]>>5 != 0 { // major type 0: an unsigned integer
		t.Errorf("whole-second timestamp content %x is not an integer", []byte(tag.Content))
	}
	var secs uint64
	if cbor.Unmarshal(tag.Content, &secs); int64(secs) != base.Unix() {
		t.Errorf("timestamp %d, want %d", secs, base.Unix())
	}
	if err := cbor.Unmarshal(m["AlarmConfigurationUpdatedTimestamp"], &tag); err != nil || tag.Number != 1 || tag.Content[0] != 0xfb {
		t.Errorf("fractional timestamp %x is not tag 1 with a double", []byte(m["AlarmConfigurationUpdatedTimestamp"]))
	}
	if th := m["Threshold"]; len(th) != 9 || th[0] != 0xfb {
		t.Errorf("Threshold %x is not a double", []byte(th))
	}
	if _, ok := m["AlarmDescription"]; ok {
		t.Errorf("an empty description is sent: %x", []byte(m["AlarmDescription"]))
	}
	if p := m["Period"]; len(p) != 2 || p[0] != 0x18 || p[1] != 60 {
		t.Errorf("Period %x is not the integer 60", []byte(p))
	}

	// An operation without output answers an empty body.
	r = do(t, rawRequest(t, s.URL, "rpcv2Cbor", "DeleteAlarms", map[string]any{"AlarmNames": []string{"x"}}))
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("DeleteAlarms: %d %v %x", r.status, r.header, r.body)
	}

	// Requests: indefinite lengths, float and integer timestamps, untagged epoch seconds.
	s.fake.takeCalls()
	body := []byte{0xbf} // indefinite map
	body = append(body, mustCBOR(t, "Namespace")...)
	body = append(body, mustCBOR(t, "N")...)
	body = append(body, mustCBOR(t, "MetricData")...)
	body = append(body, 0x9f) // indefinite list
	for _, ts := range []any{cbor.Tag{Number: 1, Content: float64(base.Unix()) + 0.5}, cbor.Tag{Number: 1, Content: base.Unix()}, base.Unix()} {
		body = append(body, mustCBOR(t, map[string]any{"MetricName": "M", "Value": 1.0, "Timestamp": ts})...)
	}
	body = append(body, 0xff, 0xff)
	r = do(t, rawRequest(t, s.URL, "rpcv2Cbor", "PutMetricData", body))
	if r.status != 200 {
		t.Fatalf("PutMetricData: %d %x", r.status, r.body)
	}
	calls := s.fake.takeCalls()
	data := calls[0].Args.([]cloudwatchapi.Datum)
	for i, want := range []time.Time{base.Add(500 * time.Millisecond), base, base} {
		if !data[i].Sample.At.Equal(want) {
			t.Errorf("datum %d at %v, want %v", i, data[i].Sample.At, want)
		}
	}
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestQueryWire checks a query response document exactly, and that GET requests with the parameters in the URL
// work too.
func TestQueryWire(t *testing.T) {
	s := newServer(t)
	s.fake.metricIDs = metricIDs()
	s.fake.nextToken = "a&b"
	s.fake.datapoints = datapoints()[:1]
	r := do(t, rawRequest(t, s.URL, "awsQuery", "ListMetrics", "Namespace=Sluice%2FTest"))
	want := `<ListMetricsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ListMetricsResult>` +
		`<Metrics><member><Namespace>Sluice/Test</Namespace><MetricName>Latency</MetricName><Dimensions><member><Name>FunctionName</Name><Value>orders</Value></member></Dimensions></member>` +
		`<member><Namespace>Sluice/Test</Namespace><MetricName>Requests</MetricName><Dimensions></Dimensions></member></Metrics>` +
		`<NextToken>a&amp;b</NextToken></ListMetricsResult><ResponseMetadata><RequestId>` + r.header.Get("X-Amzn-Requestid") +
		`</RequestId></ResponseMetadata></ListMetricsResponse>`
	if r.status != 200 || string(r.body) != want || r.header.Get("Content-Type") != "text/xml" {
		t.Errorf("ListMetrics: %d %v\n%s\nwant\n%s", r.status, r.header, r.body, want)
	}

	q := url.Values{"Action": {"GetMetricStatistics"}, "Version": {"2010-08-01"}, "Namespace": {"N"}, "MetricName": {"M"},
		"StartTime": {base.Add(-time.Hour).Format(time.RFC3339)}, "EndTime": {base.Format(time.RFC3339)}, "Period": {"60"},
		"ExtendedStatistics.member.1": {"p99"}}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/?"+q.Encode(), nil)
	r = do(t, req)
	dp := datapoints()[0]
	want = `<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricStatisticsResult>` +
		`<Label>M</Label><Datapoints><member><Timestamp>` + dp.Timestamp.Format("2006-01-02T15:04:05.000Z") + `</Timestamp>` +
		`<Unit>Milliseconds</Unit><ExtendedStatistics><entry><key>p99</key><value>3.96</value></entry></ExtendedStatistics></member></Datapoints>` +
		`</GetMetricStatisticsResult><ResponseMetadata><RequestId>` + r.header.Get("X-Amzn-Requestid") + `</RequestId></ResponseMetadata></GetMetricStatisticsResponse>`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("GetMetricStatistics: %d\n%s\nwant\n%s", r.status, r.body, want)
	}
	calls := s.fake.takeCalls()
	if q := calls[len(calls)-1].Args.(metrics.Query); q.Metric.Name != "M" || !q.Start.Equal(base.Add(-time.Hour)) || q.Percentiles[0] != "p99" {
		t.Errorf("query %+v", q)
	}

	// An operation without output still names itself and the request.
	r = do(t, rawRequest(t, s.URL, "awsQuery", "DeleteAlarms", "AlarmNames.member.1=x"))
	want = `<DeleteAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>` +
		r.header.Get("X-Amzn-Requestid") + `</RequestId></ResponseMetadata></DeleteAlarmsResponse>`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("DeleteAlarms: %d\n%s\nwant\n%s", r.status, r.body, want)
	}
}

// TestAuthErrors: the gateway hands authentication failures to the handler, which answers them in the client's
// protocol with the codes CloudWatch's clients know.
func TestAuthErrors(t *testing.T) {
	h := cloudwatchapi.New(&fake{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, protocol := range []string{"rpcv2Cbor", "awsJson1_0", "awsQuery"} {
		req := rawRequest(t, "http://x", protocol, "ListMetrics", map[string]any{})
		if protocol == "awsQuery" {
			req = rawRequest(t, "http://x", protocol, "ListMetrics", "")
		}
		w := httptest.NewRecorder()
		req = awshttp.WithRequestID(w, req) // as the gateway does
		h.WriteAuthError(w, req, "InvalidSignatureException", 403, "The request signature we calculated does not match the signature you provided.")
		got := parseError(t, protocol, rawResponse{w.Code, w.Header(), w.Body.Bytes()})
		want := rawError{Status: 403, Code: "SignatureDoesNotMatch", Type: "SignatureDoesNotMatch", Sender: true,
			Message: "The request signature we calculated does not match the signature you provided."}
		if got != want {
			t.Errorf("%s: %+v, want %+v", protocol, got, want)
		}
	}
}
