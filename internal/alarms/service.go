package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store"
)

// TickGrace is how long after each whole second Run evaluates, so that samples stamped just before the boundary
// (recorded a few milliseconds later) are in.
const TickGrace = 10 * time.Millisecond

// Options configures a Service.
type Options struct {
	// Store holds the alarms' definitions, states and history (keys "alarm/…" and "alarmhist/…").
	Store store.Store
	// Metrics is where the evaluator reads the alarms' metrics.
	Metrics *metrics.Store
	// Region and AccountID go into the alarms' ARNs: arn:aws:cloudwatch:<region>:<account>:alarm:<name>.
	Region, AccountID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives state changes (Info) and store failures of the evaluator (Error); nil means slog.Default().
	Logger *slog.Logger
	// MaxAlarms is the quota of alarms; zero means DefaultMaxAlarms.
	MaxAlarms int
	// TimeScale makes a configured period last Period/TimeScale (at least one second) when alarms are evaluated:
	// demos and tests of time-scaled deployments, whose canaries would otherwise end before a 60 s period does.
	// Definitions and what the API reports keep the configured period. Zero or one: real time.
	TimeScale float64
}

// Service owns the alarms. It is safe for concurrent use.
type Service struct {
	st        store.Store
	metrics   *metrics.Store
	region    string
	account   string
	now       func() time.Time
	log       *slog.Logger
	maxAlarms int
	scale     float64

	mu     sync.RWMutex // guards alarms; held (write) across a mutation's store transaction
	alarms map[string]*entry

	evalMu   sync.Mutex              // one evaluation pass at a time; guards cache
	cache    map[string]*windowCache // per alarm: datapoints of completed periods
	defSeq   atomic.Uint64           // numbers definitions (entry.def)
	notifyMu sync.Mutex              // subscribers are called under it, in commit order

	subsMu  sync.Mutex
	subsSeq uint64
	subs    map[uint64]func(Change)
	subList atomic.Pointer[[]func(Change)]
}

// entry is an alarm in memory. Entries are never modified once published in Service.alarms: a mutation replaces
// the entry, so an evaluation pass may read a snapshot without holding the lock.
type entry struct {
	a         Alarm
	held      bool
	histSeq   uint64
	histCount int
	gen       uint64 // bumped by every mutation; an evaluation commits only if it still matches
	def       uint64 // identifies the definition (changes on every Put): keys the evaluator's cache
}

func (e *entry) record() record {
	r := toRecord(&e.a)
	r.Held, r.HistSeq, r.HistCount = e.held, e.histSeq, e.histCount
	return r
}

// New loads the alarms from the store.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Metrics == nil {
		return nil, errors.New("alarms: Options.Store and Options.Metrics are required")
	}
	s := &Service{
		st: o.Store, metrics: o.Metrics, region: o.Region, account: o.AccountID,
		now: o.Now, log: o.Logger, maxAlarms: o.MaxAlarms, scale: o.TimeScale,
		alarms: make(map[string]*entry), subs: make(map[uint64]func(Change)), cache: make(map[string]*windowCache),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxAlarms <= 0 {
		s.maxAlarms = DefaultMaxAlarms
	}
	err := s.st.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan(alarmPrefix, "", func(k string, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			s.alarms[r.Name] = &entry{a: r.alarm(s.region, s.account), held: r.Held, histSeq: r.HistSeq, histCount: r.HistCount, gen: 1, def: s.defSeq.Add(1)}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("alarms: load: %w", err)
	}
	return s, nil
}

// Put creates or replaces an alarm (PutMetricAlarm). A new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial
// alarm creation") and is evaluated on the next pass; an update keeps the state, the state's timestamps and the
// tags (CloudWatch ignores Tags on update) and ends a SetState hold. Either way a ConfigurationUpdate history item
// is recorded. DatapointsToAlarm, TreatMissingData and EvaluateLowSampleCountPercentile are kept as given (empty
// or zero when not set, as DescribeAlarms shows them) and defaulted at evaluation; ActionsEnabled is taken as
// given: the API edge applies its default (true).
//
// Errors: ValidationError, MissingParameter, InvalidParameterValue, InvalidParameterCombination (see validate.go
// for each rule and message) and LimitExceeded when the alarm quota is reached.
func (s *Service) Put(ctx context.Context, d Definition) error {
	d = cloneDefinition(d)
	if err := validate(&d, s.metrics.Retention()); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	old := s.alarms[d.Name]
	if old == nil && len(s.alarms) >= s.maxAlarms {
		return fault.New(CodeLimitExceeded, "The quota for alarms for this customer has already been reached.")
	}
	e := &entry{}
	var before *Alarm
	summary := fmt.Sprintf("Alarm %q created", d.Name)
	if old != nil {
		before = &old.a
		summary = fmt.Sprintf("Alarm %q updated", d.Name)
		d.Tags = old.a.Tags
		*e = *old
		e.a.Definition = d
		e.held = false
		e.gen++
	} else {
		e.a = Alarm{
			Definition: d, StateValue: StateInsufficientData, StateReason: reasonCreated,
			StateUpdated: now, StateTransitioned: now, ARN: arn(s.region, s.account, d.Name),
		}
		e.gen = 1
	}
	e.a.ConfigurationUpdated = now
	e.def = s.defSeq.Add(1)
	item := HistoryItem{AlarmName: d.Name, Timestamp: now, Type: "ConfigurationUpdate", Summary: summary,
		Data: configHistoryData(before, &e.a)}
	base := e.record()
	var final record
	err := s.st.Update(ctx, func(tx store.Tx) error {
		final = base
		if err := appendHistory(tx, &final, item); err != nil {
			return err
		}
		return store.PutJSON(tx, alarmKey(d.Name), final)
	})
	if err != nil {
		return fmt.Errorf("put alarm %q: %w", d.Name, err)
	}
	e.histSeq, e.histCount = final.HistSeq, final.HistCount
	s.alarms[d.Name] = e
	return nil
}

// Delete removes alarms and their history (DeleteAlarms). Either all are deleted or, if any does not exist,
// none: ResourceNotFound.
func (s *Service) Delete(ctx context.Context, names []string) error {
	if len(names) > 100 {
		return constraint(names, "alarmNames", "Member must have length less than or equal to 100")
	}
	names = unique(names)
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := 0
	for _, n := range names {
		if s.alarms[n] == nil {
			missing++
		}
	}
	if missing > 0 {
		return fault.New(CodeResourceNotFound, "%d out of %d alarm(s) not found", missing, len(names))
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		for _, n := range names {
			if err := tx.Delete(alarmKey(n)); err != nil {
				return err
			}
			if err := deleteHistory(tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete alarms: %w", err)
	}
	for _, n := range names {
		delete(s.alarms, n)
	}
	return nil
}

// SetState forces an alarm's state (SetAlarmState), for testing actions and rollbacks. The forced state holds
// until the alarm's next evaluation instant (the next boundary of its evaluation step: the period up to a minute,
// a minute beyond), whose evaluation may change it again — CloudWatch's "until the next alarm comparison". A
// change records a StateUpdate history item and notifies subscribers; setting the current state is a no-op.
//
// Errors: ValidationError (state not OK/ALARM/INSUFFICIENT_DATA, reason over 1023 characters, reason data over
// 4000), InvalidFormat (reason data not JSON), ResourceNotFound.
func (s *Service) SetState(ctx context.Context, name, state, reason, reasonData string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if !slices.Contains(states, state) {
		return enumConstraint(state, "stateValue", states)
	}
	if err := checkLength(reason, "stateReason", 0, 1023); err != nil {
		return err
	}
	if err := checkLength(reasonData, "stateReasonData", 0, 4000); err != nil {
		return err
	}
	if reasonData != "" && !json.Valid([]byte(reasonData)) {
		return fault.New(CodeInvalidFormat, "Data was not syntactically valid JSON")
	}
	s.mu.Lock()
	e := s.alarms[name]
	if e == nil {
		s.mu.Unlock()
		return fault.New(CodeResourceNotFound, "Alarm %s not found", name)
	}
	if e.a.StateValue == state {
		s.mu.Unlock()
		return nil
	}
	return s.commitLocked(ctx, []transition{{name: name, to: state, reason: reason, data: reasonData, held: true, gen: e.gen}}, s.now())
}

// SetActionsEnabled turns alarm actions on or off (EnableAlarmActions / DisableAlarmActions). Unknown names are
// ignored, as CloudWatch does.
func (s *Service) SetActionsEnabled(ctx context.Context, names []string, enabled bool) error {
	if len(names) > 100 {
		return constraint(names, "alarmNames", "Member must have length less than or equal to 100")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []*entry
	for _, n := range unique(names) {
		if e := s.alarms[n]; e != nil && e.a.ActionsEnabled != enabled {
			c := *e
			c.a.ActionsEnabled = enabled
			c.gen++
			changed = append(changed, &c)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		for _, e := range changed {
			if err := store.PutJSON(tx, alarmKey(e.a.Name), e.record()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set actions enabled: %w", err)
	}
	for _, e := range changed {
		s.alarms[e.a.Name] = e
	}
	return nil
}

// Subscribe registers fn to be called on every state change, synchronously, right after the change is
// committed to the store, in commit order, one call at a time. fn must be fast, and must not call SetState or
// EvaluateAll (which wait for the notification in progress); reads and other mutations are fine. cancel
// unregisters it; it is idempotent.
func (s *Service) Subscribe(fn func(Change)) (cancel func()) {
	s.subsMu.Lock()
	s.subsSeq++
	id := s.subsSeq
	s.subs[id] = fn
	s.publishSubsLocked()
	s.subsMu.Unlock()
	return sync.OnceFunc(func() {
		s.subsMu.Lock()
		delete(s.subs, id)
		s.publishSubsLocked()
		s.subsMu.Unlock()
	})
}

func (s *Service) publishSubsLocked() {
	ids := slices.Sorted(maps.Keys(s.subs))
	l := make([]func(Change), len(ids))
	for i, id := range ids {
		l[i] = s.subs[id]
	}
	s.subList.Store(&l)
}

// transition is a state change to commit.
type transition struct {
	name         string
	to           string
	reason, data string
	held         bool
	gen          uint64 // the entry generation the change was computed from
}

// commitLocked commits state changes in one transaction (each with its StateUpdate history item), publishes them
// in memory, then calls the subscribers. The caller holds s.mu for writing; commitLocked releases it (before the
// subscribers run, so that they may read the service, but after taking notifyMu, so that notifications keep
// commit order). Changes whose alarm was deleted or changed since (generation mismatch) are dropped.
func (s *Service) commitLocked(ctx context.Context, ts []transition, now time.Time) error {
	type upd struct {
		e    *entry
		item HistoryItem
		from string
	}
	var ups []upd
	for _, t := range ts {
		old := s.alarms[t.name]
		if old == nil || old.gen != t.gen || old.a.StateValue == t.to {
			continue
		}
		e := *old
		e.gen++
		e.held = t.held
		e.a.StateValue, e.a.StateReason, e.a.StateReasonData = t.to, t.reason, t.data
		e.a.StateUpdated, e.a.StateTransitioned = now, now
		ups = append(ups, upd{e: &e, from: old.a.StateValue, item: HistoryItem{
			AlarmName: t.name, Timestamp: now, Type: "StateUpdate",
			Summary: fmt.Sprintf("Alarm updated from %s to %s", old.a.StateValue, t.to),
			Data: stateHistoryData(old.a.StateValue, old.a.StateReason, old.a.StateReasonData,
				t.to, t.reason, t.data),
		}})
	}
	if len(ups) == 0 {
		s.mu.Unlock()
		return nil
	}
	finals := make([]record, len(ups))
	err := s.st.Update(ctx, func(tx store.Tx) error {
		for i, u := range ups {
			finals[i] = u.e.record()
			if err := appendHistory(tx, &finals[i], u.item); err != nil {
				return err
			}
			if err := store.PutJSON(tx, alarmKey(u.e.a.Name), finals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("commit alarm state: %w", err)
	}
	changes := make([]Change, len(ups))
	for i, u := range ups {
		u.e.histSeq, u.e.histCount = finals[i].HistSeq, finals[i].HistCount
		s.alarms[u.e.a.Name] = u.e
		changes[i] = Change{AlarmName: u.e.a.Name, From: u.from, To: u.e.a.StateValue, Reason: u.e.a.StateReason, At: now}
	}
	s.notifyMu.Lock()
	s.mu.Unlock()
	defer s.notifyMu.Unlock()
	subs := s.subList.Load()
	for _, c := range changes {
		s.log.Info("alarm state changed", "alarm", c.AlarmName, "from", c.From, "to", c.To, "reason", c.Reason)
		if subs != nil {
			for _, fn := range *subs {
				fn(c)
			}
		}
	}
	return nil
}

// Run evaluates every alarm once a second, TickGrace after each whole second of the wall clock, until ctx ends.
// Evaluation only considers complete periods, so a sample cannot change an alarm before the period it belongs to
// ends: ticking on the boundaries is what bounds the reaction time (one period plus TickGrace).
func (s *Service) Run(ctx context.Context) {
	for {
		s.EvaluateAll(ctx)
		next := time.Now().Truncate(time.Second).Add(time.Second + TickGrace)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// EvaluateAll runs one evaluation pass over every alarm at the current time: it reads each alarm's metric, decides
// its state (see decide) and commits all the changes of the pass in one transaction before notifying the
// subscribers. Store failures are logged; the next pass retries them.
func (s *Service) EvaluateAll(ctx context.Context) {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	now := s.now()
	s.mu.RLock()
	snapshot := make([]*entry, 0, len(s.alarms))
	for _, e := range s.alarms {
		snapshot = append(snapshot, e)
	}
	s.mu.RUnlock()
	sort.Slice(snapshot, func(i, j int) bool { return snapshot[i].a.Name < snapshot[j].a.Name })
	var ts []transition
	cache := make(map[string]*windowCache, len(snapshot))
	for _, e := range snapshot {
		if ctx.Err() != nil {
			return
		}
		o, wc, err := s.evaluate(e, now, s.cache[e.a.Name])
		if err != nil {
			s.log.Error("alarm evaluation failed", "alarm", e.a.Name, "err", err)
			continue
		}
		if wc != nil {
			cache[e.a.Name] = wc
		}
		if o.state != "" && o.state != e.a.StateValue {
			reason, data := o.render()
			ts = append(ts, transition{name: e.a.Name, to: o.state, reason: reason, data: data, gen: e.gen})
		}
	}
	s.cache = cache
	if len(ts) == 0 {
		return
	}
	s.mu.Lock()
	if err := s.commitLocked(ctx, ts, now); err != nil {
		s.log.Error("alarm evaluation not committed", "err", err)
	}
}

// windowCache keeps the datapoints of an alarm's completed periods between passes: a period's aggregate only
// changes if a late sample lands in it, which metrics.Store.ChangedSince tells, so a pass normally aggregates
// only the period that just completed.
type windowCache struct {
	def     uint64
	version metrics.Version              // of the series when the cached datapoints were read (or last validated)
	windows map[int64]*metrics.Datapoint // period start (Unix seconds) → datapoint, nil when the period had none
}

// evaluate decides the state of one alarm at now; an empty outcome state keeps the current one. It returns the
// alarm's window cache for the next pass.
func (s *Service) evaluate(e *entry, now time.Time, wc *windowCache) (outcome, *windowCache, error) {
	d := &e.a.Definition
	if s.scale > 1 {
		scaled := *d
		scaled.Period = max(time.Second, (time.Duration(float64(d.Period) / s.scale)).Round(time.Second))
		d = &scaled
	}
	end := windowEnd(now, d.Period)
	if e.held && !end.After(e.a.StateUpdated) {
		return outcome{}, wc, nil // a SetState still holds
	}
	r := ruleOf(d, now)
	n := r.n + RangeExtra
	start := end.Add(-time.Duration(n) * d.Period)
	q := metrics.Query{Metric: d.Metric, Start: start, End: end, Period: d.Period, Unit: d.Unit}
	if d.ExtendedStatistic != "" {
		q.Percentiles = []string{d.ExtendedStatistic}
	}
	v := s.metrics.Version(d.Metric) // before reading: a write racing the read invalidates the cache next pass
	if start.Before(now.Add(-s.metrics.Retention())) {
		wc = nil // the range reaches the retention limit, where data expires without a write
	} else if wc == nil || wc.def != e.def || s.metrics.ChangedSince(d.Metric, wc.version, start, end) {
		wc = &windowCache{def: e.def, windows: make(map[int64]*metrics.Datapoint, n)}
	}
	var dps []metrics.Datapoint
	if wc == nil {
		var err error
		if dps, err = s.metrics.StatisticsUnaligned(q); err != nil {
			return outcome{}, nil, err
		}
	} else {
		period := int64(d.Period / time.Second)
		first, last := int64(0), int64(-1) // the periods to (re)read, as indexes
		for k := int64(0); k < int64(n); k++ {
			if _, ok := wc.windows[start.Unix()+k*period]; !ok {
				if last < 0 {
					first = k
				}
				last = k
			}
		}
		if last >= 0 {
			q.Start = start.Add(time.Duration(first) * d.Period)
			q.End = start.Add(time.Duration(last+1) * d.Period)
			fresh, err := s.metrics.StatisticsUnaligned(q)
			if err != nil {
				return outcome{}, nil, err
			}
			for k := first; k <= last; k++ {
				wc.windows[start.Unix()+k*period] = nil
			}
			for i := range fresh {
				wc.windows[fresh[i].Timestamp.Unix()] = &fresh[i]
			}
		}
		for ws := range wc.windows {
			if ws < start.Unix() {
				delete(wc.windows, ws)
			}
		}
		wc.version = v
		for k := int64(0); k < int64(n); k++ {
			if dp := wc.windows[start.Unix()+k*period]; dp != nil {
				dps = append(dps, *dp)
			}
		}
	}
	return decide(r, points(d, r, start, n, dps), e.a.StateValue), wc, nil
}

func unique(names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func cloneDefinition(d Definition) Definition {
	d.OKActions = slices.Clone(d.OKActions)
	d.AlarmActions = slices.Clone(d.AlarmActions)
	d.InsufficientDataActions = slices.Clone(d.InsufficientDataActions)
	d.Metric.Dimensions = slices.Clone(d.Metric.Dimensions)
	d.Tags = maps.Clone(d.Tags)
	return d
}

func cloneAlarm(a Alarm) Alarm {
	a.Definition = cloneDefinition(a.Definition)
	return a
}
