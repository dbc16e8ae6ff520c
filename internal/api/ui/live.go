package ui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
)

// A live region is kept current by a server-sent event stream: the server re-renders the region whenever a watch
// says what it shows may have changed, and sends it when it differs from what the browser has. The browser never
// polls: the functions page follows the control plane's watch (controlplane.WatchFunctions), a deployment page the
// controller's watch of deployment records and the alarm service's state changes (and, for its chart's time axis,
// a one-second tick on the server), a metrics page the alarm service's changes and a one-second tick that re-reads
// the metric store, a logs page a one-second tick that reads the lines written since the last. Each render re-checks the session and the
// authorization, so an ended session or a revoked permission ends the stream.

// functionsLive streams the functions page's live region.
func (h *Handler) functionsLive(w http.ResponseWriter, r *http.Request, s *session) {
	h.stream(w, r, s, func(ctx context.Context, notify func()) error {
		ch, err := h.o.Functions.WatchFunctions(ctx, 0)
		if err != nil {
			return err
		}
		go func() {
			for {
				for step := range ch {
					if len(step.Names) > 0 || step.Err != nil {
						notify()
					}
				}
				// The watch fell behind (its last step said so) or ended with the stream: follow it again.
				if ctx.Err() != nil {
					return
				}
				if ch, err = h.o.Functions.WatchFunctions(ctx, 0); err != nil {
					return
				}
			}
		}()
		return nil
	}, func(ctx context.Context) (string, error) {
		rows, err := h.functionsView(ctx, s)
		if err != nil {
			return "", err
		}
		return h.fragment("functions-live", rows)
	})
}

// deploymentLive streams a deployment page's live region.
func (h *Handler) deploymentLive(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	h.stream(w, r, s, func(ctx context.Context, notify func()) error {
		ch, err := h.o.Deployments.WatchDeployments(ctx)
		if err != nil {
			return err
		}
		go func() {
			for ids := range ch {
				if ids == nil || slices.Contains(ids, id) {
					notify()
				}
			}
		}()
		cancel := h.o.Alarms.Subscribe(func(alarms.Change) { notify() })
		context.AfterFunc(ctx, cancel)
		// Time moves the chart too: a running deployment's actual line reaches "now". The region is re-rendered
		// each second for that (and sent only if it changed: a finished deployment's does not).
		everySecond(ctx, notify)
		return nil
	}, func(ctx context.Context) (string, error) {
		v, err := h.deploymentView(ctx, s, id)
		if err != nil {
			return "", err
		}
		return h.fragment("deployment-live", page{Session: s, Data: v})
	})
}

// metricsLive streams a metrics page's live region. Samples are recorded on every invocation (and, in a cluster,
// on every node), so the server re-reads the metric store each second — one read per open page, never a request
// from the browser — and the alarm service's state changes re-render at once.
func (h *Handler) metricsLive(w http.ResponseWriter, r *http.Request, s *session) {
	name, qualifier := r.PathValue("name"), metricsQualifier(r)
	h.stream(w, r, s, func(ctx context.Context, notify func()) error {
		cancel := h.o.Alarms.Subscribe(func(alarms.Change) { notify() })
		context.AfterFunc(ctx, cancel)
		everySecond(ctx, notify)
		return nil
	}, func(ctx context.Context) (string, error) {
		v, err := h.metricsView(ctx, s, name, qualifier)
		if err != nil {
			return "", err
		}
		return h.fragment("metrics-live", v)
	})
}

// logsLive streams a logs page's live region: each second the stream's follower reads the lines written since
// its last read, when the group changed (the log store is a file per group, written by every invocation; in a
// cluster, one per node).
func (h *Handler) logsLive(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	follower := newLogFollower(name, h.o.Now())
	h.stream(w, r, s, func(ctx context.Context, notify func()) error {
		everySecond(ctx, notify)
		return nil
	}, func(ctx context.Context) (string, error) {
		v, err := h.logsView(ctx, s, name, follower)
		if err != nil {
			return "", err
		}
		return h.fragment("logs-live", v)
	})
}

// everySecond calls notify each second until ctx ends.
func everySecond(ctx context.Context, notify func()) {
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				notify()
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (h *Handler) fragment(name string, data any) (string, error) {
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// stream serves one event stream: watch starts the watches, which call notify on a change; render renders the
// region. The stream ends with the request, the session, the handler (Close), or a render that fails (a refusal:
// an "end" event tells the page why).
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, s *session, watch func(context.Context, func()) error, render func(context.Context) (string, error)) {
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		h.fail(w, r, http.StatusServiceUnavailable, "Too many live pages are open; close some and reload.")
		return
	}
	// The gateway wraps the writer; the controller reaches the connection's Flush through Unwrap.
	flusher := http.NewResponseController(w)
	h.wg.Add(1)
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	context.AfterFunc(h.ctx, cancel)
	// The stream ends when the session expires; a new page load needs a new session then.
	expiry := time.AfterFunc(time.Until(s.Expires), cancel)
	defer expiry.Stop()

	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default: // one pending render covers every change before it
		}
	}
	if err := watch(ctx, notify); err != nil {
		h.internal(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = flusher.Flush()
	sent := ""
	for {
		if _, err := h.o.Sessions.Lookup(ctx, s.token); err != nil {
			writeEvent(w, "end", "Your console session has ended. Run `sluice ui` for a new sign-in link.")
			_ = flusher.Flush()
			return
		}
		html, err := render(ctx)
		if err != nil {
			if ctx.Err() == nil {
				writeEvent(w, "end", err.Error())
				_ = flusher.Flush()
			}
			return
		}
		if html != sent {
			writeEvent(w, "update", html)
			_ = flusher.Flush()
			sent = html
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// writeEvent writes one server-sent event; each line of data is its own data: field.
func writeEvent(w http.ResponseWriter, event, data string) {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	_, _ = w.Write([]byte(b.String()))
}
