package cli

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/internal/auth"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

// noAWSEnvironment clears every source of credentials the SDK reads and points its metadata service at a server
// that counts the requests it gets (and refuses them, as IMDS does off EC2). It returns the count.
func noAWSEnvironment(t *testing.T) *atomic.Int64 {
	t.Helper()
	var imdsHits atomic.Int64
	imdsServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		imdsHits.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(imdsServer.Close)
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_LAMBDA": "", "AWS_ENDPOINT_URL_STS": "",
		"AWS_CA_BUNDLE": "", "AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imdsServer.URL,
		auth.EnvRootAccessKeyID: "", auth.EnvRootSecretAccessKey: "",
	} {
		t.Setenv(k, v)
	}
	return &imdsHits
}

// TestAWSConfigWithoutCredentials: with no AWS environment the CLI never asks the EC2 metadata service, and says
// in one line how to get credentials — unless a local server's data dir has its root credentials.
func TestAWSConfigWithoutCredentials(t *testing.T) {
	for _, tc := range []struct {
		name          string
		serverHasRun  bool
		wantErrPrefix string
	}{
		{name: "no server on the data dir", wantErrPrefix: "no credentials: "},
		{name: "a server has run on the data dir", serverHasRun: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imdsHits := noAWSEnvironment(t)
			dataDir := t.TempDir()
			var root auth.RootCredentials
			if tc.serverHasRun {
				var err error
				if root, err = auth.LoadRoot(dataDir); err != nil {
					t.Fatal(err)
				}
			}
			f := clientFlags{dataDir: dataDir}
			cfg, err := f.awsConfig(t.Context())
			if n := imdsHits.Load(); n != 0 {
				t.Errorf("the CLI asked the EC2 metadata service %d times", n)
			}
			if tc.wantErrPrefix != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErrPrefix) || strings.Contains(err.Error(), "\n") ||
					!strings.Contains(err.Error(), "sluice serve") || !strings.Contains(err.Error(), dataDir) {
					t.Fatalf("awsConfig = %v, want one line starting %q that says to run sluice serve on %s", err, tc.wantErrPrefix, dataDir)
				}
				return
			}
			if err != nil {
				t.Fatalf("awsConfig: %v", err)
			}
			creds, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil || creds.AccessKeyID != root.AccessKeyID {
				t.Fatalf("credentials %q, %v; want the data dir's root credentials %q", creds.AccessKeyID, err, root.AccessKeyID)
			}
		})
	}
}

// TestAWSConfigHonoursCABundle: AWS_CA_BUNDLE still reaches the HTTP client the CLI sends through (the SDK applies
// it only to its own client type, so the CLI's wrapper must go on afterwards).
func TestAWSConfigHonoursCABundle(t *testing.T) {
	noAWSEnvironment(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	dataDir := t.TempDir()
	if _, err := auth.LoadRoot(dataDir); err != nil {
		t.Fatal(err)
	}
	f := clientFlags{dataDir: dataDir}
	cfg, err := f.awsConfig(t.Context())
	if err != nil {
		t.Fatalf("awsConfig with AWS_CA_BUNDLE: %v", err)
	}
	if _, ok := cfg.HTTPClient.(sdkhttp.Client); !ok {
		t.Errorf("HTTP client %T, want the CLI's sdkhttp.Client", cfg.HTTPClient)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("a server whose certificate is in AWS_CA_BUNDLE: %v", err)
	}
	resp.Body.Close()
}
