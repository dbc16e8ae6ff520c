package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// platformSample is one reading of the server's Prometheus endpoint for one function: its execution environments
// (every version and state) and the cold starts so far, and the server's open file descriptors.
type platformSample struct {
	at                  time.Time
	environments        float64
	coldStarts, openFDs float64
}

// platformSampler reads /metrics every interval while the load runs: how many environments the function has
// explains what the clients see when the server falls behind (each unanswered request holds an environment).
type platformSampler struct {
	mu      sync.Mutex
	samples []platformSample
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

func startSampler(ctx context.Context, endpoint, fn string, interval time.Duration) *platformSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &platformSampler{cancel: cancel}
	hc := &http.Client{Timeout: 5 * time.Second}
	s.done.Go(func() {
		defer hc.CloseIdleConnections()
		for ctx.Err() == nil {
			if p, ok := readPlatform(ctx, hc, endpoint, fn); ok {
				s.mu.Lock()
				s.samples = append(s.samples, p)
				s.mu.Unlock()
			}
			sleep(ctx, interval)
		}
	})
	return s
}

func (s *platformSampler) stop() []platformSample {
	s.cancel()
	s.done.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// last is the latest sample.
func (s *platformSampler) last() platformSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return platformSample{}
	}
	return s.samples[len(s.samples)-1]
}

func readPlatform(ctx context.Context, hc *http.Client, endpoint, fn string) (platformSample, bool) {
	p := platformSample{at: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(endpoint, "/")+"/metrics", nil)
	if err != nil {
		return p, false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return p, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return p, false
	}
	label := `function="` + fn + `"`
	for _, line := range strings.Split(string(b), "\n") {
		name, _, _ := strings.Cut(line, "{")
		var dst *float64
		switch {
		case name == "sluice_environments" && strings.Contains(line, label):
			dst = &p.environments
		case name == "sluice_cold_starts_total" && strings.Contains(line, label):
			dst = &p.coldStarts
		case strings.HasPrefix(line, "process_open_fds "):
			dst = &p.openFDs
		default:
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				*dst += v
			}
		}
	}
	return p, true
}

// platformIn summarizes the samples taken in [from, to): the most environments, the most open descriptors and the
// cold starts between the first and the last.
func platformIn(samples []platformSample, from, to time.Time) (maxEnvs, maxFDs, coldStarts float64) {
	var first, last *platformSample
	for i := range samples {
		s := &samples[i]
		if s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		if first == nil {
			first = s
		}
		last = s
		maxEnvs, maxFDs = max(maxEnvs, s.environments), max(maxFDs, s.openFDs)
	}
	if first != nil {
		coldStarts = last.coldStarts - first.coldStarts
	}
	return maxEnvs, maxFDs, coldStarts
}
