// Package cloudwatchapi is the CloudWatch 2010-08-01 edge (the `monitoring` signing service): metric alarms
// (PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState, DescribeAlarmHistory,
// Enable/DisableAlarmActions) and metrics (PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics), in
// the three protocols of CloudWatch's model, all of which stock clients use: Smithy RPC v2 CBOR (aws-sdk-go-v2),
// AWS JSON 1.0 (botocore 1.43 — boto3, AWS CLI v1 — which prefers JSON among the protocols the model lists) and
// the query protocol with XML responses (AWS CLI v2 2.9, whose model knows nothing else).
//
// Package wire turns each protocol into the same input and output structs (shapes.go); the operations
// (alarms.go, metricsops.go) check them against the model, translate them to the domain types of
// internal/metrics and internal/alarms and call the Backend.
package cloudwatchapi

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// service is CloudWatch as its protocols name it.
var service = &wire.Service{
	TargetPrefix:   "GraniteServiceVersion20100801",
	ShapeNamespace: "com.amazonaws.cloudwatch",
	Version:        "2010-08-01",
	XMLNamespace:   "http://monitoring.amazonaws.com/doc/2010-08-01/",
}

// Handler serves the CloudWatch API.
type Handler struct {
	backend Backend
	log     *slog.Logger
	ops     map[string]wire.Operation
	now     func() time.Time
	// region and account name alarms in ARNs.
	region, account string
}

// Option configures a Handler.
type Option func(*Handler)

// WithAccount sets the region and account alarm ARNs carry.
func WithAccount(acct lambda.Account) Option {
	return func(h *Handler) { h.region, h.account = acct.Region, acct.ID }
}

// New returns the CloudWatch API handler over backend.
func New(backend Backend, log *slog.Logger, opts ...Option) *Handler {
	h := &Handler{backend: backend, log: log.With("component", "cloudwatchapi"), now: time.Now, region: "us-east-1", account: "000000000000"}
	for _, o := range opts {
		o(h)
	}
	h.ops = map[string]wire.Operation{
		"PutMetricAlarm":          wire.NoOutput(h.putMetricAlarm),
		"DescribeAlarms":          wire.WithOutput(h.describeAlarms),
		"DescribeAlarmsForMetric": wire.WithOutput(h.describeAlarmsForMetric),
		"DeleteAlarms":            wire.NoOutput(h.deleteAlarms),
		"SetAlarmState":           wire.NoOutput(h.setAlarmState),
		"DescribeAlarmHistory":    wire.WithOutput(h.describeAlarmHistory),
		"EnableAlarmActions":      wire.NoOutput(h.setAlarmActions(true)),
		"DisableAlarmActions":     wire.NoOutput(h.setAlarmActions(false)),
		"PutMetricData":           wire.NoOutput(h.putMetricData),
		"GetMetricStatistics":     wire.WithOutput(h.getMetricStatistics),
		"GetMetricData":           wire.WithOutput(h.getMetricData),
		"ListMetrics":             wire.WithOutput(h.listMetrics),
	}
	return h
}

// ServeHTTP serves an authenticated CloudWatch request (the gateway has verified it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awshttp.RequestID(r.Context()) == "" {
		r = awshttp.WithRequestID(w, r)
	}
	p := service.Detect(r)
	body, err := readBody(r)
	if err != nil {
		h.writeError(w, r, p, "", err)
		return
	}
	name, werr := p.Operation(r, body)
	if werr != nil {
		h.writeError(w, r, p, "", werr)
		return
	}
	op, ok := h.ops[name]
	if !ok {
		h.writeError(w, r, p, name, p.UnknownOperation(name))
		return
	}
	if err := gateway.AuthorizeFor(r.Context(), "cloudwatch:"+name, func() string { return h.resource(p, r, body) }); err != nil {
		h.writeError(w, r, p, name, err)
		return
	}
	out, err := op(r.Context(), p, r, body)
	if err != nil {
		h.writeError(w, r, p, name, err)
		return
	}
	if err := p.Encode(w, name, out, awshttp.RequestID(r.Context())); err != nil {
		h.log.Error("write response", "operation", name, "protocol", p.Name(), "request_id", awshttp.RequestID(r.Context()), "err", err)
	}
}

// maxBody bounds a decompressed request body (CloudWatch's own limit is 1 MB).
const maxBody = 8 << 20

// readBody reads the request body, decompressing it when the client compressed it (aws-sdk-go-v2 and botocore
// gzip PutMetricData bodies: the operation has the requestCompression trait).
func readBody(r *http.Request) ([]byte, error) {
	var src io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fault.New(CodeInvalidParameterValue, "The request body is not valid gzip: %s", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fault.New(CodeInvalidParameterValue, "Unsupported Content-Encoding %q.", enc)
	}
	body, err := io.ReadAll(io.LimitReader(src, maxBody+1))
	switch {
	case err != nil:
		return nil, fault.New(CodeInvalidParameterValue, "Could not read the request body: %s", err)
	case len(body) > maxBody:
		return nil, fault.New("RequestEntityTooLarge", "The request body exceeds %d bytes.", maxBody)
	}
	return body, nil
}

// writeError answers err in the request's protocol: a *wire.Error as it is, a fault with its code's shape and
// status, anything else as a 500 InternalServiceError (logged, without detail to the client).
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, p wire.Protocol, op string, err error) {
	reqID := awshttp.RequestID(r.Context())
	var we *wire.Error
	switch e := err.(type) {
	case *wire.Error:
		we = e
	default:
		f, ok := fault.As(err)
		if !ok {
			h.log.Error("internal error", "operation", op, "protocol", p.Name(), "request_id", reqID, "err", err)
			f = fault.New(CodeInternalServiceError, "An internal error occurred. Request ID: %s", reqID)
		}
		we = wireError(f)
	}
	h.log.Debug("error", "operation", op, "protocol", p.Name(), "code", we.Code, "status", we.Status, "request_id", reqID)
	p.EncodeError(w, we, reqID)
}

// WriteAuthError answers a request the gateway could not authenticate in the protocol the client speaks, with
// the query protocol's spelling of the code (SignatureDoesNotMatch, InvalidClientTokenId, …), which is what
// CloudWatch's clients expect in every protocol.
func (h *Handler) WriteAuthError(w http.ResponseWriter, r *http.Request, code string, status int, message string) {
	if c, ok := authCodes[code]; ok {
		code = c
	}
	service.Detect(r).EncodeError(w, &wire.Error{Code: code, Status: status, Receiver: status >= 500, Message: message},
		awshttp.RequestID(r.Context()))
}

// resource is the ARN an operation acts on for IAM: the alarm, when the request names exactly one; else "*".
func (h *Handler) resource(p wire.Protocol, r *http.Request, body []byte) string {
	var in struct {
		AlarmName  *string
		AlarmNames []string
	}
	if p.Decode(r, body, &in) != nil {
		return "*"
	}
	name := str(in.AlarmName)
	if name == "" && len(in.AlarmNames) == 1 {
		name = in.AlarmNames[0]
	}
	if name == "" {
		return "*"
	}
	return "arn:aws:cloudwatch:" + h.region + ":" + h.account + ":alarm:" + name
}
