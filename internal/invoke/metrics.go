package invoke

import (
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
)

// Recorder stores metric samples (the metrics store). nil disables recording.
type Recorder interface {
	Record(id metrics.MetricID, s metrics.Sample)
}

// Observer is told of each invocation's outcome in plain terms (the Prometheus exporter). nil: none.
type Observer interface {
	Invocation(function, resource, executedVersion string, d time.Duration, failed bool)
	Throttle(function, resource string)
	ColdStart(function, version string)
}

const lambdaNamespace = "AWS/Lambda"

// dimensionSets are the series one invocation contributes to, as Lambda publishes them: the account aggregate,
// the function, the function as invoked (alias or version), and — for alias invocations — split by the version
// that actually ran (the dimension canary alarms watch).
type dimensionSets [][]metrics.Dimension

// lambdaMetrics turns invocation outcomes into AWS/Lambda samples, caching each (function, resource, version)'s
// dimension sets so the hot path allocates nothing new in the steady state.
type lambdaMetrics struct {
	rec Recorder
	obs Observer

	mu   sync.RWMutex
	sets map[seriesKey]dimensionSets
}

// seriesKey names an invocation's series: a struct key, so that a lookup builds no string and boxes nothing.
type seriesKey struct{ function, resource, executed string }

func (m *lambdaMetrics) dimensions(function, resource, executed string) dimensionSets {
	key := seriesKey{function, resource, executed}
	m.mu.RLock()
	sets, ok := m.sets[key]
	m.mu.RUnlock()
	if ok {
		return sets
	}
	fn := metrics.Dimension{Name: "FunctionName", Value: function}
	sets = dimensionSets{nil, {fn}}
	if resource != "" {
		res := metrics.Dimension{Name: "Resource", Value: resource}
		sets = append(sets, []metrics.Dimension{fn, res})
		if executed != "" {
			sets = append(sets, []metrics.Dimension{{Name: "ExecutedVersion", Value: executed}, fn, res})
		}
	}
	m.mu.Lock()
	if m.sets == nil {
		m.sets = map[seriesKey]dimensionSets{}
	}
	m.sets[key] = sets
	m.mu.Unlock()
	return sets
}

func (m *lambdaMetrics) record(sets dimensionSets, name, unit string, value float64, at time.Time) {
	for _, dims := range sets {
		m.rec.Record(metrics.MetricID{Namespace: lambdaNamespace, Name: name, Dimensions: dims},
			metrics.Sample{Value: value, Count: 1, Unit: unit, At: at})
	}
}

// invocation records one invocation that reached the function.
type invocationOutcome struct {
	started     time.Time
	duration    time.Duration
	failed      bool
	provisioned bool // served by a provisioned environment
	spillover   bool // the target has provisioned concurrency, but this one ran on demand
	concurrent  int  // the function's executions in flight, this one included
}

func (m *lambdaMetrics) invocation(r resolved, o invocationOutcome) {
	executed := ""
	if r.viaAlias {
		executed = r.target.version
	}
	if m.obs != nil {
		m.obs.Invocation(r.fn.name, r.resource, executed, o.duration, o.failed)
	}
	if m.rec == nil {
		return
	}
	sets := m.dimensions(r.fn.name, r.resource, executed)
	m.record(sets, "Invocations", "Count", 1, o.started)
	errors := 0.0
	if o.failed {
		errors = 1
	}
	m.record(sets, "Errors", "Count", errors, o.started)
	m.record(sets, "Duration", "Milliseconds", ms(o.duration), o.started)
	m.record(sets, "ConcurrentExecutions", "Count", float64(o.concurrent), o.started)
	if o.provisioned {
		m.record(sets, "ProvisionedConcurrencyInvocations", "Count", 1, o.started)
	}
	if o.spillover {
		m.record(sets, "ProvisionedConcurrencySpilloverInvocations", "Count", 1, o.started)
	}
}

// throttle records an invocation rejected with 429.
func (m *lambdaMetrics) throttle(r resolved, at time.Time) {
	if m.obs != nil {
		m.obs.Throttle(r.fn.name, r.resource)
	}
	if m.rec == nil {
		return
	}
	m.record(m.dimensions(r.fn.name, r.resource, ""), "Throttles", "Count", 1, at)
}
