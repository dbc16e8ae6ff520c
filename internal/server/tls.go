package server

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/internal/certfile"
)

// keyPairCheckInterval is how often the TLS files are compared with the pair being served, so that a renewal is
// picked up without a SIGHUP (two small reads).
const keyPairCheckInterval = 10 * time.Second

// loadKeyPair reads --tls-cert/--tls-key, if given (nil: the listener serves plain HTTP).
func loadKeyPair(cfg Config) (*certfile.KeyPair, error) {
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" {
		return nil, nil
	}
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.CABundle != "" && cfg.DataDir != "" {
		// Functions cannot see the data dir (the sandbox hides it), so a bundle there would not reach them.
		if b, err := filepath.Abs(cfg.CABundle); err == nil {
			if d, err := filepath.Abs(cfg.DataDir); err == nil && strings.HasPrefix(b, d+string(filepath.Separator)) {
				cfg.Logger.Warn("the CA bundle is inside the data dir, which functions cannot read: their SDKs will not trust the listener",
					"ca_bundle", cfg.CABundle)
			}
		}
	}
	return certfile.Load(cfg.TLSCertFile, cfg.TLSKeyFile)
}

// followKeyPair re-reads the TLS files on SIGHUP and every keyPairCheckInterval until ctx ends; a new pair is
// presented from the next handshake on, and a broken one is logged and left unserved.
func followKeyPair(ctx context.Context, pair *certfile.KeyPair, cfg Config, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(keyPairCheckInterval)
	defer tick.Stop()
	for {
		var why string
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick.C:
			why = "file check"
		}
		changed, err := pair.Reload()
		if err != nil {
			log.Warn("TLS key pair not reloaded; still serving the previous one", "trigger", why, "cert", cfg.TLSCertFile, "key", cfg.TLSKeyFile, "err", err)
			continue
		}
		if changed {
			leaf := pair.Certificate().Leaf
			log.Info("TLS key pair reloaded", "trigger", why, "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// tlsEndpoint is the https URL of the listener at addr that this machine's clients (functions, `sluice env`, the
// CLI) are given: the listener's own address when the certificate names it; for a listener on every address or on
// loopback whose certificate does not name that address, the first of localhost and 127.0.0.1 it names. ok is false
// when the certificate names none of them: clients then refuse it unless told the endpoint by its name.
func tlsEndpoint(addr string, leaf *x509.Certificate) (endpoint string, ok bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "https://" + addr, false
	}
	if leaf.VerifyHostname(host) == nil {
		return "https://" + addr, true
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsUnspecified() || ip.IsLoopback()) {
		for _, name := range []string{"localhost", "127.0.0.1"} {
			if leaf.VerifyHostname(name) == nil {
				return "https://" + net.JoinHostPort(name, port), true
			}
		}
	}
	return "https://" + addr, false
}
