package alarms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metricmath"
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
	// Metrics is where the evaluator reads the alarms' metrics: this process's *metrics.Store, or in a cluster the
	// *metrics.Cluster that merges every node's.
	Metrics MetricReader
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
	// Progress is where the alarms' cache reports how far it applied the store's changes, and what writes wait on
	// (nil: a private one).
	Progress *store.Progress
}

// MetricReader is what the evaluator reads: metrics.Store's query methods, which metrics.Cluster also has.
type MetricReader interface {
	Retention() time.Duration
	Version(id metrics.MetricID) metrics.Version
	ChangedSince(id metrics.MetricID, v metrics.Version, from, to time.Time) bool
	StatisticsUnaligned(q metrics.Query) ([]metrics.Datapoint, error)
}

var (
	_ MetricReader = (*metrics.Store)(nil)
	_ MetricReader = (*metrics.Cluster)(nil)
)

// Service owns the alarms. It is safe for concurrent use.
//
// Locking: mu guards the in-memory alarms and the subscriber list and is never held across a store transaction or
// a subscriber call. A mutation decides inside its store transaction, from the stored records (the store
// serialises write transactions, so that is the one serialisation point); only the watch (cache.go) changes the
// in-memory alarms, one commit at a time in revision order, and a mutation returns once it has applied the
// mutation's commit (read-your-writes).
type Service struct {
	st        store.Store
	metrics   MetricReader
	region    string
	account   string
	now       func() time.Time
	log       *slog.Logger
	maxAlarms int
	scale     float64

	progress *store.Progress
	applied  *store.Applied // how far the watch has applied the store to alarms

	mu      sync.RWMutex // guards alarms and subs; never held across a store write
	alarms  map[string]*entry
	subsSeq uint64
	subs    map[uint64]*subscriber

	// childChanged is signalled (never blocking) when the cache applies a state change and there are composite
	// alarms: Run then evaluates them.
	childChanged chan struct{}

	evalMu sync.Mutex              // one pass decides at a time; guards cache (released before the pass commits)
	cache  map[string]*windowCache // per alarm: datapoints of completed periods
	defSeq atomic.Uint64           // numbers definitions (entry.def)
}

// entry is an alarm in memory. Entries are never modified once cached in Service.alarms: the watch replaces the
// entry, so an evaluation pass may read a snapshot without holding the lock.
type entry struct {
	a         Alarm
	held      bool
	histSeq   uint64
	histCount int
	gen       int64  // record.Gen: identifies the record an evaluation decided from; it commits only if it still matches
	def       uint64 // identifies the definition (changes when the definition does): keys the evaluator's cache
}

func (s *Service) entryOf(r *record) *entry {
	return &entry{a: r.alarm(s.region, s.account), held: r.Held, histSeq: r.HistSeq, histCount: r.HistCount, gen: r.Gen}
}

// New loads the alarms from the store and follows the store's changes to them until the store closes (cache.go):
// from then on, an alarm written by any process sharing the store is in this one's memory too.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Metrics == nil {
		return nil, errors.New("alarms: Options.Store and Options.Metrics are required")
	}
	s := &Service{
		st: o.Store, metrics: o.Metrics, region: o.Region, account: o.AccountID,
		now: o.Now, log: o.Logger, maxAlarms: o.MaxAlarms, scale: o.TimeScale,
		alarms: make(map[string]*entry), subs: make(map[uint64]*subscriber),
		cache: make(map[string]*windowCache), progress: o.Progress, childChanged: make(chan struct{}, 1),
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
	if s.progress == nil {
		s.progress = store.NewProgress()
	}
	s.applied = s.progress.Register("alarms")
	rev, err := s.load(context.Background())
	if err != nil {
		return nil, fmt.Errorf("alarms: load: %w", err)
	}
	s.applied.Advance(rev)
	go s.follow(context.Background(), rev) // ends with ErrClosed when the store closes
	return s, nil
}

// getRecord reads an alarm's record; false when there is none.
func getRecord(tx store.Tx, name string) (record, bool, error) {
	var r record
	err := store.GetJSON(tx, alarmKey(name), &r)
	if errors.Is(err, store.ErrNotFound) {
		return record{}, false, nil
	}
	return r, err == nil, err
}

// Put creates or replaces an alarm (PutMetricAlarm). A new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial
// alarm creation") and is evaluated on the next pass; an update keeps the state, the state's timestamps and the
// tags (CloudWatch ignores Tags on update) and ends a SetState hold. Either way a ConfigurationUpdate history item
// is recorded. DatapointsToAlarm, TreatMissingData and EvaluateLowSampleCountPercentile are kept as given (empty
// or zero when not set, as DescribeAlarms shows them) and defaulted at evaluation; ActionsEnabled is taken as
// given: the API edge applies its default (true).
//
// Errors: ValidationError, MissingParameter, InvalidParameterValue, InvalidParameterCombination (see validate.go
// for each rule and message) and LimitExceeded when the alarm quota is reached (counted in memory, so alarms
// created concurrently may pass it by the number of creations in flight).
func (s *Service) Put(ctx context.Context, d Definition) error {
	d = cloneDefinition(d)
	if err := validate(&d, s.metrics.Retention()); err != nil {
		return err
	}
	now := s.now()
	var refused error
	err := s.commit(ctx, func(tx store.Tx) error {
		refused = nil
		old, exists, err := getRecord(tx, d.Name)
		if err != nil {
			return err
		}
		if exists && old.AlarmRule != "" {
			refused = fault.New(CodeValidationError, "The alarm %s is a composite alarm: PutMetricAlarm cannot replace it.", d.Name)
			return refused
		}
		dd := d
		var a Alarm
		var before *Alarm
		summary := fmt.Sprintf("Alarm %q created", d.Name)
		if exists {
			b := old.alarm(s.region, s.account)
			before = &b
			summary = fmt.Sprintf("Alarm %q updated", d.Name)
			dd.Tags = b.Tags
			a = b
			a.Definition = dd
		} else {
			s.mu.RLock()
			n := len(s.alarms)
			s.mu.RUnlock()
			if n >= s.maxAlarms {
				refused = fault.New(CodeLimitExceeded, "The quota for alarms for this customer has already been reached.")
				return refused
			}
			a = Alarm{
				Definition: dd, StateValue: StateInsufficientData, StateReason: reasonCreated,
				StateUpdated: now, StateTransitioned: now, ARN: arn(s.region, s.account, d.Name),
			}
		}
		a.ConfigurationUpdated = now
		r := toRecord(&a)
		r.HistSeq, r.HistCount, r.Gen = old.HistSeq, old.HistCount, tx.Revision()
		item := HistoryItem{AlarmName: d.Name, AlarmType: TypeMetric, Timestamp: now, Type: "ConfigurationUpdate", Summary: summary,
			Data: configHistoryData(before, &a)}
		if err := appendHistory(tx, &r, item); err != nil {
			return err
		}
		return store.PutJSON(tx, alarmKey(d.Name), r)
	})
	if refused != nil && errors.Is(err, refused) {
		return refused
	}
	if err != nil {
		return fmt.Errorf("put alarm %q: %w", d.Name, err)
	}
	return nil
}

// Delete removes alarms and their history (DeleteAlarms). Either all are deleted or none: ResourceNotFound when
// any does not exist; ValidationError when a request names more than one composite alarm (CloudWatch's limit) or
// an alarm that a composite alarm not deleted with it names ("Cannot delete a,b as there are composite alarm(s)
// depending on them.").
func (s *Service) Delete(ctx context.Context, names []string) error {
	if len(names) > 100 {
		return constraint(names, "alarmNames", "Member must have length less than or equal to 100")
	}
	names = unique(names)
	deleting := make(map[string]bool, len(names))
	for _, n := range names {
		deleting[n] = true
	}
	var refused error
	err := s.commit(ctx, func(tx store.Tx) error {
		refused = nil
		missing, composites := 0, 0
		for _, n := range names {
			r, ok, err := getRecord(tx, n)
			if err != nil {
				return err
			}
			switch {
			case !ok:
				missing++
			case r.AlarmRule != "":
				composites++
			}
		}
		if missing > 0 {
			refused = fault.New(CodeResourceNotFound, "%d out of %d alarm(s) not found", missing, len(names))
			return refused
		}
		if composites > 1 {
			refused = fault.New(CodeValidationError, "A DeleteAlarms request can delete at most one composite alarm; this one names %d.", composites)
			return refused
		}
		depended, err := s.dependedOn(tx, deleting)
		if err != nil {
			return err
		}
		if len(depended) > 0 {
			pronoun := "it"
			if len(depended) > 1 {
				pronoun = "them"
			}
			refused = fault.New(CodeValidationError, "Cannot delete %s as there are composite alarm(s) depending on %s.", strings.Join(depended, ","), pronoun)
			return refused
		}
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
	if refused != nil && errors.Is(err, refused) {
		return refused
	}
	if err != nil {
		return fmt.Errorf("delete alarms: %w", err)
	}
	return nil
}

// dependedOn lists, in request order, the alarms being deleted that a composite alarm not being deleted names.
func (s *Service) dependedOn(tx store.Tx, deleting map[string]bool) ([]string, error) {
	named := map[string]bool{}
	err := tx.Scan(alarmPrefix, "", func(k string, v []byte) (bool, error) {
		if !bytes.Contains(v, []byte(`"alarmRule"`)) {
			return true, nil
		}
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("decode %s: %w", k, err)
		}
		if r.AlarmRule == "" || deleting[r.Name] {
			return true, nil
		}
		if _, children, err := parseRule(r.AlarmRule); err == nil {
			for _, ref := range children {
				named[childName(ref, s.region, s.account)] = true
			}
		}
		return true, nil
	})
	var out []string
	for n := range deleting {
		if named[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, err
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
	now := s.now()
	var refused error
	err := s.commit(ctx, func(tx store.Tx) error {
		refused = nil
		r, ok, err := getRecord(tx, name)
		if err != nil {
			return err
		}
		if !ok {
			refused = fault.New(CodeResourceNotFound, "Alarm %s not found", name)
			return refused
		}
		if r.StateValue == state {
			return nil
		}
		return putTransition(tx, &r, transition{name: name, to: state, reason: reason, data: reasonData, held: true}, now)
	})
	if refused != nil && errors.Is(err, refused) {
		return refused
	}
	if err != nil {
		return fmt.Errorf("set alarm state: %w", err)
	}
	return nil
}

// SetActionsEnabled turns alarm actions on or off (EnableAlarmActions / DisableAlarmActions). Unknown names are
// ignored, as CloudWatch does.
func (s *Service) SetActionsEnabled(ctx context.Context, names []string, enabled bool) error {
	if len(names) > 100 {
		return constraint(names, "alarmNames", "Member must have length less than or equal to 100")
	}
	names = unique(names)
	err := s.commit(ctx, func(tx store.Tx) error {
		for _, n := range names {
			r, ok, err := getRecord(tx, n)
			if err != nil {
				return err
			}
			if !ok || r.ActionsEnabled == enabled {
				continue
			}
			r.ActionsEnabled, r.Gen = enabled, tx.Revision()
			if err := store.PutJSON(tx, alarmKey(n), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set actions enabled: %w", err)
	}
	return nil
}

// Subscribe registers fn to be called on every state change, committed by this process or by another one sharing
// the store, once this process's cache has applied it (so reads here see it). Each subscriber has its own
// goroutine and queue: fn is called one change at a time, in revision order,
// and a slow fn delays neither the evaluator, nor mutations, nor the other subscribers. While more than
// maxQueued changes wait for a subscriber, a further change of an alarm that already has one waiting is merged
// into it (its From kept, its To, Reason and At replaced: the latest state matters most), so a stuck subscriber
// holds at most maxQueued changes plus one per alarm. fn may call any method of the service. cancel unregisters
// it: no call starts after cancel returns (one in progress may finish), and changes still queued are dropped;
// it is idempotent and may be called from fn.
func (s *Service) Subscribe(fn func(Change)) (cancel func()) {
	sub := &subscriber{fn: fn}
	sub.cond.L = &sub.mu
	s.mu.Lock()
	s.subsSeq++
	id := s.subsSeq
	s.subs[id] = sub
	s.mu.Unlock()
	go sub.run()
	return sync.OnceFunc(func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
		sub.close()
	})
}

// maxQueued is how many changes a subscriber's queue holds before it merges changes of one alarm.
const maxQueued = 256

// subscriber is one Subscribe: its queue of changes and the goroutine that calls fn.
type subscriber struct {
	fn     func(Change)
	mu     sync.Mutex
	cond   sync.Cond // on mu: the queue grew, the subscriber closed or went idle
	queue  []Change
	busy   bool // fn is running
	closed bool
}

func (sub *subscriber) push(c Change) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return
	}
	if len(sub.queue) >= maxQueued {
		for i := len(sub.queue) - 1; i >= 0; i-- {
			if q := &sub.queue[i]; q.AlarmName == c.AlarmName {
				q.To, q.Reason, q.At = c.To, c.Reason, c.At
				return
			}
		}
	}
	sub.queue = append(sub.queue, c)
	sub.cond.Broadcast()
}

func (sub *subscriber) run() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for {
		for len(sub.queue) == 0 && !sub.closed {
			sub.busy = false
			sub.cond.Broadcast()
			sub.cond.Wait()
		}
		if sub.closed {
			sub.busy = false
			sub.cond.Broadcast()
			return
		}
		c := sub.queue[0]
		sub.queue[0] = Change{}
		sub.queue = sub.queue[1:]
		sub.busy = true
		sub.mu.Unlock()
		sub.fn(c)
		sub.mu.Lock()
	}
}

func (sub *subscriber) close() {
	sub.mu.Lock()
	sub.closed = true
	sub.queue = nil
	sub.cond.Broadcast()
	sub.mu.Unlock()
}

// transition is a state change to commit.
type transition struct {
	name         string
	to           string
	reason, data string
	held         bool
	gen          int64 // the entry generation an evaluation decided from
}

// putTransition applies t to the stored record r in tx, with its StateUpdate history item. Subscribers hear of
// it from the watch (cache.go), on every process sharing the store.
func putTransition(tx store.Tx, r *record, t transition, now time.Time) error {
	from := r.StateValue
	alarmType := TypeMetric
	if r.AlarmRule != "" {
		alarmType = TypeComposite
	}
	item := HistoryItem{
		AlarmName: t.name, AlarmType: alarmType, Timestamp: now, Type: "StateUpdate",
		Summary: fmt.Sprintf("Alarm updated from %s to %s", from, t.to),
		Data:    stateHistoryData(from, r.StateReason, r.StateReasonData, t.to, t.reason, t.data),
	}
	r.Held = t.held
	r.StateValue, r.StateReason, r.StateReasonData = t.to, t.reason, t.data
	r.StateUpdated, r.StateTransitioned = now, now
	r.Gen = tx.Revision()
	if err := appendHistory(tx, r, item); err != nil {
		return err
	}
	return store.PutJSON(tx, alarmKey(t.name), *r)
}

// commitTransitions commits an evaluation pass's state changes in one transaction; a change whose alarm was
// deleted or changed since the pass read it (Gen mismatch), or is already in the target state, is dropped.
func (s *Service) commitTransitions(ctx context.Context, ts []transition, now time.Time) error {
	err := s.commit(ctx, func(tx store.Tx) error {
		for _, t := range ts {
			r, ok, err := getRecord(tx, t.name)
			if err != nil {
				return err
			}
			if !ok || r.Gen != t.gen || r.StateValue == t.to {
				continue
			}
			if err := putTransition(tx, &r, t, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit alarm state: %w", err)
	}
	return nil
}

// Run evaluates every alarm once a second, TickGrace after each whole second of the wall clock, until ctx ends.
// Evaluation only considers complete periods, so a sample cannot change an alarm before the period it belongs to
// ends: ticking on the boundaries is what bounds the reaction time (one period plus TickGrace).
//
// Between two ticks, a state change the cache applies (s.childChanged) makes it evaluate the composite alarms at
// once, so a composite follows a child changed by SetAlarmState or by another process within milliseconds.
func (s *Service) Run(ctx context.Context) {
	for {
		s.EvaluateAll(ctx)
		next := time.Now().Truncate(time.Second).Add(time.Second + TickGrace)
		t := time.NewTimer(time.Until(next))
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.childChanged:
				s.EvaluateComposites(ctx)
			case <-t.C:
				break wait
			}
		}
	}
}

// EvaluateAll runs one evaluation pass over every alarm at the current time: it reads each alarm's metric, decides
// its state (see decide) and commits all the changes of the pass in one transaction, which the cache then queues
// for the subscribers. Store failures are logged; the next pass retries them. A pass holds no lock while it
// commits.
func (s *Service) EvaluateAll(ctx context.Context) {
	now := s.now()
	ts := s.decidePass(ctx, now)
	if len(ts) == 0 {
		return
	}
	if err := s.commitTransitions(ctx, ts, now); err != nil {
		s.log.Error("alarm evaluation not committed", "err", err)
	}
}

// decidePass evaluates every alarm of a snapshot at now and returns the state changes.
func (s *Service) decidePass(ctx context.Context, now time.Time) []transition {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
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
			return nil
		}
		if e.a.AlarmRule != "" {
			continue // composite alarms follow their children: decideComposites
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
	return append(ts, s.decideComposites(snapshot, ts, now)...)
}

// EvaluateComposites evaluates the composite alarms alone, over the states in memory: what a child's state change
// committed elsewhere (SetAlarmState, another process's evaluation) calls for as soon as the cache applies it.
func (s *Service) EvaluateComposites(ctx context.Context) {
	now := s.now()
	s.evalMu.Lock()
	s.mu.RLock()
	snapshot := make([]*entry, 0, len(s.alarms))
	for _, e := range s.alarms {
		snapshot = append(snapshot, e)
	}
	s.mu.RUnlock()
	sort.Slice(snapshot, func(i, j int) bool { return snapshot[i].a.Name < snapshot[j].a.Name })
	ts := s.decideComposites(snapshot, nil, now)
	s.evalMu.Unlock()
	if len(ts) == 0 {
		return
	}
	if err := s.commitTransitions(ctx, ts, now); err != nil {
		s.log.Error("composite alarm evaluation not committed", "err", err)
	}
}

// windowCache keeps the datapoints of an alarm's completed periods between passes: a period's aggregate only
// changes if a late sample lands in it, which metrics.Store.ChangedSince tells, so a pass normally aggregates
// only the period that just completed — of each metric, for a metric-math alarm, whose compiled queries it keeps
// too.
type windowCache struct {
	def    uint64
	series map[string]*seriesWindows // by query id; "" for a single-metric alarm
	prog   *metricmath.Program
	// A metric-math alarm's datapoints of the range ending at end: the same until a period completes or a metric
	// of the alarm is read again.
	end    time.Time
	points []point
}

// seriesWindows is the cached datapoints of one metric of an alarm.
type seriesWindows struct {
	version metrics.Version              // of the series when the cached datapoints were read (or last validated)
	windows map[int64]*metrics.Datapoint // period start (Unix seconds) → datapoint, nil when the period had none
}

// evaluate decides the state of one alarm at now; an empty outcome state keeps the current one. It returns the
// alarm's window cache for the next pass. Composite alarms are decided by decideComposites.
func (s *Service) evaluate(e *entry, now time.Time, wc *windowCache) (outcome, *windowCache, error) {
	d := &e.a.Definition
	period := d.evaluationPeriod()
	if s.scale > 1 {
		period = max(time.Second, (time.Duration(float64(period) / s.scale)).Round(time.Second))
	}
	end := windowEnd(now, period)
	if e.held && !end.After(e.a.StateUpdated) {
		return outcome{}, wc, nil // a SetState still holds
	}
	r := ruleOf(d, now)
	r.periodSec = int64(period / time.Second)
	n := r.n + RangeExtra
	start := end.Add(-time.Duration(n) * period)
	if wc == nil || wc.def != e.def {
		wc = &windowCache{def: e.def, series: map[string]*seriesWindows{}}
	}
	if len(d.Metrics) == 0 {
		q := metrics.Query{Metric: d.Metric, Start: start, End: end, Period: period, Unit: d.Unit}
		if d.ExtendedStatistic != "" {
			q.Percentiles = []string{d.ExtendedStatistic}
		}
		dps, _, err := s.datapoints(q, n, wc, "", now)
		if err != nil {
			return outcome{}, nil, err
		}
		scaled := *d
		scaled.Period = period
		return decide(r, points(&scaled, r, start, n, dps), e.a.StateValue), wc, nil
	}

	// A metric-math alarm: each metric's datapoints, then the expressions, then the returned series' datapoints.
	if wc.prog == nil {
		mq := make([]metricmath.Query, len(d.Metrics))
		for i, q := range d.Metrics {
			mq[i] = metricmath.Query{ID: q.ID, Expression: q.Expression, Label: q.Label, Period: int64(period / time.Second)}
		}
		prog, err := metricmath.Compile(mq)
		if err != nil {
			return outcome{}, nil, err // validate compiled it: only a record of another version could fail here
		}
		wc.prog = prog
	}
	type read struct {
		q   MetricQuery
		dps []metrics.Datapoint
	}
	var reads []read
	returned, reread := "", false
	for _, mq := range d.Metrics {
		if mq.ReturnData {
			returned = mq.ID
		}
		if mq.Expression != "" || !mq.ReturnData && !wc.prog.Used(mq.ID) {
			continue
		}
		q := metrics.Query{Metric: mq.Metric, Start: start, End: end, Period: period, Unit: mq.Unit}
		if !metrics.IsStandardStatistic(mq.Stat) {
			q.Percentiles = []string{mq.Stat}
		}
		dps, fresh, err := s.datapoints(q, n, wc, mq.ID, now)
		if err != nil {
			return outcome{}, nil, err
		}
		reread = reread || fresh
		reads = append(reads, read{mq, dps})
	}
	if reread || !wc.end.Equal(end) || wc.points == nil {
		grid := metricmath.Grid{Start: start.Unix(), End: end.Unix(), Period: int64(period / time.Second)}
		data := make(map[string]metricmath.Series, len(reads))
		for _, rd := range reads {
			series := metricmath.Series{Grid: grid}
			for _, dp := range rd.dps {
				if v, ok := dp.Statistic(rd.q.Stat); ok {
					series.Times, series.Values = append(series.Times, dp.Timestamp.Unix()), append(series.Values, v)
				}
			}
			data[rd.q.ID] = series
		}
		result := wc.prog.Run(data, grid)[returned]
		var series metricmath.Series
		if len(result.Series) > 0 {
			series = result.Series[0]
		}
		wc.end, wc.points = end, mathPoints(r, start, period, n, series)
	}
	return decide(r, wc.points, e.a.StateValue), wc, nil
}

// datapoints returns the datapoints of q's n periods from q.Start, reading again only the periods the cache lacks
// and, when the series changed in the range (a late sample), all of them; fresh tells whether any was read.
func (s *Service) datapoints(q metrics.Query, n int, wc *windowCache, key string, now time.Time) (dps []metrics.Datapoint, fresh bool, err error) {
	start := q.Start
	v := s.metrics.Version(q.Metric) // before reading: a write racing the read invalidates the cache next pass
	sw := wc.series[key]
	if start.Before(now.Add(-s.metrics.Retention())) {
		// The range reaches the retention limit, where data expires without a write: no cache.
		delete(wc.series, key)
		dps, err := s.metrics.StatisticsUnaligned(q)
		return dps, true, err
	}
	if sw == nil || s.metrics.ChangedSince(q.Metric, sw.version, q.Start, q.End) {
		sw = &seriesWindows{windows: make(map[int64]*metrics.Datapoint, n)}
		wc.series[key] = sw
	}
	period := int64(q.Period / time.Second)
	first, last := int64(0), int64(-1) // the periods to (re)read, as indexes
	for k := int64(0); k < int64(n); k++ {
		if _, ok := sw.windows[start.Unix()+k*period]; !ok {
			if last < 0 {
				first = k
			}
			last = k
		}
	}
	if last >= 0 {
		fq := q
		fq.Start = start.Add(time.Duration(first) * q.Period)
		fq.End = start.Add(time.Duration(last+1) * q.Period)
		read, err := s.metrics.StatisticsUnaligned(fq)
		if err != nil {
			delete(wc.series, key)
			return nil, false, err
		}
		for k := first; k <= last; k++ {
			sw.windows[start.Unix()+k*period] = nil
		}
		for i := range read {
			sw.windows[read[i].Timestamp.Unix()] = &read[i]
		}
		fresh = true
	}
	for ws := range sw.windows {
		if ws < start.Unix() {
			delete(sw.windows, ws)
		}
	}
	sw.version = v
	for k := int64(0); k < int64(n); k++ {
		if dp := sw.windows[start.Unix()+k*period]; dp != nil {
			dps = append(dps, *dp)
		}
	}
	return dps, fresh, nil
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
	d.Metrics = slices.Clone(d.Metrics)
	for i := range d.Metrics {
		d.Metrics[i].Metric.Dimensions = slices.Clone(d.Metrics[i].Metric.Dimensions)
	}
	return d
}

func cloneAlarm(a Alarm) Alarm {
	a.Definition = cloneDefinition(a.Definition)
	return a
}
