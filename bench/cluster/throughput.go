package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"
)

// throughputTarget is one server measured by the throughput part: embedded, or a node started with etcd flags.
type throughputTarget struct {
	label    string
	n        *node
	hc       *http.Client
	inv      invoker
	c1       []loadResult // one per round
	warmErrs int          // failed invocations during the warm-up (reported, not measured)
	cN       []loadResult
}

// measureThroughput sets the echo function up on each target, warms it, then alternates the targets for rounds
// rounds (the order flipping each round), each round running n sequential invocations and then concurrency
// closed-loop workers for d, while the other target idles.
func measureThroughput(ctx context.Context, cfg config, pkg []byte, targets []*throughputTarget) error {
	for _, t := range targets {
		if err := setupEcho(ctx, t.n.lambda, "bench", pkg); err != nil {
			return fmt.Errorf("%s set-up: %w", t.label, err)
		}
		t.hc = httpClient(cfg.concurrency)
		t.inv = signedInvoker(t.hc, "http://"+t.n.addr, "bench")
		// Ramped, so that environments start a few at a time: a burst of cold starts on this shared machine can
		// fail (the server reports loop devices busy when other processes attach theirs at the same moment).
		for c := 4; ; c *= 2 {
			c = min(c, cfg.concurrency)
			w := runLoad(ctx, c, 50*c, time.Minute, t.inv)
			if w.errs > 0 {
				t.warmErrs += w.errs
				log.Printf("%s warm-up at concurrency %d: %d errors, the last %v", t.label, c, w.errs, w.lastErr)
			}
			if c == cfg.concurrency {
				break
			}
		}
		if w := runLoad(ctx, cfg.concurrency, 50*cfg.concurrency, time.Minute, t.inv); w.errs > 0 {
			return fmt.Errorf("%s warm-up: %d errors after the ramp, the last %v", t.label, w.errs, w.lastErr)
		}
		runLoad(ctx, 1, 200, time.Minute, t.inv)
	}
	for r := range cfg.rounds {
		for i := range targets {
			t := targets[(i+r)%len(targets)]
			time.Sleep(500 * time.Millisecond)
			a := takeCPU()
			c1 := runLoad(ctx, 1, cfg.n, 30*time.Second, t.inv)
			c1.cpu = a.until(takeCPU())
			a = takeCPU()
			cN := runLoad(ctx, cfg.concurrency, 1<<30, cfg.duration, t.inv)
			cN.cpu = a.until(takeCPU())
			t.c1, t.cN = append(t.c1, c1), append(t.cN, cN)
			log.Printf("throughput round %d, %s: c=1 p50 %s, %.0f/s; c=%d %.0f/s p50 %s p99 %s, %d errors; others used %.0f%% of the machine",
				r+1, t.label, ms(c1.p(0.5)), c1.rate(), cfg.concurrency, cN.rate(), ms(cN.p(0.5)), ms(cN.p(0.99)), c1.errs+cN.errs, cN.cpu.foreign)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}
