// Package etcdtest starts a real etcd (Debian's etcd-server binary, found on PATH) for tests: one per test binary,
// on loopback ports, its data in a temporary directory. Without the binary the tests that need it skip, unless
// SLUICE_REQUIRE_ETCD is set (CI sets it), which makes the missing binary a failure.
package etcdtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// MaxTxnOps is the --max-txn-ops the test etcd runs with (what Sluice's docs ask of a production etcd).
const MaxTxnOps = 1024

// endpoint is the running test etcd's client URL; "" when there is none.
var endpoint string

// Main runs the tests of a package with an etcd started for them; use it as TestMain's body:
//
//	func TestMain(m *testing.M) { os.Exit(etcdtest.Main(m)) }
func Main(m *testing.M) int {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_ETCD") != "" {
			fmt.Fprintln(os.Stderr, "SLUICE_REQUIRE_ETCD is set but there is no etcd binary on PATH (apt-get install etcd-server)")
			return 1
		}
		return m.Run()
	}
	url, stop, err := Start(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	endpoint = url
	return m.Run()
}

// Endpoint returns the test etcd's client URL, skipping t when there is no etcd binary.
func Endpoint(t testing.TB) string {
	t.Helper()
	if endpoint == "" {
		t.Skip("no etcd binary on PATH (apt-get install etcd-server); set SLUICE_REQUIRE_ETCD=1 to make this a failure")
	}
	return endpoint
}

// Start runs the etcd binary bin on free loopback ports and returns its client URL once it answers.
func Start(bin string) (clientURL string, stop func(), err error) {
	// tmpfs when there is one: etcd fsyncs every commit, and tests need not survive a power cut.
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "sluice-etcd-test-")
	if err != nil {
		return "", nil, err
	}
	clientURL, peerURL := "http://"+FreeAddr(), "http://"+FreeAddr()
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--name", "sluice-test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "sluice-test="+peerURL,
		"--max-txn-ops", fmt.Sprint(MaxTxnOps),
		"--logger", "zap", "--log-level", "error",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan etcd if the test binary dies
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start etcd: %w", err)
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err = ping(clientURL); err == nil {
			return clientURL, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("etcd did not answer within 20s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ping(url string) error {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Get(ctx, "ping")
	return err
}

// FreeAddr returns a loopback address with a port nobody listens on (the caller binds it right after).
func FreeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
