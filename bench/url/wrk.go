package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// wrkTarget is what one wrk run sends: to url (the address wrk dials), with host as the Host header when set, and
// lua (a script's own lines: method, body, headers) prepended to the harness's done() reporter.
type wrkTarget struct {
	name string
	url  string
	host string
	lua  func() (string, error) // called just before each run (a signature is made fresh each time)
}

// wrkResult is one wrk run, read from the done() callback of its script (exact figures, in microseconds) rather
// than from wrk's rounded printout.
type wrkResult struct {
	target      string
	concurrency int
	requests    int64 // responses, whatever their status
	duration    time.Duration
	p50, p99    time.Duration
	max         time.Duration
	status      int64 // responses with status > 399 (wrk's "Non-2xx or 3xx responses")
	socket      int64 // connect, read, write errors and timeouts
	cpu         cpuUse
	load1       float64 // the 1-minute load average when the run started
	printout    string  // wrk's own report (--latency)
}

func (r wrkResult) rps() float64 {
	if r.duration <= 0 {
		return 0
	}
	return float64(r.requests) / r.duration.Seconds()
}

// doneLua makes wrk print its summary in a form the harness reads (latency:percentile is in microseconds).
const doneLua = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-URL requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
`

var doneRE = regexp.MustCompile(`BENCH-URL requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) max_us=(\d+) status=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+)`)

// runWrk runs wrk against t with the given connections for d (one thread at concurrency 1, else threads), and
// accounts for the CPU the machine spent meanwhile. serverPid is Sluice's (its children are the function
// processes); 0 when the target is the harness's own floor.
func runWrk(ctx context.Context, t wrkTarget, connections, threads int, d time.Duration, dir string, serverPid int) (wrkResult, error) {
	r := wrkResult{target: t.name, concurrency: connections, load1: hostinfo.Load1()}
	lua := ""
	if t.lua != nil {
		var err error
		if lua, err = t.lua(); err != nil {
			return r, err
		}
	}
	script := filepath.Join(dir, "wrk.lua")
	if err := os.WriteFile(script, []byte("-- written by bench/url\n"+lua+doneLua), 0o644); err != nil {
		return r, err
	}
	args := []string{"-t", strconv.Itoa(min(threads, connections)), "-c", strconv.Itoa(connections), "-d", d.String(),
		"--latency", "--timeout", "10s", "-s", script}
	if t.host != "" {
		args = append(args, "-H", "Host: "+t.host)
	}
	args = append(args, t.url)
	cmd := exec.CommandContext(ctx, "wrk", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	before := takeCPU()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("wrk: %w", err)
	}
	err := cmd.Wait()
	var wrkCPU float64
	if ps := cmd.ProcessState; ps != nil {
		wrkCPU = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	r.cpu = before.until(takeCPU(), wrkCPU, serverPid)
	if err != nil {
		return r, fmt.Errorf("wrk %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	m := doneRE.FindStringSubmatch(out.String())
	if m == nil {
		return r, fmt.Errorf("wrk printed no summary:\n%s%s", out.String(), errOut.String())
	}
	n := make([]int64, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.ParseInt(m[i], 10, 64)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	r.requests, r.duration, r.p50, r.p99, r.max = n[1], us(n[2]), us(n[3]), us(n[4]), us(n[5])
	r.status, r.socket = n[6], n[7]+n[8]+n[9]+n[10]
	r.printout = strings.TrimSpace(doneRE.ReplaceAllString(out.String(), ""))
	return r, nil
}

// luaString quotes s as a Lua long string (the harness's own ASCII values: headers and a JSON body).
func luaString(s string) string {
	eq := "="
	for strings.Contains(s, "]"+eq+"]") {
		eq += "="
	}
	return "[" + eq + "[" + s + "]" + eq + "]"
}
