// Package hostinfo reads what the benchmark harnesses report about the machine they ran on: a description, and
// CPU time consumed by the machine and by each process (from /proc).
package hostinfo

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Description says what the numbers were measured on: they mean little without it.
func Description() string {
	cpu := cpuinfoField("model name")
	if cpu == "" {
		cpu = "unknown CPU"
	}
	desc := fmt.Sprintf("%d vCPU %s, %s RAM", runtime.NumCPU(), cpu, memTotal())
	if hv := cpuinfoField("flags"); strings.Contains(" "+hv+" ", " hypervisor ") {
		desc += " (virtual machine)"
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		desc += ", kernel " + strings.TrimSpace(string(k))
	}
	return desc + ", " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// cpuinfoField returns the first value of a /proc/cpuinfo field.
func cpuinfoField(name string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func memTotal() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}
