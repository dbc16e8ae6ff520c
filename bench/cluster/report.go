package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

type visRun struct {
	visResult
	cpu cpuUse
}

type alarmRunUse struct {
	alarmRun
	cpu cpuUse
}

type failoverUse struct {
	failoverRun
	cpu cpuUse
}

// report is everything one run measured.
type report struct {
	source, machine, etcdVersion string
	cfg                          config
	throughput                   []*throughputTarget
	visibility                   []visRun
	alarm                        []alarmRunUse
	failover                     []failoverUse
	total                        cpuUse
}

func medianF(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

func others(u cpuUse) string {
	s := fmt.Sprintf("%.0f%%", u.foreign)
	if u.topForeign != "" && u.foreign >= 5 {
		s += " (" + u.topForeign + ")"
	}
	return s
}

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "# Cluster mode on etcd (%s)\n\n%s; %s, data on /dev/shm\n\n", r.source, r.machine, r.etcdVersion)
	fmt.Fprintf(w, "Machine over the whole run: %.0f%% busy, this harness and what it started %.0f%%, other processes %s.\n\n",
		r.total.busy, r.total.ours, others(r.total))

	if len(r.throughput) == 2 {
		fmt.Fprintf(w, "## Throughput: warm invocations through alias live (10%% canary), net/http + SigV4\n\n")
		fmt.Fprintf(w, "| round | mode | c=1 p50 | c=1 p99 | c=1 /s | c=%d /s | c=%d p50 | c=%d p99 | errors | machine busy | others |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
			r.cfg.concurrency, r.cfg.concurrency, r.cfg.concurrency)
		for i := range r.throughput[0].cN {
			for _, t := range r.throughput {
				c1, cN := t.c1[i], t.cN[i]
				fmt.Fprintf(w, "| %d | %s | %s | %s | %.0f | %.0f | %s | %s | %d | %.0f%% | %s |\n", i+1, t.label, ms(c1.p(0.5)), ms(c1.p(0.99)), c1.rate(),
					cN.rate(), ms(cN.p(0.5)), ms(cN.p(0.99)), c1.errs+cN.errs, cN.cpu.busy, others(cN.cpu))
			}
		}
		e, c := r.throughput[0], r.throughput[1]
		if e.warmErrs+c.warmErrs > 0 {
			fmt.Fprintf(w, "\nFailed invocations during the warm-up (not measured): embedded %d, cluster %d.\n", e.warmErrs, c.warmErrs)
		}
		var ratioN, ratio1, lat1 []float64
		for i := range e.cN {
			ratioN = append(ratioN, c.cN[i].rate()/e.cN[i].rate())
			ratio1 = append(ratio1, c.c1[i].rate()/e.c1[i].rate())
			lat1 = append(lat1, float64(c.c1[i].p(0.5))/float64(e.c1[i].p(0.5)))
		}
		rates := func(t *throughputTarget, conc bool) []float64 {
			var x []float64
			for i := range t.cN {
				if conc {
					x = append(x, t.cN[i].rate())
				} else {
					x = append(x, t.c1[i].rate())
				}
			}
			return x
		}
		fmt.Fprintf(w, "\n| ratio, cluster / embedded (same round) | median | per round | target |\n|---|---:|---|---:|\n")
		fmt.Fprintf(w, "| c=%d throughput | %.2f× | %s | ≥ 0.9× |\n", r.cfg.concurrency, medianF(ratioN), joinF(ratioN))
		fmt.Fprintf(w, "| c=1 throughput | %.2f× | %s | |\n", medianF(ratio1), joinF(ratio1))
		fmt.Fprintf(w, "| c=1 p50 latency | %.2f× | %s | |\n", medianF(lat1), joinF(lat1))
		fmt.Fprintf(w, "\nMedian c=%d throughput: embedded %.0f/s, cluster %.0f/s; c=1: %.0f/s, %.0f/s.\n\n", r.cfg.concurrency,
			medianF(rates(e, true)), medianF(rates(c, true)), medianF(rates(e, false)), medianF(rates(c, false)))
	}

	if len(r.visibility) > 0 {
		fmt.Fprintf(w, "## Alias visibility (%d moves per run, %d readers)\n\n", r.cfg.flips, r.cfg.readers)
		fmt.Fprintf(w, "| configuration | run | UpdateAlias p50 / p99 | return → first reader invocation on the new version starts, p50 / p99 / max | reader invocations started after the return on the old version (latest start after it) | moves never seen | others |\n|---|---:|---|---|---|---:|---|\n")
		byLabel := map[string][]visRun{}
		var labels []string
		for _, v := range r.visibility {
			if _, ok := byLabel[v.label]; !ok {
				labels = append(labels, v.label)
			}
			byLabel[v.label] = append(byLabel[v.label], v)
		}
		for _, l := range labels {
			for i, v := range byLabel[l] {
				fmt.Fprintf(w, "| %s | %d | %s / %s | %s / %s / %s | %d of %d (%s) | %d | %s |\n", l, i+1, ms(pct(v.update, 0.5)), ms(pct(v.update, 0.99)),
					ms(pct(v.lagFirst, 0.5)), ms(pct(v.lagFirst, 0.99)), ms(pct(v.lagFirst, 1)), v.staleAfter, v.afterTotal, ms(v.staleMax), v.missed, others(v.cpu))
			}
		}
		fmt.Fprintf(w, "\n| configuration | median p50 | median p99 | target |\n|---|---:|---:|---:|\n")
		for _, l := range labels {
			var p50, p99 []float64
			for _, v := range byLabel[l] {
				p50, p99 = append(p50, float64(pct(v.lagFirst, 0.5))), append(p99, float64(pct(v.lagFirst, 0.99)))
			}
			target := ""
			if strings.Contains(l, "n1") {
				target = "p99 ≤ 100 ms"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", l, ms(time.Duration(medianF(p50))), ms(time.Duration(medianF(p99))), target)
		}
		fmt.Fprintln(w)
	}

	if len(r.alarm) > 0 {
		fmt.Fprintf(w, "## Alarm rollback, errors through every node (%.0f invocations/s offered, 10%% canary of a failing version, 1-s Errors alarm)\n\n", r.cfg.alarmLoad)
		fmt.Fprintf(w, "| run | mode | leaders | erroring invocations before the restore, by node | first error's end → alias seen restored | its period's end → restored | period end → ALARM (server) | ALARM → rollback decided (server) | decided → alias seen restored | deployment, rollback | others |\n|---:|---|---|---|---:|---:|---:|---:|---:|---|---|\n")
		med := map[string][][]float64{}
		perRun := max(1, len(r.alarm)/max(1, r.cfg.alarmRuns))
		for i, a := range r.alarm {
			fmt.Fprintf(w, "| %d | %s | %s | %v | %s | %s | %s | %s | %s | %s, %s | %s |\n", i/perRun+1, a.label, a.leaders, a.errorsByNode, ms(a.toRestored), ms(a.periodToRest),
				ms(a.alarmAt.Sub(a.periodEnd)), ms(a.decided.Sub(a.alarmAt)), ms(a.restored.Sub(a.decided)), a.status, a.rbStat, others(a.cpu))
			if med[a.label] == nil {
				med[a.label] = make([][]float64, 5)
			}
			m := med[a.label]
			m[0], m[1] = append(m[0], float64(a.toRestored)), append(m[1], float64(a.periodToRest))
			m[2], m[3] = append(m[2], float64(a.alarmAt.Sub(a.periodEnd))), append(m[3], float64(a.restored.Sub(a.alarmAt)))
			m[4] = append(m[4], float64(a.decided.Sub(a.alarmAt)))
		}
		fmt.Fprintf(w, "\n| mode | median first error → restored (max) | median period end → restored (max) | median period end → ALARM | median ALARM → decided | median ALARM → restored |\n|---|---:|---:|---:|---:|---:|\n")
		for _, l := range []string{"cluster", "cluster, not through the alarms leader", "embedded"} {
			if m := med[l]; m != nil {
				fmt.Fprintf(w, "| %s | %s (%s) | %s (%s) | %s | %s | %s |\n", l, ms(time.Duration(medianF(m[0]))), ms(time.Duration(slices.Max(m[0]))),
					ms(time.Duration(medianF(m[1]))), ms(time.Duration(slices.Max(m[1]))), ms(time.Duration(medianF(m[2]))), ms(time.Duration(medianF(m[4]))),
					ms(time.Duration(medianF(m[3]))))
			}
		}
		fmt.Fprintln(w)
	}

	if len(r.failover) > 0 {
		fmt.Fprintf(w, "## Leader failover (--lease-ttl %d, linear 1%% per configured minute at --deploy-time-scale %g)\n\n", r.cfg.leaseTTL, r.cfg.timeScale)
		fmt.Fprintf(w, "| run | killed | target weight at the kill | step interval before the kill | kill → another leader (DescribeCluster) | kill → weight moves again | deployment | restarted | others |\n|---:|---|---:|---:|---:|---:|---|---|---|\n")
		var moved, leader []float64
		for i, f := range r.failover {
			fmt.Fprintf(w, "| %d | %s | %.2f | %s | %s | %s | %s | %v | %s |\n", i+1, f.leader, f.weightKill, ms(f.stepGap), ms(f.newLeader), ms(f.moved), f.status, f.restartedOK, others(f.cpu))
			moved, leader = append(moved, float64(f.moved)), append(leader, float64(f.newLeader))
		}
		fmt.Fprintf(w, "\nkill → weight moves again: median %s, max %s (target ≤ %d s + 1 s); kill → another leader: median %s.\n",
			ms(time.Duration(medianF(moved))), ms(time.Duration(slices.Max(moved))), r.cfg.leaseTTL, ms(time.Duration(medianF(leader))))
	}
}

func joinF(x []float64) string {
	var s []string
	for _, v := range x {
		s = append(s, fmt.Sprintf("%.2f×", v))
	}
	return strings.Join(s, ", ")
}
