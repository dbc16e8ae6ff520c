package hostinfo

import (
	"context"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// LoadAverage is the three load averages of /proc/loadavg ("1.02 0.87 0.66"), or "unknown".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// Load1 is the 1-minute load average (-1 when unknown).
func Load1() float64 {
	f := strings.Fields(LoadAverage())
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// Uptime is what `uptime` prints.
func Uptime() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "uptime: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// WaitForQuiet waits, up to wait, for the 1-minute load average to drop below max: on a machine shared with
// other people's builds and tests, a number measured at load 8 says little. It returns how long it waited, the
// load averages it measured at, and whether the machine got quiet.
func WaitForQuiet(ctx context.Context, max float64, wait time.Duration) (time.Duration, string, bool) {
	start := time.Now()
	if max <= 0 {
		return 0, LoadAverage(), true
	}
	logged := time.Time{}
	for {
		l := Load1()
		if l >= 0 && l < max {
			return time.Since(start), LoadAverage(), true
		}
		if time.Since(start) >= wait || ctx.Err() != nil {
			log.Printf("the load average stayed above %.2f for %s: measuring anyway", max, wait)
			return time.Since(start), LoadAverage(), false
		}
		if time.Since(logged) > time.Minute {
			log.Printf("waiting for the 1-minute load average (%s) to drop below %.2f", LoadAverage(), max)
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
