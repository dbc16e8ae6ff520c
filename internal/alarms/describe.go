package alarms

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store"
)

// Page sizes.
const (
	DefaultDescribeRecords = 50  // DescribeAlarms' default MaxRecords
	DefaultHistoryRecords  = 100 // DescribeAlarmHistory's default MaxRecords
	maxRecords             = 100
)

// DescribeFilter selects alarms (DescribeAlarms). Names and NamePrefix are mutually exclusive; every set field
// must match.
type DescribeFilter struct {
	Names        []string // exact names, at most 100
	NamePrefix   string
	State        string   // OK, ALARM or INSUFFICIENT_DATA
	ActionPrefix string   // matches an alarm with any OK, ALARM or INSUFFICIENT_DATA action starting with it
	Types        []string // TypeMetric, TypeComposite; none: every type
	MaxRecords   int      // 1..100; 0 means DefaultDescribeRecords
	NextToken    string
}

// HistoryFilter selects history items (DescribeAlarmHistory).
type HistoryFilter struct {
	Name       string    // "" = every alarm
	Type       string    // "" = any; ConfigurationUpdate, StateUpdate or Action
	Start, End time.Time // zero = unbounded; items with Start <= Timestamp <= End
	MaxRecords int       // 1..100; 0 means DefaultHistoryRecords
	NextToken  string
	Ascending  bool     // ScanBy TimestampAscending; the default is newest first
	Types      []string // the alarm types of the items; none: every type
}

func pageSize(n, def int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 1:
		return 0, constraint(n, "maxRecords", "Member must have value greater than or equal to 1")
	case n > maxRecords:
		return 0, constraint(n, "maxRecords", "Member must have value less than or equal to 100")
	}
	return n, nil
}

func badToken() error { return fault.New(CodeInvalidNextToken, "The next token specified is invalid.") }

func decodeToken(t string) (string, error) {
	if t == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) == 0 {
		return "", badToken()
	}
	return string(b), nil
}

func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Describe returns the alarms matching f, sorted by name, one page at a time (the returned token is empty on the
// last page).
//
// Errors: ValidationError (more than 100 names, bad state, MaxRecords out of 1..100), InvalidParameterCombination
// (Names with NamePrefix), InvalidNextToken.
func (s *Service) Describe(ctx context.Context, f DescribeFilter) ([]Alarm, string, error) {
	if len(f.Names) > 100 {
		return nil, "", constraint(f.Names, "alarmNames", "Member must have length less than or equal to 100")
	}
	if len(f.Names) > 0 && f.NamePrefix != "" {
		return nil, "", fault.New(CodeInvalidParameterCombination, "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.")
	}
	if f.State != "" && !slices.Contains(states, f.State) {
		return nil, "", enumConstraint(f.State, "stateValue", states)
	}
	size, err := pageSize(f.MaxRecords, DefaultDescribeRecords)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(f.NextToken)
	if err != nil {
		return nil, "", err
	}
	var names map[string]bool
	if len(f.Names) > 0 {
		names = make(map[string]bool, len(f.Names))
		for _, n := range f.Names {
			names[n] = true
		}
	}
	s.mu.RLock()
	var hits []Alarm
	for name, e := range s.alarms {
		a := &e.a
		if (names != nil && !names[name]) || !strings.HasPrefix(name, f.NamePrefix) ||
			(f.State != "" && a.StateValue != f.State) || (after != "" && name <= after) ||
			(f.ActionPrefix != "" && !hasActionPrefix(a, f.ActionPrefix)) ||
			(len(f.Types) > 0 && !slices.Contains(f.Types, a.Type())) {
			continue
		}
		hits = append(hits, cloneAlarm(*a))
	}
	s.mu.RUnlock()
	slices.SortFunc(hits, func(a, b Alarm) int { return strings.Compare(a.Name, b.Name) })
	next := ""
	if len(hits) > size {
		hits = hits[:size]
		next = encodeToken(hits[size-1].Name)
	}
	return hits, next, nil
}

func hasActionPrefix(a *Alarm, prefix string) bool {
	for _, l := range [][]string{a.AlarmActions, a.OKActions, a.InsufficientDataActions} {
		for _, act := range l {
			if strings.HasPrefix(act, prefix) {
				return true
			}
		}
	}
	return false
}

// ForMetric returns the alarms on one metric (DescribeAlarmsForMetric), sorted by name: the namespace, name and
// dimensions must equal id's (in any order); statistic, extended, period and unit filter when set.
func (s *Service) ForMetric(ctx context.Context, id metrics.MetricID, statistic, extended string, period time.Duration, unit string) ([]Alarm, error) {
	id = metrics.NewMetricID(id.Namespace, id.Name, id.Dimensions...)
	s.mu.RLock()
	var hits []Alarm
	for _, e := range s.alarms {
		d := &e.a.Definition
		if d.Metric.Namespace != id.Namespace || d.Metric.Name != id.Name || !slices.Equal(d.Metric.Dimensions, id.Dimensions) ||
			(statistic != "" && d.Statistic != statistic) || (extended != "" && d.ExtendedStatistic != extended) ||
			(period != 0 && d.Period != period) || (unit != "" && d.Unit != unit) {
			continue
		}
		hits = append(hits, cloneAlarm(e.a))
	}
	s.mu.RUnlock()
	slices.SortFunc(hits, func(a, b Alarm) int { return strings.Compare(a.Name, b.Name) })
	return hits, nil
}

type histHit struct {
	key  string
	ts   int64
	item HistoryItem
}

// History returns history items (DescribeAlarmHistory), newest first unless f.Ascending, one page at a time.
// Each alarm keeps its last MaxHistoryPerAlarm items; deleting an alarm deletes its history.
//
// Errors: ValidationError (bad Type, MaxRecords out of 1..100), InvalidNextToken.
func (s *Service) History(ctx context.Context, f HistoryFilter) ([]HistoryItem, string, error) {
	if f.Type != "" && !slices.Contains(historyTypes, f.Type) {
		return nil, "", enumConstraint(f.Type, "historyItemType", historyTypes)
	}
	size, err := pageSize(f.MaxRecords, DefaultHistoryRecords)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(f.NextToken)
	if err != nil {
		return nil, "", err
	}
	var afterTS int64
	if after != "" {
		if afterTS, err = keyTime(after); err != nil {
			return nil, "", badToken()
		}
	}
	prefix := histPrefix
	if f.Name != "" {
		prefix = histAlarmPrefix(f.Name)
	}
	var hits []histHit
	err = s.st.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefix, "", func(k string, v []byte) (bool, error) {
			var r histRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			alarmType := r.AlarmType
			if alarmType == "" {
				alarmType = TypeMetric
			}
			if (f.Type != "" && r.Type != f.Type) || (!f.Start.IsZero() && r.Timestamp.Before(f.Start)) ||
				(len(f.Types) > 0 && !slices.Contains(f.Types, alarmType)) ||
				(!f.End.IsZero() && r.Timestamp.After(f.End)) {
				return true, nil
			}
			ts, err := keyTime(k)
			if err != nil {
				return false, err
			}
			hits = append(hits, histHit{key: k, ts: ts, item: HistoryItem{
				AlarmName: r.AlarmName, AlarmType: alarmType, Timestamp: r.Timestamp, Type: r.Type, Summary: r.Summary, Data: r.Data}})
			return true, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	order := func(a, b histHit) int {
		c := cmp.Or(cmp.Compare(a.ts, b.ts), strings.Compare(a.key, b.key))
		if !f.Ascending {
			c = -c
		}
		return c
	}
	slices.SortFunc(hits, order)
	if after != "" {
		mark := histHit{key: after, ts: afterTS}
		i, _ := slices.BinarySearchFunc(hits, mark, order)
		for i < len(hits) && order(hits[i], mark) <= 0 {
			i++
		}
		hits = hits[i:]
	}
	next := ""
	if len(hits) > size {
		hits = hits[:size]
		next = encodeToken(hits[size-1].key)
	}
	out := make([]HistoryItem, len(hits))
	for i, h := range hits {
		out[i] = h.item
	}
	return out, next, nil
}

// keyTime extracts the nanosecond timestamp from a history key (…/<20 digits>-<10 digits>).
func keyTime(k string) (int64, error) {
	const tail = 20 + 1 + 10
	if len(k) < tail || !strings.HasPrefix(k, histPrefix) {
		return 0, badToken()
	}
	var ts int64
	for _, c := range k[len(k)-tail : len(k)-11] {
		if c < '0' || c > '9' {
			return 0, badToken()
		}
		ts = ts*10 + int64(c-'0')
	}
	return ts, nil
}
