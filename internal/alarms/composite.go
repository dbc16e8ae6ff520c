package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store"
)

// Composite alarms (PutCompositeAlarm). A composite alarm's state is its AlarmRule's value over the states of the
// alarms it names — its children, metric or composite — ALARM when the rule is true, OK when false: it is
// INSUFFICIENT_DATA only until its first evaluation, which PutComposite makes in the same transaction that stores
// it. It is evaluated again whenever a child's state changes: in the evaluation pass that changed the child (its
// transition and its parents' commit together), and, for a change committed elsewhere (SetAlarmState, another
// process), as soon as this process's cache applies it (Run is kicked). Children are named by name or by this
// account's and region's alarm ARN; they must exist when the rule is saved, and an alarm with parents cannot be
// deleted (CloudWatch's "Cannot delete a as there are composite alarm(s) depending on it.").

// Reasons of composite alarms, in CloudWatch's words: "<arn> was created and its alarm rule evaluates to OK",
// "<child arn> transitioned to ALARM at Sunday 30 October, 2022 20:47:35 UTC".
const compositeTimeLayout = "Monday 2 January, 2006 15:04:05 UTC"

// PutComposite creates or replaces a composite alarm (PutCompositeAlarm). A new alarm is stored with its rule
// already evaluated against its children's states: history records its creation and its first state (from
// INSUFFICIENT_DATA). An update keeps the state unless the new rule evaluates otherwise, and keeps the tags.
//
// Errors: ValidationError for a rule that does not parse ("Error in AlarmRule [Unsupported token …]"), names
// alarms that do not exist ("Could not save the composite alarm as alarms [a, b] in the alarm rule do not exist"),
// or would make a cycle (Sluice refuses it: see docs/compatibility.md), for a name taken by a metric alarm, and
// for the suppressor members; LimitExceeded when the alarm quota is reached.
func (s *Service) PutComposite(ctx context.Context, d Definition) error {
	d = cloneDefinition(d)
	if err := validateComposite(&d); err != nil {
		return err
	}
	_, children, err := parseRule(d.AlarmRule)
	if err != nil {
		return err
	}
	now := s.now()
	var refused error
	err = s.commit(ctx, func(tx store.Tx) error {
		refused = nil
		old, exists, err := getRecord(tx, d.Name)
		if err != nil {
			return err
		}
		if exists && old.AlarmRule == "" {
			refused = fault.New(CodeValidationError, "The alarm %s is a metric alarm: PutCompositeAlarm cannot replace it.", d.Name)
			return refused
		}
		states, missing, err := s.childStates(tx, children)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			refused = fault.New(CodeValidationError, "Could not save the composite alarm as alarms [%s] in the alarm rule do not exist", strings.Join(missing, ", "))
			return refused
		}
		if cycle, err := s.cycleThrough(tx, d.Name, children); err != nil {
			return err
		} else if cycle != nil {
			refused = fault.New(CodeValidationError, "Could not save the composite alarm as its alarm rule would make a cycle: %s", strings.Join(cycle, " -> "))
			return refused
		}
		arnOf := func(n string) string { return arn(s.region, s.account, n) }
		value, triggering := evaluateRule(d.AlarmRule, s.region, s.account, states)
		dd := d
		var a Alarm
		var before *Alarm
		summary := fmt.Sprintf("Alarm %q created", d.Name)
		verb := "created"
		if exists {
			b := old.alarm(s.region, s.account)
			before = &b
			summary, verb = fmt.Sprintf("Alarm %q updated", d.Name), "updated"
			dd.Tags = b.Tags
			a = b
			a.Definition = dd
		} else {
			s.mu.RLock()
			n := len(s.alarms)
			s.mu.RUnlock()
			if n >= s.maxAlarms {
				refused = fault.New(CodeLimitExceeded, "The quota for alarms for this customer has already been reached.")
				return refused
			}
			a = Alarm{Definition: dd, StateValue: StateInsufficientData, StateUpdated: now, StateTransitioned: now, ARN: arnOf(d.Name)}
		}
		a.ConfigurationUpdated = now
		r := toRecord(&a)
		r.HistSeq, r.HistCount, r.Gen = old.HistSeq, old.HistCount, tx.Revision()
		item := HistoryItem{AlarmName: d.Name, AlarmType: TypeComposite, Timestamp: now, Type: "ConfigurationUpdate",
			Summary: summary, Data: configHistoryData(before, &a)}
		if err := appendHistory(tx, &r, item); err != nil {
			return err
		}
		to := StateOK
		if value {
			to = StateAlarm
		}
		if r.StateValue == to {
			return store.PutJSON(tx, alarmKey(d.Name), r)
		}
		reason := fmt.Sprintf("%s was %s and its alarm rule evaluates to %s", arnOf(d.Name), verb, to)
		return putTransition(tx, &r, transition{name: d.Name, to: to, reason: reason,
			data: triggeringData(triggering, arnOf, states)}, now)
	})
	if refused != nil && errors.Is(err, refused) {
		return refused
	}
	if err != nil {
		return fmt.Errorf("put composite alarm %q: %w", d.Name, err)
	}
	return nil
}

// validateComposite checks a composite alarm's members other than its rule's children.
func validateComposite(d *Definition) error {
	if err := validateCommon(d); err != nil {
		return err
	}
	if d.ActionsSuppressor != "" {
		if err := checkLength(d.ActionsSuppressor, "actionsSuppressor", 1, 1600); err != nil {
			return err
		}
		if d.ActionsSuppressorWaitPeriod <= 0 || d.ActionsSuppressorExtensionPeriod <= 0 {
			return fault.New(CodeValidationError, "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is specified.")
		}
	} else if d.ActionsSuppressorWaitPeriod != 0 || d.ActionsSuppressorExtensionPeriod != 0 {
		return fault.New(CodeValidationError, "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod can only be specified with ActionsSuppressor.")
	}
	return nil
}

// childState is what a rule sees of a child alarm.
type childState struct {
	name    string // the alarm's name
	state   string
	updated time.Time
}

// childStates reads the children a rule names (as written) from the store: their states by reference, and the
// references that name no alarm.
func (s *Service) childStates(tx store.Tx, refs []string) (map[string]childState, []string, error) {
	states := make(map[string]childState, len(refs))
	var missing []string
	for _, ref := range refs {
		name := childName(ref, s.region, s.account)
		if name == "" {
			missing = append(missing, ref)
			continue
		}
		r, ok, err := getRecord(tx, name)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			missing = append(missing, ref)
			continue
		}
		states[ref] = childState{name: name, state: r.StateValue, updated: r.StateUpdated}
	}
	return states, missing, nil
}

// cycleThrough reports the path by which a rule naming children would lead back to the composite alarm name,
// following the rules of the composite alarms among them; nil when it would not.
func (s *Service) cycleThrough(tx store.Tx, name string, children []string) ([]string, error) {
	seen := map[string]bool{}
	var walk func(path []string, refs []string) ([]string, error)
	walk = func(path []string, refs []string) ([]string, error) {
		for _, ref := range refs {
			child := childName(ref, s.region, s.account)
			if child == name {
				return append(path, child), nil
			}
			if child == "" || seen[child] {
				continue
			}
			seen[child] = true
			r, ok, err := getRecord(tx, child)
			if err != nil || !ok || r.AlarmRule == "" {
				if err != nil {
					return nil, err
				}
				continue
			}
			_, grandchildren, err := parseRule(r.AlarmRule)
			if err != nil {
				continue // a stored rule always parses; an unreadable one leads nowhere
			}
			if cycle, err := walk(append(slices.Clone(path), child), grandchildren); err != nil || cycle != nil {
				return cycle, err
			}
		}
		return nil, nil
	}
	return walk([]string{name}, children)
}

// evaluateRule evaluates a rule over its children's states (by reference as written) and returns its value and the
// children whose condition agrees with it — CloudWatch's triggeringAlarms of a state reached by creating or
// updating the alarm.
func evaluateRule(src, region, account string, states map[string]childState) (bool, []string) {
	r, _, err := parseRule(src)
	if err != nil {
		return false, nil
	}
	stateOf := func(ref string) string { return states[ref].state }
	value := r.eval(stateOf)
	var triggering []string
	var walk func(alarmRule)
	walk = func(n alarmRule) {
		switch n := n.(type) {
		case *ruleState:
			if n.eval(stateOf) == value && !containsString(triggering, n.name) {
				triggering = append(triggering, n.name)
			}
		case *ruleNot:
			walk(n.x)
		case *ruleAnd:
			walk(n.l)
			walk(n.r)
		case *ruleOr:
			walk(n.l)
			walk(n.r)
		}
	}
	walk(r)
	return value, triggering
}

// triggeringData is a composite alarm's StateReasonData: {"triggeringAlarms":[{"arn":…,"state":{"value":…,
// "timestamp":…}},…]}.
func triggeringData(refs []string, arnOf func(string) string, states map[string]childState) string {
	type state struct {
		Value     string `json:"value"`
		Timestamp string `json:"timestamp"`
	}
	type alarm struct {
		ARN   string `json:"arn"`
		State state  `json:"state"`
	}
	out := struct {
		TriggeringAlarms []alarm `json:"triggeringAlarms"`
	}{TriggeringAlarms: []alarm{}}
	for _, ref := range refs {
		c := states[ref]
		out.TriggeringAlarms = append(out.TriggeringAlarms, alarm{ARN: arnOf(c.name), State: state{Value: c.state, Timestamp: awsTime(c.updated)}})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// compositeEntry is a composite alarm of a snapshot, with its parsed rule.
type compositeEntry struct {
	e        *entry
	rule     alarmRule
	children []string // as written
}

// decideComposites evaluates every composite alarm of a snapshot over its children's states, those of the
// snapshot as changed by the transitions ts of the same pass (at now), children before parents so that a change
// reaches every ancestor in one pass. It returns the composites' transitions. A composite whose state SetState
// forced holds it until a child's state changes after that.
func (s *Service) decideComposites(snapshot []*entry, ts []transition, now time.Time) []transition {
	current := make(map[string]childState, len(snapshot))
	var composites []*compositeEntry
	byName := map[string]*compositeEntry{}
	for _, e := range snapshot {
		current[e.a.Name] = childState{name: e.a.Name, state: e.a.StateValue, updated: e.a.StateUpdated}
		if e.a.AlarmRule == "" {
			continue
		}
		r, children, err := parseRule(e.a.AlarmRule)
		if err != nil {
			continue
		}
		c := &compositeEntry{e: e, rule: r, children: children}
		composites = append(composites, c)
		byName[e.a.Name] = c
	}
	if len(composites) == 0 {
		return nil
	}
	for _, t := range ts {
		current[t.name] = childState{name: t.name, state: t.to, updated: now}
	}
	// Children first: order by depth (a metric alarm's is 0), guarding against a cycle made behind our back.
	depth := map[string]int{}
	var depthOf func(name string, visiting map[string]bool) int
	depthOf = func(name string, visiting map[string]bool) int {
		if d, ok := depth[name]; ok {
			return d
		}
		c := byName[name]
		if c == nil || visiting[name] {
			return 0
		}
		visiting[name] = true
		d := 0
		for _, ref := range c.children {
			d = max(d, 1+depthOf(childName(ref, s.region, s.account), visiting))
		}
		delete(visiting, name)
		depth[name] = d
		return d
	}
	for _, c := range composites {
		depthOf(c.e.a.Name, map[string]bool{})
	}
	sort.SliceStable(composites, func(i, j int) bool {
		return depth[composites[i].e.a.Name] < depth[composites[j].e.a.Name]
	})
	var out []transition
	for _, c := range composites {
		lookup := func(ref string) childState { return current[childName(ref, s.region, s.account)] }
		var latest childState
		for _, ref := range c.children {
			if st := lookup(ref); st.updated.After(latest.updated) {
				latest = st
			}
		}
		if c.e.held && !latest.updated.After(c.e.a.StateUpdated) {
			continue // a SetState holds until a child changes
		}
		to := StateOK
		if c.rule.eval(func(ref string) string { return lookup(ref).state }) {
			to = StateAlarm
		}
		if to == current[c.e.a.Name].state {
			continue
		}
		arnOf := func(n string) string { return arn(s.region, s.account, n) }
		reason := fmt.Sprintf("%s was evaluated and its alarm rule evaluates to %s", arnOf(c.e.a.Name), to)
		data := `{"triggeringAlarms":[]}`
		if latest.name != "" {
			reason = fmt.Sprintf("%s transitioned to %s at %s", arnOf(latest.name), latest.state, latest.updated.UTC().Format(compositeTimeLayout))
			data = triggeringData([]string{latest.name}, arnOf, map[string]childState{latest.name: latest})
		}
		out = append(out, transition{name: c.e.a.Name, to: to, reason: reason, data: data, gen: c.e.gen})
		current[c.e.a.Name] = childState{name: c.e.a.Name, state: to, updated: now}
	}
	return out
}

// Children returns the alarms a composite alarm's rule names (DescribeAlarms ChildrenOfAlarmName), sorted by
// name; none when the alarm is not a composite one or does not exist.
func (s *Service) Children(name string) []Alarm {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.alarms[name]
	if e == nil || e.a.AlarmRule == "" {
		return nil
	}
	_, children, err := parseRule(e.a.AlarmRule)
	if err != nil {
		return nil
	}
	var out []Alarm
	for _, ref := range children {
		if c := s.alarms[childName(ref, s.region, s.account)]; c != nil && !slices.ContainsFunc(out, func(a Alarm) bool { return a.Name == c.a.Name }) {
			out = append(out, cloneAlarm(c.a))
		}
	}
	slices.SortFunc(out, func(a, b Alarm) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Parents returns the composite alarms whose rules name an alarm (DescribeAlarms ParentsOfAlarmName), sorted by
// name.
func (s *Service) Parents(name string) []Alarm {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.parentsLocked(name, nil)
}

// parentsLocked lists the composite alarms naming name, except those in skip.
func (s *Service) parentsLocked(name string, skip map[string]bool) []Alarm {
	var out []Alarm
	for _, e := range s.alarms {
		if e.a.AlarmRule == "" || skip[e.a.Name] {
			continue
		}
		_, children, err := parseRule(e.a.AlarmRule)
		if err != nil {
			continue
		}
		for _, ref := range children {
			if childName(ref, s.region, s.account) == name {
				out = append(out, cloneAlarm(e.a))
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Alarm) int { return strings.Compare(a.Name, b.Name) })
	return out
}
