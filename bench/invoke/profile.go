package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/sluice-dev/sluice/bench/internal/buildkit"
)

// profiler records CPU profiles of the Sluice server (through bench/invoke/profiled's control endpoint) and of
// this process (the aws-sdk-go-v2 client side) over the same phase. A nil profiler does nothing.
type profiler struct {
	dir, addrFile string
	client        *os.File
	err           error
}

// buildProfiled builds bench/invoke/profiled next to the real binary.
func buildProfiled(ctx context.Context, dir string) (string, error) {
	root, err := buildkit.ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "sluice-profiled")
	return bin, buildkit.GoBuild(ctx, root, "./bench/invoke/profiled", bin, false)
}

// env tells the profiled server where to write its control address.
func (p *profiler) env() []string {
	if p == nil {
		return nil
	}
	return []string{"SLUICE_BENCH_PROFILE_ADDR_FILE=" + p.addrFile}
}

func (p *profiler) control(op, path string) error {
	addr, err := os.ReadFile(p.addrFile)
	if err != nil {
		return err
	}
	u := "http://" + strings.TrimSpace(string(addr)) + "/" + op + "?path=" + url.QueryEscape(path)
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: HTTP %d", op, resp.StatusCode)
	}
	return nil
}

// begin starts server-<label>.pprof and client-<label>.pprof in the profile dir.
func (p *profiler) begin(label string) {
	if p == nil || p.err != nil {
		return
	}
	if p.err = os.MkdirAll(p.dir, 0o755); p.err != nil {
		return
	}
	if p.err = p.control("start", filepath.Join(p.dir, "server-"+label+".pprof")); p.err != nil {
		return
	}
	if p.client, p.err = os.Create(filepath.Join(p.dir, "client-"+label+".pprof")); p.err != nil {
		return
	}
	p.err = pprof.StartCPUProfile(p.client)
}

func (p *profiler) end() {
	if p == nil || p.client == nil {
		return
	}
	pprof.StopCPUProfile()
	p.client.Close()
	p.client = nil
	if err := p.control("stop", ""); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *profiler) failed() error {
	if p == nil {
		return nil
	}
	return p.err
}
