package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/cobra"
)

// followInterval is how often `sluice logs --follow` polls.
const followInterval = time.Second

func logsCommand() *cobra.Command {
	var cf clientFlags
	var qualifier, since, filter string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs FUNCTION",
		Short: "Print a function's logs in time order, optionally following new ones",
		Long: `Print a function's logs (START, the function's own output, END and REPORT lines) in time order, read
through the CloudWatch Logs API. --qualifier keeps the lines of one version, or of the versions an alias routes
to; --filter takes a CloudWatch filter pattern (terms that must all appear, or a "quoted phrase"); --follow keeps
polling for new lines until interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			start, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			lg := &logReader{
				lambda: lambda.NewFromConfig(cfg),
				logs:   cloudwatchlogs.NewFromConfig(cfg),
				filter: filter,
				out:    cmd.OutOrStdout(),
			}
			if err := lg.resolve(ctx, args[0], qualifier); err != nil {
				return err
			}
			if !follow {
				events, err := lg.fetch(ctx, start)
				if err != nil {
					return err
				}
				lg.print(events)
				return nil
			}
			return lg.follow(ctx, start)
		},
	}
	cmd.Flags().StringVar(&qualifier, "qualifier", "", "only the logs of this version, or of the versions this alias routes to")
	cmd.Flags().StringVar(&since, "since", "10m", "how far back to start: "+sinceSyntax+`, an RFC 3339 time, or "all"`)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new log lines until interrupted")
	cmd.Flags().StringVar(&filter, "filter", "", `only lines matching this CloudWatch filter pattern (terms that must all appear, or a "quoted phrase")`)
	cf.register(cmd)
	return cmd
}

// logReader reads one function's log group.
type logReader struct {
	lambda   *lambda.Client
	logs     *cloudwatchlogs.Client
	group    string
	versions map[string]bool // nil: every version
	filter   string
	out      io.Writer
}

// resolve finds the function's log group and, for a qualifier, the versions whose streams to keep.
func (l *logReader) resolve(ctx context.Context, function, qualifier string) error {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	fn, err := l.lambda.GetFunctionConfiguration(ctx, in)
	if err != nil {
		return err
	}
	l.group = "/aws/lambda/" + aws.ToString(fn.FunctionName)
	if fn.LoggingConfig != nil && aws.ToString(fn.LoggingConfig.LogGroup) != "" {
		l.group = aws.ToString(fn.LoggingConfig.LogGroup)
	}
	if qualifier == "" {
		return nil
	}
	l.versions = map[string]bool{}
	if qualifier == "$LATEST" || isVersionNumber(qualifier) {
		l.versions[qualifier] = true
		return nil
	}
	alias, err := l.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(qualifier)})
	if err != nil {
		return err
	}
	l.versions[aws.ToString(alias.FunctionVersion)] = true
	if alias.RoutingConfig != nil {
		for v := range alias.RoutingConfig.AdditionalVersionWeights {
			l.versions[v] = true
		}
	}
	return nil
}

func isVersionNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// streamVersion extracts the version from a Lambda stream name, YYYY/MM/DD/[version]id.
var streamVersion = regexp.MustCompile(`\[([^\]]+)\]`)

func (l *logReader) keep(e logtypes.FilteredLogEvent) bool {
	if l.versions == nil {
		return true
	}
	m := streamVersion.FindStringSubmatch(aws.ToString(e.LogStreamName))
	return m != nil && l.versions[m[1]]
}

// fetch reads every matching event from start (Unix ms; 0 = the beginning), in time order. A log group that does
// not exist yet (the function has never run) has no events.
func (l *logReader) fetch(ctx context.Context, start int64) ([]logtypes.FilteredLogEvent, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(l.group)}
	if start > 0 {
		in.StartTime = aws.Int64(start)
	}
	if l.filter != "" {
		in.FilterPattern = aws.String(l.filter)
	}
	var events []logtypes.FilteredLogEvent
	p := cloudwatchlogs.NewFilterLogEventsPaginator(l.logs, in, func(o *cloudwatchlogs.FilterLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var rnf *logtypes.ResourceNotFoundException
		if errors.As(err, &rnf) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			if l.keep(e) {
				events = append(events, e)
			}
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return aws.ToInt64(events[i].Timestamp) < aws.ToInt64(events[j].Timestamp) })
	return events, nil
}

func (l *logReader) print(events []logtypes.FilteredLogEvent) {
	for _, e := range events {
		ts := time.UnixMilli(aws.ToInt64(e.Timestamp)).Format("2006-01-02T15:04:05.000Z07:00")
		fmt.Fprintf(l.out, "%s  %s\n", ts, strings.TrimRight(aws.ToString(e.Message), "\r\n"))
	}
}

// follow prints what there is, then polls every second from the newest timestamp seen, skipping events already
// printed (by eventId), until ctx ends. Lines stored later with older timestamps than the newest seen (a long
// invocation finishing after a short one that started later) are not shown, as with `aws logs tail --follow`.
func (l *logReader) follow(ctx context.Context, start int64) error {
	seen := map[string]int64{} // eventId → timestamp, for events at or after from
	from := start
	ticker := time.NewTicker(followInterval)
	defer ticker.Stop()
	for {
		events, err := l.fetch(ctx, from)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fresh := events[:0]
		for _, e := range events {
			id := aws.ToString(e.EventId)
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = aws.ToInt64(e.Timestamp)
			from = max(from, aws.ToInt64(e.Timestamp))
			fresh = append(fresh, e)
		}
		l.print(fresh)
		for id, ts := range seen {
			if ts < from {
				delete(seen, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// sinceSyntax is what --since takes, for logs and metrics alike.
const sinceSyntax = "a duration (30s, 10m, 2h, 1d, 1w)"

// sinceDuration parses a --since duration: Go's (30s, 10m, 1h30m), or whole days or weeks (1d, 2w), which
// time.ParseDuration lacks.
func sinceDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); n != "" && (unit == "d" || unit == "w") {
		count, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid --since %q: want %s", s, sinceSyntax)
		}
		d := time.Duration(count) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid --since %q: want %s", s, sinceSyntax)
	}
	return d, nil
}

// parseSince turns the logs' --since into Unix ms (0 for "all"): a duration back from now, or a time.
func parseSince(s string, now time.Time) (int64, error) {
	switch s = strings.TrimSpace(s); s {
	case "all", "0":
		return 0, nil
	}
	if d, err := sinceDuration(s); err == nil {
		return now.Add(-d).UnixMilli(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("invalid --since %q: want %s, an RFC 3339 time or \"all\"", s, sinceSyntax)
}
