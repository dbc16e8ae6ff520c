package main

import (
	"bufio"
	"context"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// cpuModel is /proc/cpuinfo's first "model name" ("" when there is none).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the three load averages of /proc/loadavg ("1.02 0.87 0.66"), or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// load1 is the 1-minute load average (-1 when unknown).
func load1() float64 {
	f := strings.Fields(loadAverage())
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// uptimeLine is what `uptime` prints.
func uptimeLine() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "uptime: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// waitForQuiet waits, up to wait, for the 1-minute load average to drop below max: on a machine shared with
// other people's builds and tests, a number measured at load 8 says little. It returns how long it waited, the
// load averages it measured at, and whether the machine got quiet.
func waitForQuiet(ctx context.Context, max float64, wait time.Duration) (time.Duration, string, bool) {
	start := time.Now()
	if max <= 0 {
		return 0, loadAverage(), true
	}
	logged := time.Time{}
	for {
		l := load1()
		if l >= 0 && l < max {
			return time.Since(start), loadAverage(), true
		}
		if time.Since(start) >= wait || ctx.Err() != nil {
			log.Printf("the load average stayed above %.2f for %s: measuring anyway", max, wait)
			return time.Since(start), loadAverage(), false
		}
		if time.Since(logged) > time.Minute {
			log.Printf("waiting for the 1-minute load average (%s) to drop below %.2f", loadAverage(), max)
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
