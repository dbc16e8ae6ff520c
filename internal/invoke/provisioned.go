package invoke

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
)

// Provisioned concurrency: a configuration on a version (or on an alias, meaning the alias's version) asks for N
// environments initialised ahead of invocations (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency) and kept
// warm. They sit in their target's pool flagged provisioned, are never reaped for idleness, serve invocations
// first, and are replaced when they die. Invocations beyond them spill over to on-demand environments.

// provisionedTargets maps each configuration of fn to the target it warms.
func provisionedTargets(fn *functionView) map[string]*target {
	out := map[string]*target{}
	for _, c := range fn.provisioned {
		version := c.Qualifier
		if !lambda.IsVersionNumber(version) {
			a, ok := fn.aliases[c.Qualifier]
			if !ok {
				continue
			}
			version = a.split.primary
		}
		if t, ok := fn.versions[version]; ok {
			out[c.Qualifier] = t
		}
	}
	return out
}

// reconcileProvisioned makes every pool of a function hold exactly the provisioned environments its configurations
// ask of this node — its share's part of each (SetShare), so that a configuration of N environments means N in the
// cluster: it starts missing ones (in the background) and releases surplus ones to ordinary idle reaping.
func (s *Service) reconcileProvisioned(name string) {
	fn := s.catalog.get(name)
	want := map[poolKey]int{}
	if fn != nil {
		share := s.conc.currentShare()
		targets := provisionedTargets(fn)
		for _, c := range fn.provisioned {
			if t, ok := targets[c.Qualifier]; ok {
				want[t.key] += share.Part(c.Requested)
				s.poolFor(t) // make sure the pool exists
			}
		}
	}
	s.mu.Lock()
	var pools []*pool
	for k, p := range s.pools {
		if k.function == name {
			pools = append(pools, p)
		}
	}
	s.mu.Unlock()
	for _, p := range pools {
		p.mu.Lock()
		p.provisionedWant = want[p.target.key]
		if p.retired {
			p.provisionedWant = 0
		}
		missing := p.provisionedWant - p.provisionedHave - p.provisionedStarting
		// Surplus: drop the flag on idle provisioned environments so they age out like any other.
		for i := len(p.idle) - 1; i >= 0 && missing < 0; i-- {
			if e := p.idle[i]; e.provisioned {
				e.provisioned = false
				p.provisionedHave--
				missing++
			}
		}
		if missing > 0 {
			p.provisionedStarting += missing
		}
		p.mu.Unlock()
		for range max(missing, 0) {
			go s.startProvisioned(p)
		}
	}
	s.reports.mark(name)
}

// startProvisioned initialises one provisioned environment and parks it idle in its pool.
func (s *Service) startProvisioned(p *pool) {
	done := func(e *environment, failure string) {
		p.mu.Lock()
		p.provisionedStarting--
		keep := e != nil && !p.retired && p.provisionedHave < p.provisionedWant
		if keep {
			e.provisioned = true
			p.provisionedHave++
			p.idle = append(p.idle, e)
			p.provisionedFailure = ""
		} else if failure != "" {
			p.provisionedFailure = failure
		}
		p.mu.Unlock()
		s.reports.mark(p.target.function)
		if e != nil && !keep {
			e.destroy(s)
		}
	}
	e, err := s.launch(context.Background(), p, "provisioned-concurrency")
	if err != nil {
		done(nil, "FUNCTION_ERROR_INIT_FAILURE: "+err.Error())
		return
	}
	if err := e.awaitInit(s.initTimeout); err != nil {
		reason := err.Error()
		if errors.Is(err, errInitFailed) {
			reason = string(e.api.InitError().Payload)
		}
		e.destroy(s)
		done(nil, "FUNCTION_ERROR_INIT_FAILURE: "+reason)
		return
	}
	done(e, "")
}

// provisionedReports tells the control plane how far each function's provisioned environments got, off the invoke
// path: functions are marked as their environments start, fail or go, and one loop (reportProvisioned) writes what
// changed since it last wrote.
type provisionedReports struct {
	mu     sync.Mutex
	dirty  map[string]bool
	forget bool // write every report again, even one unchanged since it was last written (SetShare)
	wake   chan struct{}
}

func newProvisionedReports() *provisionedReports {
	return &provisionedReports{dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// mark asks for a function's report to be written again.
func (r *provisionedReports) mark(name string) {
	r.mu.Lock()
	r.dirty[name] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// forgetWritten makes the next reports be written even where they did not change (the functions are marked by
// their reconciliation).
func (r *provisionedReports) forgetWritten() {
	r.mu.Lock()
	r.forget = true
	r.mu.Unlock()
}

func (r *provisionedReports) take() (names []string, forget bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names = slices.Collect(maps.Keys(r.dirty))
	clear(r.dirty)
	forget, r.forget = r.forget, false
	return names, forget
}

// NodeReporter is what a Lifecycle implements to keep each node's provisioned reports apart (the control plane
// does): in a cluster each node reports the environments it keeps, and the API sums the nodes' reports. Without
// it (or in embedded mode, where the node has no name) reports go to ReportProvisioned.
type NodeReporter interface {
	ReportProvisionedFrom(ctx context.Context, node, name string, reports map[string]controlplane.ProvisionedReport) error
}

// writeReport hands one function's report to the control plane, as this node's when it has a name.
func (s *Service) writeReport(ctx context.Context, name string, r map[string]controlplane.ProvisionedReport) error {
	if node := s.conc.currentShare().Node; node != "" {
		if nr, ok := s.opts.Lifecycle.(NodeReporter); ok {
			return nr.ReportProvisionedFrom(ctx, node, name, r)
		}
	}
	return s.opts.Lifecycle.ReportProvisioned(ctx, name, r)
}

// reportProvisioned writes the reports of marked functions until ctx ends; a failed write is retried a second later.
func (s *Service) reportProvisioned(ctx context.Context) {
	if s.opts.Lifecycle == nil {
		return
	}
	written := map[string]map[string]controlplane.ProvisionedReport{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reports.wake:
		}
		names, forget := s.reports.take()
		if forget {
			clear(written)
		}
		for _, name := range names {
			now := s.provisionedReport(name)
			if maps.Equal(now, written[name]) {
				continue
			}
			if err := s.writeReport(ctx, name, now); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Error("report provisioned concurrency", "function", name, "err", err)
				time.AfterFunc(time.Second, func() { s.reports.mark(name) })
				continue
			}
			if len(now) == 0 {
				delete(written, name)
			} else {
				written[name] = now
			}
		}
	}
}

// provisionedReport is what a function's provisioned environments look like now, by configuration qualifier.
func (s *Service) provisionedReport(function string) map[string]controlplane.ProvisionedReport {
	fn := s.catalog.get(function)
	if fn == nil {
		return nil
	}
	out := map[string]controlplane.ProvisionedReport{}
	for q, t := range provisionedTargets(fn) {
		p := s.poolFor(t)
		p.mu.Lock()
		r := controlplane.ProvisionedReport{Ready: p.provisionedHave}
		if p.provisionedStarting == 0 {
			r.Failure = p.provisionedFailure
		}
		p.mu.Unlock()
		out[q] = r
	}
	return out
}

// Prewarm starts n on-demand environments of a published version, parks them idle in its pool and returns once
// they are initialised, or after a second (the deployment controller waits for it), so the first invocations a
// deployment sends there do not wait for cold starts. It returns how many it started (0 if the version is unknown).
func (s *Service) Prewarm(function, version string, n int) int {
	fn := s.catalog.get(function)
	if fn == nil || n <= 0 {
		return 0
	}
	t, ok := fn.versions[version]
	if !ok || t.status.State != lambda.StateActive { // a package not extracted here yet is fetched by launch
		return 0
	}
	p := s.poolFor(t)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			e, err := s.launch(context.Background(), p, "on-demand")
			if err != nil {
				return
			}
			if err := e.awaitInit(s.initTimeout); err != nil {
				e.destroy(s)
				return
			}
			p.mu.Lock()
			retired := p.retired
			if !retired {
				e.lastUsed = p.now()
				p.idle = append(p.idle, e)
			}
			p.mu.Unlock()
			if retired {
				e.destroy(s)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return n
}

// Environments is how many environments a function version has now (idle and busy): the concurrency it has needed
// recently.
func (s *Service) Environments(function, version string) int {
	n := 0
	for _, p := range s.Pools() {
		if p.Function == function && p.Version == version {
			n += p.Idle + p.Busy
		}
	}
	return n
}

// InFlight is how many invocations of a function are running now.
func (s *Service) InFlight(function string) int { return s.conc.inFlight(function) }
