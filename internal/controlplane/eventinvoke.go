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

// eventInvokeTarget resolves the qualifier a config request names ($LATEST when unqualified). A missing function,
// version or alias answers as AWS does: "The function doesn't exist." to writes and lists, and to reads "The
// function <arn:qualifier> doesn't have an EventInvokeConfig", the same as a target without a config.
func (s *Service) eventInvokeTarget(tx store.Tx, ref lambda.Ref, read bool) (string, error) {
	q := ref.Qualifier
	if q == "" {
		q = lambda.Latest
	}
	missing := func(err error) (string, error) {
		if err != nil {
			return "", err
		}
		if read {
			return "", s.noEventInvokeConfig(ref.Name, q)
		}
		return "", fault.NotFound("The function doesn't exist.")
	}
	if _, err := s.loadFunction(tx, ref.Name); fault.Is(err, fault.ResourceNotFound) {
		return missing(nil)
	} else if err != nil {
		return "", err
	}
	switch {
	case q == lambda.Latest:
	case lambda.IsVersionNumber(q):
		if v, err := loadVersion(tx, ref.Name, atoi(q)); err != nil || v == nil {
			return missing(err)
		}
	default:
		if a, err := loadAlias(tx, ref.Name, q); err != nil || a == nil {
			return missing(err)
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

// checkEventInvoke checks a request's arguments, before whether its function exists, as AWS does.
func (s *Service) checkEventInvoke(p EventInvokePatch) error {
	if p.MaximumRetryAttempts == nil && p.MaximumEventAgeInSeconds == nil && p.OnSuccess == nil && p.OnFailure == nil {
		return fault.InvalidParameter("You must specify at least one of error handling or destination setting.")
	}
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
		switch service := arnService(*d); service {
		case "lambda":
			if !strings.Contains(*d, ":function:") {
				return fault.InvalidParameter("The destination ARN %s is invalid.", *d)
			}
		case "sqs", "sns", "events", "s3":
			return fault.InvalidParameter("The destination ARN %s is invalid: Sluice delivers destination records to Lambda functions only (SQS, SNS, EventBridge and S3 are not available).", *d)
		default:
			return fault.InvalidParameter("The provided destination config DestinationConfig(onSuccess=%s, onFailure=%s) is invalid.",
				destinationString("OnSuccess", p.OnSuccess), destinationString("OnFailure", p.OnFailure))
		}
	}
	return nil
}

// arnService is the service part of an ARN ("lambda" in arn:aws:lambda:…).
func arnService(arn string) string {
	parts := strings.SplitN(arn, ":", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// destinationString prints a destination as AWS's messages do (a Java object's toString).
func destinationString(kind string, d *string) string {
	if d == nil || *d == "" {
		return "null"
	}
	return kind + "(destination=" + *d + ")"
}

// checkDestinations refuses Lambda destinations that do not exist or are the function itself.
func (s *Service) checkDestinations(tx store.Tx, name string, p EventInvokePatch) error {
	for _, d := range []*string{p.OnSuccess, p.OnFailure} {
		if d == nil || arnService(*d) != "lambda" {
			continue
		}
		ref, err := s.acct.ParseFunctionName("destination", *d, 256)
		if err != nil {
			return fault.InvalidParameter("The destination ARN %s is invalid.", *d)
		}
		if ref.Name == name {
			return fault.InvalidParameter("You can't specify the function as a destination for itself.")
		}
		if _, err := s.resolve(tx, ref); fault.Is(err, fault.ResourceNotFound) {
			return fault.InvalidParameter("The destination ARN %s is invalid.", *d)
		} else if err != nil {
			return err
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
		q, err := s.eventInvokeTarget(tx, ref, false)
		if err != nil {
			return err
		}
		if err := s.checkDestinations(tx, ref.Name, p); err != nil {
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
	return fault.NotFound("The function %s doesn't have an EventInvokeConfig", s.acct.QualifiedARN(name, q))
}

// GetFunctionEventInvokeConfig returns the config of a function or qualifier.
func (s *Service) GetFunctionEventInvokeConfig(ctx context.Context, ref lambda.Ref) (EventInvokeConfigView, error) {
	var out EventInvokeConfigView
	err := s.view(ctx, func(tx store.Tx) error {
		q, err := s.eventInvokeTarget(tx, ref, true)
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
		q, err := s.eventInvokeTarget(tx, ref, true)
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
		if _, err := s.loadFunction(tx, ref.Name); fault.Is(err, fault.ResourceNotFound) {
			return fault.NotFound("The function doesn't exist.")
		} else if err != nil {
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
