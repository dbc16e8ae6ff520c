package cli

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestLogsParseSince(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for in, want := range map[string]int64{
		"10m":                  now.Add(-10 * time.Minute).UnixMilli(),
		"1h30m":                now.Add(-90 * time.Minute).UnixMilli(),
		"2d":                   now.Add(-48 * time.Hour).UnixMilli(),
		"1w":                   now.Add(-7 * 24 * time.Hour).UnixMilli(),
		"all":                  0,
		"2024-05-06T00:00:00Z": time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC).UnixMilli(),
	} {
		if got, err := parseSince(in, now); err != nil || got != want {
			t.Errorf("parseSince(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-5m", "xd"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) succeeded", bad)
		}
	}
}

func TestLogsKeepByVersion(t *testing.T) {
	ev := func(stream string) logtypes.FilteredLogEvent {
		return logtypes.FilteredLogEvent{LogStreamName: aws.String(stream)}
	}
	all := &logReader{}
	two := &logReader{versions: map[string]bool{"2": true, "$LATEST": true}}
	for stream, want := range map[string]bool{
		"2024/05/06/[2]0123456789abcdef0123456789abcdef":       true,
		"2024/05/06/[$LATEST]0123456789abcdef0123456789abcdef": true,
		"2024/05/06/[12]0123456789abcdef0123456789abcdef":      false,
		"custom-stream": false,
	} {
		if !all.keep(ev(stream)) {
			t.Errorf("without a qualifier %q was dropped", stream)
		}
		if got := two.keep(ev(stream)); got != want {
			t.Errorf("versions {2, $LATEST}: keep(%q) = %v", stream, got)
		}
	}
}
