package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// A burst of simultaneous cold starts: what the prestarted pool's refills cost while the machine is busiest.
//
// Each burst changes the function's configuration (so its pool of environments is empty), waits for the server's
// pool of prestarted sandbox inits to be full again, then sends n invocations at once. It reads the CPU every
// process used from just before the first request to the last answer, and the start-up CPU of one prestarted init:
// the CPU of those idle when the burst settled (an init blocked on its plan has done nothing but start). A burst
// of n cold starts starts at most n inits (each cold start takes one from the pool, which refills it, or starts its
// own), so n × that start-up CPU bounds what refilling the pool cost during the burst. (Requests of a burst that
// arrive after an environment has answered its own may be served warm, as on AWS; only cold starts count.)

// initComm is what a sandbox init is called until it execs the function (Start runs /proc/self/exe).
const initComm = "exe"

// burstResult is one measured burst.
type burstResult struct {
	n        int           // invocations sent at once
	cold     int           // how many of them were cold starts
	wall     time.Duration // first request sent → last answer
	cpu      cpuUse        // over the burst: server, function processes (their inits included), the rest
	inits    []time.Duration
	initCPU  time.Duration // start-up CPU of one prestarted init (mean of those idle after the burst)
	idleSeen int           // how many idle inits that mean is over
}

// poolCost bounds the share of the machine's CPU the pool's refills took during the burst: one init started per
// cold start, each costing initCPU.
func (b burstResult) poolCost() float64 {
	return share(float64(b.cold)*b.initCPU.Seconds(), b.cpu)
}

// sluiceBursts creates a function of its own and measures rounds bursts of n simultaneous cold starts after one
// discarded.
func sluiceBursts(ctx context.Context, c *lambda.Client, pkg []byte, n, rounds, serverPid int) ([]burstResult, error) {
	const name = "burst"
	in := createInput(name, pkg)
	in.Timeout = aws.Int32(60) // a burst on a loaded machine may take seconds to start: no timeouts, only cold starts
	if _, err := c.CreateFunction(ctx, in); err != nil {
		return nil, err
	}
	if err := waitActive(ctx, c, name); err != nil {
		return nil, err
	}
	var out []burstResult
	for i := range rounds + 1 {
		b, err := sluiceBurst(ctx, c, name, n, i, serverPid)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}

func sluiceBurst(ctx context.Context, c *lambda.Client, name string, n, round, serverPid int) (burstResult, error) {
	b := burstResult{n: n}
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &name,
		Environment: &types.Environment{Variables: map[string]string{"SAMPLE": "burst-" + strconv.Itoa(round)}}})
	if err != nil {
		return b, err
	}
	if err := waitUpdated(ctx, c, name); err != nil {
		return b, err
	}
	waitQuiet()
	waitIdleInits(serverPid, 5*time.Second)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		gate  = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-gate
			out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: payload, LogType: types.LogTypeTail})
			mu.Lock()
			defer mu.Unlock()
			if err == nil && out.FunctionError != nil {
				err = fmt.Errorf("function error %s", *out.FunctionError)
			}
			if err != nil {
				first = cmpOr(first, err)
				return
			}
			logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
			if d, ok := parseInitDuration(string(logs)); ok {
				b.inits = append(b.inits, d)
			}
		})
	}
	before, childrenBefore := takeCPU(), serverChildren(serverPid)
	start := time.Now()
	close(gate)
	wg.Wait()
	b.wall = time.Since(start)
	b.cpu = before.until(takeCPU(), b.wall, serverPid, serverPid)
	b.cpu.functions = 0 // tick counts: see serverChildren
	for pid, c := range serverChildren(serverPid) {
		b.cpu.functions += c.cpu - childrenBefore[pid].cpu
	}
	if first != nil {
		return b, fmt.Errorf("burst: %w", first)
	}
	// An environment that answered its cold start may take a request of the same burst that came late (as on
	// AWS): only the cold starts count.
	if b.cold = len(b.inits); b.cold == 0 {
		return b, fmt.Errorf("burst: none of %d invocations was a cold start", n)
	}
	b.initCPU, b.idleSeen = idleInitCPU(serverPid, 5*time.Second)
	return b, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// childCPU is the CPU each child process of the server has used so far, in seconds, and whether it is still in
// its init role. It adds up the threads' scheduler clocks (/proc/PID/task/TID/schedstat, in nanoseconds): the tick
// counts of /proc/PID/stat are 10 ms, as much as a whole cold start.
type childCPU struct {
	cpu  float64
	init bool
}

func serverChildren(serverPid int) map[int]childCPU {
	out := map[int]childCPU{}
	for pid, p := range takeCPU().procs {
		if p.ppid != serverPid {
			continue
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		var ns float64
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			if f := strings.Fields(string(b)); len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				ns += v
			}
		}
		out[pid] = childCPU{cpu: ns / 1e9, init: p.name == initComm}
	}
	return out
}

// idleInits are the CPU so far of the server's children still in their init role.
func idleInits(serverPid int) []float64 {
	var cpu []float64
	for _, c := range serverChildren(serverPid) {
		if c.init {
			cpu = append(cpu, c.cpu)
		}
	}
	return cpu
}

// waitIdleInits waits until the server's prestarted inits have stopped using CPU (the pool is full and each init
// waits for its plan), up to timeout.
func waitIdleInits(serverPid int, timeout time.Duration) []float64 {
	deadline := time.Now().Add(timeout)
	prev := idleInits(serverPid)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		cur := idleInits(serverPid)
		if len(cur) > 0 && len(cur) == len(prev) && sum(cur) == sum(prev) {
			return cur
		}
		prev = cur
	}
	return prev
}

// idleInitCPU is the mean CPU of the prestarted inits once the pool has settled.
func idleInitCPU(serverPid int, timeout time.Duration) (time.Duration, int) {
	cpu := waitIdleInits(serverPid, timeout)
	if len(cpu) == 0 {
		return 0, 0
	}
	return time.Duration(sum(cpu) / float64(len(cpu)) * float64(time.Second)), len(cpu)
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}
