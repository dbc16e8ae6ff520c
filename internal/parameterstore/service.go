// Package parameterstore owns Parameter Store's use cases over the store: putting a parameter's next version (the
// 100 kept, the oldest dropped), reading one by name, version or label, by hierarchy and with filters, labels,
// tags, deletion, and the encryption of SecureString values at rest. The rules are package ssm's; the wire is
// internal/api/ssmapi's.
//
// # Store layout
//
//	ssm/param/<name>              ssm.Parameter: the parameter's state and its latest version (one read answers
//	                              GetParameter, DescribeParameters and GetParametersByPath)
//	ssm/version/<name>:<version>  ssm.Version, each version kept, the latest included (":" is in no name, so one
//	                              parameter's versions never share a prefix with another's; versions are 20 digits)
//	ssm/count                     how many Standard and Advanced parameters exist (AWS's per-account limits)
//
// Every write is one Update, so the compare-and-swap is the store's (bbolt's serializable transactions, etcd's
// checked commits): two PutParameter calls racing on a parameter make versions N+1 and N+2, never two N+1.
//
// # SecureString
//
// A SecureString's value is kept as the ciphertext AWS would answer without decryption: AES-256-GCM under the
// server's key (a file in the data dir, or derived from the cluster's secret; internal/server), bound to the
// parameter's name and version. It is decrypted only for WithDecryption, and never logged.
package parameterstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/ssm"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	paramPrefix   = "ssm/param/"
	versionPrefix = "ssm/version/"
	countKey      = "ssm/count"
)

// keyName is the name a parameter is keyed by: AWS holds "/x" and "x" to be the same parameter, so a name of one
// level is keyed without its slash (the record keeps the name as it was created). Hierarchical names keep theirs,
// so a hierarchy's parameters share a key prefix.
func keyName(name string) string {
	if rest, ok := strings.CutPrefix(name, "/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return name
}

func paramKey(name string) string { return paramPrefix + keyName(name) }

func versionsOf(name string) string { return versionPrefix + keyName(name) + ":" }

func versionKey(name string, v int64) string { return fmt.Sprintf("%s%020d", versionsOf(name), v) }

// Options configure a Service.
type Options struct {
	Store store.Store
	// Key is the 32-byte AES key SecureString values are encrypted with.
	Key []byte
	// Now is the clock of LastModifiedDate (default time.Now).
	Now func() time.Time
}

// Service is Parameter Store over the store.
type Service struct {
	db   store.Store
	seal *sealer
	now  func() time.Time
}

// New returns the service.
func New(o Options) (*Service, error) {
	s, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: o.Store, seal: s, now: o.Now}, nil
}

// counts is the count record.
type counts struct {
	Standard int `json:"standard"`
	Advanced int `json:"advanced"`
}

func (c *counts) add(tier string, n int) {
	if tier == ssm.TierAdvanced {
		c.Advanced += n
	} else {
		c.Standard += n
	}
}

func readCounts(tx store.Tx) (counts, error) {
	var c counts
	if err := store.GetJSON(tx, countKey, &c); err != nil && !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	return c, nil
}

func loadParam(tx store.Tx, name string) (*ssm.Parameter, error) {
	var p ssm.Parameter
	err := store.GetJSON(tx, paramKey(name), &p)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// PutResult is what PutParameter answers.
type PutResult struct {
	Version int64
	Tier    string
}

// Put makes a parameter's next version (or its first); user is the caller's ARN (LastModifiedUser).
func (s *Service) Put(ctx context.Context, req ssm.PutRequest, user string) (PutResult, error) {
	req.Name = ssm.CleanName(req.Name)
	var out PutResult
	err := s.db.Update(ctx, func(tx store.Tx) error {
		cur, err := loadParam(tx, req.Name)
		if err != nil {
			return err
		}
		v, err := ssm.PlanPut(req, cur, s.now().UTC(), user)
		if err != nil {
			return err
		}
		name := req.Name
		if cur != nil {
			name = cur.Name // as it was created ("/x" when updated as "x")
		}
		if v.Type == ssm.TypeSecureString {
			if v.Value, err = s.seal.seal(name, v.Version, v.Value); err != nil {
				return err
			}
		}
		// The counts change only with a new parameter or a new tier: an overwrite in the same tier leaves the one
		// record every creation touches alone (on etcd, a key two transactions share makes one of them run again).
		if cur == nil || cur.Tier != v.Tier {
			c, err := readCounts(tx)
			if err != nil {
				return err
			}
			if cur != nil {
				c.add(cur.Tier, -1)
			}
			c.add(v.Tier, 1)
			if cur == nil && (c.Standard > ssm.MaxStandardParameters || c.Advanced > ssm.MaxAdvancedParameters) {
				return ssm.ParameterLimit()
			}
			if err := store.PutJSON(tx, countKey, c); err != nil {
				return err
			}
		}
		next, dropped := ssm.Commit(name, cur, v)
		if cur == nil && len(req.Tags) > 0 {
			if err := ssm.AddTags(&next, req.Tags); err != nil {
				return err
			}
		}
		if err := store.PutJSON(tx, paramKey(name), next); err != nil {
			return err
		}
		if err := store.PutJSON(tx, versionKey(name, v.Version), v); err != nil {
			return err
		}
		if dropped > 0 {
			if err := tx.Delete(versionKey(name, dropped)); err != nil {
				return err
			}
		}
		out = PutResult{Version: v.Version, Tier: v.Tier}
		return nil
	})
	return out, err
}

// Value is one parameter's value as GetParameter, GetParameters and GetParametersByPath answer it.
type Value struct {
	Name     string
	Type     string
	Value    string
	Version  int64
	Selector string // ":3" or ":label" when the request named one
	DataType string
	Modified time.Time
}

// Get reads a parameter by name, "name:version" or "name:label". A SecureString's value is decrypted only when
// decrypt is set.
func (s *Service) Get(ctx context.Context, nameSelector string, decrypt bool) (Value, error) {
	var out Value
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.get(tx, ssm.CleanName(nameSelector), decrypt)
		return err
	})
	return out, err
}

func (s *Service) get(tx store.Tx, nameSelector string, decrypt bool) (Value, error) {
	name, sel, err := ssm.ParseSelector(nameSelector)
	if err != nil {
		return Value{}, err
	}
	p, err := loadParam(tx, name)
	if err != nil {
		return Value{}, err
	}
	if p == nil {
		return Value{}, ssm.NotFound()
	}
	version := p.Version.Version
	switch {
	case sel.Version > 0:
		version = sel.Version
	case sel.Label != "":
		v, ok := p.Labels[sel.Label]
		if !ok {
			return Value{}, ssm.LabelNotFound(name, sel.Label)
		}
		version = v
	}
	v, err := s.version(tx, p, version)
	if err != nil {
		return Value{}, err
	}
	return s.value(p.Name, v, sel.Text, decrypt)
}

// version reads one kept version of p.
func (s *Service) version(tx store.Tx, p *ssm.Parameter, version int64) (ssm.Version, error) {
	if version == p.Version.Version {
		return p.Version, nil
	}
	if version < p.Oldest || version > p.Version.Version {
		return ssm.Version{}, ssm.VersionNotFound(p.Name, version)
	}
	var v ssm.Version
	err := store.GetJSON(tx, versionKey(p.Name, version), &v)
	if errors.Is(err, store.ErrNotFound) {
		return v, ssm.VersionNotFound(p.Name, version)
	}
	return v, err
}

func (s *Service) value(name string, v ssm.Version, selector string, decrypt bool) (Value, error) {
	out := Value{Name: name, Type: v.Type, Value: v.Value, Version: v.Version, Selector: selector, DataType: v.DataType, Modified: v.Modified}
	if v.Type == ssm.TypeSecureString && decrypt {
		plain, err := s.seal.open(name, v.Version, v.Value)
		if err != nil {
			return Value{}, err
		}
		out.Value = plain
	}
	return out, nil
}

// GetMany reads up to ten parameters as Get does: those that cannot be read (missing, a version or label they do
// not have, a name of the wrong form) are listed in invalid as they were asked for, in the order asked.
func (s *Service) GetMany(ctx context.Context, names []string, decrypt bool) (found []Value, invalid []string, err error) {
	err = s.db.View(ctx, func(tx store.Tx) error {
		found, invalid = nil, nil
		seen := map[string]bool{}
		for _, n := range names {
			n = ssm.CleanName(n)
			if seen[n] {
				continue
			}
			seen[n] = true
			v, err := s.get(tx, n, decrypt)
			if _, isFault := fault.As(err); isFault {
				invalid = append(invalid, n)
				continue
			}
			if err != nil {
				return err
			}
			found = append(found, v)
		}
		return nil
	})
	return found, invalid, err
}

// ByPathRequest is a GetParametersByPath call.
type ByPathRequest struct {
	Path      string
	Recursive bool
	Filters   []ssm.StringFilter
	Decrypt   bool
	Max       int // 1-10
	NextToken *string
}

// ByPath lists the parameters under a path (directly, or at any depth when Recursive), filtered, a page at a time
// in name order.
func (s *Service) ByPath(ctx context.Context, req ByPathRequest) ([]Value, string, error) {
	path := ssm.CleanName(req.Path)
	if err := ssm.CheckPath(path); err != nil {
		return nil, "", err
	}
	filters, err := ssm.ByPathFilters(req.Filters)
	if err != nil {
		return nil, "", err
	}
	// Names of one level are keyed without their slash (keyName): the root's are found among all the keys.
	prefix := paramPrefix
	if path != "/" {
		prefix += ssm.PathPrefix(path)
	}
	fp := fingerprint("GetParametersByPath", path, req.Recursive, req.Filters)
	after, err := parseToken(req.NextToken, prefix, fp)
	if err != nil {
		return nil, "", err
	}
	var out []Value
	next, err := s.scanPage(ctx, prefix, after, fp, req.Max, func() { out = nil }, func(tx store.Tx, p *ssm.Parameter) (bool, error) {
		if !ssm.UnderPath(ssm.PathPrefix(path), p.Name, req.Recursive) || !filters.Match(p) {
			return false, nil
		}
		version, selector := p.Version, ""
		if label, at := filters.Label(p); label != "" {
			var err error
			if version, err = s.version(tx, p, at); err != nil {
				return false, err
			}
			selector = ":" + label
		}
		v, err := s.value(p.Name, version, selector, req.Decrypt)
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out, next, err
}

// Delete deletes a parameter and every version it keeps.
func (s *Service) Delete(ctx context.Context, name string) error {
	name = ssm.CleanName(name)
	if err := ssm.CheckName(name); err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx store.Tx) error {
		found, err := s.delete(tx, name)
		if err == nil && !found {
			err = ssm.NotFound()
		}
		return err
	})
}

func (s *Service) delete(tx store.Tx, name string) (bool, error) {
	if ssm.CheckName(name) != nil {
		return false, nil
	}
	p, err := loadParam(tx, name)
	if err != nil || p == nil {
		return false, err
	}
	var keys []string
	if err := tx.Scan(versionsOf(name), "", func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	}); err != nil {
		return false, err
	}
	for _, k := range append(keys, paramKey(name)) {
		if err := tx.Delete(k); err != nil {
			return false, err
		}
	}
	c, err := readCounts(tx)
	if err != nil {
		return false, err
	}
	c.add(p.Tier, -1)
	return true, store.PutJSON(tx, countKey, c)
}

// DeleteMany deletes up to ten parameters in one transaction: those that do not exist are listed in invalid.
func (s *Service) DeleteMany(ctx context.Context, names []string) (deleted, invalid []string, err error) {
	err = s.db.Update(ctx, func(tx store.Tx) error {
		deleted, invalid = nil, nil
		for _, n := range names {
			n = ssm.CleanName(n)
			found, err := s.delete(tx, n)
			if err != nil {
				return err
			}
			if found {
				deleted = append(deleted, n)
			} else if !slices.Contains(deleted, n) && !slices.Contains(invalid, n) {
				invalid = append(invalid, n)
			}
		}
		return nil
	})
	return deleted, invalid, err
}

func decodeParam(raw []byte) (*ssm.Parameter, error) {
	var p ssm.Parameter
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DescribeRequest is a DescribeParameters call.
type DescribeRequest struct {
	Filters          []ssm.LegacyFilter
	ParameterFilters []ssm.StringFilter
	Max              int // 1-50
	NextToken        *string
}

// Describe lists parameters' metadata (no values), filtered, a page at a time in name order.
func (s *Service) Describe(ctx context.Context, req DescribeRequest) ([]ssm.Parameter, string, error) {
	filters, err := ssm.DescribeFilters(req.Filters, req.ParameterFilters)
	if err != nil {
		return nil, "", err
	}
	prefix := paramPrefix
	if path, _, ok := filters.Path(); ok && path != "/" {
		prefix += ssm.PathPrefix(path)
	}
	fp := fingerprint("DescribeParameters", req.Filters, req.ParameterFilters)
	after, err := parseToken(req.NextToken, prefix, fp)
	if err != nil {
		return nil, "", err
	}
	var out []ssm.Parameter
	next, err := s.scanPage(ctx, prefix, after, fp, req.Max, func() { out = nil }, func(_ store.Tx, p *ssm.Parameter) (bool, error) {
		if !filters.Match(p) {
			return false, nil
		}
		out = append(out, *p)
		return true, nil
	})
	return out, next, err
}

// scanPage walks the parameters under prefix after the key after, in name order, handing each to take (which says
// whether it went on the page) until max were taken or scanLimit keys were read; then it returns the token of the
// next page ("" at the end). reset clears the page when the read runs again.
func (s *Service) scanPage(ctx context.Context, prefix, after, fp string, max int, reset func(),
	take func(tx store.Tx, p *ssm.Parameter) (bool, error)) (string, error) {
	var next string
	err := s.db.View(ctx, func(tx store.Tx) error {
		reset()
		next = ""
		cursor, taken, scanned := after, 0, 0
		return tx.Scan(prefix, after, func(key string, raw []byte) (bool, error) {
			if taken == max || scanned == scanLimit {
				next = token{After: cursor, Of: fp}.String()
				return false, nil
			}
			scanned++
			cursor = key
			p, err := decodeParam(raw)
			if err != nil {
				return false, err
			}
			took, err := take(tx, p)
			if took {
				taken++
			}
			return err == nil, err
		})
	})
	return next, err
}

// HistoryEntry is one version as GetParameterHistory lists it.
type HistoryEntry struct {
	ssm.Version
	Name   string
	Labels []string
}

// History lists a parameter's kept versions, oldest first, a page at a time.
func (s *Service) History(ctx context.Context, name string, decrypt bool, max int, nextToken *string) ([]HistoryEntry, string, error) {
	name = ssm.CleanName(name)
	if err := ssm.CheckName(name); err != nil {
		return nil, "", err
	}
	prefix := versionsOf(name)
	fp := fingerprint("GetParameterHistory", name)
	after, err := parseToken(nextToken, prefix, fp)
	if err != nil {
		return nil, "", err
	}
	var out []HistoryEntry
	var next string
	err = s.db.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		p, err := loadParam(tx, name)
		if err != nil {
			return err
		}
		if p == nil {
			return ssm.HistoryNotFound(name)
		}
		return tx.Scan(prefix, after, func(key string, raw []byte) (bool, error) {
			if len(out) == max {
				next = token{After: after, Of: fp}.String()
				return false, nil
			}
			after = key
			var v ssm.Version
			if err := json.Unmarshal(raw, &v); err != nil {
				return false, err
			}
			if v.Type == ssm.TypeSecureString && decrypt {
				plain, err := s.seal.open(p.Name, v.Version, v.Value)
				if err != nil {
					return false, err
				}
				v.Value = plain
			}
			out = append(out, HistoryEntry{Version: v, Name: p.Name, Labels: p.LabelsOf(v.Version)})
			return true, nil
		})
	})
	return out, next, err
}

// Label attaches labels to a version (the latest when version is nil) and answers the labels refused and the
// version labelled.
func (s *Service) Label(ctx context.Context, name string, version *int64, labels []string) (invalid []string, labelled int64, err error) {
	name = ssm.CleanName(name)
	err = s.modify(ctx, name, ssm.HistoryNotFound, func(p *ssm.Parameter) error {
		labelled = p.Version.Version
		if version != nil {
			labelled = *version
		}
		var err error
		invalid, err = ssm.Label(p, labelled, labels)
		return err
	})
	return invalid, labelled, err
}

// Unlabel removes labels from a version.
func (s *Service) Unlabel(ctx context.Context, name string, version int64, labels []string) (removed, invalid []string, err error) {
	name = ssm.CleanName(name)
	err = s.modify(ctx, name, ssm.HistoryNotFound, func(p *ssm.Parameter) error {
		var err error
		removed, invalid, err = ssm.Unlabel(p, version, labels)
		return err
	})
	return removed, invalid, err
}

// AddTags adds or replaces a parameter's tags.
func (s *Service) AddTags(ctx context.Context, name string, tags []ssm.Tag) error {
	return s.modify(ctx, ssm.CleanName(name), tagsNotFound, func(p *ssm.Parameter) error { return ssm.AddTags(p, tags) })
}

// RemoveTags removes tags by key (keys it does not have are ignored).
func (s *Service) RemoveTags(ctx context.Context, name string, keys []string) error {
	return s.modify(ctx, ssm.CleanName(name), tagsNotFound, func(p *ssm.Parameter) error {
		for _, k := range keys {
			delete(p.Tags, k)
		}
		return nil
	})
}

// ListTags lists a parameter's tags by key.
func (s *Service) ListTags(ctx context.Context, name string) ([]ssm.Tag, error) {
	name = ssm.CleanName(name)
	var out []ssm.Tag
	err := s.db.View(ctx, func(tx store.Tx) error {
		p, err := loadParam(tx, name)
		if err != nil {
			return err
		}
		if p == nil {
			return ssm.InvalidResourceID()
		}
		out = ssm.SortedTags(p.Tags)
		return nil
	})
	return out, err
}

func tagsNotFound(string) *fault.Error { return ssm.InvalidResourceID() }

// modify changes a parameter's record (not its versions) in one transaction; a missing parameter is notFound's
// answer.
func (s *Service) modify(ctx context.Context, name string, notFound func(string) *fault.Error, change func(*ssm.Parameter) error) error {
	return s.db.Update(ctx, func(tx store.Tx) error {
		if err := ssm.CheckName(name); err != nil {
			return err
		}
		p, err := loadParam(tx, name)
		if err != nil {
			return err
		}
		if p == nil {
			return notFound(name)
		}
		if err := change(p); err != nil {
			return err
		}
		return store.PutJSON(tx, paramKey(p.Name), p)
	})
}
