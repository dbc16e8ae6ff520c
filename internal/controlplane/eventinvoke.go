package controlplane

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// EventInvokeConfig is a function's (or version's, or alias's) asynchronous invocation settings.
type EventInvokeConfig struct {
	Qualifier                string    `json:"qualifier"` // "$LATEST" for the unqualified function
	MaximumRetryAttempts     *int      `json:"maximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int      `json:"maximumEventAgeInSeconds,omitempty"`
	OnSuccess                string    `json:"onSuccess,omitempty"`
	OnFailure                string    `json:"onFailure,omitempty"`
	LastModified             time.Time `json:"lastModified"`
}

// EventInvokeConfigView is a config with the ARN it applies to.
type EventInvokeConfigView struct {
	FunctionARN string
	Config      EventInvokeConfig
}

func (s *Service) eventInvokeTarget(tx store.Tx, ref lambda.Ref) (string, error) {
	if _, err := s.loadFunction(tx, ref.Name); err != nil {
		return "", err
	}
	q := ref.Qualifier
	switch {
	case q == "" || q == lambda.Latest:
		return lambda.Latest, nil
	case lambda.IsVersionNumber(q):
		if v, err := loadVersion(tx, ref.Name, atoi(q)); err != nil || v == nil {
			return "", errors.Join(err, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
	default:
		if a, err := loadAlias(tx, ref.Name, q); err != nil || a == nil {
			return "", errors.Join(err, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
	}
	return q, nil
}

// EventInvokePatch is a Put (replace) or Update (merge) request.
type EventInvokePatch struct {
	MaximumRetryAttempts     *int
	MaximumEventAgeInSeconds *int
	OnSuccess, OnFailure     *string
}

func (s *Service) checkEventInvoke(p EventInvokePatch) error {
	if n := p.MaximumRetryAttempts; n != nil && (*n < 0 || *n > 2) {
		return lambda.ValidationError(itoa(*n), "maximumRetryAttempts", "Member must have value less than or equal to 2")
	}
	if n := p.MaximumEventAgeInSeconds; n != nil && (*n < 60 || *n > 21600) {
		return lambda.ValidationError(itoa(*n), "maximumEventAgeInSeconds", "Member must have value between 60 and 21600")
	}
	for _, d := range []*string{p.OnSuccess, p.OnFailure} {
		if d == nil || *d == "" {
			continue
		}
		if _, err := s.acct.ParseFunctionName("destination", *d, 256); err != nil || !strings.HasPrefix(*d, "arn:") || !strings.Contains(*d, ":function:") {
			return fault.InvalidParameter("The destination ARN %s is invalid: Sluice delivers destination records to Lambda functions only (SQS, SNS and EventBridge are not available).", *d)
		}
	}
	return nil
}

// PutFunctionEventInvokeConfig replaces (merge=false) or updates (merge=true) the config of a function or qualifier.
func (s *Service) PutFunctionEventInvokeConfig(ctx context.Context, ref lambda.Ref, p EventInvokePatch, merge bool) (EventInvokeConfigView, error) {
	if err := s.checkEventInvoke(p); err != nil {
		return EventInvokeConfigView{}, err
	}
	var out EventInvokeConfigView
	err := s.mutate(ctx, func(tx store.Tx) error {
		q, err := s.eventInvokeTarget(tx, ref)
		if err != nil {
			return err
		}
		var c EventInvokeConfig
		if merge {
			if err := store.GetJSON(tx, eventInvokeKey(ref.Name, q), &c); errors.Is(err, store.ErrNotFound) {
				return s.noEventInvokeConfig(ref.Name, q)
			} else if err != nil {
				return err
			}
		}
		c.Qualifier = q
		if p.MaximumRetryAttempts != nil || !merge {
			c.MaximumRetryAttempts = p.MaximumRetryAttempts
		}
		if p.MaximumEventAgeInSeconds != nil || !merge {
			c.MaximumEventAgeInSeconds = p.MaximumEventAgeInSeconds
		}
		if p.OnSuccess != nil || !merge {
			c.OnSuccess = deref(p.OnSuccess)
		}
		if p.OnFailure != nil || !merge {
			c.OnFailure = deref(p.OnFailure)
		}
		c.LastModified = s.now()
		out = s.eventInvokeView(ref.Name, c)
		return store.PutJSON(tx, eventInvokeKey(ref.Name, q), c)
	})
	return out, err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Service) eventInvokeView(name string, c EventInvokeConfig) EventInvokeConfigView {
	return EventInvokeConfigView{FunctionARN: s.acct.QualifiedARN(name, c.Qualifier), Config: c}
}

func (s *Service) noEventInvokeConfig(name, q string) error {
	arn := s.acct.FunctionARN(name)
	if q != lambda.Latest {
		arn = s.acct.QualifiedARN(name, q)
	}
	return fault.NotFound("The function %s doesn't have an EventInvokeConfig", arn)
}

// GetFunctionEventInvokeConfig returns the config of a function or qualifier.
func (s *Service) GetFunctionEventInvokeConfig(ctx context.Context, ref lambda.Ref) (EventInvokeConfigView, error) {
	var out EventInvokeConfigView
	err := s.view(ctx, func(tx store.Tx) error {
		q, err := s.eventInvokeTarget(tx, ref)
		if err != nil {
			return err
		}
		var c EventInvokeConfig
		if err := store.GetJSON(tx, eventInvokeKey(ref.Name, q), &c); errors.Is(err, store.ErrNotFound) {
			return s.noEventInvokeConfig(ref.Name, q)
		} else if err != nil {
			return err
		}
		out = s.eventInvokeView(ref.Name, c)
		return nil
	})
	return out, err
}

// DeleteFunctionEventInvokeConfig removes the config of a function or qualifier.
func (s *Service) DeleteFunctionEventInvokeConfig(ctx context.Context, ref lambda.Ref) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		q, err := s.eventInvokeTarget(tx, ref)
		if err != nil {
			return err
		}
		if ok, err := store.Exists(tx, eventInvokeKey(ref.Name, q)); err != nil || !ok {
			return errors.Join(err, s.noEventInvokeConfig(ref.Name, q))
		}
		return tx.Delete(eventInvokeKey(ref.Name, q))
	})
}

// ListFunctionEventInvokeConfigs lists a function's configs.
func (s *Service) ListFunctionEventInvokeConfigs(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]EventInvokeConfigView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	page := newPager[EventInvokeConfigView](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		return tx.Scan(eventInvokePrefix(ref.Name), after, func(k string, b []byte) (bool, error) {
			var c EventInvokeConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			return page.add(k, s.eventInvokeView(ref.Name, c)), nil
		})
	})
	return page.items, page.next(), err
}

// eventInvokeConfigs reads all configs of a function (for snapshots).
func eventInvokeConfigs(tx store.Tx, name string) (map[string]EventInvokeConfig, error) {
	out := map[string]EventInvokeConfig{}
	err := tx.Scan(eventInvokePrefix(name), "", func(_ string, b []byte) (bool, error) {
		var c EventInvokeConfig
		err := jsonUnmarshal(b, &c)
		out[c.Qualifier] = c
		return err == nil, err
	})
	return out, err
}
