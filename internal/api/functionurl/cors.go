package functionurl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/lambda"
)

// preflight reports whether a request is a CORS preflight: OPTIONS with Access-Control-Request-Method.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// allowedOrigin is the Access-Control-Allow-Origin a request gets ("" when its origin is not allowed).
func allowedOrigin(origin string, c *lambda.Cors) string {
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials != nil && *c.AllowCredentials {
				return origin // a credentialed response may not say "*"
			}
			return "*"
		}
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// corsHeaders adds the CORS headers of an actual (not preflight) request's response, as the URL's Cors allows.
func corsHeaders(h http.Header, r *http.Request, c *lambda.Cors) {
	origin := allowedOrigin(r.Header.Get("Origin"), c)
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if origin != "*" {
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials != nil && *c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

// writePreflight answers a CORS preflight without invoking the function: what the configuration allows of the
// requested method and headers.
func writePreflight(w http.ResponseWriter, r *http.Request, c *lambda.Cors) {
	h := w.Header()
	origin := allowedOrigin(r.Header.Get("Origin"), c)
	method := r.Header.Get("Access-Control-Request-Method")
	if origin != "" && methodAllowed(method, c.AllowMethods) {
		h.Set("Access-Control-Allow-Origin", origin)
		if origin != "*" {
			h.Add("Vary", "Origin")
		}
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.AllowCredentials != nil && *c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if c.MaxAge != nil {
			h.Set("Access-Control-Max-Age", strconv.Itoa(*c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusOK)
}

func methodAllowed(method string, allowed []string) bool {
	return slices.ContainsFunc(allowed, func(m string) bool { return m == "*" || strings.EqualFold(m, method) })
}

var errTooLarge = errors.New("functionurl: payload too large")

// readAtMost reads r to its end, refusing more than limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// marshal encodes an event, refusing one over the invocation payload limit.
func marshal(ev event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	if buf.Len() > MaxPayload {
		return nil, errTooLarge
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
