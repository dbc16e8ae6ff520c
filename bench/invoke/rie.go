package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// rieProc is one running AWS Lambda Runtime Interface Emulator serving the benchmark function.
type rieProc struct {
	cmd  *exec.Cmd
	url  string
	out  *tailBuffer
	done chan struct{} // closed when the emulator has exited
}

// startRIE runs the emulator as its documentation says (`aws-lambda-rie /path/to/bootstrap`), on ports of its
// own so it cannot collide with anything else on the machine, and waits until it accepts invocations.
func startRIE(bin, bootstrap string) (*rieProc, error) {
	invokeAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &rieProc{out: newTailBuffer(64 << 10), done: make(chan struct{}),
		url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations"}
	r.cmd = exec.Command(bin, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	r.cmd.Dir = filepath.Dir(bootstrap)
	r.cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30", "AWS_REGION=us-east-1")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	// Its own group: the emulator's child (the bootstrap) dies with it.
	r.cmd.SysProcAttr = childAttr(syscall.SIGKILL, true)
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	if err := waitListening(invokeAddr, r.done, 10*time.Second); err != nil {
		r.stop()
		return nil, fmt.Errorf("aws-lambda-rie: %v\n%s", err, r.out)
	}
	return r, nil
}

func (r *rieProc) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *rieProc) stop() {
	killGroup(r.cmd)
	<-r.done
}

// rieOutcome is what happened to the emulator under concurrent load, which it does not support.
type rieOutcome struct {
	crashed       bool          // the process exited during the phase
	crashAfter    time.Duration // ... this long into it
	healthyAfter  bool          // a sequential invocation after the phase succeeded
	exitDesc, log string
}

// measureRIE runs the warm phases against one emulator process: cold first invocation, warm-up, concurrency 1,
// then concurrency c (last, because the emulator may not survive it).
func measureRIE(ctx context.Context, bin, bootstrap string, cfg config, payload []byte) (c1, cN result, o rieOutcome, err error) {
	r, err := startRIE(bin, bootstrap)
	if err != nil {
		return c1, cN, o, err
	}
	defer r.stop()
	client := httpClient(cfg.concurrency)
	defer client.CloseIdleConnections()
	inv := postInvoker(client, r.url, payload)
	if err := warmUp(ctx, inv, 1, cfg.warmup); err != nil {
		return c1, cN, o, fmt.Errorf("rie warm-up: %v\n%s", err, r.out)
	}
	waitQuiet()
	c1 = measure(ctx, phase{1, cfg.n, cfg.duration}, inv, r.cmd.Process.Pid, r.cmd.Process.Pid)
	cN, o = concurrentRIE(ctx, r, cfg, inv)
	if !o.crashed {
		o.healthyAfter = inv(ctx) == nil
	}
	o.log = r.out.String()
	return c1, cN, o, nil
}

// concurrentRIE runs the concurrent phase and ends it early if the emulator dies: hammering a closed port would
// only inflate the error count. Throughput is then successes over the time until the crash.
func concurrentRIE(ctx context.Context, r *rieProc, cfg config, inv invoker) (result, rieOutcome) {
	var o rieOutcome
	phaseCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-r.done:
			o.crashAfter = time.Since(start)
			cancel()
		case <-phaseCtx.Done():
		}
	}()
	res := measure(phaseCtx, phase{cfg.concurrency, 1 << 30, cfg.duration}, inv, r.cmd.Process.Pid, r.cmd.Process.Pid)
	cancel()
	<-watched
	if !r.alive() {
		<-r.done
		o.crashed, o.exitDesc = true, r.cmd.ProcessState.String()
	}
	return res, o
}

// warmUp runs n invocations with c workers and fails on the first error.
func warmUp(ctx context.Context, inv invoker, c, n int) error {
	res := runLoad(ctx, phase{c, n, time.Minute}, inv)
	if res.errs > 0 {
		return fmt.Errorf("%d of %d failed: %s", res.errs, res.errs+res.ok, res.errorSummary())
	}
	return ctx.Err()
}

// coldSample is one forced cold start: the platform's own Init Duration (REPORT line), the client-observed
// latency of that first invocation, and of the warm invocation right after it.
type coldSample struct {
	init, first, warm time.Duration
	// host is the bootstrap's own start-up on the host taken just before this sample, with the platform running
	// (Sluice's samples only): the two are paired under the same conditions.
	host time.Duration
}

// rieColdSample starts a fresh emulator and times its first invocation against the warm one after it. The
// emulator starts the bootstrap lazily, on the first invocation; its REPORT's Init Duration only covers handing
// the init over (it prints ~0.02 ms), so only the client-observed difference is meaningful.
func rieColdSample(ctx context.Context, bin, bootstrap string, client *http.Client, payload []byte) (coldSample, error) {
	var s coldSample
	r, err := startRIE(bin, bootstrap)
	if err != nil {
		return s, err
	}
	defer r.stop()
	defer client.CloseIdleConnections()
	inv := postInvoker(client, r.url, payload)
	start := time.Now()
	if err := inv(ctx); err != nil {
		return s, fmt.Errorf("rie cold invoke: %v\n%s", err, r.out)
	}
	s.first = time.Since(start)
	start = time.Now()
	if err := inv(ctx); err != nil {
		return s, fmt.Errorf("rie warm invoke: %v\n%s", err, r.out)
	}
	s.warm = time.Since(start)
	return s, nil
}

// rieMeasurements are the emulator's results.
type rieMeasurements struct {
	version string
	c1, cN  result
	outcome rieOutcome
	cold    []coldSample
}

func measureRIEAll(ctx context.Context, cfg config, art artifacts) (*rieMeasurements, error) {
	m := &rieMeasurements{version: art.rieVersion}
	log.Printf("rie %s: measuring warm invocations", art.rieVersion)
	var err error
	if m.c1, m.cN, m.outcome, err = measureRIE(ctx, art.rie, art.bootstrap, cfg, payload); err != nil {
		return nil, err
	}
	if cfg.coldSamples == 0 {
		return m, nil
	}
	log.Printf("rie: %d cold starts (a fresh emulator each)", cfg.coldSamples)
	client := httpClient(1)
	m.cold, err = collectCold(cfg.coldSamples, func(int) (coldSample, error) {
		return rieColdSample(ctx, art.rie, art.bootstrap, client, payload)
	})
	return m, err
}
