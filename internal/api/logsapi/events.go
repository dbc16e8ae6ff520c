package logsapi

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	"github.com/sluice-dev/sluice/internal/logstore"
)

// maxEvents is the largest (and default) page of events.
const maxEvents = 10000

// maxFilterRounds bounds the store reads of one FilterLogEvents call when the pattern rejects most candidates; the
// response then carries what was found and a nextToken, as AWS's may (pages can be partial or even empty).
const maxFilterRounds = 8

type filterLogEventsInput struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int32   `json:"limit"`
	Interleaved         *bool    `json:"interleaved"` // ignored: always interleaved, as on AWS since 2019
	Unmask              *bool    `json:"unmask"`      // ignored: nothing is masked
}

type filteredLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type searchedLogStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

type filterLogEventsOutput struct {
	Events             []filteredLogEvent  `json:"events"`
	SearchedLogStreams []searchedLogStream `json:"searchedLogStreams"`
	NextToken          string              `json:"nextToken,omitempty"`
}

func (h *Handler) filterLogEvents(_ context.Context, in *filterLogEventsInput) (any, error) {
	if in.LogStreamNamePrefix != nil && len(in.LogStreamNames) > 0 {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	limit, err := limitOf("limit", in.Limit, maxEvents, maxEvents)
	if err != nil {
		return nil, err
	}
	if err := checkTime("startTime", in.StartTime); err != nil {
		return nil, err
	}
	if err := checkTime("endTime", in.EndTime); err != nil {
		return nil, err
	}
	pat, err := parsePattern(deref(in.FilterPattern))
	if err != nil {
		return nil, err
	}
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	q := logstore.Query{StreamPrefix: deref(in.LogStreamNamePrefix), Streams: in.LogStreamNames, Contains: pat.required()}
	if in.StartTime != nil {
		q.Start = *in.StartTime
	}
	if in.EndTime != nil {
		q.End = *in.EndTime + 1 // FilterLogEvents' endTime is inclusive; the store's End is exclusive
	}
	if q.Start > 0 && q.End > 0 && q.End <= q.Start {
		return &filterLogEventsOutput{Events: []filteredLogEvent{}, SearchedLogStreams: []searchedLogStream{}}, nil
	}
	fp := fingerprint("FilterLogEvents", group, in.LogStreamNames, q.StreamPrefix, q.Start, q.End, deref(in.FilterPattern))
	at, err := parsePageToken(in.NextToken, fp)
	if err != nil {
		return nil, err
	}

	// The store pages over the events its query matches (per node, in the order they were appended; see
	// logstore.Reader); the pattern may reject some of them. Each round asks for as many candidates as the page
	// still has room for, so every match can be kept and the next token is simply the store's cursor after the
	// last candidate read.
	var found, before []logstore.Event
	if len(at) > 0 {
		// The events just before this page, so that identical lines split across pages keep distinct IDs.
		if before, err = h.store.Before(group, q, at, idWindow); err != nil {
			return nil, err
		}
	}
	done := false
	for range maxFilterRounds {
		q.Limit = limit - len(found)
		events, next, err := h.store.Page(group, q, at)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if pat.match(e.Message) {
				found = append(found, e)
			}
		}
		if next == nil {
			done = true
			break
		}
		at = next
		if len(found) == limit {
			break
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Timestamp < found[j].Timestamp })

	out := &filterLogEventsOutput{Events: make([]filteredLogEvent, len(found)), SearchedLogStreams: []searchedLogStream{}}
	ids := eventIDs(before, found)
	for i, e := range found {
		out.Events[i] = filteredLogEvent{LogStreamName: e.Stream, Timestamp: e.Timestamp, Message: e.Message,
			IngestionTime: e.IngestionTime, EventID: ids[i]}
	}
	if !done {
		out.NextToken = pageToken{at: at, fingerprint: fp}.String()
	}
	return out, nil
}

// idWindow is how many events before a page eventIDs looks at for identical lines.
const idWindow = 256

// eventIDs gives each event a stable decimal ID: its timestamp, a hash of its stream, ingestion time and message,
// and its rank among identical events (so that two identical lines logged in the same millisecond keep distinct
// IDs), counting those among the events just before the page. The same event gets the same ID in every response
// that contains it, which is what `aws logs tail --follow` and `sluice logs --follow` de-duplicate on when they
// re-read from the newest timestamp seen.
func eventIDs(before, events []logstore.Event) []string {
	seen := map[string]int{}
	key := func(e logstore.Event) (string, uint64) {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%d\x00%s", e.Stream, e.IngestionTime, e.Message)
		return strconv.FormatInt(e.Timestamp, 10) + "/" + strconv.FormatUint(h.Sum64(), 10), h.Sum64()
	}
	for _, e := range before {
		k, _ := key(e)
		seen[k]++
	}
	ids := make([]string, len(events))
	for i, e := range events {
		k, sum := key(e)
		ids[i] = fmt.Sprintf("%019d%020d%03d", e.Timestamp, sum, seen[k])
		seen[k]++
	}
	return ids
}

// ---- GetLogEvents ----

type getLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      *string `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int32  `json:"limit"`
	StartFromHead      *bool   `json:"startFromHead"`
	Unmask             *bool   `json:"unmask"`
}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsOutput struct {
	Events            []outputLogEvent `json:"events"`
	NextForwardToken  string           `json:"nextForwardToken"`
	NextBackwardToken string           `json:"nextBackwardToken"`
}

// getLogEvents pages through one stream by position. Without a token it returns the newest events (the oldest with
// startFromHead); a forward token continues after the page, a backward token before it. At either end the token
// passed in comes back unchanged, which is how clients (the SDK paginators' StopOnDuplicateToken) know to stop.
func (h *Handler) getLogEvents(_ context.Context, in *getLogEventsInput) (any, error) {
	if in.LogStreamName == nil {
		return nil, invalid("1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null")
	}
	limit, err := limitOf("limit", in.Limit, maxEvents, maxEvents)
	if err != nil {
		return nil, err
	}
	if err := checkTime("startTime", in.StartTime); err != nil {
		return nil, err
	}
	if err := checkTime("endTime", in.EndTime); err != nil {
		return nil, err
	}
	var dir byte
	var at position
	if in.NextToken != nil {
		if dir, at, err = parsePosition(*in.NextToken); err != nil {
			return nil, err
		}
	}
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}

	all, err := h.findAll(group, logstore.Query{Streams: []string{*in.LogStreamName}})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, notFound(msgNoStream)
	}
	// The time range (startTime inclusive, endTime exclusive), with each event's position in the whole stream.
	var events []logstore.Event
	var pos []position
	rank := 0
	for i, e := range all {
		if i > 0 && all[i-1].Timestamp == e.Timestamp {
			rank++
		} else {
			rank = 0
		}
		if in.StartTime != nil && e.Timestamp < *in.StartTime || in.EndTime != nil && e.Timestamp >= *in.EndTime {
			continue
		}
		events = append(events, e)
		pos = append(pos, position{ts: e.Timestamp, n: rank})
	}
	n := len(events)
	// first returns the index of the first event at or after p.
	first := func(p position) int {
		return sort.Search(n, func(i int) bool { return !pos[i].less(p) })
	}

	var i, j int
	switch {
	case dir == 'f':
		i = first(at)
		j = min(i+limit, n)
	case dir == 'b':
		j = first(at)
		i = max(j-limit, 0)
	case in.StartFromHead != nil && *in.StartFromHead:
		i, j = 0, min(limit, n)
	default:
		i, j = max(n-limit, 0), n
	}

	// positionAt is the position before events[k]; past the last event it is just after it.
	positionAt := func(k int) position {
		switch {
		case k < n:
			return pos[k]
		case n > 0:
			return position{ts: pos[n-1].ts, n: pos[n-1].n + 1}
		case in.StartTime != nil:
			return position{ts: *in.StartTime}
		}
		return position{}
	}
	out := &getLogEventsOutput{Events: make([]outputLogEvent, 0, j-i),
		NextForwardToken: positionAt(j).token('f'), NextBackwardToken: positionAt(i).token('b')}
	if i == j && dir != 0 {
		// Nothing further in the direction asked: hand the same token back.
		if dir == 'f' {
			out.NextForwardToken = *in.NextToken
		} else {
			out.NextBackwardToken = *in.NextToken
		}
	}
	for _, e := range events[i:j] {
		out.Events = append(out.Events, outputLogEvent{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.IngestionTime})
	}
	return out, nil
}

// findAll reads every event a query matches, in time order (file order among equal timestamps).
func (h *Handler) findAll(group string, q logstore.Query) ([]logstore.Event, error) {
	var all []logstore.Event
	q.Limit = maxEvents
	for at := (logstore.Cursor{}); at != nil; {
		events, next, err := h.store.Page(group, q, at)
		if err != nil {
			return nil, err
		}
		all = append(all, events...)
		at = next
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Timestamp < all[j].Timestamp })
	return all, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
