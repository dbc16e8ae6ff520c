// Package iamapi is the IAM 2010-05-08 and STS 2011-06-15 edge (signing services `iam` and `sts`): both speak
// the AWS query protocol with XML responses. Each service declares its operations in an edge table (NewIAM,
// NewSTS): an IAM operation checks its input against the model and names the resource it is authorized on
// (edge.ResourceOf), then calls internal/iam. STS's AssumeRoleWithWebIdentity is the one unsigned operation Sluice
// serves: the gateway hands such requests here without an identity.
package iamapi

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
)

var (
	iamService = &wire.Service{Version: "2010-05-08", XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/"}
	stsService = &wire.Service{Version: "2011-06-15", XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/"}
)

// Handler serves one of the two services.
type Handler struct {
	*edge.Handler // serves the operations NewIAM or NewSTS declares
}

// newHandler is the handler of one of the two services: iamPrefix names its actions ("" for none), codes gives
// the HTTP status of the model's error codes.
func newHandler(service *wire.Service, iamPrefix string, codes map[string]int, log *slog.Logger, ops ...edge.Operation) *Handler {
	return &Handler{edge.New(edge.Service{
		IAMPrefix: iamPrefix,
		Protocol:  service.Detect,
		Body:      edge.MaxBody(maxBody),
		// Only AssumeRoleWithWebIdentity comes unsigned (the gateway lets no other request through without a
		// signature, but a form may say one Action and its URL another).
		Unsigned:     fault.New("MissingAuthenticationToken", "Request is missing Authentication Token"),
		Error:        edge.ByStatus(codes, commonStatus),
		InternalCode: "ServiceFailure",
		AuthCodes:    edge.QueryAuthCodes,
		Log:          log,
	}, ops...)}
}

// maxBody bounds a request body: the query protocol's forms are small.
const maxBody = 1 << 20

// commonStatus are the statuses of errors every query service may return.
var commonStatus = map[string]int{
	"InvalidAction": 400, "MissingAction": 400, "InvalidQueryParameter": 400, "MalformedQueryString": 404,
	"InvalidParameterValue": 400, "MissingParameter": 400, "ValidationError": 400, "AccessDenied": 403,
	"MissingAuthenticationToken": 403, "RequestEntityTooLarge": 413, "ServiceFailure": 500, "InternalFailure": 500,
}

// IsAnonymousSTS reports whether an unsigned request is one STS serves without a signature
// (AssumeRoleWithWebIdentity), so that the gateway can let it through.
func IsAnonymousSTS(r *http.Request, body []byte) bool {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				q[k] = v
			}
		}
	}
	return q.Get("Action") == "AssumeRoleWithWebIdentity"
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
