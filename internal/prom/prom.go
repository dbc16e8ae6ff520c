// Package prom exports Sluice's metrics in the Prometheus format: invocation counters and duration histograms per
// function, alias or version and executed version (fed by the execution layer as invocations end), and platform
// gauges read at scrape time (environments per pool, asynchronous queue depth, alarm states).
package prom

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-dev/sluice/internal/alarms"
)

// PoolStats describes the environments of one function version.
type PoolStats struct {
	Function, Version string
	Idle, Busy        int
	Provisioned       int
}

// Sources are read at each scrape.
type Sources struct {
	Pools      func() []PoolStats
	QueueDepth func(ctx context.Context) (int, error)
	Alarms     func(ctx context.Context) ([]alarms.Alarm, error)
}

// Exporter holds Sluice's Prometheus metrics.
type Exporter struct {
	reg         *prometheus.Registry
	invocations *prometheus.CounterVec
	errors      *prometheus.CounterVec
	throttles   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	coldStarts  *prometheus.CounterVec

	mu     sync.RWMutex
	series map[seriesKey]*invocationSeries
}

// seriesKey names an invocation label set: a struct key, so that a lookup builds no string and boxes nothing.
type seriesKey struct{ function, resource, executedVersion string }

// invocationSeries caches one label set's metrics, so the hot path does no label hashing or allocation.
type invocationSeries struct {
	invocations, errors prometheus.Counter
	duration            prometheus.Observer
}

// New builds an exporter of invocation metrics; ReadPlatform adds the gauges read at scrape time.
func New() *Exporter {
	labels := []string{"function", "resource", "executed_version"}
	e := &Exporter{
		reg:    prometheus.NewRegistry(),
		series: map[seriesKey]*invocationSeries{},
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_lambda_invocations_total",
			Help: "Invocations that reached the function code."}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_lambda_errors_total",
			Help: "Invocations that ended in a function error (including timeouts and crashes)."}, labels),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_lambda_throttles_total",
			Help: "Invocations rejected with 429 TooManyRequestsException."}, []string{"function", "resource"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_lambda_duration_seconds",
			Help: "Time the function took to answer.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18)}, labels),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_cold_starts_total",
			Help: "Execution environments started for an invocation (not provisioned ahead)."}, []string{"function", "version"}),
	}
	e.reg.MustRegister(e.invocations, e.errors, e.throttles, e.duration, e.coldStarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return e
}

// ReadPlatform adds the gauges read from src at each scrape. It is separate from New because the execution layer
// both feeds the exporter (as its Observer) and is one of the sources.
func (e *Exporter) ReadPlatform(src Sources) {
	e.reg.MustRegister(&platform{src: src})
}

// Handler serves /metrics.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Registry: e.reg})
}

// Invocation counts one invocation (the execution layer's observer).
func (e *Exporter) Invocation(function, resource, executedVersion string, d time.Duration, failed bool) {
	key := seriesKey{function, resource, executedVersion}
	e.mu.RLock()
	s, ok := e.series[key]
	e.mu.RUnlock()
	if !ok {
		e.mu.Lock()
		if s, ok = e.series[key]; !ok {
			// Creating the error counter at 0 makes rate(errors) 0 rather than absent for a healthy function.
			s = &invocationSeries{
				invocations: e.invocations.WithLabelValues(function, resource, executedVersion),
				errors:      e.errors.WithLabelValues(function, resource, executedVersion),
				duration:    e.duration.WithLabelValues(function, resource, executedVersion),
			}
			e.series[key] = s
		}
		e.mu.Unlock()
	}
	s.invocations.Inc()
	if failed {
		s.errors.Inc()
	}
	s.duration.Observe(d.Seconds())
}

// Throttle counts one rejected invocation.
func (e *Exporter) Throttle(function, resource string) {
	e.throttles.WithLabelValues(function, resource).Inc()
}

// ColdStart counts one on-demand environment start.
func (e *Exporter) ColdStart(function, version string) {
	e.coldStarts.WithLabelValues(function, version).Inc()
}

// platform reads gauges at scrape time.
type platform struct{ src Sources }

var (
	envDesc   = prometheus.NewDesc("sluice_environments", "Execution environments by state.", []string{"function", "version", "state"}, nil)
	queueDesc = prometheus.NewDesc("sluice_async_queue_depth", "Asynchronous invocations waiting to run or to be retried.", nil, nil)
	alarmDesc = prometheus.NewDesc("sluice_alarm_state", "1 for each alarm's current state.", []string{"alarm", "state"}, nil)
)

func (p *platform) Describe(ch chan<- *prometheus.Desc) {
	ch <- envDesc
	ch <- queueDesc
	ch <- alarmDesc
}

func (p *platform) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.src.Pools != nil {
		for _, s := range p.src.Pools() {
			ch <- prometheus.MustNewConstMetric(envDesc, prometheus.GaugeValue, float64(s.Idle), s.Function, s.Version, "idle")
			ch <- prometheus.MustNewConstMetric(envDesc, prometheus.GaugeValue, float64(s.Busy), s.Function, s.Version, "busy")
			ch <- prometheus.MustNewConstMetric(envDesc, prometheus.GaugeValue, float64(s.Provisioned), s.Function, s.Version, "provisioned")
		}
	}
	if p.src.QueueDepth != nil {
		if n, err := p.src.QueueDepth(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if p.src.Alarms != nil {
		if list, err := p.src.Alarms(ctx); err == nil {
			for _, a := range list {
				for _, st := range []string{alarms.StateOK, alarms.StateAlarm, alarms.StateInsufficientData} {
					v := 0.0
					if a.StateValue == st {
						v = 1
					}
					ch <- prometheus.MustNewConstMetric(alarmDesc, prometheus.GaugeValue, v, a.Name, st)
				}
			}
		}
	}
}
