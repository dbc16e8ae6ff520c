package ui

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/logstore"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

const (
	operator = "arn:aws:iam::000000000000:user/operator"
	viewer   = "arn:aws:iam::000000000000:user/viewer"
)

// policies allows each principal the actions listed (any resource): the authorization decision itself is iam's,
// tested there; here what matters is which action and resource the console asks about.
type policies map[string][]string

func (p policies) Authorize(_ context.Context, principal, _, action, resource string) error {
	for _, a := range p[principal] {
		if a == action {
			return nil
		}
	}
	return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
}

func (p policies) Unrestricted(string) bool { return false }

// deployments is one running deployment, whose stop requests are recorded.
type deployments struct {
	mu      sync.Mutex
	d       codedeploy.Deployment
	stops   []string
	changes chan []string // what WatchDeployments reports
}

func (f *deployments) GetDeployment(_ context.Context, id string) (codedeploy.Deployment, error) {
	if id != f.d.ID {
		return codedeploy.Deployment{}, fault.New("DeploymentDoesNotExistException", "The deployment %s could not be found.", id)
	}
	return f.d, nil
}

func (f *deployments) ListDeployments(context.Context, codedeploy.ListDeploymentsFilter) ([]string, string, error) {
	return []string{f.d.ID}, "", nil
}

func (f *deployments) StopDeployment(_ context.Context, id string, rollback *bool, by string) (codedeploy.StopStatus, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, by+" rollback="+map[bool]string{true: "yes", false: "no"}[*rollback])
	return codedeploy.StopPending, "", nil
}

func (f *deployments) ControlDeployment(_ context.Context, id string, kind codedeploy.ControlKind, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, by+" "+string(kind))
	return nil
}

func (f *deployments) WatchDeployments(ctx context.Context) (<-chan []string, error) {
	return f.changes, nil
}

type noFunctions struct{}

func (noFunctions) ListFunctions(context.Context, string, int, bool) ([]controlplane.FunctionView, string, error) {
	return nil, "", nil
}
func (noFunctions) ListVersionsByFunction(context.Context, lambda.Ref, string, int) ([]controlplane.FunctionView, string, error) {
	return nil, "", nil
}
func (noFunctions) ListAliases(context.Context, lambda.Ref, string, string, int) ([]controlplane.AliasView, string, error) {
	return nil, "", nil
}
func (noFunctions) WatchFunctions(context.Context, int64) (<-chan controlplane.FunctionChanges, error) {
	return make(chan controlplane.FunctionChanges), nil
}

// someAlarms are the alarms Describe lists (all of them, one page).
type someAlarms []alarms.Alarm

func (a someAlarms) Describe(_ context.Context, f alarms.DescribeFilter) ([]alarms.Alarm, string, error) {
	if len(f.Names) == 0 {
		return a, "", nil
	}
	var out []alarms.Alarm
	for _, x := range a {
		if slices.Contains(f.Names, x.Name) {
			out = append(out, x)
		}
	}
	return out, "", nil
}
func (someAlarms) Subscribe(func(alarms.Change)) func() { return func() {} }

type keyring map[string]string // access key → principal

func (k keyring) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	p, ok := k[id]
	if !ok {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	return sigv4.Credential{AccessKeyID: id, Principal: p}, nil
}

type fixture struct {
	h       *Handler
	s       *console.Service
	deps    *deployments
	logs    *bytes.Buffer
	metrics *metrics.Store
	fnLogs  *logstore.Store
	now     time.Time // the handler's and the metric store's clock
}

// fixtureAlarms are the alarms the fixture's Describe lists: two on orders:live (one per kind), one on another
// function.
var fixtureAlarms = someAlarms{
	{Definition: alarms.Definition{Name: "orders-errors", Metric: metrics.NewMetricID("AWS/Lambda", "Errors",
		metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: "orders:live"}),
		Statistic: "Sum", Period: time.Minute, Threshold: 3, ComparisonOperator: "GreaterThanOrEqualToThreshold"}, StateValue: "ALARM", StateReason: "Threshold Crossed"},
	{Definition: alarms.Definition{Name: "orders-error-rate", Threshold: 0.05, ComparisonOperator: "GreaterThanThreshold", Metrics: []alarms.MetricQuery{
		{ID: "e", Metric: metrics.NewMetricID("AWS/Lambda", "Errors", metrics.Dimension{Name: "FunctionName", Value: "orders"}, metrics.Dimension{Name: "Resource", Value: "orders:live"}), Stat: "Sum", Period: time.Minute},
		{ID: "rate", Expression: "e/100", ReturnData: true}}}, StateValue: "OK"},
	{Definition: alarms.Definition{Name: "billing-errors", Metric: metrics.NewMetricID("AWS/Lambda", "Errors", metrics.Dimension{Name: "FunctionName", Value: "billing"}),
		Statistic: "Sum", Period: time.Minute, Threshold: 1, ComparisonOperator: "GreaterThanThreshold"}, StateValue: "OK"},
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sessions := console.New(console.Options{Store: db, Credentials: keyring{"AKIAOPERATOR": operator, "AKIAVIEWER": viewer}})
	deps := &deployments{d: codedeploy.Deployment{ID: "d-ABCDEFGHI", ApplicationName: "app", DeploymentGroupName: "dg", Status: codedeploy.StatusInProgress,
		CreateTime: time.Now(), TrafficRouting: codedeploy.TrafficRouting{Type: codedeploy.TimeBasedCanary, Percentage: 10, IntervalMinutes: 5}},
		changes: make(chan []string)}
	logs := &bytes.Buffer{}
	now := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	ms := metrics.NewStore(metrics.Options{Now: func() time.Time { return now }})
	fnLogs, err := logstore.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fnLogs.Close() })
	read := []string{"lambda:ListFunctions", "codedeploy:GetDeployment", "codedeploy:ListDeployments"}
	h := New(Options{Sessions: sessions, Functions: noFunctions{}, Deployments: deps, Alarms: fixtureAlarms, Metrics: ms, Logs: fnLogs,
		Authorizer: policies{operator: append(read, "codedeploy:StopDeployment", "codedeploy:PauseDeployment", "cloudwatch:GetMetricData",
			"cloudwatch:DescribeAlarms", "logs:FilterLogEvents"), viewer: read},
		Account: lambda.Account{Region: "us-east-1", ID: "000000000000"}, DeployTimeScale: 30, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(h.Close)
	return &fixture{h: h, s: sessions, deps: deps, logs: logs, metrics: ms, fnLogs: fnLogs, now: now}
}

// serve answers r as if it arrived on the listener at local (127.0.0.1 unless given).
func (f *fixture) serve(r *http.Request, local string) *httptest.ResponseRecorder {
	if local == "" {
		local = "127.0.0.1:9324"
	}
	addr, _ := net.ResolveTCPAddr("tcp", local)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// redeem posts a sign-in link's token as the sign-in page's button does.
func (f *fixture) redeem(token string, header map[string]string, local string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, SignInPath, strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return f.serve(r, local)
}

// signIn redeems a fresh link for principal through the sign-in page and returns the session cookie.
func (f *fixture) signIn(t *testing.T, key, principal string) *http.Cookie {
	t.Helper()
	link, err := f.s.CreateLink(t.Context(), console.Identity{Principal: principal, AccessKeyID: key})
	if err != nil {
		t.Fatal(err)
	}
	w := f.redeem(link.Token, nil, "")
	if w.Code != http.StatusOK {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestSignInCookie(t *testing.T) {
	f := newFixture(t)
	link, err := f.s.CreateLink(t.Context(), console.Identity{Principal: operator, AccessKeyID: "AKIAOPERATOR"})
	if err != nil {
		t.Fatal(err)
	}
	w := f.redeem(link.Token, map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, "")
	cookies := w.Result().Cookies()
	if w.Code != http.StatusOK || len(cookies) != 1 {
		t.Fatalf("sign-in: %d, cookies %v", w.Code, cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != Prefix || c.MaxAge <= 0 || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=%s, expiring, not Secure on plain loopback", c, Prefix)
	}
	if !strings.Contains(w.Body.String(), `content="0;url=/_sluice/ui/"`) {
		t.Errorf("the sign-in answer does not move on to the console:\n%s", w.Body)
	}
	if again := f.redeem(link.Token, nil, ""); again.Code != http.StatusUnauthorized || len(again.Result().Cookies()) != 0 {
		t.Errorf("the link signed in twice: %d", again.Code)
	}
	// Over TLS the cookie is Secure.
	link, _ = f.s.CreateLink(t.Context(), console.Identity{Principal: operator, AccessKeyID: "AKIAOPERATOR"})
	r := httptest.NewRequest(http.MethodPost, SignInPath, strings.NewReader("token="+link.Token))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.TLS = &tls.ConnectionState{}
	if c := f.serve(r, "10.1.2.3:443").Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookie over TLS: %+v", c)
	}
	if logs := f.logs.String(); strings.Contains(logs, link.Token) || strings.Contains(logs, c.Value) {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

// A GET of the link (a link preview) shows the button and redeems nothing; a sign-in posted by another site is
// refused (login CSRF) and leaves the link usable.
func TestSignInLinkSurvivesGETAndForeignPosts(t *testing.T) {
	f := newFixture(t)
	link, err := f.s.CreateLink(t.Context(), console.Identity{Principal: operator, AccessKeyID: "AKIAOPERATOR"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w := f.serve(httptest.NewRequest(http.MethodGet, SignInPath+"?token="+link.Token, nil), "")
		body := w.Body.String()
		if w.Code != http.StatusOK || len(w.Result().Cookies()) != 0 || !strings.Contains(body, `<form method="post" action="/_sluice/ui/sign-in"`) ||
			!strings.Contains(body, `name="token" value="`+link.Token+`"`) {
			t.Fatalf("GET sign-in: %d, cookies %v:\n%s", w.Code, w.Result().Cookies(), body)
		}
		if got := w.Header().Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("the sign-in page's Referrer-Policy is %q", got)
		}
	}
	if w := f.serve(httptest.NewRequest(http.MethodGet, SignInPath+"?token=junk", nil), ""); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "<form") {
		t.Errorf("GET sign-in with junk: %d", w.Code)
	}
	for _, h := range []map[string]string{{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}} {
		if w := f.redeem(link.Token, h, ""); w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
			t.Errorf("sign-in posted with %v: %d", h, w.Code)
		}
	}
	if w := f.redeem(link.Token, map[string]string{"Origin": "http://example.com"}, ""); w.Code != http.StatusOK || len(w.Result().Cookies()) != 1 {
		t.Fatalf("the link no longer signs in after GETs and refused posts: %d %s", w.Code, w.Body)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	op := f.signIn(t, "AKIAOPERATOR", operator)
	view := f.signIn(t, "AKIAVIEWER", viewer)
	cases := []struct {
		name   string
		path   string
		local  string
		tls    bool
		cookie *http.Cookie
		want   int
	}{
		{"signed in", Prefix + "deployments/d-ABCDEFGHI", "", false, op, http.StatusOK},
		{"no cookie", Prefix + "deployments/d-ABCDEFGHI", "", false, nil, http.StatusUnauthorized},
		{"no cookie, live stream", Prefix + "deployments/d-ABCDEFGHI/live", "", false, nil, http.StatusUnauthorized},
		{"forged cookie", Prefix, "", false, &http.Cookie{Name: CookieName, Value: strings.Repeat("A", 43)}, http.StatusUnauthorized},
		{"junk cookie", Prefix, "", false, &http.Cookie{Name: CookieName, Value: "junk"}, http.StatusUnauthorized},
		{"non-loopback listener", Prefix, "192.168.1.20:9324", false, op, http.StatusForbidden},
		{"non-loopback sign-in", SignInPath + "?token=x", "192.168.1.20:9324", false, nil, http.StatusForbidden},
		{"metrics", Prefix + "functions/orders/metrics?qualifier=live", "", false, op, http.StatusOK},
		{"metrics, not allowed", Prefix + "functions/orders/metrics", "", false, view, http.StatusForbidden},
		{"metrics, bad qualifier", Prefix + "functions/orders/metrics?qualifier=a%20b", "", false, op, http.StatusBadRequest},
		{"metrics, bad name", Prefix + "functions/" + strings.Repeat("x", 65) + "/metrics", "", false, op, http.StatusBadRequest},
		{"logs", Prefix + "functions/orders/logs", "", false, op, http.StatusOK},
		{"logs, not allowed", Prefix + "functions/orders/logs", "", false, view, http.StatusForbidden},
		{"logs, no cookie", Prefix + "functions/orders/logs", "", false, nil, http.StatusUnauthorized},
		{"non-loopback listener over TLS", Prefix, "192.168.1.20:9324", true, op, http.StatusOK},
		{"IPv6 loopback", Prefix, "[::1]:9324", false, op, http.StatusOK},
		{"pause confirmation", Prefix + "deployments/d-ABCDEFGHI/control/pause", "", false, op, http.StatusOK},
		{"stop confirmation", Prefix + "deployments/d-ABCDEFGHI/stop", "", false, op, http.StatusOK},
		{"deployments list", Prefix + "deployments", "", false, op, http.StatusOK},
		{"unknown deployment", Prefix + "deployments/d-ZZZZZZZZZ", "", false, op, http.StatusNotFound},
		{"malformed deployment ID", Prefix + "deployments/x", "", false, op, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if w := f.serve(r, tc.local); w.Code != tc.want {
				t.Errorf("%d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}

func TestStopAction(t *testing.T) {
	f := newFixture(t)
	op := f.signIn(t, "AKIAOPERATOR", operator)
	view := f.signIn(t, "AKIAVIEWER", viewer)
	opCSRF, viewCSRF := console.CSRFToken(op.Value), console.CSRFToken(view.Value)
	stop := Prefix + "deployments/d-ABCDEFGHI/stop"
	cases := []struct {
		name   string
		cookie *http.Cookie
		form   url.Values
		header map[string]string
		want   int
		stops  string
	}{
		{"no CSRF token", op, url.Values{"rollback": {"yes"}}, nil, http.StatusForbidden, ""},
		{"another session's token", op, url.Values{"rollback": {"yes"}, "csrf": {viewCSRF}}, nil, http.StatusForbidden, ""},
		{"another origin", op, url.Values{"rollback": {"yes"}, "csrf": {opCSRF}}, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden, ""},
		{"a null origin", op, url.Values{"rollback": {"yes"}, "csrf": {opCSRF}}, map[string]string{"Origin": "null"}, http.StatusForbidden, ""},
		{"a cross-site fetch", op, url.Values{"rollback": {"yes"}, "csrf": {opCSRF}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, ""},
		{"no cookie", nil, url.Values{"rollback": {"yes"}, "csrf": {opCSRF}}, nil, http.StatusUnauthorized, ""},
		{"read-only identity", view, url.Values{"rollback": {"yes"}, "csrf": {viewCSRF}}, nil, http.StatusForbidden, ""},
		{"operator", op, url.Values{"rollback": {"yes"}, "csrf": {opCSRF}},
			map[string]string{"Origin": "http://127.0.0.1:9324", "Sec-Fetch-Site": "same-origin"}, http.StatusOK, operator + " rollback=yes"},
	}
	pause := Prefix + "deployments/d-ABCDEFGHI/control/pause"
	cases = append(cases, []struct {
		name   string
		cookie *http.Cookie
		form   url.Values
		header map[string]string
		want   int
		stops  string
	}{
		{"pause without a token", op, url.Values{}, nil, http.StatusForbidden, ""},
		{"pause, read-only", view, url.Values{"csrf": {viewCSRF}}, nil, http.StatusForbidden, ""},
		{"pause", op, url.Values{"csrf": {opCSRF}}, nil, http.StatusOK, operator + " PauseDeployment"},
		{"promote, not allowed", op, url.Values{"csrf": {opCSRF}}, nil, http.StatusForbidden, ""},
		{"no such control", op, url.Values{"csrf": {opCSRF}}, nil, http.StatusNotFound, ""},
	}...)
	paths := map[string]string{"pause without a token": pause, "pause, read-only": pause, "pause": pause,
		"promote, not allowed": Prefix + "deployments/d-ABCDEFGHI/control/promote", "no such control": Prefix + "deployments/d-ABCDEFGHI/control/explode"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.deps.stops = nil
			path := stop
			if p, ok := paths[tc.name]; ok {
				path = p
			}
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9324"+path, strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			w := f.serve(r, "")
			if w.Code != tc.want || strings.Join(f.deps.stops, ";") != tc.stops {
				t.Errorf("%d with stops %q, want %d with %q: %s", w.Code, f.deps.stops, tc.want, tc.stops, w.Body)
			}
		})
	}
}

// A live stream sends the region at once, then ends when the session does.
func TestLiveStreamEndsWithTheSession(t *testing.T) {
	f := newFixture(t)
	op := f.signIn(t, "AKIAOPERATOR", operator)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+Prefix+"deployments/d-ABCDEFGHI/live", nil)
	req.AddCookie(op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	buf := make([]byte, 64<<10)
	n, err := resp.Body.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "event: update\ndata: ") || !strings.Contains(string(buf[:n]), `data-weight="0"`) {
		t.Fatalf("first event: %q %v", buf[:n], err)
	}
	if err := f.s.End(t.Context(), op.Value); err != nil {
		t.Fatal(err)
	}
	f.deps.changes <- []string{"d-ABCDEFGHI"} // the stream re-renders, and finds the session gone
	rest := new(bytes.Buffer)
	if _, err := rest.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read to the end: %v", err)
	}
	if !strings.HasPrefix(rest.String(), "event: end\ndata: Your console session has ended.") {
		t.Fatalf("after the session ended: %q", rest)
	}
}

// TestAssetsCached: the pages name each asset by its content's digest, served to be kept for good; any other
// address of it is revalidated by its ETag.
func TestAssetsCached(t *testing.T) {
	f := newFixture(t)
	page := f.serve(httptest.NewRequest(http.MethodGet, SignInPath+"?token="+strings.Repeat("a", 43), nil), "")
	css := assetURL("console.css")
	if !strings.Contains(page.Body.String(), `href="`+css+`"`) || len(assetVersions["console.css"]) != 16 {
		t.Fatalf("the page does not link %s:\n%s", css, page.Body)
	}
	for _, tc := range []struct{ target, ifNoneMatch, cache string }{
		{css, "", "public, max-age=31536000, immutable"},
		{Prefix + "assets/console.css", "", "no-cache"},
		{Prefix + "assets/console.css?v=old", "", "no-cache"},
		{Prefix + "assets/console.css", `"` + assetVersions["console.css"] + `"`, "no-cache"},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.target, nil)
		if tc.ifNoneMatch != "" {
			r.Header.Set("If-None-Match", tc.ifNoneMatch)
		}
		w := f.serve(r, "")
		want := http.StatusOK
		if tc.ifNoneMatch != "" {
			want = http.StatusNotModified
		}
		if w.Code != want || w.Header().Get("Cache-Control") != tc.cache || w.Header().Get("ETag") == "" {
			t.Errorf("GET %s (If-None-Match %s): %d, Cache-Control %q, ETag %q; want %d, %q", tc.target, tc.ifNoneMatch, w.Code,
				w.Header().Get("Cache-Control"), w.Header().Get("ETag"), want, tc.cache)
		}
	}
}
