package alarms

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/metrics"
	"github.com/sluice-dev/sluice/internal/store"
)

// Store layout (keys this package owns):
//
//	alarm/<name>                            record: definition, state, hold flag, history counters
//	alarmhist/<escaped name>/<ns>-<seq>     histRecord; <ns> is the item's Unix time in nanoseconds, 20 digits,
//	                                        <seq> a per-alarm counter, 10 digits; the name escapes % and /
//
// so that one alarm's history is one ordered prefix that no other alarm's shares.
const (
	alarmPrefix = "alarm/"
	histPrefix  = "alarmhist/"
)

func alarmKey(name string) string { return alarmPrefix + name }

var nameEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

func histAlarmPrefix(name string) string { return histPrefix + nameEscaper.Replace(name) + "/" }

func histKey(name string, t time.Time, seq uint64) string {
	return fmt.Sprintf("%s%020d-%010d", histAlarmPrefix(name), t.UnixNano(), seq)
}

type dimRecord struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// record is the stored form of an alarm (explicit JSON names, so the Go types can evolve).
type record struct {
	Name                             string            `json:"name"`
	Description                      string            `json:"description,omitempty"`
	ActionsEnabled                   bool              `json:"actionsEnabled"`
	OKActions                        []string          `json:"okActions,omitempty"`
	AlarmActions                     []string          `json:"alarmActions,omitempty"`
	InsufficientDataActions          []string          `json:"insufficientDataActions,omitempty"`
	Namespace                        string            `json:"namespace"`
	MetricName                       string            `json:"metricName"`
	Dimensions                       []dimRecord       `json:"dimensions,omitempty"`
	Statistic                        string            `json:"statistic,omitempty"`
	ExtendedStatistic                string            `json:"extendedStatistic,omitempty"`
	PeriodSeconds                    int64             `json:"period"`
	Unit                             string            `json:"unit,omitempty"`
	EvaluationPeriods                int               `json:"evaluationPeriods"`
	DatapointsToAlarm                int               `json:"datapointsToAlarm,omitempty"`
	Threshold                        float64           `json:"threshold"`
	ComparisonOperator               string            `json:"comparisonOperator"`
	TreatMissingData                 string            `json:"treatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile string            `json:"evaluateLowSampleCountPercentile,omitempty"`
	Tags                             map[string]string `json:"tags,omitempty"`
	ConfigurationUpdated             time.Time         `json:"configurationUpdated"`
	StateValue                       string            `json:"stateValue"`
	StateReason                      string            `json:"stateReason"`
	StateReasonData                  string            `json:"stateReasonData,omitempty"`
	StateUpdated                     time.Time         `json:"stateUpdated"`
	StateTransitioned                time.Time         `json:"stateTransitioned"`
	// Held is set by SetState: the forced state stands until the alarm's next evaluation instant.
	Held                             bool          `json:"held,omitempty"`
	HistSeq                          uint64        `json:"histSeq"`
	HistCount                        int           `json:"histCount"`
	Metrics                          []queryRecord `json:"metrics,omitempty"`
	AlarmRule                        string        `json:"alarmRule,omitempty"`
	ActionsSuppressor                string        `json:"actionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod      int           `json:"actionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod int           `json:"actionsSuppressorExtensionPeriod,omitempty"`
	// Gen is the revision the transaction that last wrote the record read (Tx.Revision): two writes of one record
	// conflict, so each has its own, and an evaluation pass commits a change only if the record still has the Gen
	// it decided from (compare-and-swap). Zero in records written before it existed.
	Gen int64 `json:"gen,omitempty"`
}

// queryRecord is the stored form of a MetricQuery.
type queryRecord struct {
	ID         string      `json:"id"`
	Label      string      `json:"label,omitempty"`
	ReturnData bool        `json:"returnData,omitempty"`
	Expression string      `json:"expression,omitempty"`
	Namespace  string      `json:"namespace,omitempty"`
	MetricName string      `json:"metricName,omitempty"`
	Dimensions []dimRecord `json:"dimensions,omitempty"`
	Stat       string      `json:"stat,omitempty"`
	Period     int64       `json:"period,omitempty"`
	Unit       string      `json:"unit,omitempty"`
}

func toQueryRecords(qs []MetricQuery) []queryRecord {
	if len(qs) == 0 {
		return nil
	}
	out := make([]queryRecord, len(qs))
	for i, q := range qs {
		r := queryRecord{ID: q.ID, Label: q.Label, ReturnData: q.ReturnData, Expression: q.Expression,
			Namespace: q.Metric.Namespace, MetricName: q.Metric.Name, Stat: q.Stat, Period: int64(q.Period / time.Second), Unit: q.Unit}
		for _, d := range q.Metric.Dimensions {
			r.Dimensions = append(r.Dimensions, dimRecord{d.Name, d.Value})
		}
		out[i] = r
	}
	return out
}

func fromQueryRecords(rs []queryRecord) []MetricQuery {
	if len(rs) == 0 {
		return nil
	}
	out := make([]MetricQuery, len(rs))
	for i, r := range rs {
		q := MetricQuery{ID: r.ID, Label: r.Label, ReturnData: r.ReturnData, Expression: r.Expression, Stat: r.Stat,
			Period: time.Duration(r.Period) * time.Second, Unit: r.Unit}
		if r.Expression == "" {
			dims := make([]metrics.Dimension, len(r.Dimensions))
			for j, d := range r.Dimensions {
				dims[j] = metrics.Dimension{Name: d.Name, Value: d.Value}
			}
			q.Metric = metrics.NewMetricID(r.Namespace, r.MetricName, dims...)
		}
		out[i] = q
	}
	return out
}

func toRecord(a *Alarm) record {
	r := record{
		Name: a.Name, Description: a.Description, ActionsEnabled: a.ActionsEnabled,
		OKActions: a.OKActions, AlarmActions: a.AlarmActions, InsufficientDataActions: a.InsufficientDataActions,
		Namespace: a.Metric.Namespace, MetricName: a.Metric.Name,
		Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic, PeriodSeconds: int64(a.Period / time.Second),
		Unit: a.Unit, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm,
		Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData,
		EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile, Tags: a.Tags,
		ConfigurationUpdated: a.ConfigurationUpdated, StateValue: a.StateValue, StateReason: a.StateReason,
		StateReasonData: a.StateReasonData, StateUpdated: a.StateUpdated, StateTransitioned: a.StateTransitioned,
		Metrics: toQueryRecords(a.Metrics), AlarmRule: a.AlarmRule, ActionsSuppressor: a.ActionsSuppressor,
		ActionsSuppressorWaitPeriod: a.ActionsSuppressorWaitPeriod, ActionsSuppressorExtensionPeriod: a.ActionsSuppressorExtensionPeriod,
	}
	for _, d := range a.Metric.Dimensions {
		r.Dimensions = append(r.Dimensions, dimRecord{d.Name, d.Value})
	}
	return r
}

func (r *record) alarm(region, account string) Alarm {
	var metric metrics.MetricID
	if r.MetricName != "" || r.Namespace != "" {
		dims := make([]metrics.Dimension, len(r.Dimensions))
		for i, d := range r.Dimensions {
			dims[i] = metrics.Dimension{Name: d.Name, Value: d.Value}
		}
		metric = metrics.NewMetricID(r.Namespace, r.MetricName, dims...)
	}
	return Alarm{
		Definition: Definition{
			Name: r.Name, Description: r.Description, ActionsEnabled: r.ActionsEnabled,
			OKActions: r.OKActions, AlarmActions: r.AlarmActions, InsufficientDataActions: r.InsufficientDataActions,
			Metric:    metric,
			Statistic: r.Statistic, ExtendedStatistic: r.ExtendedStatistic,
			Period: time.Duration(r.PeriodSeconds) * time.Second, Unit: r.Unit,
			EvaluationPeriods: r.EvaluationPeriods, DatapointsToAlarm: r.DatapointsToAlarm, Threshold: r.Threshold,
			ComparisonOperator: r.ComparisonOperator, TreatMissingData: r.TreatMissingData,
			EvaluateLowSampleCountPercentile: r.EvaluateLowSampleCountPercentile, Tags: r.Tags,
			Metrics: fromQueryRecords(r.Metrics), AlarmRule: r.AlarmRule, ActionsSuppressor: r.ActionsSuppressor,
			ActionsSuppressorWaitPeriod: r.ActionsSuppressorWaitPeriod, ActionsSuppressorExtensionPeriod: r.ActionsSuppressorExtensionPeriod,
		},
		ARN:                  arn(region, account, r.Name),
		ConfigurationUpdated: r.ConfigurationUpdated,
		StateValue:           r.StateValue,
		StateReason:          r.StateReason,
		StateReasonData:      r.StateReasonData,
		StateUpdated:         r.StateUpdated,
		StateTransitioned:    r.StateTransitioned,
	}
}

func arn(region, account, name string) string {
	return "arn:aws:cloudwatch:" + region + ":" + account + ":alarm:" + name
}

type histRecord struct {
	AlarmName string    `json:"alarmName"`
	AlarmType string    `json:"alarmType,omitempty"` // empty in records of before composite alarms: a metric alarm
	Timestamp time.Time `json:"timestamp"`
	Type      string    `json:"type"`
	Summary   string    `json:"summary"`
	Data      string    `json:"data"`
}

// appendHistory writes one history item for the alarm of r and drops the oldest beyond MaxHistoryPerAlarm.
func appendHistory(tx store.Tx, r *record, it HistoryItem) error {
	r.HistSeq++
	if err := store.PutJSON(tx, histKey(r.Name, it.Timestamp, r.HistSeq), histRecord{
		AlarmName: it.AlarmName, AlarmType: it.AlarmType, Timestamp: it.Timestamp, Type: it.Type, Summary: it.Summary, Data: it.Data,
	}); err != nil {
		return err
	}
	r.HistCount++
	for r.HistCount > MaxHistoryPerAlarm {
		var oldest string
		if err := tx.Scan(histAlarmPrefix(r.Name), "", func(k string, _ []byte) (bool, error) {
			oldest = k
			return false, nil
		}); err != nil {
			return err
		}
		if oldest == "" {
			r.HistCount = 0
			break
		}
		if err := tx.Delete(oldest); err != nil {
			return err
		}
		r.HistCount--
	}
	return nil
}

func deleteHistory(tx store.Tx, name string) error {
	var keys []string
	if err := tx.Scan(histAlarmPrefix(name), "", func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// stateHistoryData is CloudWatch's HistoryData of a StateUpdate item.
func stateHistoryData(oldValue, oldReason, oldData, newValue, newReason, newData string) string {
	type state struct {
		StateValue      string          `json:"stateValue"`
		StateReason     string          `json:"stateReason"`
		StateReasonData json.RawMessage `json:"stateReasonData,omitempty"`
	}
	raw := func(s string) json.RawMessage {
		if s == "" || !json.Valid([]byte(s)) {
			return nil
		}
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(struct {
		Version  string `json:"version"`
		OldState state  `json:"oldState"`
		NewState state  `json:"newState"`
	}{"1.0", state{oldValue, oldReason, raw(oldData)}, state{newValue, newReason, raw(newData)}})
	return string(b)
}

// alarmDoc is the alarm as CloudWatch describes it inside ConfigurationUpdate history data: a metric alarm's
// metric members, a metric-math alarm's metrics, a composite alarm's rule.
type alarmDoc struct {
	Timestamp                        string        `json:"timestamp"`
	AlarmName                        string        `json:"alarmName"`
	AlarmARN                         string        `json:"alarmArn"`
	AlarmDescription                 string        `json:"alarmDescription,omitempty"`
	ActionsEnabled                   bool          `json:"actionsEnabled"`
	OKActions                        []string      `json:"okActions"`
	AlarmActions                     []string      `json:"alarmActions"`
	InsufficientDataActions          []string      `json:"insufficientDataActions"`
	AlarmRule                        string        `json:"alarmRule,omitempty"`
	Namespace                        string        `json:"namespace,omitempty"`
	MetricName                       string        `json:"metricName,omitempty"`
	Dimensions                       *[]dimRecord  `json:"dimensions,omitempty"`
	Metrics                          []queryRecord `json:"metrics,omitempty"`
	Statistic                        string        `json:"statistic,omitempty"`
	ExtendedStatistic                string        `json:"extendedStatistic,omitempty"`
	Period                           int64         `json:"period,omitempty"`
	Unit                             string        `json:"unit,omitempty"`
	EvaluationPeriods                int           `json:"evaluationPeriods,omitempty"`
	DatapointsToAlarm                int           `json:"datapointsToAlarm,omitempty"`
	Threshold                        *float64      `json:"threshold,omitempty"`
	ComparisonOperator               string        `json:"comparisonOperator,omitempty"`
	TreatMissingData                 string        `json:"treatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile string        `json:"evaluateLowSampleCountPercentile,omitempty"`
}

func docOf(a *Alarm) alarmDoc {
	r := toRecord(a)
	nz := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	doc := alarmDoc{
		Timestamp: awsTime(a.ConfigurationUpdated), AlarmName: a.Name, AlarmARN: a.ARN, AlarmDescription: a.Description,
		ActionsEnabled: a.ActionsEnabled, OKActions: nz(a.OKActions), AlarmActions: nz(a.AlarmActions),
		InsufficientDataActions: nz(a.InsufficientDataActions),
	}
	if a.AlarmRule != "" {
		doc.AlarmRule = a.AlarmRule
		return doc
	}
	threshold := a.Threshold
	doc.Threshold, doc.ComparisonOperator = &threshold, a.ComparisonOperator
	doc.EvaluationPeriods, doc.DatapointsToAlarm, doc.TreatMissingData = a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData
	if len(a.Metrics) > 0 {
		doc.Metrics = r.Metrics
		return doc
	}
	dims := r.Dimensions
	if dims == nil {
		dims = []dimRecord{}
	}
	doc.Namespace, doc.MetricName, doc.Dimensions = r.Namespace, r.MetricName, &dims
	doc.Statistic, doc.ExtendedStatistic, doc.Period, doc.Unit = a.Statistic, a.ExtendedStatistic, r.PeriodSeconds, a.Unit
	doc.EvaluateLowSampleCountPercentile = a.EvaluateLowSampleCountPercentile
	return doc
}

// configHistoryData is CloudWatch's HistoryData of a ConfigurationUpdate item: {"version":"1.0","type":"Create",
// "createdAlarm":{…}} or {"version":"1.0","type":"Update","originalUpdatedAlarm":{…},"updatedAlarm":{…}}.
func configHistoryData(before, after *Alarm) string {
	var v any
	if before == nil {
		v = struct {
			Version string   `json:"version"`
			Type    string   `json:"type"`
			Created alarmDoc `json:"createdAlarm"`
		}{"1.0", "Create", docOf(after)}
	} else {
		v = struct {
			Version  string   `json:"version"`
			Type     string   `json:"type"`
			Original alarmDoc `json:"originalUpdatedAlarm"`
			Updated  alarmDoc `json:"updatedAlarm"`
		}{"1.0", "Update", docOf(before), docOf(after)}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
