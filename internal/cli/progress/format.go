package progress

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func now(s Snapshot) time.Time {
	if s.Now.IsZero() {
		return time.Now()
	}
	return s.Now
}

// label names a function the way the rest of the CLI does: name:alias.
func label(f Function) string {
	if f.Alias == "" {
		return clean(f.Name)
	}
	return clean(f.Name) + ":" + clean(f.Alias)
}

// version prints published versions as v3; anything else ($LATEST) as it is.
func version(v string) string {
	if v == "" {
		return ""
	}
	if _, err := strconv.ParseUint(v, 10, 64); err == nil {
		return "v" + v
	}
	return clean(v)
}

// versions is "v3 → v4", or "v4" on a first deployment.
func versions(f Function) string {
	from, to := version(f.FromVersion), version(f.ToVersion)
	switch {
	case from == "":
		return to
	case to == "":
		return from
	}
	return from + " → " + to
}

// shortConfig drops the prefix every predefined Lambda configuration shares.
func shortConfig(c string) string {
	if rest, ok := strings.CutPrefix(c, "CodeDeployDefault.Lambda"); ok && rest != "" {
		return clean(rest)
	}
	return clean(c)
}

// percent prints a 0..1 weight as a percentage with at most one decimal: 10%, 33.3%.
func percent(w float64) string {
	p := math.Round(clamp01(w)*1000) / 10
	if p == math.Trunc(p) {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

func clamp01(w float64) float64 {
	if math.IsNaN(w) || w < 0 {
		return 0
	}
	return min(w, 1)
}

// countdown prints the time left before a shift: 1h2m, 3m12s, 9s. Seconds round up, so it never reads 0s
// while the shift is still ahead; past hours the seconds are noise and dropped.
func countdown(d time.Duration) string {
	if d <= 0 {
		return "now"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	h, m, s := secs/3600, secs%3600/60, secs%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// thousands prints n with comma separators: 1,204.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func blastRadius(f Function) string {
	errs := "errors"
	if f.NewErrors == 1 {
		errs = "error"
	}
	return thousands(f.NewInvocations) + " req, " + thousands(f.NewErrors) + " " + errs
}

// showBlast: before any traffic reached the new version "0 req, 0 errors" says nothing.
func showBlast(f Function) bool {
	return f.NewWeight > 0 || f.NewInvocations > 0 || f.NewErrors > 0
}

// hookLabel shortens the two Lambda lifecycle events.
func hookLabel(event string) string {
	switch event {
	case "BeforeAllowTraffic":
		return "pre"
	case "AfterAllowTraffic":
		return "post"
	}
	return clean(event)
}

func done(status string) bool {
	return status == "Succeeded" || status == "Failed" || status == "Stopped"
}

func failed(status string) bool {
	return status == "Failed" || status == "Stopped"
}

// clean replaces control characters with spaces: server text must not add lines or escape sequences.
func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// hookProblems are the problems of f's hooks, each as one sentence, and — while the deployment still waits for
// a hook that may never report — the way out, so nobody waits an hour for a hook timeout they can see coming.
func hookProblems(f Function) []string {
	var out []string
	for _, h := range f.Hooks {
		for _, p := range h.Problems {
			out = append(out, clean(p))
		}
	}
	if len(out) > 0 && !done(f.Status) && f.Name != "" && f.Alias != "" {
		out = append(out, "to give up now: sluice rollback "+clean(f.Name)+" --alias "+clean(f.Alias))
	}
	return out
}
