package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/logstore"
)

func appendLines(t *testing.T, f *fixture, at time.Time, msgs ...string) {
	t.Helper()
	var events []logstore.Event
	for _, m := range msgs {
		events = append(events, logstore.Event{Timestamp: at.UnixMilli(), IngestionTime: at.UnixMilli(), Stream: "2026/12/07/[1]abc", Message: m})
	}
	if err := f.fnLogs.Append("/aws/lambda/orders", events); err != nil {
		t.Fatal(err)
	}
}

// countedLogs counts the pages read.
type countedLogs struct {
	*logstore.Store
	pages int
}

func (c *countedLogs) Page(group string, q logstore.Query, at logstore.Cursor) ([]logstore.Event, logstore.Cursor, error) {
	c.pages++
	return c.Store.Page(group, q, at)
}

func messages(f *logFollower) string {
	var out []string
	for _, e := range f.lines {
		out = append(out, e.Message)
	}
	return strings.Join(out, ",")
}

// The follower takes each line once, lines of the same millisecond included, and keeps the last maxLogLines.
func TestLogFollower(t *testing.T) {
	f := newFixture(t)
	appendLines(t, f, f.now.Add(-2*time.Hour), "too old")
	appendLines(t, f, f.now.Add(-time.Minute), "a", "b")
	follow := newLogFollower("orders", f.now)
	logs := &countedLogs{Store: f.fnLogs}
	if err := follow.advance(logs); err != nil {
		t.Fatal(err)
	}
	if got := messages(follow); got != "a,b" {
		t.Fatalf("first read: %q", got)
	}
	// More lines in the same millisecond as the last, and later.
	appendLines(t, f, f.now.Add(-time.Minute), "c")
	appendLines(t, f, f.now, "d")
	for range 2 { // a read with nothing new changes nothing, and reads no page
		if err := follow.advance(logs); err != nil {
			t.Fatal(err)
		}
		if got := messages(follow); got != "a,b,c,d" {
			t.Fatalf("after more lines: %q", got)
		}
	}
	if logs.pages != 2 {
		t.Errorf("%d pages read for two changes", logs.pages)
	}
	// A burst longer than the page keeps: the last maxLogLines, in order.
	var burst []string
	for i := range maxLogLines + 50 {
		burst = append(burst, fmt.Sprint(i))
	}
	appendLines(t, f, f.now.Add(time.Second), burst...)
	if err := follow.advance(logs); err != nil {
		t.Fatal(err)
	}
	if len(follow.lines) != maxLogLines || follow.lines[0].Message != "50" || follow.lines[maxLogLines-1].Message != fmt.Sprint(maxLogLines+49) {
		t.Fatalf("after a burst: %d lines, %q … %q", len(follow.lines), follow.lines[0].Message, follow.lines[len(follow.lines)-1].Message)
	}
}

// A log line is text: markup in it is escaped, never interpreted.
func TestLogLinesAreEscaped(t *testing.T) {
	f := newFixture(t)
	op := f.signIn(t, "AKIAOPERATOR", operator)
	appendLines(t, f, f.now.Add(-time.Second), `<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & done`+"\n")
	body := get(t, f, Prefix+"functions/orders/logs", op).Body.String()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img") {
		t.Fatalf("a log line's markup reached the page:\n%s", body)
	}
	want := `<code class="message">&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &#34;quoted&#34; &amp; done</code>`
	if !strings.Contains(body, want) || !strings.Contains(body, `data-lines="1"`) {
		t.Fatalf("the page lacks the escaped line %s:\n%s", want, body)
	}
}

// The logs stream sends the lines at once to a session that may read them, and ends, saying why and sending no
// line, for one that may not.
func TestLogsStream(t *testing.T) {
	f := newFixture(t)
	appendLines(t, f, f.now.Add(-time.Second), "a line the function printed")
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	first := func(c *http.Cookie) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+Prefix+"functions/orders/logs/live", nil)
		req.AddCookie(c)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64<<10)
		n, _ := resp.Body.Read(buf)
		return string(buf[:n])
	}
	if got := first(f.signIn(t, "AKIAOPERATOR", operator)); !strings.HasPrefix(got, "event: update\n") || !strings.Contains(got, "a line the function printed") {
		t.Errorf("operator's stream: %q", got)
	}
	if got := first(f.signIn(t, "AKIAVIEWER", viewer)); !strings.HasPrefix(got, "event: end\n") || !strings.Contains(got, "logs:FilterLogEvents") || strings.Contains(got, "printed") {
		t.Errorf("viewer's stream: %q", got)
	}
}
