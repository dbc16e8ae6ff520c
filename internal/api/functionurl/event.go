package functionurl

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// event is Lambda's payload format 2.0, which function URLs hand their functions.
type event struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        requestContext    `json:"requestContext"`
	Body                  *string           `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type requestContext struct {
	AccountID    string      `json:"accountId"`
	APIID        string      `json:"apiId"`
	Authorizer   *authorizer `json:"authorizer,omitempty"`
	DomainName   string      `json:"domainName"`
	DomainPrefix string      `json:"domainPrefix"`
	HTTP         httpContext `json:"http"`
	RequestID    string      `json:"requestId"`
	RouteKey     string      `json:"routeKey"`
	Stage        string      `json:"stage"`
	Time         string      `json:"time"`
	TimeEpoch    int64       `json:"timeEpoch"`
}

type httpContext struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// authorizer carries the caller of an AWS_IAM URL.
type authorizer struct {
	IAM *iamAuthorizer `json:"iam"`
}

type iamAuthorizer struct {
	AccessKey       string  `json:"accessKey"`
	AccountID       string  `json:"accountId"`
	CallerID        string  `json:"callerId"`
	CognitoIdentity *string `json:"cognitoIdentity"`
	PrincipalOrgID  *string `json:"principalOrgId"`
	UserARN         string  `json:"userArn"`
	UserID          string  `json:"userId"`
}

// caller is who called an AWS_IAM URL (nil for NONE).
type caller struct {
	accessKey, account, arn, userID string
}

// newEvent turns an HTTP request into the 2.0 event: headers lower-cased with repeated values comma-joined, the
// Cookie header moved to cookies, the query both raw and parsed (repeated values comma-joined), the body as text
// for text content types and base64 for anything else, as Lambda does.
func newEvent(r *http.Request, body []byte, urlID, domain, account, requestID string, who *caller, now time.Time) event {
	ev := event{Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{}}
	if ev.RawPath == "" {
		ev.RawPath = "/"
	}
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[lower] = strings.Join(values, ",")
	}
	ev.Headers["host"] = r.Host
	ev.Headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		ev.Headers["x-forwarded-proto"] = "https"
	}
	ip, port, _ := net.SplitHostPort(r.RemoteAddr)
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	ev.Headers["x-forwarded-port"] = port
	ev.Headers["x-forwarded-for"] = ip
	if r.URL.RawQuery != "" {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		ev.QueryStringParameters = map[string]string{}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ev.QueryStringParameters[k] = strings.Join(q[k], ",")
		}
	}
	if len(body) > 0 {
		var b string
		if textual(r.Header.Get("Content-Type")) {
			b = string(body)
		} else {
			b, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
		ev.Body = &b
	}
	accountID := "anonymous"
	if who != nil {
		accountID = who.account
		ev.RequestContext.Authorizer = &authorizer{IAM: &iamAuthorizer{AccessKey: who.accessKey, AccountID: who.account,
			CallerID: who.userID, UserARN: who.arn, UserID: who.userID}}
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ev.RequestContext = requestContext{AccountID: accountID, APIID: urlID, Authorizer: ev.RequestContext.Authorizer,
		DomainName: host, DomainPrefix: urlID,
		HTTP:      httpContext{Method: r.Method, Path: ev.RawPath, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent()},
		RequestID: requestID, RouteKey: "$default", Stage: "$default",
		Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli()}
	return ev
}

// textual reports whether Lambda passes a body of this content type as text rather than base64.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// response is how a function's result maps back to HTTP.
type response struct {
	status  int
	headers http.Header
	cookies []string
	body    []byte
}

// structuredResponse is the JSON object a function returns to shape its HTTP response.
type structuredResponse struct {
	StatusCode      *int              `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            *string           `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// mapResponse reads a function's result as Lambda does: a JSON object with a statusCode shapes the response
// (status, headers, cookies as Set-Cookie, body, base64 when isBase64Encoded; Content-Type application/json
// unless given); any other valid JSON is a 200 application/json body of itself. ok is false when a structured
// response cannot be honoured (a base64 body that is not base64).
func mapResponse(payload []byte) (response, bool) {
	out := response{status: http.StatusOK, headers: http.Header{}}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err == nil && probe["statusCode"] != nil {
		var s structuredResponse
		if err := json.Unmarshal(payload, &s); err != nil || s.StatusCode == nil || *s.StatusCode < 100 || *s.StatusCode > 599 {
			return out, false
		}
		out.status = *s.StatusCode
		for k, v := range s.Headers {
			out.headers.Set(k, v)
		}
		if out.headers.Get("Content-Type") == "" {
			out.headers.Set("Content-Type", "application/json")
		}
		out.cookies = s.Cookies
		if s.Body != nil {
			out.body = []byte(*s.Body)
			if s.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(*s.Body)
				if err != nil {
					return out, false
				}
				out.body = b
			}
		}
		return out, true
	}
	out.headers.Set("Content-Type", "application/json")
	out.body = payload
	return out, true
}
