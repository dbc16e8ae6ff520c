package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// loadSummary is what HTTP clients saw over a whole run of the load.
type loadSummary struct {
	sent, answered   int
	achieved         float64 // requests sent per second of the generator's run, after its ramp
	transport        map[string]int
	healthyNon2xx    map[string]int // answers of versions 1 and 2 that were not 200, by "version status"
	platformNon2xx   map[int]int    // answers not from any version (no X-Sluice-Executed-Version), by status
	defective5xx     int
	defectiveOther   int // answers of version 3 that were not 5xx (there should be none)
	p50, p99, maxLat time.Duration
}

func summarize(run deployRun) loadSummary {
	s := loadSummary{sent: len(run.recs), transport: map[string]int{}, healthyNon2xx: map[string]int{}, platformNon2xx: map[int]int{}}
	afterRamp := 0
	for _, r := range run.recs {
		if !r.sent.Before(run.rampEnd) {
			afterRamp++
		}
	}
	if d := run.loadFrom.Add(run.span).Sub(run.rampEnd); d > 0 {
		s.achieved = float64(afterRamp) / d.Seconds()
	}
	var lat []time.Duration
	for _, r := range run.recs {
		switch {
		case r.status == 0:
			s.transport[r.err]++
			continue
		case r.version == v3 && r.status >= 500:
			s.defective5xx++
		case r.version == v3:
			s.defectiveOther++
		case r.version == "" && r.status != 200:
			s.platformNon2xx[r.status]++
		case r.status < 200 || r.status > 299:
			s.healthyNon2xx[fmt.Sprintf("v%s %d", r.version, r.status)]++
		}
		s.answered++
		lat = append(lat, r.done.Sub(r.sent))
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		s.p50, s.p99, s.maxLat = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	}
	return s
}

// sequences gives each user's versions in [from, to) (by sending time), repeats collapsed: [2 3 2] is a user who
// went to the canary and came back.
func sequences(recs []urlRecord, from, to time.Time) map[int][]string {
	out := map[int][]string{}
	for _, r := range recs {
		if r.sent.Before(from) || !r.sent.Before(to) || r.version == "" {
			continue
		}
		if l := out[r.user]; len(l) == 0 || l[len(l)-1] != r.version {
			out[r.user] = append(l, r.version)
		}
	}
	return out
}

// flips sorts users' sequences into those allowed and the rest ("flipped"), with a few examples.
func flips(seqs map[int][]string, allowed ...[]string) (n int, examples []string) {
	users := slices.Sorted(maps.Keys(seqs))
	for _, u := range users {
		ok := false
		for _, a := range allowed {
			ok = ok || slices.Equal(seqs[u], a)
		}
		if !ok {
			n++
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("u%04d %s", u, strings.Join(seqs[u], "→")))
			}
		}
	}
	return n, examples
}

// healthyFigures is the healthy canary as the clients saw it.
type healthyFigures struct {
	took                   time.Duration // created → seen Succeeded
	stepLen                time.Duration // the 10% step as GetAlias showed it
	stepRequests, stepOnV2 int
	stepUsers, stepUsersV2 int
	flipped                int // users whose sequence was not [1], [2] or [1 2] between creation and the first defective canary
	flipExamples           []string
	usersSeen              int
}

func analyzeHealthy(run deployRun) healthyFigures {
	h := run.healthy
	f := healthyFigures{took: h.completed.Sub(h.created)}
	if !h.stepFrom.IsZero() && h.stepTo.After(h.stepFrom) {
		f.stepLen = h.stepTo.Sub(h.stepFrom)
		users, onV2 := map[int]bool{}, map[int]bool{}
		for _, r := range run.recs {
			if r.sent.Before(h.stepFrom) || r.sent.After(h.stepTo) || r.version == "" {
				continue
			}
			f.stepRequests++
			users[r.user] = true
			if r.version == v2 {
				f.stepOnV2++
				onV2[r.user] = true
			}
		}
		f.stepUsers, f.stepUsersV2 = len(users), len(onV2)
	}
	end := run.loadFrom.Add(run.span)
	if len(run.defects) > 0 {
		end = run.defects[0].created
	}
	seqs := sequences(run.recs, h.created, end)
	f.usersSeen = len(seqs)
	f.flipped, f.flipExamples = flips(seqs, []string{v1}, []string{v2}, []string{v1, v2})
	return f
}

// rollbackFigures is one defective canary as the clients saw it.
type rollbackFigures struct {
	defective5xx, defectiveOK int
	afterRestore              int // answers of version 3 to requests sent after live was seen restored
	firstErr                  time.Time
	periodEnd                 time.Time // the end of the 1-s period holding the first 5xx: when its datapoint is complete
	toRestored                time.Duration
	periodToRestored          time.Duration
	alarmToRestored           time.Duration
	lastV3Sent                time.Duration // the last request version 3 answered was sent this long after the first 5xx
	usersBefore, usersOnV3    int           // users seen from creation until restored; those version 3 answered
	usersV3                   map[int]bool
	usersSeen                 int
	backAgain, notSeenBack    int // users who went 2 → 3 → 2; users last served by 3 before the window ended
	flipped                   int
	flipExamples              []string
}

func analyzeRollback(run deployRun, rb rollback) rollbackFigures {
	f := rollbackFigures{usersV3: map[int]bool{}}
	var lastV3 time.Time
	before := map[int]bool{}
	for _, r := range run.recs {
		if r.sent.Before(rb.created) || !r.sent.Before(rb.windowEnd) {
			continue
		}
		if r.sent.Before(rb.restored) {
			before[r.user] = true
		}
		if r.version != v3 {
			continue
		}
		if r.status >= 500 {
			f.defective5xx++
			if f.firstErr.IsZero() || r.done.Before(f.firstErr) {
				f.firstErr = r.done
			}
		} else {
			f.defectiveOK++
		}
		f.usersV3[r.user] = true
		if r.sent.After(lastV3) {
			lastV3 = r.sent
		}
		if r.sent.After(rb.restored) {
			f.afterRestore++
		}
	}
	f.usersBefore, f.usersOnV3 = len(before), len(f.usersV3)
	if !f.firstErr.IsZero() {
		f.periodEnd = f.firstErr.Truncate(time.Second).Add(time.Second)
		f.toRestored = rb.restored.Sub(f.firstErr)
		f.periodToRestored = rb.restored.Sub(f.periodEnd)
		f.lastV3Sent = lastV3.Sub(f.firstErr)
	}
	if !rb.alarmAt.IsZero() {
		f.alarmToRestored = rb.restored.Sub(rb.alarmAt)
	}
	seqs := sequences(run.recs, rb.created, rb.windowEnd)
	f.usersSeen = len(seqs)
	for _, s := range seqs {
		switch {
		case slices.Equal(s, []string{rb.from, v3, rb.from}):
			f.backAgain++
		case slices.Equal(s, []string{rb.from, v3}) || slices.Equal(s, []string{v3}):
			f.notSeenBack++
		}
	}
	f.flipped, f.flipExamples = flips(seqs, []string{rb.from}, []string{rb.from, v3, rb.from}, []string{rb.from, v3}, []string{v3}, []string{v3, rb.from})
	return f
}
