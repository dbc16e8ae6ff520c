package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/spf13/cobra"
)

func metricsCommand() *cobra.Command {
	var cf clientFlags
	var qualifier, since string
	cmd := &cobra.Command{
		Use:   "metrics FUNCTION",
		Short: "Show a function's recent AWS/Lambda metrics per minute (and, through an alias, per executed version)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			window, err := sinceDuration(since)
			if err != nil {
				return err
			}
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			cw := cloudwatch.NewFromConfig(cfg)
			fn := args[0]
			dims := []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: aws.String(fn)}}
			title := fn
			if qualifier != "" {
				title = fn + ":" + qualifier
				dims = append(dims, cwtypes.Dimension{Name: aws.String("Resource"), Value: aws.String(title)})
			}
			end := time.Now().Truncate(time.Minute).Add(time.Minute)
			start := end.Add(-window)
			q := metricQuery{cw: cw, dims: dims, start: start, end: end}
			rows := map[time.Time]*minuteRow{}
			row := func(t time.Time) *minuteRow {
				if rows[t] == nil {
					rows[t] = &minuteRow{}
				}
				return rows[t]
			}
			for _, m := range []struct {
				name string
				set  func(*minuteRow, cwtypes.Datapoint)
			}{
				{"Invocations", func(r *minuteRow, d cwtypes.Datapoint) { r.invocations = aws.ToFloat64(d.Sum) }},
				{"Errors", func(r *minuteRow, d cwtypes.Datapoint) { r.errors = aws.ToFloat64(d.Sum) }},
				{"Throttles", func(r *minuteRow, d cwtypes.Datapoint) { r.throttles = aws.ToFloat64(d.Sum) }},
				{"Duration", func(r *minuteRow, d cwtypes.Datapoint) { r.durationAvg = aws.ToFloat64(d.Average) }},
				{"ConcurrentExecutions", func(r *minuteRow, d cwtypes.Datapoint) { r.concurrency = aws.ToFloat64(d.Maximum) }},
			} {
				points, err := q.get(ctx, m.name, nil, 60)
				if err != nil {
					return err
				}
				for _, d := range points {
					m.set(row(aws.ToTime(d.Timestamp)), d)
				}
			}
			// Percentiles come in a request of their own: CloudWatch takes Statistics or ExtendedStatistics, not both.
			p99, err := q.percentile(ctx, "Duration", "p99", 60)
			if err != nil {
				return err
			}
			for _, d := range p99 {
				row(aws.ToTime(d.Timestamp)).durationP99 = d.ExtendedStatistics["p99"]
			}
			out := cmd.OutOrStdout()
			printMinutes(out, title, strings.TrimSpace(since), rows)
			if qualifier == "" {
				return nil
			}
			return q.byVersion(ctx, out)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&qualifier, "qualifier", "", "an alias or version: show that resource (and, for an alias, each executed version)")
	cmd.Flags().StringVar(&since, "since", "15m", "how far back to show: "+sinceSyntax)
	return cmd
}

type minuteRow struct {
	invocations, errors, throttles, durationAvg, durationP99, concurrency float64
}

// printMinutes prints the per-minute table, or only a sentence when the window has no data: a header over
// nothing reads as a broken command.
func printMinutes(out io.Writer, title, since string, rows map[time.Time]*minuteRow) {
	fmt.Fprintf(out, "%s — AWS/Lambda, per minute, last %s\n\n", title, since)
	if len(rows) == 0 {
		fmt.Fprintln(out, "No invocations in this window.")
		return
	}
	times := make([]time.Time, 0, len(rows))
	for t := range rows {
		times = append(times, t)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MINUTE\tINVOCATIONS\tERRORS\tTHROTTLES\tDURATION AVG ms\tDURATION p99 ms\tCONCURRENCY MAX\t")
	for _, t := range times {
		r := rows[t]
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.0f\t\n", t.Local().Format("15:04"), r.invocations, r.errors, r.throttles, r.durationAvg, r.durationP99, r.concurrency)
	}
	tw.Flush()
}

type metricQuery struct {
	cw         *cloudwatch.Client
	dims       []cwtypes.Dimension
	start, end time.Time
}

func (q metricQuery) get(ctx context.Context, name string, extra []cwtypes.Dimension, period int32) ([]cwtypes.Datapoint, error) {
	out, err := q.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(name), Dimensions: append(append([]cwtypes.Dimension{}, q.dims...), extra...),
		StartTime: aws.Time(q.start), EndTime: aws.Time(q.end), Period: aws.Int32(period),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticAverage, cwtypes.StatisticMaximum},
	})
	if err != nil {
		return nil, err
	}
	return out.Datapoints, nil
}

func (q metricQuery) percentile(ctx context.Context, name, p string, period int32) ([]cwtypes.Datapoint, error) {
	out, err := q.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(name), Dimensions: q.dims,
		StartTime: aws.Time(q.start), EndTime: aws.Time(q.end), Period: aws.Int32(period), ExtendedStatistics: []string{p},
	})
	if err != nil {
		return nil, err
	}
	return out.Datapoints, nil
}

// byVersion prints an alias's traffic split by the version that ran: the canary's exposure and error rate.
func (q metricQuery) byVersion(ctx context.Context, out interface{ Write([]byte) (int, error) }) error {
	filters := make([]cwtypes.DimensionFilter, 0, len(q.dims)+1)
	for _, d := range q.dims {
		filters = append(filters, cwtypes.DimensionFilter{Name: d.Name, Value: d.Value})
	}
	filters = append(filters, cwtypes.DimensionFilter{Name: aws.String("ExecutedVersion")})
	list, err := q.cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Invocations"), Dimensions: filters})
	if err != nil {
		return err
	}
	var versions []string
	for _, m := range list.Metrics {
		for _, d := range m.Dimensions {
			if aws.ToString(d.Name) == "ExecutedVersion" {
				versions = append(versions, aws.ToString(d.Value))
			}
		}
	}
	if len(versions) == 0 {
		return nil
	}
	sort.Strings(versions)
	period := int32(q.end.Sub(q.start).Seconds())
	fmt.Fprintln(out, "\nBy executed version:")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "VERSION\tINVOCATIONS\tERRORS\tERROR RATE\t")
	for _, v := range versions {
		dim := []cwtypes.Dimension{{Name: aws.String("ExecutedVersion"), Value: aws.String(v)}}
		var inv, errs float64
		points, err := q.get(ctx, "Invocations", dim, period)
		if err != nil {
			return err
		}
		for _, d := range points {
			inv += aws.ToFloat64(d.Sum)
		}
		if points, err = q.get(ctx, "Errors", dim, period); err != nil {
			return err
		}
		for _, d := range points {
			errs += aws.ToFloat64(d.Sum)
		}
		rate := 0.0
		if inv > 0 {
			rate = 100 * errs / inv
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.1f%%\t\n", v, inv, errs, rate)
	}
	return tw.Flush()
}
