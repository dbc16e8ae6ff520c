// Package ui is the web console's edge: the pages `sluice serve` serves under /_sluice/ui/ — functions with their
// state and aliases' splits, deployments with their planned and actual traffic shift drawn as inline SVG, hook
// results, alarms and timeline, a function's or alias's metrics (invocations, errors, throttles, duration p50/p99,
// split by executed version, with its alarms' thresholds drawn) and a function's logs, followed — kept live by
// server-sent events, and the actions on a running deployment: stop (and roll back), and Sluice's traffic controls
// (pause, resume, skip the wait, promote).
//
// A browser cannot sign requests with SigV4, so it signs in with a link `sluice ui` obtains through a signed API
// call (stackapi's CreateSignInLink, over package console). GET sign-in?token=… only shows a page with a "Sign in"
// button, so that a link preview fetching the link does not use it up; the button POSTs the token in the form
// body, which redeems the single-use link and sets the session cookie (HttpOnly, SameSite=Strict, expiring, Secure
// over TLS), and the answer moves the browser on to the console (Sluice answers no request with a redirect). Every
// page, live stream and action is then authorized as the API call it mirrors would be, with the session's IAM
// identity (ListFunctions, GetDeployment, GetMetricData, FilterLogEvents, StopDeployment…), by the same Authorizer
// the API edges ask. Actions are POSTs carrying the session's CSRF token (console.CSRFToken) and, when the browser
// sends them, an Origin of this server and a same-origin Sec-Fetch-Site (the sign-in POST too). The console answers
// only on loopback listeners, or over TLS.
//
// Assets are embedded (go:embed); there is no build step and no third-party front-end code. Pages are plain HTML
// that work without script; the script only swaps in the live region's HTML from the event stream, which the
// server renders with the same templates as the page. Log lines and every other stored text are escaped by
// html/template, never interpreted.
package ui

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// Prefix is where the console lives on the API listener.
const Prefix = "/_sluice/ui/"

// SignInPath is the path of a sign-in link; the token follows as ?token=.
const SignInPath = Prefix + "sign-in"

// CookieName names the session cookie.
const CookieName = "sluice_console"

// MaxStreams bounds the live streams open at once across all sessions (each holds a goroutine and watches).
const MaxStreams = 256

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Sessions is the console service: sign-in links and sessions.
type Sessions interface {
	Redeem(ctx context.Context, linkToken string) (string, console.Session, error)
	Lookup(ctx context.Context, token string) (console.Session, error)
	End(ctx context.Context, token string) error
}

// Functions is the control plane's read side the pages show, and its watch.
type Functions interface {
	ListFunctions(ctx context.Context, marker string, maxItems int, allVersions bool) ([]controlplane.FunctionView, string, error)
	ListVersionsByFunction(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]controlplane.FunctionView, string, error)
	ListAliases(ctx context.Context, ref lambda.Ref, functionVersion, marker string, maxItems int) ([]controlplane.AliasView, string, error)
	WatchFunctions(ctx context.Context, from int64) (<-chan controlplane.FunctionChanges, error)
}

// Deployments is the deployment controller's side the pages show and act on.
type Deployments interface {
	GetDeployment(ctx context.Context, id string) (codedeploy.Deployment, error)
	ListDeployments(ctx context.Context, f codedeploy.ListDeploymentsFilter) ([]string, string, error)
	StopDeployment(ctx context.Context, id string, autoRollback *bool, by string) (codedeploy.StopStatus, string, error)
	ControlDeployment(ctx context.Context, id string, kind codedeploy.ControlKind, by string) error
	WatchDeployments(ctx context.Context) (<-chan []string, error)
}

// Alarms is the alarm service's side the deployment page shows.
type Alarms interface {
	Describe(ctx context.Context, f alarms.DescribeFilter) ([]alarms.Alarm, string, error)
	Subscribe(fn func(alarms.Change)) (cancel func())
}

// Options configure the console.
type Options struct {
	Sessions    Sessions
	Authorizer  gateway.Authorizer
	Functions   Functions
	Deployments Deployments
	Alarms      Alarms
	Metrics     Metrics
	Logs        Logs
	Account     lambda.Account
	// DeployTimeScale is the server's --deploy-time-scale, which places a schedule's steps on the chart.
	DeployTimeScale float64
	Now             func() time.Time
	Log             *slog.Logger
}

// Handler serves the console.
type Handler struct {
	o       Options
	mux     *http.ServeMux
	pages   *template.Template
	streams chan struct{} // a slot per open live stream
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// New returns the console's handler, to be routed Prefix and below.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.Log = o.Log.With("component", "ui")
	h := &Handler{o: o, mux: http.NewServeMux(), streams: make(chan struct{}, MaxStreams)}
	h.ctx, h.stop = context.WithCancel(context.Background())
	h.pages = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	assets, _ := fs.Sub(assetFS, "assets")
	h.mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", serveAsset(http.FileServerFS(assets))))
	h.mux.HandleFunc("GET "+SignInPath, h.signInPage)
	h.mux.HandleFunc("POST "+SignInPath, h.signIn)
	h.mux.HandleFunc("POST "+Prefix+"sign-out", h.withSession(h.signOut))
	h.mux.HandleFunc("GET "+Prefix+"{$}", h.withSession(h.functionsPage))
	h.mux.HandleFunc("GET "+Prefix+"functions/live", h.withSession(h.functionsLive))
	h.mux.HandleFunc("GET "+Prefix+"functions/{name}/metrics", h.withSession(h.metricsPage))
	h.mux.HandleFunc("GET "+Prefix+"functions/{name}/metrics/live", h.withSession(h.metricsLive))
	h.mux.HandleFunc("GET "+Prefix+"functions/{name}/logs", h.withSession(h.logsPage))
	h.mux.HandleFunc("GET "+Prefix+"functions/{name}/logs/live", h.withSession(h.logsLive))
	h.mux.HandleFunc("GET "+Prefix+"deployments", h.withSession(h.deploymentsPage))
	h.mux.HandleFunc("GET "+Prefix+"deployments/{id}", h.withSession(h.deploymentPage))
	h.mux.HandleFunc("GET "+Prefix+"deployments/{id}/live", h.withSession(h.deploymentLive))
	h.mux.HandleFunc("GET "+Prefix+"deployments/{id}/stop", h.withSession(h.stopConfirm))
	h.mux.HandleFunc("POST "+Prefix+"deployments/{id}/stop", h.withSession(h.stopDeployment))
	h.mux.HandleFunc("GET "+Prefix+"deployments/{id}/control/{control}", h.withSession(h.controlConfirm))
	h.mux.HandleFunc("POST "+Prefix+"deployments/{id}/control/{control}", h.withSession(h.controlDeployment))
	return h
}

// Close ends the live streams (the server is shutting down), so that they do not hold the drain up.
func (h *Handler) Close() {
	h.stop()
	h.wg.Wait()
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with a form, which checkCSRF
	// cannot tell from a sandboxed frame's. The sign-in page, whose URL holds the link, sends no referrer at all.
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("Cache-Control", "no-store")
	if !secureEnough(r) {
		h.fail(w, r, http.StatusForbidden, "The console is served only on a loopback listener or over TLS.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// secureEnough reports whether a request reached the console over TLS or on a loopback listener (where the
// session cookie never crosses a network).
func secureEnough(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// signInPage answers a sign-in link's GET with a page whose button redeems it: a GET never does, so a link
// preview (a chat or mail client fetching the link to show it) does not use it up.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !console.WellFormed(token) {
		h.fail(w, r, http.StatusUnauthorized, invalidLink)
		return
	}
	// The page's form posts the token; the page's own address, which holds it, is not sent to anyone else (the
	// same-origin Referrer-Policy: under no-referrer the form's Origin would be "null", which checkSameSite refuses).
	h.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: token})
}

const invalidLink = "This sign-in link is invalid, was used already or has expired. Run `sluice ui` for a new one."

// signIn redeems a link posted by the sign-in page and sets the session cookie.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	// A form another site posts could sign this browser in as someone else (login CSRF): only this origin's.
	if !h.checkSameSite(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	token, sess, err := h.o.Sessions.Redeem(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		if !errors.Is(err, console.ErrInvalidLink) {
			h.o.Log.Error("redeem a sign-in link", "err", err)
		}
		h.fail(w, r, http.StatusUnauthorized, invalidLink)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: Prefix, Expires: sess.Expires,
		MaxAge: max(1, int(time.Until(sess.Expires).Seconds())), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	h.o.Log.Info("console sign-in", "principal", sess.Principal)
	// Sluice never answers with a redirect (the gateway turns one into a 404); the page moves itself on.
	h.render(w, r, http.StatusOK, "moveon", page{Title: "Signed in", MoveOn: Prefix})
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.checkCSRF(w, r, s) {
		return
	}
	if err := h.o.Sessions.End(r.Context(), s.token); err != nil {
		h.internal(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	h.render(w, r, http.StatusOK, "signedout", page{Title: "Signed out"})
}

// session is a signed-in request's identity.
type session struct {
	console.Session
	token string
	CSRF  string
}

// withSession refuses a request without a live session (401) and hands the session to the page.
func (h *Handler) withSession(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			h.fail(w, r, http.StatusUnauthorized, "Not signed in. Run `sluice ui` for a sign-in link.")
			return
		}
		sess, err := h.o.Sessions.Lookup(r.Context(), c.Value)
		if err != nil {
			if !errors.Is(err, console.ErrNoSession) {
				h.internal(w, r, err)
				return
			}
			h.fail(w, r, http.StatusUnauthorized, "Your console session has ended. Run `sluice ui` for a new sign-in link.")
			return
		}
		fn(w, r, &session{Session: sess, token: c.Value, CSRF: console.CSRFToken(c.Value)})
	}
}

// checkCSRF refuses an action that does not carry the session's CSRF token or that a browser says came from
// another origin.
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) bool {
	if !h.checkSameSite(w, r) {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
		h.fail(w, r, http.StatusForbidden, "Refused: the form's anti-forgery token is missing or wrong. Reload the page and try again.")
		return false
	}
	return true
}

// checkSameSite refuses a POST that a browser says came from another site or origin.
func (h *Handler) checkSameSite(w http.ResponseWriter, r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		h.fail(w, r, http.StatusForbidden, "Refused: the request came from another site.")
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r) {
		h.fail(w, r, http.StatusForbidden, "Refused: the request came from another origin.")
		return false
	}
	return true
}

func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

// authorize asks IAM whether the session's identity may perform action on resource, as the API would.
func (h *Handler) authorize(ctx context.Context, s *session, action, resource string) error {
	if h.o.Authorizer == nil || h.o.Authorizer.Unrestricted(s.Principal) {
		return nil
	}
	return h.o.Authorizer.Authorize(ctx, s.Principal, s.AccessKeyID, action, resource)
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Session *session
	Message string
	// MoveOn is where a page that only confirms something sends the browser on to.
	MoveOn string
	Data   any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, p); err != nil {
		h.o.Log.Error("render page", "page", name, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Message: msg})
}

// failFault answers an API fault with its status: 403 for a refusal, 404 for what does not exist.
func (h *Handler) failFault(w http.ResponseWriter, r *http.Request, s *session, err error) {
	f, ok := fault.As(err)
	if !ok {
		h.internal(w, r, err)
		return
	}
	status := http.StatusBadRequest
	switch {
	case strings.HasPrefix(f.Code, "AccessDenied"):
		status = http.StatusForbidden
	case strings.Contains(f.Code, "NotFound") || strings.Contains(f.Code, "DoesNotExist"):
		status = http.StatusNotFound
	}
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Session: s, Message: f.Code + ": " + f.Message})
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.o.Log.Error("console request failed", "path", r.URL.Path, "err", err)
	h.fail(w, r, http.StatusInternalServerError, "Something went wrong on the server; its log says what.")
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("15:04:05.000")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	},
	"lower": strings.ToLower,
	"pct":   func(f float64) string { return formatPercent(f) },
}
