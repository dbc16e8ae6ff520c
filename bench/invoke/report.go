package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// measurements is everything one run measured.
type measurements struct {
	floor  floorMeasurements
	rie    *rieMeasurements // nil with -skip-rie
	sluice sluiceMeasurements
	direct []time.Duration // the bootstrap's own start-up on the host
	source string          // what Sluice was built from
}

func flagsLine(cfg config) string {
	return fmt.Sprintf("`-n %d -duration %s -concurrency %d -cold-samples %d`", cfg.n, cfg.duration, cfg.concurrency, cfg.coldSamples)
}

func printReport(w io.Writer, cfg config, m measurements) {
	fmt.Fprintf(w, "\n**Machine:** %s.\n", hostinfo.Description())
	fmt.Fprintf(w, "Sluice built from %s; %s.\n\n", m.source, flagsLine(cfg))
	printWarmTable(w, cfg, m)
	printCPUTable(w, cfg, m)
	if cfg.coldSamples > 0 {
		printColdTable(w, m)
	}
	if len(m.sluice.bursts) > 0 {
		printBurstTable(w, cfg, m.sluice.bursts)
	}
	if !cfg.sluiceOnly {
		printRatios(w, cfg, m)
	}
	printNotes(w, cfg, m)
}

func printWarmTable(w io.Writer, cfg config, m measurements) {
	c := cfg.concurrency
	fmt.Fprintf(w, "| target | c=1 p50 | c=1 p99 | c=1 invokes/s | c=%d invokes/s | c=%d p50 | c=%d p99 | c=%d errors |\n", c, c, c, c)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, c1, cN result) {
		if c1.ok+c1.errs+cN.ok+cN.errs == 0 {
			return // not measured in this run
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %.0f | %s | %s | %d of %d |\n", name, pct(c1, 0.5), pct(c1, 0.99),
			c1.throughput(), cN.throughput(), pct(cN, 0.5), pct(cN, 0.99), cN.errs, cN.errs+cN.ok)
	}
	row("Sluice (alias `live`, 10% canary; net/http + SigV4)", m.sluice.c1, m.sluice.cN)
	row("Sluice, the same invoked through aws-sdk-go-v2", m.sluice.sdkC1, m.sluice.sdkCN)
	if m.rie != nil {
		row("AWS Runtime Interface Emulator (net/http)", m.rie.c1, m.rie.cN)
	}
	row("loopback floor: net/http echo server in its own process (net/http)", m.floor.c1, m.floor.cN)
	row("loopback floor invoked through aws-sdk-go-v2 (the SDK's own cost)", m.floor.sdkC1, m.floor.sdkCN)
	row("loopback floor in-process: client and echo server in one process", m.floor.inC1, m.floor.inCN)
	row("Runtime API floor: the harness hands the event straight to host bootstraps (no client request, no sandbox)", m.floor.fnC1, m.floor.fnCN)
	fmt.Fprintln(w)
}

// printCPUTable shows where the machine's CPU went in each measured phase, per successful invocation: it explains
// throughput (at c>1 the machine is the limit) and part of latency (at c=1, CPU on the critical path). It also
// shows CPU used by processes that are not part of the measurement, which disturb it.
func printCPUTable(w io.Writer, cfg config, m measurements) {
	fmt.Fprintln(w, "| CPU per invocation | machine busy | client | server process | function process | unattributed (kernel, short-lived processes) | total | other processes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, r result) {
		u := r.cpu
		if u.wall < time.Second || r.ok == 0 {
			return // too short for /proc's 10 ms ticks
		}
		us := func(sec float64) string { return fmt.Sprintf("%.0f µs", perInvocation(sec, r.ok).Seconds()*1e6) }
		fmt.Fprintf(w, "| %s | %.0f%% | %s | %s | %s | %s | %s | %s |\n", name, share(u.busy, u), us(u.client), us(u.server),
			us(u.functions), us(u.kernel), us(u.busy-u.foreign), foreignNote(u))
	}
	c := cfg.concurrency
	row("Sluice, c=1", m.sluice.c1)
	row(fmt.Sprintf("Sluice, c=%d", c), m.sluice.cN)
	row(fmt.Sprintf("Sluice via aws-sdk-go-v2, c=%d", c), m.sluice.sdkCN)
	if m.rie != nil {
		row("RIE, c=1", m.rie.c1)
	}
	row("floor (echo server in its own process: the server column), c=1", m.floor.c1)
	row(fmt.Sprintf("floor (echo server in its own process), c=%d", c), m.floor.cN)
	row(fmt.Sprintf("floor with a fasthttp echo server (own process), c=%d", c), m.floor.fastCN)
	row(fmt.Sprintf("floor via aws-sdk-go-v2, c=%d", c), m.floor.sdkCN)
	row(fmt.Sprintf("floor in-process (client and server in one process), c=%d", c), m.floor.inCN)
	row("Runtime API floor, c=1", m.floor.fnC1)
	row(fmt.Sprintf("Runtime API floor, c=%d", c), m.floor.fnCN)
	fmt.Fprintln(w)
}

// share is CPU seconds as a percentage of the machine's capacity over the phase.
func share(sec float64, u cpuUse) float64 {
	return 100 * sec / (u.wall.Seconds() * float64(runtime.NumCPU()))
}

func foreignNote(u cpuUse) string {
	s := fmt.Sprintf("%.0f%% of the machine", share(u.foreign, u))
	if share(u.foreign, u) >= disturbed {
		s = "**" + s + "** (" + u.topForeign + ")"
	}
	return s
}

// disturbed is the share of the machine other processes may take before a phase is flagged as disturbed.
const disturbed = 5.0

func printColdTable(w io.Writer, m measurements) {
	fmt.Fprintf(w, "| cold start (%d samples) | p50 | p90 | min | max |\n|---|---:|---:|---:|---:|\n", len(m.direct))
	row := func(name string, d []time.Duration) {
		s := slices.Sorted(slices.Values(d))
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, ms(percentile(s, 0.5)), ms(percentile(s, 0.9)), ms(s[0]), ms(s[len(s)-1]))
	}
	row("bootstrap run directly on the host: fork+exec → first GET /next (the function's own start-up), a block of samples with nothing else running", m.direct)
	row("the same, each taken just before one of Sluice's cold starts, with the server running (paired)", field(m.sluice.cold, hostOf))
	row("Sluice Init Duration (REPORT line: spawn + sandbox + start-up → first GET /next)", field(m.sluice.cold, initOf))
	row("Sluice first invocation, client-observed", field(m.sluice.cold, firstOf))
	row("Sluice first invocation minus the warm one after it", field(m.sluice.cold, penaltyOf))
	if m.rie != nil && len(m.rie.cold) > 0 {
		row("RIE first invocation after start, client-observed", field(m.rie.cold, firstOf))
		row("RIE first invocation minus the warm one after it", field(m.rie.cold, penaltyOf))
	}
	verdict := func(ratio float64) string {
		if ratio > 1.3 {
			return "**missed**"
		}
		return "met"
	}
	initP50 := p50(field(m.sluice.cold, initOf)).Seconds()
	block := initP50 / p50(m.direct).Seconds()
	paired := initP50 / p50(field(m.sluice.cold, hostOf)).Seconds()
	fmt.Fprintf(w, "\nSluice p50 Init Duration / p50 host start-up: **%.2f×** against the block of host samples, **%.2f×** against the "+
		"paired ones (target ≤ 1.3×: %s, %s).\n\n", block, paired, verdict(block), verdict(paired))
}

// printBurstTable shows each burst of simultaneous cold starts, the CPU it used as a share of the machine, and the
// bound on what refilling the prestarted pool took (burst.go).
func printBurstTable(w io.Writer, cfg config, bursts []burstResult) {
	fmt.Fprintf(w, "| burst of %d simultaneous invocations | cold starts | wall | Init Duration p50 / max | machine busy | server | "+
		"function processes (inits included) | one prestarted init's start-up CPU | refills at most (target ≤ 20%%) |\n", cfg.coldBurst)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i, b := range bursts {
		s := slices.Sorted(slices.Values(b.inits))
		fmt.Fprintf(w, "| %d | %d | %s | %s / %s | %.0f%% | %.0f%% | %.0f%% | %s (mean of %d) | %.1f%% |\n", i+1, b.cold, ms(b.wall),
			ms(percentile(s, 0.5)), ms(s[len(s)-1]), share(b.cpu.busy, b.cpu), share(b.cpu.server, b.cpu),
			share(b.cpu.functions, b.cpu), ms(b.initCPU), b.idleSeen, b.poolCost())
	}
	fmt.Fprintln(w)
}

func initOf(s coldSample) time.Duration    { return s.init }
func hostOf(s coldSample) time.Duration    { return s.host }
func firstOf(s coldSample) time.Duration   { return s.first }
func penaltyOf(s coldSample) time.Duration { return s.first - s.warm }

func field(samples []coldSample, f func(coldSample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = f(s)
	}
	return out
}

// p50 of unsorted durations.
func p50(d []time.Duration) time.Duration { return percentile(slices.Sorted(slices.Values(d)), 0.5) }

// printRatios compares the run's own numbers against the project's targets.
func printRatios(w io.Writer, cfg config, m measurements) {
	fmt.Fprintf(w, "| ratio (same run) | value | target | |\n|---|---:|---:|---|\n")
	check := func(name string, v float64, target string, ok bool) {
		verdict := "met"
		if !ok {
			verdict = "**missed**"
		}
		if target == "" {
			target, verdict = "—", ""
		}
		fmt.Fprintf(w, "| %s | %.2f× | %s | %s |\n", name, v, target, verdict)
	}
	s50 := m.sluice.c1.p(0.5).Seconds()
	if m.rie != nil {
		r := s50 / m.rie.c1.p(0.5).Seconds()
		check("Sluice warm p50 / RIE warm p50", r, "≤ 0.5×", r <= 0.5)
	}
	f := s50 / m.floor.c1.p(0.5).Seconds()
	check("Sluice warm p50 / floor warm p50", f, "≤ 3×", f <= 3)
	t := m.sluice.cN.throughput() / m.floor.cN.throughput()
	check(fmt.Sprintf("Sluice c=%d throughput / floor c=%d throughput", cfg.concurrency, cfg.concurrency), t, "≥ 0.4×", t >= 0.4)
	check("Sluice warm p50 / in-process floor warm p50", s50/m.floor.inC1.p(0.5).Seconds(), "", true)
	check(fmt.Sprintf("Sluice c=%d throughput / in-process floor c=%d throughput", cfg.concurrency, cfg.concurrency),
		m.sluice.cN.throughput()/m.floor.inCN.throughput(), "", true)
	check("Sluice via aws-sdk-go-v2 warm p50 / floor-via-SDK warm p50 (the SDK on both sides)",
		m.sluice.sdkC1.p(0.5).Seconds()/m.floor.sdkC1.p(0.5).Seconds(), "", true)
	if m.rie != nil {
		check("Sluice via aws-sdk-go-v2 warm p50 / RIE warm p50", m.sluice.sdkC1.p(0.5).Seconds()/m.rie.c1.p(0.5).Seconds(), "", true)
	}
	// The limit the design allows: the same bootstraps handed their events with no client request and no platform.
	fn := s50 / m.floor.fnC1.p(0.5).Seconds()
	check("Sluice warm p50 / Runtime API floor warm p50", fn, "≤ 1.15×", fn <= 1.15)
	ft := m.sluice.cN.throughput() / m.floor.fnCN.throughput()
	check(fmt.Sprintf("Sluice c=%d throughput / Runtime API floor c=%d throughput", cfg.concurrency, cfg.concurrency), ft, "≥ 0.85×", ft >= 0.85)
	if r := m.sluice.cN; r.cpu.wall >= time.Second && r.ok > 0 {
		server := perInvocation(r.cpu.server, r.ok)
		verdict := "met"
		if server > 100*time.Microsecond {
			verdict = "**missed**"
		}
		fmt.Fprintf(w, "| Sluice server CPU per warm invocation, c=%d | %.0f µs | ≤ 100 µs | %s |\n", cfg.concurrency, server.Seconds()*1e6, verdict)
	}
	printCeilings(w, cfg, m)
	if m.rie != nil {
		best := max(m.rie.c1.throughput(), m.rie.cN.throughput())
		check(fmt.Sprintf("Sluice c=%d throughput / RIE best throughput (successful invokes/s)", cfg.concurrency), m.sluice.cN.throughput()/best, "", true)
	}
	if cfg.coldSamples > 0 {
		over := p50(field(m.sluice.cold, initOf)) - p50(m.direct)
		verdict := "met"
		if over > 5*time.Millisecond {
			verdict = "**missed**"
		}
		fmt.Fprintf(w, "| Sluice cold-start overhead: p50 Init Duration − p50 host start-up | %s | ≤ 5 ms | %s |\n", ms(over), verdict)
		fmt.Fprintf(w, "| Sluice cold-start penalty, client-observed: p50 (first − warm invocation) − p50 host start-up | %s | — | |\n",
			ms(p50(field(m.sluice.cold, penaltyOf))-p50(m.direct)))
		if m.rie != nil && len(m.rie.cold) > 0 {
			fmt.Fprintf(w, "| RIE cold-start penalty, client-observed: p50 (first − warm invocation) − p50 host start-up | %s | — | |\n",
				ms(p50(field(m.rie.cold, penaltyOf))-p50(m.direct)))
		}
	}
	fmt.Fprintln(w)
}

// printCeilings prints what the Runtime API floor leaves out and every platform with a client must pay: the
// client's own HTTP exchange (the floor hands its events over in process). Measured in the same run, they bound
// the throughput ratio and the server's CPU above, whatever a platform does; for the p50 ratio the sum of two
// latencies measured apart is an estimate, not a bound.
func printCeilings(w io.Writer, cfg config, m measurements) {
	fn, loop, fast := m.floor.fnCN, m.floor.cN, m.floor.fastCN
	if m.floor.fnC1.ok == 0 || m.floor.c1.ok == 0 || fn.ok == 0 || loop.ok == 0 || fast.ok == 0 {
		return
	}
	perInv := func(r result, sec float64) float64 { return perInvocation(sec, r.ok).Seconds() * 1e6 }
	total := func(r result) float64 { return perInv(r, r.cpu.busy-r.cpu.foreign) }
	c := cfg.concurrency
	fnP50, loopP50 := m.floor.fnC1.p(0.5).Seconds(), m.floor.c1.p(0.5).Seconds()
	fmt.Fprintf(w, "| ceiling of the warm p50 ratio, estimated: (Runtime API floor p50 + one loopback exchange's p50) / Runtime API floor p50 | %.2f× | — | |\n",
		(fnP50+loopP50)/fnP50)
	fmt.Fprintf(w, "| ceiling of the c=%d throughput ratio: Runtime API floor CPU / (it + one loopback exchange with a fasthttp server), %.0f / (%.0f + %.0f µs) | %.2f× | — | |\n",
		c, total(fn), total(fn), total(fast), total(fn)/(total(fn)+total(fast)))
	fmt.Fprintf(w, "| servers' CPU per exchange, c=%d: net/http %.0f µs, fasthttp %.0f µs — so Sluice's three (the Invoke on net/http, /next and /response on fasthttp) at least | %.0f µs | — | |\n",
		c, perInv(loop, loop.cpu.server), perInv(fast, fast.cpu.server), perInv(loop, loop.cpu.server)+2*perInv(fast, fast.cpu.server))
}

// printNotes says what else happened: the canary split, errors, and how the emulator coped with concurrency.
func printNotes(w io.Writer, cfg config, m measurements) {
	split := m.sluice.split
	total := 0
	for _, n := range split {
		total += n
	}
	if total > 0 {
		fmt.Fprintf(w, "- Sluice canary split over the measured invocations: v1 %d, v2 %d (%.1f%% to v2; target 10%%).\n",
			split["1"], split["2"], 100*float64(split["2"])/float64(total))
	}
	for _, ph := range phases(cfg, m) {
		if ph.r.errs > 0 && !(ph.rieCN && m.rie.outcome.crashed) { // a crash is described below
			fmt.Fprintf(w, "- %s errors: %s.\n", ph.name, ph.r.errorSummary())
		}
	}
	if b := m.sluice.breakdown; b.n > 0 {
		fmt.Fprintf(w, "- Sluice warm invocation, %d sequential with the log tail: client-observed p50 %s, of which REPORT Duration "+
			"(event handed to the runtime → its answer, via the Runtime API) p50 %s; the rest (SDK, HTTP, SigV4, routing, logs) p50 %s.\n",
			b.n, ms(b.client), ms(b.function), ms(b.rest))
	}
	for _, ph := range phases(cfg, m) {
		if u := ph.r.cpu; u.wall >= time.Second && share(u.foreign, u) >= disturbed {
			fmt.Fprintf(w, "- **Disturbed:** other processes used %.0f%% of the machine during %s (%s).\n", share(u.foreign, u), ph.name, u.topForeign)
		}
	}
	if n := m.sluice.servedWarm; n > 0 {
		fmt.Fprintf(w, "- **Server misbehaviour:** %d of %d forced cold starts were served warm: right after UpdateFunctionConfiguration "+
			"and the function-updated-v2 waiter reported the update settled, the invocation reached an environment of the previous "+
			"configuration (those samples were taken again).\n", n, n+len(m.sluice.cold)+1)
	}
	if l := m.sluice.left; l.cgroups > 0 {
		fate := "its next start removed them"
		if !l.cleaned {
			fate = "**they are still there**"
		}
		fmt.Fprintf(w, "- **Server misbehaviour:** after a graceful stop (SIGINT) the server left %d sandbox cgroups behind "+
			"(%d frozen, %d still holding a process); %s.\n", l.cgroups, l.frozen, l.withProcs, fate)
	}
	if !m.sluice.aliveAtEnd {
		fmt.Fprintln(w, "- **The Sluice server exited during the run.**")
	}
	if m.rie != nil {
		o := m.rie.outcome
		switch {
		case o.crashed:
			fmt.Fprintf(w, "- RIE (%s) crashed %s into the c=%d phase (%s) after %d successful invocations; the %d errors: %s. Its last output:\n\n```\n%s\n```\n",
				m.rie.version, o.crashAfter.Round(time.Millisecond), cfg.concurrency, o.exitDesc, m.rie.cN.ok, m.rie.cN.errs, m.rie.cN.errorSummary(), lastLines(o.log, 12))
		default:
			fmt.Fprintf(w, "- RIE (%s) survived c=%d; a sequential invocation afterwards %s.\n", m.rie.version, cfg.concurrency,
				map[bool]string{true: "succeeded", false: "failed"}[o.healthyAfter])
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// pct renders a latency percentile, or a dash when nothing succeeded.
func pct(r result, q float64) string {
	if r.ok == 0 {
		return "—"
	}
	return ms(r.p(q))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

type namedResult struct {
	name  string
	r     result
	rieCN bool // RIE's concurrent phase
}

// phases lists every measured phase.
func phases(cfg config, m measurements) []namedResult {
	c := cfg.concurrency
	out := []namedResult{{name: "Sluice c=1", r: m.sluice.c1}, {name: fmt.Sprintf("Sluice c=%d", c), r: m.sluice.cN},
		{name: "Sluice via SDK c=1", r: m.sluice.sdkC1}, {name: fmt.Sprintf("Sluice via SDK c=%d", c), r: m.sluice.sdkCN},
		{name: "floor c=1", r: m.floor.c1}, {name: fmt.Sprintf("floor c=%d", c), r: m.floor.cN},
		{name: fmt.Sprintf("fasthttp floor c=%d", c), r: m.floor.fastCN},
		{name: "in-process floor c=1", r: m.floor.inC1}, {name: fmt.Sprintf("in-process floor c=%d", c), r: m.floor.inCN},
		{name: "floor via SDK c=1", r: m.floor.sdkC1}, {name: fmt.Sprintf("floor via SDK c=%d", c), r: m.floor.sdkCN},
		{name: "Runtime API floor c=1", r: m.floor.fnC1}, {name: fmt.Sprintf("Runtime API floor c=%d", c), r: m.floor.fnCN}}
	if m.rie != nil {
		out = append(out, namedResult{"RIE c=1", m.rie.c1, false}, namedResult{fmt.Sprintf("RIE c=%d", c), m.rie.cN, true})
	}
	return out
}
