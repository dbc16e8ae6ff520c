package invoke

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestReportLine checks the appended REPORT line against the format it replaced.
func TestReportLine(t *testing.T) {
	for _, c := range []struct {
		d, init time.Duration
		mem     int
		used    uint64
		status  string
	}{
		{d: 412 * time.Microsecond, mem: 128, used: 9},
		{d: 0, mem: 10240, used: 0, status: "error"},
		{d: 2*time.Second + 999999*time.Microsecond, init: 5567 * time.Microsecond, mem: 1769, used: 1500},
		{d: 3 * time.Second, init: time.Millisecond, mem: 512, used: 512, status: "timeout"},
		{d: 1 * time.Millisecond, mem: 128, used: 1},
		{d: 1005 * time.Microsecond, mem: 128, used: 1}, // rounding: 1.005 ms
	} {
		const id = "5a3c4f3e-8d41-4d5a-9a3c-7d1b2c3d4e5f"
		want := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
			id, ms(c.d), int64(math.Ceil(ms(c.d))), c.mem, c.used)
		if c.init > 0 {
			want += fmt.Sprintf("Init Duration: %.2f ms\t", ms(c.init))
		}
		if c.status != "" {
			want += "Status: " + c.status + "\t"
		}
		if got := reportLine(id, c.d, c.init, c.mem, c.used, c.status); got != want {
			t.Errorf("reportLine(%+v)\n got %q\nwant %q", c, got, want)
		}
	}
}

func TestTraceID(t *testing.T) {
	re := regexp.MustCompile(`^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=0$`)
	a, b := traceID(), traceID()
	m := re.FindStringSubmatch(a)
	if m == nil {
		t.Fatalf("trace ID %q", a)
	}
	if a == b {
		t.Errorf("two trace IDs alike: %q", a)
	}
	if epoch, err := strconv.ParseInt(m[1], 16, 64); err != nil || math.Abs(float64(epoch-time.Now().Unix())) > 60 {
		t.Errorf("epoch %s (%d), want about %d", m[1], epoch, time.Now().Unix())
	}
	if m[2][16:] != m[3][:8] {
		t.Errorf("the parent's digits continue the root's: %q", a)
	}
}

// BenchmarkReportAndTrace is what every invocation formats: its trace header and REPORT line, as fmt formatted
// them before and as they are appended now.
func BenchmarkReportAndTrace(b *testing.B) {
	const id = "5a3c4f3e-8d41-4d5a-9a3c-7d1b2c3d4e5f"
	d := 412 * time.Microsecond
	b.Run("fmt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u := strings.ReplaceAll(uuid.NewString(), "-", "")
			_ = fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), u[:24], u[16:32])
			_ = fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
				id, ms(d), int64(math.Ceil(ms(d))), 128, 9)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = traceID()
			_ = reportLine(id, d, 0, 128, 9, "")
		}
	})
}
