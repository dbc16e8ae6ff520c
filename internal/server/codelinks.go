package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// codeLinks mints and checks GetFunction's Code.Location: a pre-signed, 10-minute download URL for a package,
// like the S3 URL AWS returns. The signing key is the server's own secret, so links need no SigV4.
type codeLinks struct {
	key  []byte
	now  func() time.Time
	path func(sha string) (string, bool)
}

const codeLinkTTL = 10 * time.Minute

func (c *codeLinks) mac(hexSha, expires string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(hexSha + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

// Locate returns the download URL for a CodeSha256, on the host the caller used.
func (c *codeLinks) Locate(r *http.Request, codeSha256 string) string {
	raw, err := base64.StdEncoding.DecodeString(codeSha256)
	if err != nil {
		return ""
	}
	hexSha := hex.EncodeToString(raw)
	expires := strconv.FormatInt(c.now().Add(codeLinkTTL).Unix(), 10)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/_sluice/code/" + hexSha + ".zip?Expires=" + expires + "&Signature=" + c.mac(hexSha, expires)
}

// ServeHTTP serves a package download if the link is authentic and unexpired.
func (c *codeLinks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hexSha := strings.TrimSuffix(r.PathValue("file"), ".zip")
	q := r.URL.Query()
	expires := q.Get("Expires")
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !hmac.Equal([]byte(c.mac(hexSha, expires)), []byte(q.Get("Signature"))) {
		http.Error(w, "AccessDenied: invalid signature", http.StatusForbidden)
		return
	}
	if c.now().Unix() > exp {
		http.Error(w, "AccessDenied: Request has expired", http.StatusForbidden)
		return
	}
	raw, err := hex.DecodeString(hexSha)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	path, ok := c.path(base64.StdEncoding.EncodeToString(raw))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	http.ServeFile(w, r, path)
}
