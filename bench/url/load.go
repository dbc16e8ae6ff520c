package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// urlRecord is one request of the load as the client saw it.
type urlRecord struct {
	sent, done time.Time
	user       int
	status     int    // 0: no answer (transport error)
	version    string // X-Sluice-Executed-Version ("" when the platform answered without running a version)
	err        string // the transport error, if any
}

// openLoop offers a fixed rate of GETs to a function URL, open-loop: each request is sent at its slot of a fixed
// schedule whether or not the earlier ones were answered (each in a goroutine of its own), so a slow server meets
// the same arrivals a crowd of independent browsers would send. The rate ramps up linearly over the first seconds
// (so that environments start a few at a time, not dozens at once), then holds. A slot more than 100 ms late (the
// harness itself starved of CPU) is skipped, and so is a slot that finds maxInFlight requests unanswered; both are
// counted.
type openLoop struct {
	rate     float64
	mu       sync.Mutex
	recs     []urlRecord
	sent     atomic.Int64
	skipped  atomic.Int64 // slots the generator reached over 100 ms late
	tooMany  atomic.Int64 // slots skipped because maxInFlight requests were unanswered
	inFlight atomic.Int64
	cancel   context.CancelFunc
	loop     sync.WaitGroup // the generator
	requests sync.WaitGroup // requests in flight
	started  time.Time
	rampEnd  time.Time
	stopped  time.Time
}

const maxInFlight = 256

// startOpenLoop starts the generator: GET fnURL through hc with a `user` cookie drawn at random from users, at a
// rate rising linearly from 0 to rate over ramp.
func startOpenLoop(ctx context.Context, hc *http.Client, fnURL string, rate float64, users int, ramp time.Duration) *openLoop {
	lctx, cancel := context.WithCancel(ctx)
	g := &openLoop{rate: rate, cancel: cancel, started: time.Now(), recs: make([]urlRecord, 0, 1<<16)}
	g.rampEnd = g.started.Add(ramp)
	rampSec := ramp.Seconds()
	inRamp := rate * rampSec / 2 // slots in the ramp: ∫ rate·t/ramp dt
	slot := func(k int64) time.Duration {
		if float64(k) < inRamp {
			return time.Duration(math.Sqrt(2*float64(k)*rampSec/rate) * float64(time.Second))
		}
		return time.Duration((rampSec + (float64(k)-inRamp)/rate) * float64(time.Second))
	}
	g.loop.Go(func() {
		for k := int64(0); ; k++ {
			due := g.started.Add(slot(k))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			if lctx.Err() != nil {
				return
			}
			if time.Since(due) > 100*time.Millisecond {
				g.skipped.Add(1)
				continue
			}
			if g.inFlight.Load() >= maxInFlight {
				g.tooMany.Add(1)
				continue
			}
			g.inFlight.Add(1)
			g.sent.Add(1)
			user := rand.IntN(users)
			g.requests.Go(func() {
				defer g.inFlight.Add(-1)
				// The request outlives the generator's context: stopping the load lets answers in flight arrive.
				r := get(context.WithoutCancel(ctx), hc, fnURL, user)
				g.mu.Lock()
				g.recs = append(g.recs, r)
				g.mu.Unlock()
			})
		}
	})
	return g
}

// get sends one request and reads its whole answer.
func get(ctx context.Context, hc *http.Client, fnURL string, user int) urlRecord {
	r := urlRecord{sent: time.Now(), user: user}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fnURL, nil)
	if err != nil {
		r.done, r.err = time.Now(), err.Error()
		return r
	}
	req.Header.Set("Cookie", fmt.Sprintf("user=u%04d", user))
	resp, err := hc.Do(req)
	if err != nil {
		r.done, r.err = time.Now(), errorKind(err)
		return r
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.done, r.status, r.version = time.Now(), resp.StatusCode, resp.Header.Get("X-Sluice-Executed-Version")
	if err != nil {
		r.err = errorKind(err)
	}
	return r
}

// stop ends the generator and waits for the answers still in flight; it returns every request, in sending order
// (records are appended as answers arrive).
func (g *openLoop) stop() []urlRecord {
	g.cancel()
	g.loop.Wait()
	g.stopped = time.Now()
	g.requests.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	recs := g.recs
	sortBySent(recs)
	return recs
}
