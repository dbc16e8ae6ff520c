package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/alarms"
	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/sns"
	"github.com/sluice-dev/sluice/internal/sns/topics"
)

// snsCertPath is where each node serves the certificate its deliveries' SigningCertURL names.
const snsCertPath = "/_sluice/sns/"

// serveSigningCert answers GET /_sluice/sns/<CertName> with the signing certificate.
func serveSigningCert(signer *topics.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("cert") != signer.CertName {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(signer.CertPEM())
	})
}

// snsFunctions lets lambda subscriptions invoke functions: asynchronously, once the function's resource policy
// allows sns.amazonaws.com to invoke it with the topic as aws:SourceArn, as Lambda requires of SNS.
type snsFunctions struct {
	cp  *controlplane.Service
	inv *invoke.Service
}

func (f snsFunctions) AllowsSNS(ctx context.Context, functionARN, topicARN string) (bool, error) {
	return functionPolicies{f.cp}.ResourcePolicyAllows(ctx, "sns.amazonaws.com", "lambda:InvokeFunction", functionARN,
		map[string]string{"aws:SourceArn": topicARN, "aws:SourceAccount": f.cp.Account().ID})
}

func (f snsFunctions) InvokeAsync(ctx context.Context, name, qualifier string, payload []byte) error {
	_, err := f.inv.Invoke(ctx, invoke.Request{Ref: lambda.Ref{Name: name, Qualifier: qualifier}, Type: invoke.Event, Payload: payload})
	return err
}

// topicPolicies evaluates a topic's own policy for an SNS action on it.
type topicPolicies struct{ svc *topics.Service }

func (p topicPolicies) decide(ctx context.Context, principal, action, resource string, conditions map[string]string, want policy.Decision) (bool, error) {
	if !strings.HasPrefix(resource, "arn:aws:sns:") {
		return false, nil
	}
	doc, err := p.svc.TopicPolicy(ctx, resource)
	if err != nil || doc == nil {
		return false, err
	}
	return resourcePolicyDecides(doc, principal, action, resource, conditions, want), nil
}

// alarmActions publishes CloudWatch's notification to the SNS topics among an alarm's actions for the state it
// entered. Every process sharing the store hears each change; PublishOnce, keyed by the alarm, the change and
// the topic, sends it once.
func alarmActions(svc *alarms.Service, topicsSvc *topics.Service, region, account string, log *slog.Logger) (cancel func()) {
	cancel = svc.Subscribe(func(c alarms.Change) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, _, err := svc.Describe(ctx, alarms.DescribeFilter{Names: []string{c.AlarmName}, MaxRecords: 1, Types: alarmTypes})
		if err != nil || len(list) == 0 {
			if err != nil {
				log.Warn("read an alarm for its actions", "alarm", c.AlarmName, "err", err)
			}
			return
		}
		publishAlarmActions(ctx, topicsSvc, list[0], c, region, account, log)
	})
	// Transitions committed while no process listened (a crash between an evaluation's commit and its
	// notification): the recent ones are published now, each once (PublishOnce's key is the live path's).
	go catchUpAlarmActions(svc, topicsSvc, region, account, log)
	return cancel
}

var alarmTypes = []string{alarms.TypeMetric, alarms.TypeComposite}

func publishAlarmActions(ctx context.Context, topicsSvc *topics.Service, a alarms.Alarm, c alarms.Change, region, account string, log *slog.Logger) {
	for _, action := range alarms.ActionsFor(a, c.To) {
		if !strings.HasPrefix(action, "arn:aws:sns:") {
			continue
		}
		subject, body := alarms.Notification(a, c, region, account)
		key := "alarm\x00" + a.ARN + "\x00" + c.At.UTC().Format(time.RFC3339Nano) + "\x00" + c.To + "\x00" + action
		if _, err := topicsSvc.PublishOnce(ctx, action, sns.Message{Subject: sns.SubjectFrom(subject), Body: string(body)}, key); err != nil {
			log.Warn("alarm action failed", "alarm", c.AlarmName, "action", action, "err", err)
		}
	}
}

// catchUpAlarmActions publishes the actions of alarms whose state changed within triggerLookback, the change as
// their latest StateUpdate history item tells it; one whose notification was sent is skipped by PublishOnce.
func catchUpAlarmActions(svc *alarms.Service, topicsSvc *topics.Service, region, account string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	since := time.Now().Add(-triggerLookback)
	for token := ""; ; {
		page, next, err := svc.Describe(ctx, alarms.DescribeFilter{MaxRecords: 100, NextToken: token, Types: alarmTypes})
		if err != nil {
			log.Warn("alarm actions: read the alarms", "err", err)
			return
		}
		for _, a := range page {
			if a.StateTransitioned.Before(since) || len(alarms.ActionsFor(a, a.StateValue)) == 0 {
				continue
			}
			items, _, err := svc.History(ctx, alarms.HistoryFilter{Name: a.Name, Type: "StateUpdate", MaxRecords: 1})
			if err != nil || len(items) == 0 || !items[0].Timestamp.Equal(a.StateTransitioned) {
				continue // not the history of this state's transition
			}
			var data struct{ OldState struct{ StateValue string } }
			if json.Unmarshal([]byte(items[0].Data), &data) != nil || data.OldState.StateValue == "" {
				continue
			}
			publishAlarmActions(ctx, topicsSvc, a, alarms.Change{AlarmName: a.Name, From: data.OldState.StateValue, To: a.StateValue,
				Reason: a.StateReason, At: a.StateTransitioned}, region, account, log)
		}
		if next == "" {
			return
		}
		token = next
	}
}
