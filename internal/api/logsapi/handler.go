// Package logsapi is the CloudWatch Logs 2014-03-28 edge (AWS JSON 1.1: POST /, X-Amz-Target
// Logs_20140328.<Operation>) over the function logs in logstore: FilterLogEvents, GetLogEvents, DescribeLogStreams
// and DescribeLogGroups, enough for `aws logs tail [--follow]`, `aws logs filter-log-events` and the SDKs'
// paginators; and, given logstore's Registry (WithRegistry), CreateLogGroup, DeleteLogGroup, PutRetentionPolicy and
// DeleteRetentionPolicy, what IaC tools make log groups with. A function's log group exists once it has logged;
// events are written by Lambda only, never through this API.
package logsapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
)

// targetPrefix starts every X-Amz-Target header of the service.
const targetPrefix = "Logs_20140328."

// contentType is the JSON 1.1 protocol's media type, for requests and responses alike.
const contentType = "application/x-amz-json-1.1"

// CloudWatch Logs exception names.
const (
	codeInvalidParameter   = "InvalidParameterException"
	codeResourceNotFound   = fault.ResourceNotFound
	codeServiceUnavailable = "ServiceUnavailableException"
	codeUnknownOperation   = "UnknownOperationException"
	codeSerialization      = awshttp.CodeSerialization
)

// Messages AWS sends for missing resources.
const (
	msgNoGroup  = "The specified log group does not exist."
	msgNoStream = "The specified log stream does not exist."
)

// Handler serves the CloudWatch Logs API.
type Handler struct {
	*edge.Handler // serves the operations New declares
	store         logstore.Reader
	groups        *logstore.Registry
	acct          lambda.Account
	log           *slog.Logger
}

// Option configures the handler.
type Option func(*Handler)

// WithRegistry serves the log groups made through the API from groups (their retention and deletions apply to
// what readers see) and the operations that make them.
func WithRegistry(groups *logstore.Registry) Option {
	return func(h *Handler) { h.groups = groups }
}

// New returns the CloudWatch Logs API handler over store: a node's *logstore.Store, or in a cluster the
// *logstore.Cluster that merges every node's logs.
func New(store logstore.Reader, acct lambda.Account, log *slog.Logger, opts ...Option) *Handler {
	h := &Handler{store: store, acct: acct, log: log.With("component", "logsapi")}
	for _, o := range opts {
		o(h)
	}
	ops := []edge.Operation{
		edge.Op("FilterLogEvents", h.filterLogEvents),
		edge.Op("GetLogEvents", h.getLogEvents),
		edge.Op("DescribeLogStreams", h.describeLogStreams),
		edge.Op("DescribeLogGroups", h.describeLogGroups),
	}
	if h.groups != nil {
		h.store = logstore.Retained{Reader: store, Registry: h.groups}
		ops = append(ops,
			edge.OpNoOutput("CreateLogGroup", h.createLogGroup),
			edge.OpNoOutput("DeleteLogGroup", h.deleteLogGroup),
			edge.OpNoOutput("PutRetentionPolicy", h.putRetentionPolicy),
			edge.OpNoOutput("DeleteRetentionPolicy", h.deleteRetentionPolicy))
	}
	proto := edge.JSON11{TargetPrefix: targetPrefix, InternalCode: codeServiceUnavailable}
	h.Handler = edge.New(edge.Service{
		IAMPrefix:    "logs",
		Protocol:     func(*http.Request) wire.Protocol { return proto },
		Resource:     h.resource,
		AccessDenied: "AccessDeniedException",
		// CloudWatch Logs exceptions are 400s; what is not a fault is reported as a ServiceUnavailableException.
		Error:        edge.ByStatus(map[string]int{codeServiceUnavailable: http.StatusInternalServerError}),
		InternalCode: codeServiceUnavailable,
		Log:          h.log,
	}, ops...)
	return h
}

func invalid(format string, args ...any) error {
	return fault.New(codeInvalidParameter, format, args...)
}

func notFound(msg string) error { return &fault.Error{Code: codeResourceNotFound, Message: msg} }

// ---- names and ARNs ----

// groupARN is a log group's ARN as DescribeLogGroups' arn member spells it (with the trailing ":*").
func (h *Handler) groupARN(group string) string {
	return "arn:aws:logs:" + h.acct.Region + ":" + h.acct.ID + ":log-group:" + group + ":*"
}

func (h *Handler) streamARN(group, stream string) string {
	return "arn:aws:logs:" + h.acct.Region + ":" + h.acct.ID + ":log-group:" + group + ":log-stream:" + stream
}

// resolveGroup picks the log group from logGroupName or logGroupIdentifier (a name or an ARN of this account and
// region, with or without the trailing ":*") and checks that it exists.
func (h *Handler) resolveGroup(name, identifier *string) (string, error) {
	switch {
	case name != nil && identifier != nil:
		return "", invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name == nil && identifier == nil:
		return "", invalid("Either logGroupName or logGroupIdentifier must be specified.")
	}
	var group string
	if name != nil {
		if err := checkGroupName("logGroupName", *name); err != nil {
			return "", err
		}
		group = *name
	} else {
		id := *identifier
		if rest, ok := strings.CutPrefix(id, "arn:"); ok {
			// arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]
			parts := strings.SplitN(rest, ":", 6)
			if len(parts) != 6 || parts[1] != "logs" || parts[4] != "log-group" {
				return "", invalid("Invalid logGroupIdentifier: %s", id)
			}
			if parts[2] != h.acct.Region || parts[3] != h.acct.ID {
				return "", notFound(msgNoGroup)
			}
			id = strings.TrimSuffix(parts[5], ":*")
		}
		if err := checkGroupName("logGroupIdentifier", id); err != nil {
			return "", err
		}
		group = id
	}
	if ok, err := h.exists(group); err != nil {
		return "", err
	} else if !ok {
		return "", notFound(msgNoGroup)
	}
	return group, nil
}

// checkGroupName applies the model's LogGroupName constraints: 1-512 of [.\-_/#A-Za-z0-9].
func checkGroupName(member, name string) error {
	if len(name) < 1 || len(name) > 512 {
		return invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 512", name, member)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/#", c)) {
			return invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", name, member)
		}
	}
	return nil
}

// limitOf validates an optional limit member against [1, max] and applies the default.
func limitOf(member string, v *int32, max, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	switch {
	case *v < 1:
		return 0, invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 1", *v, member)
	case int(*v) > max:
		return 0, invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", *v, member, max)
	}
	return int(*v), nil
}

// checkTime validates an optional timestamp member (non-negative).
func checkTime(member string, v *int64) error {
	if v != nil && *v < 0 {
		return invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 0", *v, member)
	}
	return nil
}

// resource is the log group a request names, for IAM ("*" when it names none).
func (h *Handler) resource(req edge.Request) string {
	var in struct{ LogGroupName, LogGroupIdentifier string }
	_ = json.Unmarshal(req.Body, &in)
	switch {
	case in.LogGroupName != "":
		return h.groupARN(in.LogGroupName)
	case strings.HasPrefix(in.LogGroupIdentifier, "arn:"):
		return strings.TrimSuffix(in.LogGroupIdentifier, ":*") + ":*"
	case in.LogGroupIdentifier != "":
		return h.groupARN(in.LogGroupIdentifier)
	}
	return "*"
}
