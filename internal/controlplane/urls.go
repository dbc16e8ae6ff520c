package controlplane

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// URLConfig is a function URL: an HTTP endpoint on a function's $LATEST (qualifier "") or on one alias.
type URLConfig struct {
	// ID is the URL's host label (<id>.lambda-url.<region>…): 32 random lower-case letters and digits, as AWS's.
	ID         string       `json:"id"`
	Qualifier  string       `json:"qualifier,omitempty"`
	AuthType   string       `json:"authType"`   // NONE or AWS_IAM
	InvokeMode string       `json:"invokeMode"` // BUFFERED or RESPONSE_STREAM
	Cors       *lambda.Cors `json:"cors,omitempty"`
	Created    time.Time    `json:"created"`
	Modified   time.Time    `json:"modified"`
}

// URLView is a URL configuration with the function ARN it serves (qualified for an alias).
type URLView struct {
	FunctionARN string
	Function    string
	Config      URLConfig
}

// URLPatch is CreateFunctionUrlConfig's or UpdateFunctionUrlConfig's request: nil fields are not given.
type URLPatch struct {
	AuthType, InvokeMode *string
	Cors                 *lambda.Cors
}

// urlQualifierKey is the key part of a URL's qualifier ($LATEST's URL has none).
func urlQualifierKey(q string) string {
	if q == "" {
		return lambda.Latest
	}
	return q
}

func (s *Service) urlView(name string, c URLConfig) URLView {
	return URLView{FunctionARN: s.acct.QualifiedARN(name, c.Qualifier), Function: name, Config: c}
}

// urlTarget checks that the function and the alias a URL request names exist. AWS answers a missing one with
// "Function does not exist" to creates and updates (missing is the function), and with "The resource you
// requested does not exist." to reads and deletes (missing is the URL).
func (s *Service) urlTarget(tx store.Tx, ref lambda.Ref, write bool) error {
	missing := func() error {
		if write {
			return fault.NotFound("Function does not exist")
		}
		return errNoURL
	}
	if _, err := s.loadFunction(tx, ref.Name); fault.Is(err, fault.ResourceNotFound) {
		return missing()
	} else if err != nil {
		return err
	}
	if ref.Qualifier != "" {
		a, err := loadAlias(tx, ref.Name, ref.Qualifier)
		if err != nil {
			return err
		}
		if a == nil {
			return missing()
		}
	}
	return nil
}

var errNoURL = fault.NotFound("The resource you requested does not exist.")

// CreateFunctionURLConfig gives a function ($LATEST) or an alias its URL.
func (s *Service) CreateFunctionURLConfig(ctx context.Context, ref lambda.Ref, p URLPatch) (URLView, error) {
	var out URLView
	err := s.mutate(ctx, func(tx store.Tx) error {
		if err := s.urlTarget(tx, ref, true); err != nil {
			return err
		}
		key := urlKey(ref.Name, urlQualifierKey(ref.Qualifier))
		if ok, err := store.Exists(tx, key); err != nil || ok {
			return errors.Join(err, fault.Conflict("Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function",
				s.acct.QualifiedARN(ref.Name, ref.Qualifier)))
		}
		now := s.now()
		c := URLConfig{ID: newURLID(), Qualifier: ref.Qualifier, AuthType: deref(p.AuthType), InvokeMode: "BUFFERED",
			Cors: p.Cors, Created: now, Modified: now}
		if p.InvokeMode != nil {
			c.InvokeMode = *p.InvokeMode
		}
		out = s.urlView(ref.Name, c)
		return store.PutJSON(tx, key, c)
	})
	return out, err
}

// GetFunctionURLConfig returns the URL of a function ($LATEST) or an alias.
func (s *Service) GetFunctionURLConfig(ctx context.Context, ref lambda.Ref) (URLView, error) {
	var out URLView
	err := s.view(ctx, func(tx store.Tx) error {
		c, err := s.loadURL(tx, ref, false)
		out = s.urlView(ref.Name, c)
		return err
	})
	return out, err
}

func (s *Service) loadURL(tx store.Tx, ref lambda.Ref, write bool) (URLConfig, error) {
	var c URLConfig
	if err := s.urlTarget(tx, ref, write); err != nil {
		return c, err
	}
	err := store.GetJSON(tx, urlKey(ref.Name, urlQualifierKey(ref.Qualifier)), &c)
	if errors.Is(err, store.ErrNotFound) {
		return c, errNoURL
	}
	return c, err
}

// UpdateFunctionURLConfig changes a URL's auth type, CORS or invoke mode (what is given).
func (s *Service) UpdateFunctionURLConfig(ctx context.Context, ref lambda.Ref, p URLPatch) (URLView, error) {
	var out URLView
	err := s.mutate(ctx, func(tx store.Tx) error {
		c, err := s.loadURL(tx, ref, true)
		if err != nil {
			return err
		}
		if p.AuthType != nil {
			c.AuthType = *p.AuthType
		}
		if p.InvokeMode != nil {
			c.InvokeMode = *p.InvokeMode
		}
		if p.Cors != nil {
			c.Cors = p.Cors
		}
		c.Modified = s.now()
		out = s.urlView(ref.Name, c)
		return store.PutJSON(tx, urlKey(ref.Name, urlQualifierKey(ref.Qualifier)), c)
	})
	return out, err
}

// DeleteFunctionURLConfig removes a URL: its address stops answering.
func (s *Service) DeleteFunctionURLConfig(ctx context.Context, ref lambda.Ref) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadURL(tx, ref, false); err != nil {
			return err
		}
		return tx.Delete(urlKey(ref.Name, urlQualifierKey(ref.Qualifier)))
	})
}

// ListFunctionURLConfigs pages through a function's URLs ($LATEST's first, then the aliases' by name).
func (s *Service) ListFunctionURLConfigs(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]URLView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	page := newPager[URLView](maxItems)
	err = s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadFunction(tx, ref.Name); fault.Is(err, fault.ResourceNotFound) {
			return fault.NotFound("Function does not exist")
		} else if err != nil {
			return err
		}
		return tx.Scan(urlPrefix(ref.Name), after, func(k string, b []byte) (bool, error) {
			var c URLConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			return page.add(k, s.urlView(ref.Name, c)), nil
		})
	})
	return page.items, page.next(), err
}

// urlConfigs reads all URLs of a function (for snapshots), by qualifier ("" for $LATEST's).
func urlConfigs(tx store.Tx, name string) (map[string]URLConfig, error) {
	out := map[string]URLConfig{}
	err := tx.Scan(urlPrefix(name), "", func(_ string, b []byte) (bool, error) {
		var c URLConfig
		err := jsonUnmarshal(b, &c)
		out[c.Qualifier] = c
		return err == nil, err
	})
	return out, err
}

// newURLID draws a URL's host label: 32 characters of [a-z0-9], as AWS's.
func newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 32)
	var b [64]byte
	for len(out) < 32 {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		for _, c := range b {
			if c < 252 && len(out) < 32 { // 252 = 7·36: no letter more likely than another
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
