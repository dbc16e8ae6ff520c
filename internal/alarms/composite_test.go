package alarms

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func (e *env) putComposite(name, rule string) {
	e.t.Helper()
	if err := e.svc.PutComposite(context.Background(), Definition{Name: name, ActionsEnabled: true, AlarmRule: rule}); err != nil {
		e.t.Fatalf("PutComposite %s: %v", name, err)
	}
}

func (e *env) setState(name, state string) {
	e.t.Helper()
	if err := e.svc.SetState(context.Background(), name, state, "test", ""); err != nil {
		e.t.Fatal(err)
	}
}

// child puts a metric alarm named name on orders:live's errors (or its duration, for a name containing
// "latency"), evaluated every second.
func (e *env) child(name string) {
	e.t.Helper()
	d := seedAlarm()
	d.Name, d.Period, d.TreatMissingData = name, time.Second, MissingDataNotBreaching
	if strings.Contains(name, "latency") {
		d.Metric, d.Statistic, d.Threshold = durationLive, "Maximum", 1000
	}
	e.put(d)
}

const arnPrefix = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"

func TestRuleParse(t *testing.T) {
	for _, tc := range []struct {
		rule     string
		children []string
		err      string
	}{
		{rule: "ALARM(a)", children: []string{"a"}},
		{rule: `ALARM("a b") AND NOT OK(c) OR INSUFFICIENT_DATA(` + arnPrefix + `d)`, children: []string{"a b", "c", arnPrefix + "d"}},
		{rule: "(ALARM(a) OR ALARM(b)) AND TRUE", children: []string{"a", "b"}},
		{rule: "TRUE"}, {rule: "NOT FALSE"}, {rule: " ( ( FALSE ) ) "},
		{rule: "ALARM(a) OR ALARM(a)", children: []string{"a"}},
		{rule: "()", err: "Error in AlarmRule [Unsupported token ')' at char 1]"},
		{rule: "ALARM(SampleQueue Oldest Age Alarm)", err: "Error in AlarmRule [Unsupported token 'Oldest' at char 18, must be: ')']"},
		{rule: "ALARM(a) AND", err: "Error in AlarmRule [Unsupported token '<EOF>' at char 12]"},
		{rule: "ALARM a", err: "Error in AlarmRule [Unsupported token 'a' at char 6, must be: '(']"},
		{rule: "ALARM()", err: "Error in AlarmRule [Unsupported token ')' at char 6]"},
		{rule: "alarm(a)", err: "Error in AlarmRule [Unsupported token 'alarm' at char 0]"},
		{rule: "ALARM(a) XOR ALARM(b)", err: "Error in AlarmRule [Unsupported token 'XOR' at char 9]"},
		{rule: `ALARM("a)`, err: `Error in AlarmRule [Unsupported token '"a)' at char 6]`},
		{rule: "(TRUE", err: "Error in AlarmRule [Unsupported token '<EOF>' at char 5, must be: ')']"},
		{rule: strings.Repeat("(", 300) + "TRUE" + strings.Repeat(")", 300), err: "Error in AlarmRule [Unsupported token '(' at char 200]"},
		{rule: "", err: "1 validation error detected: Value '' at 'alarmRule' failed to satisfy constraint: Member must have length between 1 and 10240"},
		{rule: "ALARM(x) OR " + strings.Repeat("TRUE OR ", 600) + "TRUE", err: "Error in AlarmRule [The rule has 602 elements; at most 500 are allowed]"},
		{rule: func() string {
			var parts []string
			for i := range 101 {
				parts = append(parts, "ALARM(a"+string(rune('0'+i/100))+string(rune('0'+i/10%10))+string(rune('0'+i%10))+")")
			}
			return strings.Join(parts, " OR ")
		}(), err: "Error in AlarmRule [The rule names 101 alarms; a composite alarm may have at most 100 children]"},
	} {
		_, children, err := parseRule(tc.rule)
		if tc.err != "" {
			f, ok := fault.As(err)
			if !ok || f.Code != CodeValidationError || f.Message != tc.err {
				t.Errorf("%.60q: %v, want %s", tc.rule, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(children, tc.children) {
			t.Errorf("%q: children %q, %v; want %q", tc.rule, children, err, tc.children)
		}
	}
}

func TestRuleEvaluation(t *testing.T) {
	states := map[string]string{"a": StateAlarm, "b": StateOK, "c": StateInsufficientData}
	for rule, want := range map[string]bool{
		"ALARM(a)": true, "ALARM(b)": false, "OK(b)": true, "INSUFFICIENT_DATA(c)": true, "INSUFFICIENT_DATA(a)": false,
		"ALARM(a) AND ALARM(b)": false, "ALARM(a) OR ALARM(b)": true, "NOT ALARM(a)": false, "NOT NOT ALARM(a)": true,
		"ALARM(b) OR ALARM(a) AND OK(b)": true, "(ALARM(b) OR ALARM(a)) AND INSUFFICIENT_DATA(b)": false,
		"TRUE AND NOT FALSE": true, "ALARM(missing)": false, "OK(missing) OR NOT OK(missing)": true,
	} {
		r, _, err := parseRule(rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.eval(func(n string) string { return states[n] }); got != want {
			t.Errorf("%s = %v, want %v", rule, got, want)
		}
	}
}

func TestCompositeFollowsItsChildren(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.child("latency")
	e.evalAt(at(1), "errors") // both OK
	e.clock.Set(at(1.5))
	e.putComposite("outage", `ALARM(errors) OR ALARM("`+arnPrefix+`latency")`)
	c := e.get("outage")
	if c.Type() != TypeComposite || c.StateValue != StateOK || c.StateReason != arnPrefix+"outage was created and its alarm rule evaluates to OK" {
		t.Fatalf("new composite: %+v", c)
	}
	var data struct {
		TriggeringAlarms []struct {
			ARN   string
			State struct{ Value, Timestamp string }
		}
	}
	if err := json.Unmarshal([]byte(c.StateReasonData), &data); err != nil || len(data.TriggeringAlarms) != 2 ||
		data.TriggeringAlarms[0].ARN != arnPrefix+"errors" || data.TriggeringAlarms[0].State.Value != StateOK ||
		data.TriggeringAlarms[0].State.Timestamp != "2026-11-26T10:00:01.000+0000" {
		t.Fatalf("reason data %s (%v)", c.StateReasonData, err)
	}

	// A child's breach and the composite's transition commit in one evaluation pass.
	e.record(errorsLive, 3, at(1.2))
	if got := e.evalAt(at(2), "outage"); got != StateAlarm {
		t.Fatalf("composite after a breach: %s", got)
	}
	c = e.get("outage")
	if c.StateReason != arnPrefix+"errors transitioned to ALARM at Thursday 26 November, 2026 10:00:02 UTC" ||
		!strings.Contains(c.StateReasonData, `{"arn":"`+arnPrefix+`errors","state":{"value":"ALARM","timestamp":"2026-11-26T10:00:02.000+0000"}}`) {
		t.Errorf("composite reason %q %s", c.StateReason, c.StateReasonData)
	}
	if got := e.take(); !slices.Equal(got[len(got)-2:], []string{"errors:OK>ALARM", "outage:OK>ALARM"}) {
		t.Errorf("subscribers heard %v", got)
	}

	// A change committed elsewhere (SetAlarmState) reaches the composite through the cache: Run's kick.
	e.clock.Set(at(2.1))
	e.setState("latency", StateAlarm)
	e.clock.Set(at(2.2))
	e.setState("errors", StateOK)
	e.svc.EvaluateComposites(context.Background())
	if got := e.get("outage").StateValue; got != StateAlarm {
		t.Fatalf("one child still in ALARM: %s", got)
	}
	e.clock.Set(at(2.3))
	e.setState("latency", StateOK)
	e.svc.EvaluateComposites(context.Background())
	c = e.get("outage")
	if c.StateValue != StateOK || !strings.HasPrefix(c.StateReason, arnPrefix+"latency transitioned to OK at ") {
		t.Fatalf("both children OK: %+v", c)
	}

	items, _, err := e.svc.History(context.Background(), HistoryFilter{Name: "outage", Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, it := range items {
		if it.AlarmType != TypeComposite {
			t.Errorf("history item %+v", it)
		}
		summaries = append(summaries, it.Summary)
	}
	if want := []string{`Alarm "outage" created`, "Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"}; !slices.Equal(summaries, want) {
		t.Errorf("history %q, want %q", summaries, want)
	}
	if !strings.Contains(items[0].Data, `"alarmRule":"ALARM(errors) OR ALARM(\"`+arnPrefix+`latency\")"`) {
		t.Errorf("configuration history %s", items[0].Data)
	}
}

func TestCompositeRunFollowsAChildAtOnce(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.putComposite("outage", "ALARM(errors)")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	e.setState("errors", StateAlarm)
	deadline := time.Now().Add(5 * time.Second) // Run ticks each second; the kick makes it at once
	for e.get("outage").StateValue != StateAlarm {
		if time.Now().After(deadline) {
			t.Fatal("the composite did not follow its child")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNestedCompositesInOnePass(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.putComposite("inner", "ALARM(errors)")
	e.putComposite("outer", `NOT OK("`+arnPrefix+`inner") AND TRUE`)
	e.putComposite("top", "ALARM(outer) AND ALARM(inner)")
	e.record(errorsLive, 1, at(0.5))
	e.evalAt(at(1), "errors")
	for _, n := range []string{"errors", "inner", "outer", "top"} {
		if got := e.get(n).StateValue; got != StateAlarm {
			t.Errorf("%s is %s after one pass, want ALARM", n, got)
		}
	}
	if kids := e.svc.Children("top"); len(kids) != 2 || kids[0].Name != "inner" || kids[1].Name != "outer" {
		t.Errorf("children of top: %v", kids)
	}
	if parents := e.svc.Parents("inner"); len(parents) != 2 || parents[0].Name != "outer" || parents[1].Name != "top" {
		t.Errorf("parents of inner: %v", parents)
	}
}

func TestCompositeValidation(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.putComposite("inner", "ALARM(errors)")
	e.putComposite("outer", "ALARM(inner)")
	for _, tc := range []struct {
		name string
		d    Definition
		code string
		msg  string
	}{
		{"missing children", Definition{Name: "c", AlarmRule: `ALARM(nope) OR ALARM(errors) OR OK("arn:aws:cloudwatch:eu-west-1:000000000000:alarm:errors")`},
			CodeValidationError, "Could not save the composite alarm as alarms [nope, arn:aws:cloudwatch:eu-west-1:000000000000:alarm:errors] in the alarm rule do not exist"},
		{"itself", Definition{Name: "inner", AlarmRule: "ALARM(inner)"}, CodeValidationError,
			"Could not save the composite alarm as its alarm rule would make a cycle: inner -> inner"},
		{"a cycle", Definition{Name: "inner", AlarmRule: "ALARM(errors) AND OK(outer)"}, CodeValidationError,
			"Could not save the composite alarm as its alarm rule would make a cycle: inner -> outer -> inner"},
		{"a metric alarm's name", Definition{Name: "errors", AlarmRule: "TRUE"}, CodeValidationError,
			"The alarm errors is a metric alarm: PutCompositeAlarm cannot replace it."},
		{"bad rule", Definition{Name: "c", AlarmRule: "ALARM(errors"}, CodeValidationError, "Error in AlarmRule [Unsupported token '<EOF>' at char 12, must be: ')']"},
		{"suppressor without periods", Definition{Name: "c", AlarmRule: "TRUE", ActionsSuppressor: "errors"}, CodeValidationError,
			"ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is specified."},
		{"bad name", Definition{Name: "", AlarmRule: "TRUE"}, CodeValidationError, "1 validation error detected: Value '' at 'alarmName'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.PutComposite(context.Background(), tc.d)
			f, ok := fault.As(err)
			if !ok || f.Code != tc.code || !strings.HasPrefix(f.Message, tc.msg) {
				t.Fatalf("PutComposite: %v, want %s: %s", err, tc.code, tc.msg)
			}
		})
	}
	d := seedAlarm()
	d.Name = "inner"
	if err := e.svc.Put(context.Background(), d); err == nil || !strings.Contains(err.Error(), "The alarm inner is a composite alarm: PutMetricAlarm cannot replace it.") {
		t.Errorf("PutMetricAlarm over a composite: %v", err)
	}
}

func TestDeleteWithComposites(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.child("latency")
	e.putComposite("inner", "ALARM(errors) OR ALARM(latency)")
	e.putComposite("outer", "ALARM(inner)")
	ctx := context.Background()
	for _, tc := range []struct {
		names []string
		msg   string
	}{
		{[]string{"errors"}, "Cannot delete errors as there are composite alarm(s) depending on it."},
		{[]string{"latency", "errors"}, "Cannot delete errors,latency as there are composite alarm(s) depending on them."},
		{[]string{"inner", "errors"}, "Cannot delete inner as there are composite alarm(s) depending on it."},
		{[]string{"inner", "outer"}, "A DeleteAlarms request can delete at most one composite alarm; this one names 2."},
	} {
		err := e.svc.Delete(ctx, tc.names)
		if f, ok := fault.As(err); !ok || f.Code != CodeValidationError || f.Message != tc.msg {
			t.Errorf("Delete %v: %v, want %s", tc.names, err, tc.msg)
		}
	}
	for _, names := range [][]string{{"outer"}, {"inner", "errors", "latency"}} { // a parent deleted with its children
		if err := e.svc.Delete(ctx, names); err != nil {
			t.Fatalf("Delete %v: %v", names, err)
		}
	}
	if l, _, _ := e.svc.Describe(ctx, DescribeFilter{}); len(l) != 0 {
		t.Errorf("left: %v", l)
	}
}

func TestDescribeTypes(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.put(errorRateAlarm())
	e.putComposite("outage", "ALARM(errors)")
	for _, tc := range []struct {
		types []string
		want  []string
	}{
		{nil, []string{"errors", "orders-live-error-rate", "outage"}},
		{[]string{TypeMetric}, []string{"errors", "orders-live-error-rate"}},
		{[]string{TypeComposite}, []string{"outage"}},
	} {
		l, _, err := e.svc.Describe(context.Background(), DescribeFilter{Types: tc.types})
		var names []string
		for _, a := range l {
			names = append(names, a.Name)
		}
		if err != nil || !slices.Equal(names, tc.want) {
			t.Errorf("types %v: %v %v, want %v", tc.types, names, err, tc.want)
		}
	}
	items, _, err := e.svc.History(context.Background(), HistoryFilter{Types: []string{TypeComposite}})
	if err != nil || len(items) != 2 || items[0].AlarmName != "outage" {
		t.Errorf("composite history: %+v %v", items, err)
	}
}

func TestCompositeSetStateHoldsUntilAChildChanges(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	e.putComposite("outage", "ALARM(errors)")
	e.evalAt(at(1), "errors")
	e.clock.Set(at(3))
	e.setState("outage", StateAlarm) // testing the alarm's actions
	e.svc.EvaluateComposites(context.Background())
	if got := e.evalAt(at(4), "outage"); got != StateAlarm {
		t.Fatalf("forced state after a pass without a child change: %s", got)
	}
	e.clock.Set(at(5))
	e.setState("errors", StateAlarm)
	e.setState("errors", StateOK)
	e.svc.EvaluateComposites(context.Background())
	if got := e.get("outage").StateValue; got != StateOK {
		t.Fatalf("after the child changed: %s", got)
	}
}

func TestCompositePersists(t *testing.T) {
	e := newEnv(t)
	e.child("errors")
	if err := e.svc.PutComposite(context.Background(), Definition{Name: "outage", AlarmRule: "ALARM(errors)", Description: "d",
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:page"}, ActionsSuppressor: "errors",
		ActionsSuppressorWaitPeriod: 60, ActionsSuppressorExtensionPeriod: 120, Tags: map[string]string{"team": "core"}}); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	a := e.get("outage")
	if a.AlarmRule != "ALARM(errors)" || a.Description != "d" || a.ActionsSuppressor != "errors" || a.ActionsSuppressorWaitPeriod != 60 ||
		a.ActionsSuppressorExtensionPeriod != 120 || len(a.AlarmActions) != 1 || a.Tags["team"] != "core" || a.ActionsEnabled {
		t.Fatalf("after a restart: %+v", a)
	}
}
