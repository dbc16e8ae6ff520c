package server

import (
	"context"
	"net"
	"net/http"

	"github.com/sluice-dev/sluice/internal/sandbox"
)

// GET /metrics is unsigned, as Prometheus scrapers expect; but functions share the host's loopback, and one
// function must not read the others' names and numbers there. So a connection whose socket belongs to a sandbox uid
// is refused that endpoint (signed APIs need no such check: they authorize the caller's role).

type connKey struct{}

// withConn makes a request's connection available to its handlers (http.Server.ConnContext).
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// notFromSandboxes serves h to every caller but the processes of the sandbox uids [lease.Base, +lease.Count).
func notFromSandboxes(h http.Handler, lease *sandbox.UIDLease) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			// A peer the kernel does not know is on another host (a remote scraper): no sandbox of this server.
			if uid, err := sandbox.PeerUID(c); err == nil && uid >= lease.Base && uid-lease.Base < lease.Count {
				http.Error(w, "Forbidden", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
