package logsapi

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/internal/logstore"
)

// maxDescribe is the largest (and default) page of DescribeLogStreams and DescribeLogGroups.
const maxDescribe = 50

type describeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             *string `json:"orderBy"`
	Descending          *bool   `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int32  `json:"limit"`
}

type logStream struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp"`
	LastIngestionTime   int64  `json:"lastIngestionTime"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStream `json:"logStreams"`
	NextToken  string      `json:"nextToken,omitempty"`
}

func (h *Handler) describeLogStreams(_ context.Context, in *describeLogStreamsInput) (any, error) {
	orderBy := "LogStreamName"
	if in.OrderBy != nil {
		orderBy = *in.OrderBy
	}
	if orderBy != "LogStreamName" && orderBy != "LastEventTime" {
		return nil, invalid("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", orderBy)
	}
	if orderBy == "LastEventTime" && in.LogStreamNamePrefix != nil {
		return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	limit, err := limitOf("limit", in.Limit, maxDescribe, maxDescribe)
	if err != nil {
		return nil, err
	}
	desc := in.Descending != nil && *in.Descending
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	prefix := deref(in.LogStreamNamePrefix)
	fp := fingerprint("DescribeLogStreams", group, prefix, orderBy, desc)
	at, err := parsePageToken(in.NextToken, fp)
	if err != nil {
		return nil, err
	}

	all, err := h.store.Streams(group)
	if err != nil {
		return nil, err
	}
	streams := all[:0]
	for _, s := range all {
		if strings.HasPrefix(s.Name, prefix) {
			streams = append(streams, s)
		}
	}
	sort.Slice(streams, func(i, j int) bool {
		a, b := streams[i], streams[j]
		if desc {
			a, b = b, a
		}
		if orderBy == "LastEventTime" && a.LastEvent != b.LastEvent {
			return a.LastEvent < b.LastEvent
		}
		return a.Name < b.Name
	})

	out := &describeLogStreamsOutput{LogStreams: []logStream{}}
	start := min(int(at[""]), len(streams))
	end := min(start+limit, len(streams))
	for _, s := range streams[start:end] {
		out.LogStreams = append(out.LogStreams, logStream{LogStreamName: s.Name, CreationTime: s.FirstEvent,
			FirstEventTimestamp: s.FirstEvent, LastEventTimestamp: s.LastEvent,
			// Events are stored as an invocation ends, so the last event's time is its ingestion time to within a
			// millisecond or so; the store does not keep a per-stream ingestion time.
			LastIngestionTime: s.LastEvent,
			Arn:               h.streamARN(group, s.Name),
			StoredBytes:       0, // always 0 for streams on AWS since 2019 (the member is deprecated)
		})
	}
	if end < len(streams) {
		out.NextToken = offsetToken(int64(end), fp).String()
	}
	return out, nil
}

// ---- DescribeLogGroups ----

type describeLogGroupsInput struct {
	LogGroupNamePrefix  *string  `json:"logGroupNamePrefix"`
	LogGroupNamePattern *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	LogGroupClass       *string  `json:"logGroupClass"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int32   `json:"limit"`
	// accountIdentifiers and includeLinkedAccounts (cross-account observability) are accepted and ignored.
}

type logGroup struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupArn       string `json:"logGroupArn"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroup `json:"logGroups"`
	NextToken string     `json:"nextToken,omitempty"`
}

// describeLogGroups lists the groups made through the API (with their retention) and those that hold logs (a
// function's group appears once it has logged, as on AWS where Lambda creates it on the first invocation).
func (h *Handler) describeLogGroups(ctx context.Context, in *describeLogGroupsInput) (any, error) {
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if in.LogGroupNamePrefix != nil {
		if err := checkGroupName("logGroupNamePrefix", *in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
	}
	if in.LogGroupClass != nil {
		switch *in.LogGroupClass {
		case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
		default:
			return nil, invalid("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", *in.LogGroupClass)
		}
	}
	limit, err := limitOf("limit", in.Limit, maxDescribe, maxDescribe)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		if rest, ok := strings.CutPrefix(id, "arn:"); ok {
			parts := strings.SplitN(rest, ":", 6)
			if len(parts) != 6 || parts[2] != h.acct.Region || parts[3] != h.acct.ID {
				continue
			}
			id = strings.TrimSuffix(parts[5], ":*")
		}
		wanted[id] = true
	}
	prefix, pattern := deref(in.LogGroupNamePrefix), strings.ToLower(deref(in.LogGroupNamePattern))
	fp := fingerprint("DescribeLogGroups", prefix, pattern, in.LogGroupIdentifiers, deref(in.LogGroupClass))
	at, err := parsePageToken(in.NextToken, fp)
	if err != nil {
		return nil, err
	}

	var groups []logstore.GroupInfo
	defs := map[string]logstore.Definition{}
	if in.LogGroupClass == nil || *in.LogGroupClass == "STANDARD" {
		all, err := h.store.Groups()
		if err != nil {
			return nil, err
		}
		if h.groups != nil {
			recorded, err := h.groups.List(ctx)
			if err != nil {
				return nil, err
			}
			for _, d := range recorded {
				defs[d.Name] = d
				if !slices.ContainsFunc(all, func(g logstore.GroupInfo) bool { return g.Name == d.Name }) {
					all = append(all, logstore.GroupInfo{Name: d.Name, FirstEvent: d.Created})
				}
			}
			sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
		}
		for _, g := range all {
			if strings.HasPrefix(g.Name, prefix) && strings.Contains(strings.ToLower(g.Name), pattern) &&
				(len(in.LogGroupIdentifiers) == 0 || wanted[g.Name]) {
				groups = append(groups, g)
			}
		}
	}

	out := &describeLogGroupsOutput{LogGroups: []logGroup{}}
	start := min(int(at[""]), len(groups))
	end := min(start+limit, len(groups))
	for _, g := range groups[start:end] {
		lg := logGroup{LogGroupName: g.Name, CreationTime: g.FirstEvent,
			Arn: h.groupARN(g.Name), StoredBytes: g.StoredBytes, LogGroupClass: "STANDARD",
			LogGroupArn: strings.TrimSuffix(h.groupARN(g.Name), ":*")}
		if d, ok := defs[g.Name]; ok {
			lg.CreationTime = d.Created
			if d.RetentionInDays > 0 {
				lg.RetentionInDays = &d.RetentionInDays
			}
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	if end < len(groups) {
		out.NextToken = offsetToken(int64(end), fp).String()
	}
	return out, nil
}
