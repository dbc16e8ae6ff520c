// Command cluster measures Sluice's cluster mode on etcd (issue 14) with the real `sluice` binary, against
// embedded mode measured in the same run as the anchor:
//
//  1. Throughput: warm synchronous invocations of bench/invoke's echo function through a 10% canary alias (plain
//     net/http + SigV4, as bench/invoke), sequential and with -concurrency closed-loop workers, against `sluice
//     serve` embedded and one node started with --etcd-endpoints, alternating the two for -rounds rounds.
//  2. Alias visibility: UpdateAlias through one node, then how long until invocations through another route to
//     the new version (bench/visibility's approach), -flips moves; the same with the readers on the writing node
//     and on an embedded server as anchors.
//  3. Leader failover: kill -9 the node leading the "deployments" job (DescribeCluster) during a linear shift of
//     1% per configured minute (--deploy-time-scale 600: a step every 100 ms), and measure kill → another node
//     leads and kill → the alias weight changes again, -failover-runs times; the target is --lease-ttl + 1 s.
//  4. Alarm rollback: a 10% canary of a version whose every invocation fails, watched by an Errors alarm on
//     fn:live (1-s period), under -alarm-load invocations/s sent through the nodes in turn; from the first
//     erroring invocation's end to the alias seen back on the old version, -alarm-runs times on the 3-node
//     cluster (through all three nodes, and through the two not leading the alarms job) and on an embedded
//     server.
//
// etcd is Debian's etcd-server binary (`apt-get install etcd-server`), started by etcdtest on loopback with its
// data on /dev/shm. The harness builds the binary and the functions unless -sluice-bin names a binary.
//
//	go run ./bench/cluster [-sluice-bin PATH] [-rounds 3] [-n 2000] [-duration 10s] [-concurrency 32] [-flips 200]
//	    [-failover-runs 5] [-alarm-runs 5] [-skip throughput,visibility,failover,alarm]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/internal/buildkit"
	"github.com/sluice-dev/sluice/bench/internal/hostinfo"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/store/etcd/etcdtest"
)

type config struct {
	bin                     string
	rounds, n, concurrency  int
	duration                time.Duration
	flips, readers, visReps int
	failoverRuns            int
	leaseTTL                int
	timeScale               float64
	killWeight              float64
	alarmRuns, alarmWorkers int
	alarmLoad               float64
	skip                    map[string]bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "sluice-bin", "", "a prebuilt sluice binary to measure (default: build ./cmd/sluice)")
	flag.IntVar(&cfg.rounds, "rounds", 3, "throughput: rounds, each measuring embedded and cluster mode once")
	flag.IntVar(&cfg.n, "n", 2000, "throughput: sequential invocations per round and mode")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "throughput: length of each concurrent phase")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "throughput: closed-loop workers of the concurrent phase")
	flag.IntVar(&cfg.flips, "flips", 200, "visibility: alias moves per run")
	flag.IntVar(&cfg.readers, "readers", 2, "visibility: concurrent invokers through the reading node")
	flag.IntVar(&cfg.visReps, "visibility-runs", 3, "visibility: runs of each configuration, alternating")
	flag.IntVar(&cfg.failoverRuns, "failover-runs", 5, "failover: leader kills")
	flag.IntVar(&cfg.leaseTTL, "lease-ttl", 2, "sluice serve --lease-ttl of the 3-node cluster (seconds)")
	flag.Float64Var(&cfg.timeScale, "time-scale", 600, "sluice serve --deploy-time-scale: a configured minute lasts 60/N s")
	flag.Float64Var(&cfg.killWeight, "kill-weight", 0.2, "failover: kill the leader once the target has this weight")
	flag.IntVar(&cfg.alarmRuns, "alarm-runs", 5, "alarm: defective canaries on each of the cluster and the embedded server, alternating")
	flag.Float64Var(&cfg.alarmLoad, "alarm-load", 300, "alarm: offered invocations/s through the alias")
	flag.IntVar(&cfg.alarmWorkers, "alarm-workers", 6, "alarm: workers sending the load")
	skip := flag.String("skip", "", "comma-separated parts to skip: throughput, visibility, failover, alarm")
	flag.Parse()
	cfg.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		cfg.skip[strings.TrimSpace(s)] = true
	}
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("bench/cluster: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cfg config) error {
	log.Print("building")
	ws, err := buildkit.NewWorkspace(ctx, "sluice-cluster-bench-", cfg.bin)
	if err != nil {
		return err
	}
	defer ws.Close()
	bin, tmp := ws.Bin, ws.Dir
	echo, err := ws.Function(ctx, "./bench/invoke/fn", "echo")
	if err != nil {
		return err
	}
	deployFn, err := ws.Function(ctx, "./bench/deploy/fn", "deployfn")
	if err != nil {
		return err
	}
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		return fmt.Errorf("no etcd on PATH (apt-get install etcd-server): %w", err)
	}
	etcd, stopEtcd, err := etcdtest.Start(etcdBin)
	if err != nil {
		return err
	}
	defer stopEtcd()
	rep := report{source: ws.Source, machine: hostinfo.Description(), cfg: cfg, etcdVersion: etcdVersion(etcdBin)}
	start := takeCPU()

	if !cfg.skip["throughput"] {
		log.Print("throughput: embedded vs one node on etcd")
		emb, err := startNode(ctx, bin, tmp, "tp-embedded", "", "")
		if err != nil {
			return err
		}
		one, err := startNode(ctx, bin, tmp, "tp-n0", etcd, "/bench-throughput")
		if err != nil {
			emb.stop()
			return err
		}
		rep.throughput = []*throughputTarget{{label: "embedded (bbolt)", n: emb}, {label: "cluster mode, one node on etcd", n: one}}
		err = measureThroughput(ctx, cfg, echo, rep.throughput)
		emb.stop()
		one.stop()
		if err != nil {
			return err
		}
	}

	if !cfg.skip["visibility"] || !cfg.skip["alarm"] || !cfg.skip["failover"] {
		common := []string{"--deploy-time-scale", fmt.Sprint(cfg.timeScale)}
		log.Print("starting an embedded server and a 3-node cluster")
		emb, err := startNode(ctx, bin, tmp, "embedded", "", "", common...)
		if err != nil {
			return err
		}
		defer emb.stop()
		var nodes []*node
		for i := range 3 {
			n, err := startNode(ctx, bin, tmp, fmt.Sprintf("n%d", i), etcd, "/bench-cluster",
				append([]string{"--lease-ttl", fmt.Sprint(cfg.leaseTTL), "--drain-delay", "200ms"}, common...)...)
			if err != nil {
				return err
			}
			defer n.stop()
			nodes = append(nodes, n)
		}
		for _, s := range []*node{emb, nodes[0]} {
			if err := setupVisibility(ctx, s.lambda, deployFn); err != nil {
				return fmt.Errorf("visibility set-up on %s: %w", s.name, err)
			}
			if err := setupDeploy(ctx, s, deployFn); err != nil {
				return fmt.Errorf("deployment set-up on %s: %w", s.name, err)
			}
		}
		for _, s := range append([]*node{emb}, nodes...) {
			if err := warmVersions(ctx, s, visFn, cfg.readers, "1", "2"); err != nil {
				return err
			}
			if err := warmVersions(ctx, s, fnName, 2, healthy, healthy2); err != nil {
				return err
			}
		}

		if !cfg.skip["visibility"] {
			for i := range cfg.visReps {
				for _, c := range []struct {
					label          string
					writer, reader *node
				}{
					{"cluster: UpdateAlias through n0, readers on n1", nodes[0], nodes[1]},
					{"cluster: UpdateAlias through n0, readers on n0 (same node)", nodes[0], nodes[0]},
					{"embedded: UpdateAlias and readers on one server (anchor)", emb, emb},
				} {
					a := takeCPU()
					v, err := measureVisibility(ctx, c.label, c.writer, c.reader, cfg.flips, cfg.readers)
					if err != nil {
						return err
					}
					u := a.until(takeCPU())
					log.Printf("visibility run %d, %s: return → first new on reader p50 %s p99 %s; stale after return %d of %d (latest %s); missed %d; others %.0f%%",
						i+1, c.label, ms(pct(v.lagFirst, 0.5)), ms(pct(v.lagFirst, 0.99)), v.staleAfter, v.afterTotal, ms(v.staleMax), v.missed, u.foreign)
					rep.visibility = append(rep.visibility, visRun{v, u})
				}
			}
		}

		if !cfg.skip["alarm"] {
			// A variant sends the load only through the nodes that do not lead the alarms job, so that the alarm
			// can only fire on errors it reads from its peers.
			notAlarmLeader := func() []*node {
				leader := nodes[0].leader(ctx, cluster.JobAlarms)
				var out []*node
				for _, n := range nodes {
					if n.name != leader {
						out = append(out, n)
					}
				}
				return out
			}
			for i := range cfg.alarmRuns {
				for _, c := range []struct {
					label string
					nodes []*node
				}{{"cluster", nodes}, {"cluster, not through the alarms leader", notAlarmLeader()}, {"embedded", []*node{emb}}} {
					a := takeCPU()
					r, err := measureAlarm(ctx, c.label, c.nodes, cfg.alarmLoad, cfg.alarmWorkers, 2*time.Millisecond)
					if err != nil {
						return err
					}
					u := a.until(takeCPU())
					log.Printf("alarm run %d, %s: first error → alias restored %s (period end → restored %s; alarm %s after the period end); errors by node %v; %s, rollback %s; others %.0f%%",
						i+1, c.label, ms(r.toRestored), ms(r.periodToRest), ms(r.alarmAt.Sub(r.periodEnd)), r.errorsByNode, r.status, r.rbStat, u.foreign)
					rep.alarm = append(rep.alarm, alarmRunUse{r, u})
				}
			}
		}

		if !cfg.skip["failover"] {
			for i := range cfg.failoverRuns {
				a := takeCPU()
				r, err := measureFailover(ctx, nodes, cfg.killWeight, 5*time.Millisecond)
				if err != nil {
					return err
				}
				u := a.until(takeCPU())
				log.Printf("failover run %d: killed %s at weight %.2f (steps every %s); another leader seen after %s, weight moved after %s; deployment %s; others %.0f%%",
					i+1, r.leader, r.weightKill, ms(r.stepGap), ms(r.newLeader), ms(r.moved), r.status, u.foreign)
				rep.failover = append(rep.failover, failoverUse{r, u})
				time.Sleep(time.Second)
			}
		}
	}
	rep.total = start.until(takeCPU())
	rep.print(os.Stdout)
	return nil
}

func etcdVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func sortDurations(d []time.Duration) { slices.Sort(d) }

// pct is the q quantile (nearest rank) of d, which it sorts; zero when d is empty.
func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, max(0, int(q*float64(len(d))+0.5)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
