package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/store"
)

// keyPolicy holds the account's customer managed policies: iam/policy/<lower-case name> → customerRecord, its
// versions (at most maxPolicyVersions) inline.
const keyPolicy = "iam/policy/"

// maxPolicyVersions is how many versions IAM keeps of a managed policy.
const maxPolicyVersions = 5

// ManagedPolicyInfo is a managed policy as GetPolicy and ListPolicies describe it.
type ManagedPolicyInfo struct {
	Name, ID, ARN, Path, DefaultVersion, Description string
	AttachmentCount                                  int
	Created, Updated                                 time.Time
	Tags                                             []Tag
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID        string // "v1", "v2", …
	Document  string
	IsDefault bool
	Created   time.Time
}

type customerRecord struct {
	Name, Path, ID, Description string
	Default                     string
	Next                        int // the number of the next version
	Versions                    map[string]versionRecord
	Attachments                 int
	Created, Updated            time.Time
	Tags                        []Tag `json:",omitempty"`
}

type versionRecord struct {
	Document string
	Created  time.Time
}

func (s *Service) policyARN(path, name string) string {
	return "arn:aws:iam::" + s.account + ":policy" + path + name
}

func (s *Service) customerInfo(r customerRecord) ManagedPolicyInfo {
	return ManagedPolicyInfo{Name: r.Name, ID: r.ID, ARN: s.policyARN(r.Path, r.Name), Path: r.Path, DefaultVersion: r.Default,
		Description: r.Description, AttachmentCount: r.Attachments, Created: r.Created, Updated: r.Updated, Tags: r.Tags}
}

func policyMissing(arn string) error {
	return notFound("Policy %s does not exist or is not attachable.", arn)
}

// customer reads the customer managed policy an ARN names (nil: none, or an ARN of another kind).
func (s *Service) customer(tx store.Tx, arn string) (*customerRecord, error) {
	path, name, ok := s.nameFromARN(arn, "policy")
	if !ok {
		return nil, nil
	}
	var r customerRecord
	err := store.GetJSON(tx, keyPolicy+strings.ToLower(name), &r)
	if errors.Is(err, store.ErrNotFound) || err == nil && (r.Path != path || r.Name != name) {
		return nil, nil
	}
	return &r, err
}

func (s *Service) mustCustomer(tx store.Tx, arn string) (*customerRecord, error) {
	r, err := s.customer(tx, arn)
	if err == nil && r == nil {
		err = policyMissing(arn)
	}
	return r, err
}

// CreatePolicyInput is CreatePolicy's input.
type CreatePolicyInput struct {
	Name, Path, Document, Description string
	Tags                              []Tag
}

// CreatePolicy creates a customer managed policy, its document as version v1.
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (ManagedPolicyInfo, error) {
	path, err := parsePath(in.Path)
	if err != nil {
		return ManagedPolicyInfo{}, err
	}
	if _, err := policy.Parse(in.Document, policy.Identity); err != nil {
		return ManagedPolicyInfo{}, malformed(err)
	}
	now := s.now().UTC().Truncate(time.Second)
	rec := customerRecord{Name: in.Name, Path: path, ID: newID("ANPA"), Description: in.Description, Default: "v1", Next: 2,
		Versions: map[string]versionRecord{"v1": {Document: in.Document, Created: now}}, Created: now, Updated: now, Tags: in.Tags}
	err = s.update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, keyPolicy+strings.ToLower(in.Name)); err != nil {
			return err
		} else if ok {
			return fault.New(CodeEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		}
		return store.PutJSON(tx, keyPolicy+strings.ToLower(in.Name), rec)
	})
	return s.customerInfo(rec), err
}

// awsPolicyInfo describes an AWS managed policy Sluice knows (one version, v1).
func awsPolicyInfo(arn string) ManagedPolicyInfo {
	name := arn[strings.LastIndex(arn, "/")+1:]
	path := strings.TrimSuffix(strings.TrimPrefix(arn, "arn:aws:iam::aws:policy"), name)
	// Its id is the same on every node and every start: derived from the ARN.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := sha256.Sum256([]byte(arn))
	id := make([]byte, 17)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	created := time.Date(2015, 2, 6, 18, 40, 0, 0, time.UTC) // when AWS managed policies were introduced
	return ManagedPolicyInfo{Name: name, ID: "ANPA" + string(id), ARN: arn, Path: path, DefaultVersion: "v1", Created: created, Updated: created}
}

// GetPolicy describes a managed policy: the account's, or an AWS managed one Sluice knows.
func (s *Service) GetPolicy(ctx context.Context, arn string) (ManagedPolicyInfo, error) {
	if _, ok := managedPolicies[arn]; ok {
		return awsPolicyInfo(arn), nil
	}
	var out ManagedPolicyInfo
	err := s.db.View(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err == nil {
			out = s.customerInfo(*r)
		}
		return err
	})
	return out, err
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, arn, version string) (PolicyVersion, error) {
	if doc, ok := managedPolicies[arn]; ok {
		if version != "v1" {
			return PolicyVersion{}, notFound("Policy %s version %s does not exist or is not attachable.", arn, version)
		}
		return PolicyVersion{ID: "v1", Document: doc, IsDefault: true}, nil
	}
	var out PolicyVersion
	err := s.db.View(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err != nil {
			return err
		}
		v, ok := r.Versions[version]
		if !ok {
			return notFound("Policy %s version %s does not exist or is not attachable.", arn, version)
		}
		out = PolicyVersion{ID: version, Document: v.Document, IsDefault: version == r.Default, Created: v.Created}
		return nil
	})
	return out, err
}

// ListPolicyVersions lists a managed policy's versions, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, arn string) ([]PolicyVersion, error) {
	if _, ok := managedPolicies[arn]; ok {
		return []PolicyVersion{{ID: "v1", IsDefault: true}}, nil
	}
	var out []PolicyVersion
	err := s.db.View(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err != nil {
			return err
		}
		out = nil
		for id, v := range r.Versions {
			out = append(out, PolicyVersion{ID: id, IsDefault: id == r.Default, Created: v.Created})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return versionNumber(out[i].ID) > versionNumber(out[j].ID) })
	return out, err
}

func versionNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "v"))
	return n
}

// CreatePolicyVersion adds a version to a customer managed policy, the default one if asked.
func (s *Service) CreatePolicyVersion(ctx context.Context, arn, doc string, setAsDefault bool) (PolicyVersion, error) {
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return PolicyVersion{}, malformed(err)
	}
	var out PolicyVersion
	err := s.update(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err != nil {
			return err
		}
		if len(r.Versions) >= maxPolicyVersions {
			return fault.New(CodeLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := s.now().UTC().Truncate(time.Second)
		id := "v" + strconv.Itoa(r.Next)
		r.Next++
		r.Versions[id] = versionRecord{Document: doc, Created: now}
		if setAsDefault {
			r.Default = id
		}
		r.Updated = now
		out = PolicyVersion{ID: id, Document: doc, IsDefault: setAsDefault, Created: now}
		return store.PutJSON(tx, keyPolicy+strings.ToLower(r.Name), r)
	})
	return out, err
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, arn, version string) error {
	return s.update(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err != nil {
			return err
		}
		if _, ok := r.Versions[version]; !ok {
			return notFound("Policy %s version %s does not exist or is not attachable.", arn, version)
		}
		if version == r.Default {
			return fault.New(CodeDeleteConflict, "Cannot delete the default version of a policy.")
		}
		delete(r.Versions, version)
		return store.PutJSON(tx, keyPolicy+strings.ToLower(r.Name), r)
	})
}

// DeletePolicy deletes a customer managed policy that nothing is attached to and that has no version but its
// default one, as IAM requires.
func (s *Service) DeletePolicy(ctx context.Context, arn string) error {
	return s.update(ctx, func(tx store.Tx) error {
		r, err := s.mustCustomer(tx, arn)
		if err != nil {
			return err
		}
		if r.Attachments > 0 {
			return fault.New(CodeDeleteConflict, "Cannot delete a policy attached to entities.")
		}
		if len(r.Versions) > 1 {
			return fault.New(CodeDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return tx.Delete(keyPolicy + strings.ToLower(r.Name))
	})
}

// ListPolicies lists managed policies: scope "All" (or ""), "AWS" (the AWS managed ones Sluice knows) or "Local"
// (the account's), those attached only if onlyAttached, under pathPrefix, a page of at most max after marker (the
// last ARN of the previous page).
func (s *Service) ListPolicies(ctx context.Context, scope string, onlyAttached bool, pathPrefix, marker string, max int) ([]ManagedPolicyInfo, string, error) {
	if max <= 0 {
		max = 100
	}
	var all []ManagedPolicyInfo
	if scope != "Local" {
		attachedAWS := map[string]int{}
		if onlyAttached {
			if err := s.db.View(ctx, func(tx store.Tx) error {
				clear(attachedAWS)
				return tx.Scan(keyAttached, "", func(key string, _ []byte) (bool, error) {
					attachedAWS[key[strings.Index(key, "/arn:")+1:]]++
					return true, nil
				})
			}); err != nil {
				return nil, "", err
			}
		}
		for _, arn := range ManagedPolicyARNs() {
			info := awsPolicyInfo(arn)
			info.AttachmentCount = attachedAWS[arn]
			all = append(all, info)
		}
	}
	if scope != "AWS" {
		if err := s.db.View(ctx, func(tx store.Tx) error {
			return tx.Scan(keyPolicy, "", func(_ string, v []byte) (bool, error) {
				var r customerRecord
				if err := unmarshal(v, &r); err != nil {
					return false, err
				}
				all = append(all, s.customerInfo(r))
				return true, nil
			})
		}); err != nil {
			return nil, "", err
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ARN < all[j].ARN })
	var out []ManagedPolicyInfo
	for _, p := range all {
		if p.ARN <= marker || !strings.HasPrefix(p.Path, pathPrefixOrRoot(pathPrefix)) || onlyAttached && p.AttachmentCount == 0 {
			continue
		}
		if len(out) == max {
			return out, out[len(out)-1].ARN, nil
		}
		out = append(out, p)
	}
	return out, "", nil
}

// customerDocument is the default version's document of the customer managed policy an ARN names ("" if none).
func (s *Service) customerDocument(tx store.Tx, arn string) (string, error) {
	r, err := s.customer(tx, arn)
	if err != nil || r == nil {
		return "", err
	}
	return r.Versions[r.Default].Document, nil
}

// countAttachment adds delta to a customer managed policy's attachments (an AWS managed one counts none).
func (s *Service) countAttachment(tx store.Tx, arn string, delta int) error {
	r, err := s.customer(tx, arn)
	if err != nil || r == nil {
		return err
	}
	r.Attachments = max(0, r.Attachments+delta)
	return store.PutJSON(tx, keyPolicy+strings.ToLower(r.Name), r)
}
