package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
)

// The embedded assets are served with their content's digest in the URL the pages use (assets/console.css?v=…):
// a browser keeps such a URL for good and asks for it again only when a new binary changes the file, instead of
// fetching every asset on every navigation.

// assetVersions maps each embedded asset's name to its content's digest.
var assetVersions = func() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assetFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v[path.Base(p)] = hex.EncodeToString(sum[:8])
		return nil
	})
	return v
}()

// assetURL is the address the pages give an asset: versioned by its digest.
func assetURL(name string) string {
	return Prefix + "assets/" + name + "?v=" + assetVersions[name]
}

// serveAsset serves an embedded asset: for good under the current digest, revalidated (ETag) under any other
// address.
func serveAsset(files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, ok := assetVersions[path.Base(r.URL.Path)]
		if ok {
			w.Header().Set("ETag", `"`+version+`"`)
		}
		if ok && r.URL.Query().Get("v") == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
