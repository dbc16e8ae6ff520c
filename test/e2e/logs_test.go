package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

// Logs returns an aws-sdk-go-v2 CloudWatch Logs client for this server (retries off, like Lambda()).
func (s *server) Logs() *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   sdkhttp.Wrap(nil),
	})
}

// eventually polls cond every 50 ms until it holds or the deadline passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last state:\n%s", what, limit, state)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// invokeLogging invokes name (echo) so that it logs line, and returns the request ID.
func invokeLogging(t *testing.T, c *lambda.Client, name, qualifier, line string) string {
	t.Helper()
	out := invokeJSON(t, c, name, qualifier, `{"message":"x","log":"`+line+`"}`)
	var r echoResponse
	if err := json.Unmarshal(out.Payload, &r); err != nil || r.RequestID == "" {
		t.Fatalf("invoke %s: %v %s", name, err, out.Payload)
	}
	return r.RequestID
}

func uniqueLine(tag string) string {
	return fmt.Sprintf("logs-e2e-%s-%d", tag, time.Now().UnixNano())
}

var lambdaStream = regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`)

func TestLogsAPI(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "echo")
	line := uniqueLine("sdk")
	reqID := invokeLogging(t, c, "echo", "", line)
	logs := s.Logs()
	ctx := t.Context()
	const group = "/aws/lambda/echo"

	// (i) FilterLogEvents finds the invocation's START, own line, END and REPORT, in that order, in one stream.
	want := []string{"START RequestId: " + reqID, line, "END RequestId: " + reqID, "REPORT RequestId: " + reqID}
	var stream string
	eventually(t, 30*time.Second, "FilterLogEvents finds the invocation", func() (bool, string) {
		var events []logtypes.FilteredLogEvent
		for p := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("FilterLogEvents: %v", err)
			}
			events = append(events, page.Events...)
		}
		var dump strings.Builder
		next := 0
		for _, e := range events {
			msg := aws.ToString(e.Message)
			fmt.Fprintf(&dump, "%d %s %s\n", aws.ToInt64(e.Timestamp), aws.ToString(e.LogStreamName), msg)
			if next < len(want) && strings.HasPrefix(msg, want[next]) {
				if next > 0 && aws.ToString(e.LogStreamName) != stream {
					t.Fatalf("the invocation's lines are in two streams:\n%s", dump.String())
				}
				stream = aws.ToString(e.LogStreamName)
				if aws.ToString(e.EventId) == "" || aws.ToInt64(e.IngestionTime) < aws.ToInt64(e.Timestamp) {
					t.Fatalf("event %+v", e)
				}
				next++
			}
		}
		return next == len(want), dump.String()
	})
	if !lambdaStream.MatchString(stream) {
		t.Errorf("stream name %q is not Lambda's YYYY/MM/DD/[$LATEST]<32 hex>", stream)
	}

	// The pattern narrows to the line; GetLogEvents reads the stream; the describe operations list it.
	fl, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"` + line + `"`)})
	if err != nil || len(fl.Events) != 1 || aws.ToString(fl.Events[0].Message) != line {
		t.Errorf("FilterLogEvents with a pattern: %v %+v", err, fl)
	}
	gl, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	var streamLines []string
	if err == nil {
		for _, e := range gl.Events {
			streamLines = append(streamLines, aws.ToString(e.Message))
		}
	}
	if err != nil || !slices.ContainsFunc(streamLines, func(m string) bool { return strings.HasPrefix(m, "START RequestId: "+reqID) }) ||
		!slices.Contains(streamLines, line) {
		t.Errorf("GetLogEvents: %v %q", err, streamLines)
	} else {
		again, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), NextToken: gl.NextForwardToken})
		if err != nil || len(again.Events) != 0 || aws.ToString(again.NextForwardToken) != aws.ToString(gl.NextForwardToken) {
			t.Errorf("GetLogEvents at the end must return the token it was given: %v %+v", err, again)
		}
	}
	ds, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: logtypes.OrderByLastEventTime, Descending: aws.Bool(true)})
	if err != nil || len(ds.LogStreams) != 1 || aws.ToString(ds.LogStreams[0].LogStreamName) != stream ||
		aws.ToString(ds.LogStreams[0].Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:"+group+":log-stream:"+stream {
		t.Errorf("DescribeLogStreams: %v %+v", err, ds)
	}
	dg, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")})
	if err != nil || len(dg.LogGroups) != 1 || aws.ToString(dg.LogGroups[0].LogGroupName) != group ||
		aws.ToString(dg.LogGroups[0].Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:"+group+":*" {
		t.Errorf("DescribeLogGroups: %v %+v", err, dg)
	}

	// A function that has never run has no log group yet, as on AWS.
	createEcho(t, c, "idle")
	_, err = logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/idle")})
	checkAPIError(t, "FilterLogEvents on a group without logs", err, wantErr{Status: 400, Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("2024/01/01/[$LATEST]nope")})
	checkAPIError(t, "GetLogEvents on a missing stream", err, wantErr{Status: 400, Code: "ResourceNotFoundException", Message: "The specified log stream does not exist."})

	// (ii) The AWS CLI v1.
	t.Run("cli v1 filter-log-events", func(t *testing.T) {
		stdout, stderr, code := awsCLI(t, s, false, "logs", "filter-log-events", "--log-group-name", group)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var out struct {
			Events []struct{ Message, LogStreamName string }
		}
		mustJSON(t, "filter-log-events", stdout, &out)
		found := false
		for _, e := range out.Events {
			found = found || e.Message == line && e.LogStreamName == stream
		}
		if !found {
			t.Errorf("filter-log-events lacks %q:\n%s", line, stdout)
		}
		checkCLIReads(t, s, false, group, stream, line)
		_, stderr, code = awsCLI(t, s, false, "logs", "filter-log-events", "--log-group-name", "/aws/lambda/idle")
		checkCLIError(t, "filter-log-events on a group without logs", stderr, code,
			wantErr{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."}, false)
	})

	// (iii) The AWS CLI v2's `logs tail`, plain and --follow.
	t.Run("cli v2 logs tail", func(t *testing.T) {
		requireCLIv2(t)
		stdout, stderr, code := awsCLI(t, s, true, "logs", "tail", group, "--since", "1h")
		if code != 0 || !strings.Contains(stdout, line) || !strings.Contains(stdout, "REPORT RequestId: "+reqID) {
			t.Fatalf("aws logs tail: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}

		checkCLIReads(t, s, true, group, stream, line)

		out := followProcess(t, s, cliV2Path, "--endpoint-url", s.URL, "logs", "tail", group, "--follow", "--since", "1h", "--format", "short")
		eventually(t, 60*time.Second, "aws logs tail --follow prints the existing line", func() (bool, string) {
			return strings.Contains(out.String(), line), out.String()
		})
		later := uniqueLine("tail-follow")
		invokeLogging(t, c, "echo", "", later)
		eventually(t, 60*time.Second, "aws logs tail --follow prints a new line", func() (bool, string) {
			return strings.Contains(out.String(), later), out.String()
		})
		if n := strings.Count(out.String(), line); n != 1 {
			t.Errorf("aws logs tail --follow printed the first line %d times:\n%s", n, out.String())
		}
	})
}

// checkCLIReads runs get-log-events (one call in both CLIs: botocore has no paginator for it; the SDK's paginator,
// which stops when the forward token repeats, is covered by logsapi's tests), describe-log-streams and
// describe-log-groups.
func checkCLIReads(t *testing.T, s *server, v2 bool, group, stream, line string) {
	t.Helper()
	stdout, stderr, code := awsCLI(t, s, v2, "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--start-from-head")
	var events struct {
		Events                              []struct{ Message string }
		NextForwardToken, NextBackwardToken string
	}
	mustJSON(t, "get-log-events", stdout, &events)
	found := false
	for _, e := range events.Events {
		found = found || e.Message == line
	}
	if code != 0 || !found || !strings.HasPrefix(events.NextForwardToken, "f/") || !strings.HasPrefix(events.NextBackwardToken, "b/") {
		t.Errorf("%s get-log-events: exit %d\n%s%s", cliName(v2), code, stdout, stderr)
	}
	stdout, stderr, code = awsCLI(t, s, v2, "logs", "describe-log-streams", "--log-group-name", group, "--order-by", "LastEventTime", "--descending")
	if code != 0 || !strings.Contains(stdout, `"logStreamName": "`+stream+`"`) {
		t.Errorf("%s describe-log-streams: exit %d\n%s%s", cliName(v2), code, stdout, stderr)
	}
	stdout, stderr, code = awsCLI(t, s, v2, "logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/")
	if code != 0 || !strings.Contains(stdout, `"logGroupName": "`+group+`"`) {
		t.Errorf("%s describe-log-groups: exit %d\n%s%s", cliName(v2), code, stdout, stderr)
	}
}

// followProcess starts a long-running client (a --follow command) with s's environment; it is interrupted (and
// killed if need be) when the test ends. It returns the process's stdout.
func followProcess(t *testing.T, s *server, name string, args ...string) *syncBuffer {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Env = s.Env()
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, errOut.String())
		}
	})
	return out
}

func TestLogsSluiceCommand(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "echo")
	latestLine := uniqueLine("latest")
	invokeLogging(t, c, "echo", "", latestLine)
	v1 := publishNew(t, c, "echo", "one")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("echo"), Name: aws.String("live"),
		FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	aliasLine := uniqueLine("alias")
	invokeLogging(t, c, "echo", "live", aliasLine)
	env := s.Env()

	// (iv) `sluice logs` prints both lines in time order; --qualifier and --filter narrow.
	var stdout string
	eventually(t, 30*time.Second, "sluice logs echo prints both lines", func() (bool, string) {
		out, stderr, code := sluice(t, env, "logs", "echo")
		if code != 0 {
			t.Fatalf("sluice logs echo: exit %d: %s", code, stderr)
		}
		stdout = out
		return strings.Contains(out, latestLine) && strings.Contains(out, aliasLine), out
	})
	if strings.Index(stdout, latestLine) > strings.Index(stdout, aliasLine) || !strings.Contains(stdout, "REPORT RequestId: ") {
		t.Errorf("sluice logs echo:\n%s", stdout)
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if ts, _, ok := strings.Cut(l, "  "); !ok || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}`).MatchString(ts) {
			t.Errorf("line %q is not `timestamp  message`", l)
		}
	}
	for _, tc := range []struct {
		args          []string
		want, notWant string
	}{
		{[]string{"--qualifier", "live"}, aliasLine, latestLine},
		{[]string{"--qualifier", v1}, aliasLine, latestLine},
		{[]string{"--qualifier", "$LATEST"}, latestLine, aliasLine},
		{[]string{"--filter", latestLine}, latestLine, "REPORT"},
		{[]string{"--since", "all", "--filter", `"` + aliasLine + `"`}, aliasLine, latestLine},
	} {
		out, stderr, code := sluice(t, env, append([]string{"logs", "echo"}, tc.args...)...)
		if code != 0 || !strings.Contains(out, tc.want) || strings.Contains(out, tc.notWant) {
			t.Errorf("sluice logs echo %s: exit %d, want %q and not %q:\n%s%s", strings.Join(tc.args, " "), code, tc.want, tc.notWant, out, stderr)
		}
	}
	_, stderr, code := sluice(t, env, "logs", "nope")
	if code == 0 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("sluice logs on a missing function: exit %d: %s", code, stderr)
	}

	// --follow prints what there is, then lines of later invocations, each once, until interrupted.
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd := exec.Command(sluiceBin, "logs", "echo", "--follow")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-waited
		}
	}()
	eventually(t, 60*time.Second, "sluice logs --follow prints the existing lines", func() (bool, string) {
		return strings.Contains(out.String(), aliasLine), out.String() + errOut.String()
	})
	followLine := uniqueLine("follow")
	invokeLogging(t, c, "echo", "live", followLine)
	eventually(t, 60*time.Second, "sluice logs --follow prints a later invocation's line", func() (bool, string) {
		return strings.Contains(out.String(), followLine), out.String() + errOut.String()
	})
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-waited:
		stopped = true
		if err != nil {
			t.Errorf("sluice logs --follow after SIGINT: %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("sluice logs --follow did not exit within 30s of SIGINT")
	}
	for _, l := range []string{latestLine, aliasLine, followLine} {
		if n := strings.Count(out.String(), l); n != 1 {
			t.Errorf("sluice logs --follow printed %q %d times:\n%s", l, n, out.String())
		}
	}
}
