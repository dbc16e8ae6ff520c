package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// measurements are everything the report prints.
type measurements struct {
	cfg                            config
	source, wrk, machine           string
	started                        time.Time
	uptime, loadAtStart, loadAtEnd string
	loadWaited                     time.Duration
	quiet, serverAlive             bool
	latency                        latencyRun
	deploys                        []deployRun
}

func printReport(w io.Writer, m measurements) {
	cfg := m.cfg
	fmt.Fprintf(w, "\n# bench/url — %s\n\n", m.started.Format(time.RFC3339))
	fmt.Fprintf(w, "- Machine: %s.\n", m.machine)
	quiet := fmt.Sprintf("after waiting %s for the 1-minute load average to drop below %.2f", m.loadWaited.Round(time.Second), cfg.quietLoad)
	switch {
	case cfg.quietLoad <= 0:
		quiet = "without waiting for a quiet machine (-quiet-load 0)"
	case !m.quiet:
		quiet = fmt.Sprintf("**not quiet**: the 1-minute load average stayed above %.2f for %s", cfg.quietLoad, m.loadWaited.Round(time.Second))
	}
	fmt.Fprintf(w, "- At the start (%s): `%s`. Load average at the end: %s.\n", quiet, m.uptime, m.loadAtEnd)
	fmt.Fprintf(w, "- Sluice: %s; `sluice serve --deploy-time-scale %g`. Client: %s.\n", m.source, cfg.timeScale, orNone(m.wrk))
	if len(m.latency.rounds) > 0 {
		printLatency(w, cfg, m.latency)
	}
	if len(m.deploys) > 0 {
		printDeploys(w, cfg, m.deploys)
	}
}

func orNone(s string) string {
	if s == "" {
		return "wrk not used"
	}
	return s
}

// byTarget collects one target's runs at one concurrency across rounds, with the floor's run of the same round.
func byTarget(lr latencyRun, target string, conc int) (runs, floors []wrkResult) {
	for _, round := range lr.rounds {
		var mine, floor *wrkResult
		for i := range round {
			r := &round[i]
			if r.concurrency != conc {
				continue
			}
			if r.target == target {
				mine = r
			}
			if r.target == targetFloor {
				floor = r
			}
		}
		if mine != nil && floor != nil {
			runs, floors = append(runs, *mine), append(floors, *floor)
		}
	}
	return runs, floors
}

func printLatency(w io.Writer, cfg config, lr latencyRun) {
	fmt.Fprintf(w, "\n## Latency and throughput\n\n")
	fmt.Fprintf(w, "wrk --latency, %d rounds; in each, every target for %s at concurrency 1 (`-t1 -c1`) and %d (`-t%d -c%d`), "+
		"the targets' order reversed every other round. The URL's host `%s` is sent in a Host header to the API listener. "+
		"The URL answers %s; the floor answers the same. The Invoke payload is the %d-byte event the URL hands the function. "+
		"Figures are medians over the rounds; ratios are the median (and range) of each round's figure over the floor's in the same round.\n\n",
		cfg.rounds, cfg.duration, cfg.concurrency, min(cfg.threads, cfg.concurrency), cfg.concurrency, lr.urlHost, lr.answer, lr.invokeSize)
	fmt.Fprintln(w, "| target | concurrency | p50 | p99 | requests/s | p50 / floor p50 | p99 / floor p99 | requests/s / floor's | error statuses; socket errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, conc := range []int{1, cfg.concurrency} {
		for _, t := range []string{targetURL, targetInvoke, targetFloor} {
			runs, floors := byTarget(lr, t, conc)
			if len(runs) == 0 {
				continue
			}
			var p50, p99, rps, r50, r99, rr []float64
			var status, socket int64
			for i, r := range runs {
				f := floors[i]
				p50, p99, rps = append(p50, float64(r.p50)), append(p99, float64(r.p99)), append(rps, r.rps())
				r50, r99, rr = append(r50, ratio(float64(r.p50), float64(f.p50))), append(r99, ratio(float64(r.p99), float64(f.p99))), append(rr, ratio(r.rps(), f.rps()))
				status, socket = status+r.status, socket+r.socket
			}
			ratios := func(v []float64) string {
				if t == targetFloor {
					return "1×"
				}
				lo, hi := slices.Min(v), slices.Max(v)
				return fmt.Sprintf("%.2f× (%.2f–%.2f)", median(v), lo, hi)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %s | %s | %s | %d; %d |\n", t, conc, ms(time.Duration(median(p50))), ms(time.Duration(median(p99))),
				median(rps), ratios(r50), ratios(r99), ratios(rr), status, socket)
		}
	}

	fmt.Fprintf(w, "\nEach run (machine busy and other processes' share of it, in %% of %d CPUs; load average when the run started):\n\n", nCPU())
	fmt.Fprintln(w, "| round | concurrency | target | p50 | p99 | requests/s | requests | machine busy | others | load |")
	fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, round := range lr.rounds {
		for _, r := range round {
			others := fmt.Sprintf("%.0f%%", r.cpu.share(r.cpu.others))
			if r.cpu.topOthers != "" && r.cpu.share(r.cpu.others) >= 5 {
				others += " (" + r.cpu.topOthers + ")"
			}
			fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %.0f | %d | %.0f%% | %s | %.2f |\n", i+1, r.concurrency, short(r.target), ms(r.p50), ms(r.p99), r.rps(),
				r.requests, r.cpu.share(r.cpu.busy), others, r.load1)
		}
	}

	fmt.Fprintf(w, "\nCPU per request, all rounds (µs; wrk is the client, the harness serves the floor, functions are the server's children):\n\n")
	fmt.Fprintln(w, "| target | concurrency | wrk | harness | server | functions | others | unattributed | total |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, conc := range []int{1, cfg.concurrency} {
		for _, t := range []string{targetURL, targetInvoke, targetFloor} {
			runs, _ := byTarget(lr, t, conc)
			var sum cpuUse
			var n int64
			for _, r := range runs {
				sum.wrk, sum.harness, sum.server, sum.functions = sum.wrk+r.cpu.wrk, sum.harness+r.cpu.harness, sum.server+r.cpu.server, sum.functions+r.cpu.functions
				sum.others, sum.kernel, sum.busy = sum.others+r.cpu.others, sum.kernel+r.cpu.kernel, sum.busy+r.cpu.busy
				n += r.requests
			}
			if n == 0 {
				continue
			}
			per := func(s float64) string { return fmt.Sprintf("%.0f", s/float64(n)*1e6) }
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", short(t), conc, per(sum.wrk), per(sum.harness), per(sum.server),
				per(sum.functions), per(sum.others), per(sum.kernel), per(sum.busy))
		}
	}
}

func short(target string) string {
	switch target {
	case targetURL:
		return "function URL"
	case targetInvoke:
		return "Invoke API"
	case targetFloor:
		return "floor"
	}
	return target
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printDeploys(w io.Writer, cfg config, runs []deployRun) {
	step := time.Duration(5 * 60 / cfg.timeScale * float64(time.Second))
	fmt.Fprintf(w, "\n## Deployments under load\n\n")
	fmt.Fprintf(w, "An open-loop generator offers %.0f GET/s through the URL on `live` (net/http, one goroutine per request, "+
		"each with a `user` cookie drawn from %d users; the rate ramps up over %s). Under it: a healthy canary v1 → v2 (%s, its 10%% step %s at this "+
		"time scale), then %d defective canaries from live's version (v2) to v3 (v3 answers 500), each stopped by the alarm on Url5xxCount (Sum ≥ 1, "+
		"one 1-s period) and rolled back; the next one starts once the alarm is OK again. GetAlias polls live every 2 ms "+
		"during a defective canary (10 ms during the healthy one).\n\n", cfg.rate, cfg.users, cfg.ramp, canaryConfig, step, cfg.rollbacks)
	head, sep := "| measure |", "|---|"
	for _, r := range runs {
		head += fmt.Sprintf(" %s (`%s`) |", stickiness(r.sticky), r.fn)
		sep += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	sums := make([]loadSummary, len(runs))
	hs := make([]healthyFigures, len(runs))
	rbs := make([][]rollbackFigures, len(runs))
	for i, r := range runs {
		sums[i], hs[i] = summarize(r), analyzeHealthy(r)
		for _, rb := range r.defects {
			rbs[i] = append(rbs[i], analyzeRollback(r, rb))
		}
	}
	row := func(name string, cell func(i int) string) {
		line := "| " + name + " |"
		for i := range runs {
			line += " " + cell(i) + " |"
		}
		fmt.Fprintln(w, line)
	}
	row("requests sent (rate achieved after the ramp)", func(i int) string {
		return fmt.Sprintf("%d in %.1f s (%.0f/s)", sums[i].sent, runs[i].span.Seconds(), sums[i].achieved)
	})
	row("slots skipped (generator > 100 ms late; 256 unanswered)", func(i int) string {
		return fmt.Sprintf("%d; %d", runs[i].skipped, runs[i].tooMany)
	})
	row("latency p50 / p99 / max (all answers)", func(i int) string {
		return fmt.Sprintf("%s / %s / %s", ms(sums[i].p50), ms(sums[i].p99), ms(sums[i].maxLat))
	})
	row("**non-2xx answers from healthy versions (v1, v2)**", func(i int) string { return countMap(sums[i].healthyNon2xx) })
	row("non-200 answers from no version (platform: 403, 429, 502, …)", func(i int) string {
		m := map[string]int{}
		for k, v := range sums[i].platformNon2xx {
			m[fmt.Sprint(k)] = v
		}
		return countMap(m)
	})
	row("transport errors", func(i int) string { return countMap(sums[i].transport) })
	row("the function's environments, most at once; cold starts (server's /metrics, whole run)", func(i int) string {
		envs, _, cold := platformIn(runs[i].platform, runs[i].loadFrom, runs[i].loadFrom.Add(runs[i].span+time.Second))
		return fmt.Sprintf("%.0f; %.0f", envs, cold)
	})
	row("… during the healthy canary (created → Succeeded)", func(i int) string {
		envs, _, cold := platformIn(runs[i].platform, runs[i].healthy.created, runs[i].healthy.completed)
		return fmt.Sprintf("%.0f; %.0f", envs, cold)
	})
	row("healthy canary: created → Succeeded", func(i int) string { return hs[i].took.Round(time.Millisecond).String() })
	row("healthy canary: its 10% step as GetAlias showed it; requests then; share on v2", func(i int) string {
		h := hs[i]
		return fmt.Sprintf("%s; %d; %.1f%%", h.stepLen.Round(time.Millisecond), h.stepRequests, 100*ratio(float64(h.stepOnV2), float64(h.stepRequests)))
	})
	row("healthy canary: users on v2 during the step / users seen then", func(i int) string {
		return fmt.Sprintf("%d / %d (%.1f%%)", hs[i].stepUsersV2, hs[i].stepUsers, 100*ratio(float64(hs[i].stepUsersV2), float64(hs[i].stepUsers)))
	})
	row("healthy canary: users whose versions were not v1, v2 or v1→v2", func(i int) string {
		return flipCell(hs[i].flipped, hs[i].usersSeen, hs[i].flipExamples)
	})
	row("defective canaries: 5xx answered by v3, per canary", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return fmt.Sprint(f.defective5xx) })
	})
	row("**first 5xx received → GetAlias returns live back on its version, unsplit**", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return msShort(f.toRestored) })
	})
	row("end of the first 5xx's 1-s period → live seen restored", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return msShort(f.periodToRestored) })
	})
	row("alarm → live seen restored (alarm history: server clock)", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return msShort(f.alarmToRestored) })
	})
	row("last request v3 answered was sent … after the first 5xx; v3 answers to requests sent after the restore", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return fmt.Sprintf("%s; %d", msShort(f.lastV3Sent), f.afterRestore) })
	})
	row("users v3 answered / users seen until the restore, per canary", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return fmt.Sprintf("%d/%d", f.usersOnV3, f.usersBefore) })
	})
	row("**users who ever saw v3** (all canaries)", func(i int) string {
		all := map[int]bool{}
		for _, f := range rbs[i] {
			maps.Copy(all, f.usersV3)
		}
		return fmt.Sprintf("%d of %d", len(all), cfg.users)
	})
	row("users v2 → v3 → v2 (there and back); last seen on v3", func(i int) string {
		return joinEach(rbs[i], func(f rollbackFigures) string { return fmt.Sprintf("%d; %d", f.backAgain, f.notSeenBack) })
	})
	row("**users who flipped more than there and back**", func(i int) string {
		n, seen := 0, 0
		var ex []string
		for _, f := range rbs[i] {
			n, seen = n+f.flipped, seen+f.usersSeen
			if len(ex) < 3 {
				ex = append(ex, f.flipExamples...)
			}
		}
		return flipCell(n, seen, ex[:min(3, len(ex))])
	})
	fmt.Fprintln(w)
	for _, r := range runs {
		for _, n := range r.notes {
			fmt.Fprintf(w, "- **%s**: %s.\n", r.fn, n)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per-canary cells list the canaries in order, separated by ` · `. A user's versions are taken in the order its requests were sent, repeats collapsed; \"flipped more\" counts user-canaries whose sequence is anything but v2, v2→v3→v2 (or its ends cut by the window: v2→v3, v3, v3→v2).")
}

func joinEach(fs []rollbackFigures, cell func(rollbackFigures) string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, cell(f))
	}
	return strings.Join(parts, " · ")
}

func flipCell(n, seen int, examples []string) string {
	s := fmt.Sprintf("%d of %d", n, seen)
	if len(examples) > 0 {
		s += " (e.g. " + strings.Join(examples, ", ") + ")"
	}
	return s
}

func countMap(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	total := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		total += m[k]
		parts = append(parts, fmt.Sprintf("%d× %s", m[k], k))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// msShort prints a duration in whole milliseconds.
func msShort(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
