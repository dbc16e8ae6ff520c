package replica

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/codestore"
)

// Handler serves this node's blobs to its peers and takes the ones they push, at PathPrefix + "<hex sha256>":
//
//	GET  the local blob, streamed (404 when this node lacks it; it never fetches for a peer)
//	PUT  a pushed package: refused (400) unless its SHA-256 is the name, or when codestore rejects it; 413 past
//	     the MaxZipped limit; 204 once stored durably
//
// Mount it behind cluster.PeersOnly, at PathPrefix (a subtree pattern, e.g. "/_sluice/cluster/code/").
func (r *Replica) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := strings.TrimPrefix(req.URL.Path, PathPrefix)
		b64, ok := b64Of(h)
		if !ok || h == req.URL.Path {
			http.Error(w, "not a code package name", http.StatusNotFound)
			return
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			r.serve(w, req, b64)
		case http.MethodPut:
			r.receive(w, req, h)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

func (r *Replica) serve(w http.ResponseWriter, req *http.Request, b64 string) {
	path, ok := r.local.ZipPath(b64)
	if !ok {
		http.Error(w, "code package not on this node", http.StatusNotFound)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "code package not on this node", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	http.ServeContent(w, req, "", fi.ModTime(), f)
}

func (r *Replica) receive(w http.ResponseWriter, req *http.Request, h string) {
	if req.ContentLength > r.maxZipped {
		http.Error(w, "code package larger than "+strconv.FormatInt(r.maxZipped, 10)+" bytes", http.StatusRequestEntityTooLarge)
		return
	}
	select {
	case r.transfers <- struct{}{}:
		defer func() { <-r.transfers }()
	case <-req.Context().Done():
		return
	}
	data, err := readBlob(req.Body, req.ContentLength, r.maxZipped, h)
	switch {
	case errors.Is(err, errTooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	case errors.Is(err, errMismatch):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest) // the body could not be read
		return
	}
	if _, err := r.local.PutZip(data, r.lim); err != nil {
		var ce *codestore.Error
		if errors.As(err, &ce) {
			http.Error(w, "code package rejected: "+ce.Detail, http.StatusBadRequest)
			return
		}
		r.log.Error("store pushed code package", "sha256_hex", h, "err", err)
		http.Error(w, "store code package: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
