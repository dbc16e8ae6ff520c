package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
)

// evalDelay is how long after a period ends the alarm evaluator looks at it (internal/alarms TickGrace).
const evalDelay = 10 * time.Millisecond

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// since renders t − ref, or — when either is unknown.
func since(t, ref time.Time) string {
	if t.IsZero() || ref.IsZero() {
		return "—"
	}
	return ms(t.Sub(ref))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// derived are the instants of one defective canary.
type derived struct {
	shift       time.Time // the timeline's first step with weight > 0 (the controller asks for the 10% split)
	alarmSeen   time.Time // the timeline's "alarm" entry (the controller saw the alarm)
	rollback    time.Time // the timeline's "rollback" entry (alias back on v1 decided; the alias update follows)
	rbRestored  time.Time // the rollback deployment observed the alias on v1 unsplit (AllowTraffic succeeded)
	client      time.Time // GetAlias first returned v1 unsplit
	lastDefect  time.Time // the last invocation the alias routed to v2 started
	firstDefect time.Time // the first one
}

func derive(r defectiveRun) derived {
	var d derived
	for _, e := range r.dep.Timeline {
		if e.Kind == "step" && e.Weight != nil && *e.Weight > 0 && d.shift.IsZero() {
			d.shift = e.at()
		}
	}
	if e, ok := r.dep.first("alarm"); ok {
		d.alarmSeen = e.at()
	}
	if e, ok := r.dep.first("rollback"); ok {
		d.rollback = e.at()
	}
	for _, e := range r.rollback.Timeline {
		if e.Kind == "event" && strings.HasPrefix(e.Detail, "AllowTraffic succeeded") {
			d.rbRestored = e.at()
			break
		}
	}
	d.client = r.watch.restored
	d.firstDefect, d.lastDefect = r.t.first[defective], r.t.last[defective]
	return d
}

// periodEnd is when the alarm can first see an error that started at t: the end of t's epoch-aligned period plus
// the evaluator's delay.
func periodEnd(t time.Time, period int) time.Time {
	p := time.Duration(period) * time.Second
	return t.Truncate(p).Add(p).Add(evalDelay)
}

func printReport(w io.Writer, cfg config, res results) {
	fmt.Fprintf(w, "\n**Machine:** nproc %d; %s.\n", nproc(), hostinfo.Description())
	fmt.Fprintf(w, "Sluice built from %s. `sluice serve --deploy-time-scale %g`; flags `-repeats %d -repeats-p5 %d -load %g -workers %d -poll %s`.\n",
		res.source, cfg.timeScale, cfg.repeats, cfg.repeatsP5, cfg.load, cfg.workers, cfg.poll)
	fmt.Fprintf(w, "Offered load %.0f invocations/s through alias `%s`; achieved over the whole run %.0f/s (%d invocations in %.1f s; %d slots skipped because all %d workers were busy). Machine %.0f%% busy when the measurement began.\n\n",
		cfg.load, aliasName, res.all.rate(), res.all.n, res.all.to.Sub(res.all.from).Seconds(), res.skipped, cfg.workers, res.quietBefore)

	runs := append(slices.Clone(res.p1), res.p5...)
	printLatency(w, runs)
	printBlast(w, runs)
	printHealthyErrors(w, res)
	if res.healthy != nil {
		printLinear(w, *res.healthy)
	}
	printCPU(w, res)
	printTimelineExample(w, runs)
	printTargets(w, cfg, res)
	if !res.serverAlive {
		fmt.Fprintln(w, "\n**The server died during the run.**")
	}
}

func printLatency(w io.Writer, runs []defectiveRun) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintln(w, "Alarm → alias restored, from the alarm's change to ALARM (its history timestamp, server clock):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | alarm period | deployment | controller sees the alarm (timeline `alarm`) | rollback decided (timeline `rollback`) | rollback deployment sees v1 unsplit | client: last GetAlias seeing the split sent | client: first GetAlias seeing v1 unsplit sent / returned | last invocation routed to v2 starts | GetAlias polls (max gap) |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, r := range runs {
		if r.err != nil {
			fmt.Fprintf(w, "| %d | %d s | failed: %s | | | | | | |\n", i+1, r.period, oneLine(r.err.Error()))
			continue
		}
		d := derive(r)
		fmt.Fprintf(w, "| %d | %d s | %s | %s | %s | %s | %s | %s / %s | %s | %d (%s) |\n", i+1, r.period, r.dep.DeploymentID,
			since(d.alarmSeen, r.alarmAt), since(d.rollback, r.alarmAt), since(d.rbRestored, r.alarmAt), since(r.watch.lastSplit, r.alarmAt),
			since(r.watch.restoredTx, r.alarmAt), since(d.client, r.alarmAt), since(d.lastDefect, r.alarmAt), r.watch.polls, ms(r.watch.maxGap))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| alarm period | runs | rollback decided: median / max | client's GetAlias returns v1 unsplit: median / max | last v2 invocation starts: median / max |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
	for _, p := range []int{1, 5} {
		var dec, cli, last []time.Duration
		for _, r := range runs {
			if r.period != p || r.err != nil {
				continue
			}
			d := derive(r)
			dec, cli = append(dec, d.rollback.Sub(r.alarmAt)), append(cli, d.client.Sub(r.alarmAt))
			if !d.lastDefect.IsZero() {
				last = append(last, d.lastDefect.Sub(r.alarmAt))
			}
		}
		if len(dec) > 0 {
			fmt.Fprintf(w, "| %d s | %d | %s / %s | %s / %s | %s / %s |\n", p, len(dec), ms(median(dec)), ms(slices.Max(dec)),
				ms(median(cli)), ms(slices.Max(cli)), ms(median(last)), ms(maxOr0(last)))
		}
	}
	fmt.Fprintln(w)
}

func maxOr0(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func printBlast(w io.Writer, runs []defectiveRun) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(w, "Blast radius of the 100%%-defective canary (weight %g). Bound: achieved load × weight × (period + %s evaluation delay). Aligned minimum: achieved load × weight × (end of the period in which the first v2 invocation started + %s − that start): the alarm cannot see an error before its period ends.\n\n", canaryWeight, ms(evalDelay), ms(evalDelay))
	fmt.Fprintln(w, "| run | alarm period | load in the window | first v2 invocation → alarm | v2 served (client) | of them errors | v2 started before / after the alarm | sluiceBlastRadius (invocations / errors) | bound | served / bound | aligned minimum | served / aligned minimum |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	type agg struct{ served, bound, aligned float64 }
	sums := map[int]*agg{}
	for i, r := range runs {
		if r.err != nil {
			continue
		}
		d := derive(r)
		load := r.t.rate()
		bound := load * canaryWeight * (float64(r.period) + evalDelay.Seconds())
		aligned := math.NaN()
		if !d.firstDefect.IsZero() {
			aligned = load * canaryWeight * periodEnd(d.firstDefect, r.period).Sub(d.firstDefect).Seconds()
		}
		br := "—"
		if r.dep.BlastRadius != nil {
			br = fmt.Sprintf("%d / %d", r.dep.BlastRadius.TargetInvocations, r.dep.BlastRadius.TargetErrors)
		}
		served := float64(r.t.served[defective])
		fmt.Fprintf(w, "| %d | %d s | %.0f/s | %s | %d | %d | %d / %d | %s | %.0f | %.2f× | %.0f | %.2f× |\n", i+1, r.period, load,
			since(r.alarmAt, d.firstDefect), r.t.served[defective], r.t.fnErrs[defective], r.defectBefore, r.defectAfter, br, bound, served/bound, aligned, served/aligned)
		a := sums[r.period]
		if a == nil {
			a = &agg{}
			sums[r.period] = a
		}
		a.served += served
		a.bound += bound
		if !math.IsNaN(aligned) {
			a.aligned += aligned
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| alarm period | v2 served, all runs | bound, all runs | served / bound | served / aligned minimum |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
	for _, p := range []int{1, 5} {
		if a := sums[p]; a != nil {
			fmt.Fprintf(w, "| %d s | %.0f | %.0f | %.2f× | %.2f× |\n", p, a.served, a.bound, a.served/a.bound, a.served/a.aligned)
		}
	}
	fmt.Fprintln(w)
}

func printHealthyErrors(w io.Writer, res results) {
	fmt.Fprintln(w, "Errors while shifting and rolling back (healthy versions: 1 and 3; failed calls are transport errors, 5xx and throttles, whatever the version):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| phase | span | invocations | achieved load | latency p50 / p99 / max | served by healthy versions | their function errors | failed calls | served by v2 (defective) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, t tally, span time.Duration) {
		h := t.served[healthy] + t.served[healthy2]
		he := t.fnErrs[healthy] + t.fnErrs[healthy2]
		for v := range t.served {
			if v != healthy && v != healthy2 && v != defective {
				name += fmt.Sprintf(" (unexpected version %q served %d)", v, t.served[v])
			}
		}
		fmt.Fprintf(w, "| %s | %.1f s | %d | %.0f/s | %s / %s / %s | %d | %d | %d%s | %d |\n", name, span.Seconds(), t.n, float64(t.n)/span.Seconds(),
			ms(t.percentile(0.5)), ms(t.percentile(0.99)), ms(t.percentile(1)), h, he,
			t.clientErrCount(), errNote(t), t.served[defective])
	}
	row("steady load before the deployments", res.baseline, res.baseline.to.Sub(res.baseline.from))
	for _, p := range []int{1, 5} {
		runs := res.p1
		if p == 5 {
			runs = res.p5
		}
		var sum tally
		var span time.Duration
		for _, r := range runs {
			if r.err == nil {
				sum = merge(sum, r.t)
				span += r.end.Sub(r.created)
			}
		}
		if sum.n > 0 {
			row(fmt.Sprintf("defective canaries with rollback, %d-s alarm, %d runs (each: deployment created → rollback succeeded)", p, len(runs)), sum, span)
		}
	}
	if h := res.healthy; h != nil && h.err == nil {
		row("healthy linear deployment 1 → 3 (created → succeeded + 1 s)", h.t, h.end.Sub(h.created))
	}
	row("whole run (from the second half of the warm-up)", res.all, res.all.to.Sub(res.all.from))
	fmt.Fprintln(w)
}

func errNote(t tally) string {
	if t.clientErrCount() == 0 {
		return ""
	}
	return " (" + t.clientErrSummary() + ")"
}

func merge(a, b tally) tally {
	if a.served == nil {
		a = tally{served: map[string]int{}, fnErrs: map[string]int{}, clientErrs: map[string]int{}}
	}
	a.n += b.n
	a.ok += b.ok
	a.lat = append(a.lat, b.lat...)
	slices.Sort(a.lat)
	for k, v := range b.served {
		a.served[k] += v
	}
	for k, v := range b.fnErrs {
		a.fnErrs[k] += v
	}
	for k, v := range b.clientErrs {
		a.clientErrs[k] += v
	}
	return a
}

func printLinear(w io.Writer, h healthyRun) {
	if h.err != nil {
		fmt.Fprintf(w, "Healthy linear deployment: **%s**\n\n", oneLine(h.err.Error()))
	}
	if len(h.steps) == 0 {
		return
	}
	fmt.Fprintf(w, "Healthy linear deployment %s → %s (%s, %s from creation to Succeeded), split seen by the client between one step's timeline entry and the next:\n\n",
		healthy, healthy2, linearConfig, ms(epochTime(h.dep.CompleteTime).Sub(h.created)))
	fmt.Fprintln(w, "| step (weight of v3) | from (since creation) | span | invocations | latency p50 / p99 | served by v3 | v3 share | v3 cold starts | function errors | failed calls |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range h.steps {
		share := 0.0
		if n := s.t.served[healthy] + s.t.served[healthy2]; n > 0 {
			share = float64(s.t.served[healthy2]) / float64(n)
		}
		fe := 0
		for _, v := range s.t.fnErrs {
			fe += v
		}
		fmt.Fprintf(w, "| %g%% | %s | %s | %d | %s / %s | %d | %.1f%% | %d | %d | %d |\n", s.weight*100, ms(s.from.Sub(h.created)), ms(s.to.Sub(s.from)),
			s.t.n, ms(s.t.percentile(0.5)), ms(s.t.percentile(0.99)), s.t.served[healthy2], share*100, s.cold, fe, s.t.clientErrCount())
	}
	fmt.Fprintln(w)
}

func printCPU(w io.Writer, res results) {
	fmt.Fprintln(w, "Where the CPU went (share of the machine's capacity over each phase):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| phase | machine busy | harness (load, pollers) | server | function processes | kernel / unattributed | other processes | cold starts by version |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|---|")
	row := func(name string, u cpuUse, cold map[string]int) {
		if u.wall < 500*time.Millisecond { // too short for /proc's 10 ms ticks
			return
		}
		other := fmt.Sprintf("%.0f%%", u.share(u.foreign))
		if u.topForeign != "" {
			other += " (" + u.topForeign + ")"
		}
		fmt.Fprintf(w, "| %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %s | %s |\n", name, u.share(u.busy), u.share(u.client), u.share(u.server),
			u.share(u.functions), u.share(u.kernel), other, coldNote(cold))
	}
	row("steady load (warm-up: "+coldNote(res.warmCold)+" cold starts)", res.baselineCPU, nil)
	for i, r := range append(slices.Clone(res.p1), res.p5...) {
		if r.err == nil {
			row(fmt.Sprintf("defective canary %d (%d-s alarm)", i+1, r.period), r.cpu, r.cold)
		}
	}
	if h := res.healthy; h != nil {
		row("healthy linear deployment", h.cpu, h.cold)
	}
	row("whole run", res.allCPU, res.allCold)
	fmt.Fprintln(w)
}

func coldNote(cold map[string]int) string {
	if cold == nil {
		return "—"
	}
	if len(cold) == 0 {
		return "none"
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(cold)) {
		parts = append(parts, fmt.Sprintf("v%s: %d", v, cold[v]))
	}
	return strings.Join(parts, ", ")
}

func printTimelineExample(w io.Writer, runs []defectiveRun) {
	for _, r := range runs {
		if r.err != nil {
			continue
		}
		fmt.Fprintf(w, "Timeline of defective canary %s (%d-s alarm) and its rollback deployment, times since the harness called CreateDeployment; the alarm went off at %s:\n\n",
			r.dep.DeploymentID, r.period, since(r.alarmAt, r.created))
		fmt.Fprintln(w, "```text")
		for _, d := range []deploymentInfo{r.dep, r.rollback} {
			fmt.Fprintf(w, "%s %s (%s)\n", d.DeploymentID, d.Status, d.Creator)
			for _, e := range d.Timeline {
				wt := ""
				if e.Weight != nil {
					wt = fmt.Sprintf(" %g%%", *e.Weight*100)
				}
				fmt.Fprintf(w, "  %9s  %-13s%s %s\n", since(e.at(), r.created), e.Kind, wt, e.Detail)
			}
		}
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
		return
	}
}

func printTargets(w io.Writer, cfg config, res results) {
	fmt.Fprintln(w, "| target | result | |")
	fmt.Fprintln(w, "|---|---|---|")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	for _, p := range []int{1, 5} {
		var cli []time.Duration
		for _, r := range append(slices.Clone(res.p1), res.p5...) {
			if r.period == p && r.err == nil && !r.watch.restored.IsZero() {
				cli = append(cli, r.watch.restored.Sub(r.alarmAt))
			}
		}
		if len(cli) > 0 {
			fmt.Fprintf(w, "| alarm → alias restored ≤ 100 ms (%d-s alarm, client-observed) | median %s, max %s over %d runs | %s |\n",
				p, ms(median(cli)), ms(slices.Max(cli)), len(cli), verdict(slices.Max(cli) <= 100*time.Millisecond))
		}
	}
	var healthyErrs, failedCalls int
	for _, r := range append(slices.Clone(res.p1), res.p5...) {
		healthyErrs += r.t.fnErrs[healthy] + r.t.fnErrs[healthy2]
		failedCalls += r.t.clientErrCount()
	}
	if h := res.healthy; h != nil {
		healthyErrs += h.t.fnErrs[healthy] + h.t.fnErrs[healthy2]
		failedCalls += h.t.clientErrCount()
	}
	fmt.Fprintf(w, "| zero errors from the healthy versions during shifts and rollbacks | %d function errors, %d failed calls | %s |\n",
		healthyErrs, failedCalls, verdict(healthyErrs == 0 && failedCalls == 0))
	fmt.Fprintf(w, "| ~%.0f invocations/s offered through the alias | %.0f/s achieved over the run | %s |\n", cfg.load, res.all.rate(),
		verdict(res.all.rate() >= 0.95*cfg.load))
	fmt.Fprintln(w)
}
