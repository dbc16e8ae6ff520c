package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/logstore"
)

// The logs page follows a function's log group: it opens on the lines of the last logsLookback (at most
// maxLogLines of them) and adds new lines as they are written, keeping the last maxLogLines.
const (
	maxLogLines  = 200
	logsLookback = time.Hour
	// logsPageSize and maxLogPages bound what one render reads; a busier group is caught up over later renders.
	logsPageSize = 10000
	maxLogPages  = 20
)

// Logs is the log store's read side, as the Logs edge reads it (this node's store, or a cluster's).
type Logs interface {
	Group(logGroup string) (info logstore.GroupInfo, ok bool, err error)
	Page(logGroup string, q logstore.Query, at logstore.Cursor) ([]logstore.Event, logstore.Cursor, error)
}

// logFollower holds the last lines of a log group a page shows, and where to read on from: the newest timestamp
// seen and how many lines of that millisecond were taken (lines are read in time order, so the next read starts
// at that millisecond and skips them).
type logFollower struct {
	group  string
	lines  []logstore.Event // oldest first, at most maxLogLines
	from   int64            // Unix ms
	atFrom int
	// read is the group as it was before the last read: while its size and first event stay the same, nothing was
	// written (the group's files only grow, or rotate), so a follower reads nothing (a stat, not a scan, a second).
	read *logstore.GroupInfo
}

func newLogFollower(function string, now time.Time) *logFollower {
	return &logFollower{group: logGroupOf(function), from: now.Add(-logsLookback).UnixMilli()}
}

func logGroupOf(function string) string { return "/aws/lambda/" + function }

// advance reads the lines written since the last call.
func (f *logFollower) advance(r Logs) error {
	info, _, err := r.Group(f.group)
	if err != nil {
		return err
	}
	if f.read != nil && *f.read == info {
		return nil
	}
	if err := f.readOn(r); err != nil {
		return err
	}
	f.read = &info
	return nil
}

// readOn reads the lines from where the last read stopped.
func (f *logFollower) readOn(r Logs) error {
	q := logstore.Query{Start: f.from, Limit: logsPageSize}
	skip := f.atFrom
	var at logstore.Cursor
	for range maxLogPages {
		events, next, err := r.Page(f.group, q, at)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Timestamp < f.from {
				continue
			}
			if e.Timestamp == f.from && skip > 0 {
				skip--
				continue
			}
			f.add(e)
		}
		if next == nil {
			break
		}
		at = next
	}
	return nil
}

func (f *logFollower) add(e logstore.Event) {
	if e.Timestamp == f.from {
		f.atFrom++
	} else {
		f.from, f.atFrom = e.Timestamp, 1
	}
	f.lines = append(f.lines, e)
	if over := len(f.lines) - maxLogLines; over > 0 {
		// Copy down rather than reslice, so the array does not grow without bound.
		f.lines = append(f.lines[:0], f.lines[over:]...)
	}
}

// logLine is one line as the page shows it: its text is escaped by the template, never interpreted.
type logLine struct {
	Time    string
	Stream  string
	Message string
}

type logsView struct {
	Function string
	Group    string
	Lines    []logLine
	Max      int
	Lookback string
}

func (h *Handler) groupResource(group string) string {
	return "arn:aws:logs:" + h.o.Account.Region + ":" + h.o.Account.ID + ":log-group:" + group + ":*"
}

// logsView advances f and renders what it holds, authorized as logs:FilterLogEvents on the function's log group.
func (h *Handler) logsView(ctx context.Context, s *session, function string, f *logFollower) (logsView, error) {
	if err := checkFunctionRef(function, ""); err != nil {
		return logsView{}, err
	}
	if err := h.authorize(ctx, s, "logs:FilterLogEvents", h.groupResource(f.group)); err != nil {
		return logsView{}, err
	}
	if err := f.advance(h.o.Logs); err != nil {
		return logsView{}, err
	}
	v := logsView{Function: function, Group: f.group, Max: maxLogLines, Lookback: shortDuration(logsLookback)}
	for _, e := range f.lines {
		v.Lines = append(v.Lines, logLine{Time: time.UnixMilli(e.Timestamp).UTC().Format("15:04:05.000"), Stream: e.Stream,
			Message: strings.TrimRight(e.Message, "\r\n")})
	}
	return v, nil
}

func (h *Handler) logsPage(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	v, err := h.logsView(r.Context(), s, name, newLogFollower(name, h.o.Now()))
	if err != nil {
		h.failFault(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "logs", page{Title: "Logs of " + name, Nav: "functions", Session: s, Data: v})
}
