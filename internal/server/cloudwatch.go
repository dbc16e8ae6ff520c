package server

import (
	"context"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/api/cloudwatchapi"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// cloudWatch joins the metric store and the alarm service behind the CloudWatch API edge.
type cloudWatch struct {
	metrics cloudWatchMetrics // this node's *metrics.Store, or in a cluster the *metrics.Cluster over every node's
	alarms  *alarms.Service
}

type cloudWatchMetrics interface {
	Record(metrics.MetricID, metrics.Sample)
	Statistics(metrics.Query) ([]metrics.Datapoint, error)
	List(namespace, name string, filters []metrics.DimensionFilter, token string) ([]metrics.MetricID, string, error)
}

var _ cloudwatchapi.Backend = (*cloudWatch)(nil)

func (c *cloudWatch) PutMetricAlarm(ctx context.Context, d alarms.Definition) error {
	return c.alarms.Put(ctx, d)
}

func (c *cloudWatch) PutCompositeAlarm(ctx context.Context, d alarms.Definition) error {
	return c.alarms.PutComposite(ctx, d)
}

func (c *cloudWatch) DescribeAlarms(ctx context.Context, f cloudwatchapi.AlarmFilter) ([]alarms.Alarm, string, error) {
	return c.alarms.Describe(ctx, alarms.DescribeFilter{Names: f.Names, NamePrefix: f.NamePrefix, State: f.StateValue,
		ActionPrefix: f.ActionPrefix, Types: f.Types, MaxRecords: f.MaxRecords, NextToken: f.NextToken})
}

func (c *cloudWatch) AlarmChildren(_ context.Context, name string) ([]alarms.Alarm, error) {
	return c.alarms.Children(name), nil
}

func (c *cloudWatch) AlarmParents(_ context.Context, name string) ([]alarms.Alarm, error) {
	return c.alarms.Parents(name), nil
}

func (c *cloudWatch) DescribeAlarmsForMetric(ctx context.Context, f cloudwatchapi.MetricAlarmFilter) ([]alarms.Alarm, error) {
	return c.alarms.ForMetric(ctx, f.Metric, f.Statistic, f.ExtendedStatistic, f.Period, f.Unit)
}

func (c *cloudWatch) DeleteAlarms(ctx context.Context, names []string) error {
	return c.alarms.Delete(ctx, names)
}

func (c *cloudWatch) SetAlarmState(ctx context.Context, name, state, reason, data string) error {
	return c.alarms.SetState(ctx, name, state, reason, data)
}

func (c *cloudWatch) DescribeAlarmHistory(ctx context.Context, f cloudwatchapi.HistoryFilter) ([]alarms.HistoryItem, string, error) {
	return c.alarms.History(ctx, alarms.HistoryFilter{Name: f.AlarmName, Type: f.Type, Start: f.Start, End: f.End,
		MaxRecords: f.MaxRecords, NextToken: f.NextToken, Ascending: f.Ascending, Types: f.Types})
}

func (c *cloudWatch) SetAlarmActions(ctx context.Context, names []string, enabled bool) error {
	return c.alarms.SetActionsEnabled(ctx, names, enabled)
}

func (c *cloudWatch) PutMetricData(_ context.Context, data []cloudwatchapi.Datum) error {
	for _, d := range data {
		c.metrics.Record(d.Metric, d.Sample)
	}
	return nil
}

func (c *cloudWatch) Statistics(_ context.Context, q metrics.Query) ([]metrics.Datapoint, error) {
	return c.metrics.Statistics(q)
}

func (c *cloudWatch) ListMetrics(_ context.Context, f cloudwatchapi.ListMetricsFilter) ([]metrics.MetricID, string, error) {
	return c.metrics.List(f.Namespace, f.MetricName, f.Dimensions, f.NextToken)
}
