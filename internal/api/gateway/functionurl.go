package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/sluice-dev/sluice/internal/api/awshttp"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// FunctionURLs serves the hosts of Lambda function URLs (<url-id>.lambda-url.<region>.localhost) on the API
// listener.
type FunctionURLs interface {
	http.Handler
	// ID is the URL ID a request's host names, "" for a host that is not a function URL's.
	ID(host string) string
	// Signed reports whether the URL a host names wants SigV4-signed requests (AuthType AWS_IAM).
	Signed(host string) bool
}

// functionURLMaxBytes bounds a function URL request's body: Lambda's 6 MB invocation payload (the event that
// carries it is checked again by the front door).
const functionURLMaxBytes = 6 << 20

// serveFunctionURL hands a request for a function URL to the front door, with its body read within the memory
// budget and, for an AWS_IAM URL, its SigV4 signature (service lambda) verified; failures get the URL's own
// answers (403 {"Message":"Forbidden"}), not the API's.
func (g *Gateway) serveFunctionURL(w http.ResponseWriter, r *http.Request) {
	var p *sigv4.Pending
	if g.FunctionURLs.Signed(r.Host) && sigv4.Signed(r) {
		var err error
		if p, err = g.Verifier.Prepare(r.Context(), r); err != nil || p.Service() != "lambda" || p.Region() != g.Region {
			urlForbidden(w)
			return
		}
	}
	b, err := g.readBody(w, r, functionURLMaxBytes, p != nil && p.NeedsBodyHash())
	switch {
	case errors.Is(err, errTooLarge):
		w.Header().Set("Connection", "close")
		w.Header().Set("x-amzn-ErrorType", "RequestEntityTooLargeException")
		awshttp.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
		return
	case errors.Is(err, errNoMemory):
		w.Header().Set("Connection", "close")
		w.Header().Set("x-amzn-ErrorType", "TooManyRequestsException")
		awshttp.WriteJSON(w, http.StatusTooManyRequests, map[string]string{"Message": "Rate Exceeded."})
		return
	case err != nil:
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	defer g.release(b)
	w.Header().Del("Connection")
	ctx := context.WithValue(r.Context(), bodyKey{}, b)
	if p != nil {
		id, err := p.VerifyHash(b.sum)
		if err != nil {
			urlForbidden(w)
			return
		}
		ctx = context.WithValue(ctx, identityKey{}, id)
		if g.Authorizer != nil {
			ctx = context.WithValue(ctx, authorizerKey{}, g.Authorizer)
		}
	}
	r.Body = io.NopCloser(b.reader())
	g.FunctionURLs.ServeHTTP(w, r.WithContext(ctx))
}

func urlForbidden(w http.ResponseWriter) {
	w.Header().Set("x-amzn-ErrorType", "AccessDeniedException")
	awshttp.WriteJSON(w, http.StatusForbidden, map[string]string{"Message": "Forbidden"})
}
