// Package cloudwatchapi is the CloudWatch 2010-08-01 edge (the `monitoring` signing service): alarms — metric,
// metric-math and composite — (PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DescribeAlarmsForMetric,
// DeleteAlarms, SetAlarmState, DescribeAlarmHistory, Enable/DisableAlarmActions) and metrics (PutMetricData,
// GetMetricStatistics, GetMetricData with metric math, ListMetrics), in
// the three protocols of CloudWatch's model, all of which stock clients use: Smithy RPC v2 CBOR (aws-sdk-go-v2),
// AWS JSON 1.0 (botocore 1.43 — boto3, AWS CLI v1 — which prefers JSON among the protocols the model lists) and
// the query protocol with XML responses (AWS CLI v2 2.9, whose model knows nothing else).
//
// Package wire turns each protocol into the same input and output structs (shapes.go), package edge runs what
// every operation shares (protocol detection, authorization, errors) from the table in New; the operations
// (alarms.go, metricsops.go) check them against the model, translate them to the domain types of
// internal/metrics and internal/alarms and call the Backend.
package cloudwatchapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/api/edge"
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
	*edge.Handler // serves the operations New declares
	backend       Backend
	log           *slog.Logger
	now           func() time.Time
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
	h.Handler = edge.New(edge.Service{
		IAMPrefix:    "cloudwatch",
		Protocol:     service.Detect,
		Body:         decompress,
		Resource:     h.resource,
		Error:        wireError,
		InternalCode: CodeInternalServiceError,
		// CloudWatch's clients expect the query protocol's spelling of the gateway's codes in every protocol.
		AuthCodes: authCodes,
		Log:       h.log,
	},
		edge.OpNoOutput("PutMetricAlarm", h.putMetricAlarm),
		edge.OpNoOutput("PutCompositeAlarm", h.putCompositeAlarm),
		edge.Op("DescribeAlarms", h.describeAlarms),
		edge.Op("DescribeAlarmsForMetric", h.describeAlarmsForMetric),
		edge.OpNoOutput("DeleteAlarms", h.deleteAlarms),
		edge.OpNoOutput("SetAlarmState", h.setAlarmState),
		edge.Op("DescribeAlarmHistory", h.describeAlarmHistory),
		edge.OpNoOutput("EnableAlarmActions", h.setAlarmActions(true)),
		edge.OpNoOutput("DisableAlarmActions", h.setAlarmActions(false)),
		edge.OpNoOutput("PutMetricData", h.putMetricData),
		edge.Op("GetMetricStatistics", h.getMetricStatistics),
		edge.Op("GetMetricData", h.getMetricData),
		edge.Op("ListMetrics", h.listMetrics),
	)
	return h
}

// maxBody bounds a decompressed request body (CloudWatch's own limit is 1 MB).
const maxBody = 8 << 20

// decompress decompresses the request body when the client compressed it (aws-sdk-go-v2 and botocore gzip
// PutMetricData bodies: the operation has the requestCompression trait), and bounds it.
func decompress(r *http.Request, body []byte) ([]byte, error) {
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fault.New(CodeInvalidParameterValue, "The request body is not valid gzip: %s", err)
		}
		defer zr.Close()
		if body, err = io.ReadAll(io.LimitReader(zr, maxBody+1)); err != nil {
			return nil, fault.New(CodeInvalidParameterValue, "Could not read the request body: %s", err)
		}
	default:
		return nil, fault.New(CodeInvalidParameterValue, "Unsupported Content-Encoding %q.", enc)
	}
	if len(body) > maxBody {
		return nil, fault.New("RequestEntityTooLarge", "The request body exceeds %d bytes.", maxBody)
	}
	return body, nil
}

// resource is the ARN an operation acts on for IAM: the alarm, when the request names exactly one; else "*".
func (h *Handler) resource(req edge.Request) string {
	var in struct {
		AlarmName  *string
		AlarmNames []string
	}
	if req.Protocol.Decode(req.HTTP, req.Body, &in) != nil {
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
