package iam

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/store"
)

// Tag is an IAM tag.
type Tag struct{ Key, Value string }

// Role is an IAM role.
type Role struct {
	Name, Path, ID, ARN string
	Created             time.Time
	TrustPolicy         string // the AssumeRolePolicyDocument as given
	Description         string
	MaxSessionDuration  int // seconds
	Tags                []Tag
}

// User is an IAM user.
type User struct {
	Name, Path, ID, ARN string
	Created             time.Time
	Tags                []Tag
}

// AccessKey is a user's long-lived key; Secret is only filled in when the key is created.
type AccessKey struct {
	User, ID, Secret, Status string
	Created                  time.Time
}

type roleRecord struct {
	Name, Path, ID, Trust, Description string
	MaxSession                         int
	Created                            time.Time
	Tags                               []Tag `json:",omitempty"`
}

type userRecord struct {
	Name, Path, ID string
	Created        time.Time
	Tags           []Tag `json:",omitempty"`
}

const statusActive = "Active"

type accessKeyRecord struct {
	ID, User, UserPath, Secret, Status string
	Created                            time.Time
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func (s *Service) role(r roleRecord) Role {
	return Role{Name: r.Name, Path: r.Path, ID: r.ID, ARN: s.roleARN(r.Path, r.Name), Created: r.Created,
		TrustPolicy: r.Trust, Description: r.Description, MaxSessionDuration: r.MaxSession, Tags: r.Tags}
}

func (s *Service) user(r userRecord) User {
	return User{Name: r.Name, Path: r.Path, ID: r.ID, ARN: s.userARN(r.Path, r.Name), Created: r.Created, Tags: r.Tags}
}

// CreateRoleInput is CreateRole's input.
type CreateRoleInput struct {
	Name, Path, TrustPolicy, Description string
	MaxSessionDuration                   int // seconds; 0 = one hour
	Tags                                 []Tag
}

// CreateRole creates a role after checking its trust policy.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (Role, error) {
	path, err := parsePath(in.Path)
	if err != nil {
		return Role{}, err
	}
	if _, err := policy.Parse(in.TrustPolicy, policy.Trust); err != nil {
		return Role{}, malformed(err)
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = int(defaultMaxSession.Seconds())
	}
	rec := roleRecord{Name: in.Name, Path: path, ID: newID("AROA"), Trust: in.TrustPolicy, Description: in.Description,
		MaxSession: in.MaxSessionDuration, Created: s.now().UTC().Truncate(time.Second), Tags: in.Tags}
	err = s.update(ctx, func(tx store.Tx) error {
		if found, err := s.findRole(tx, in.Name); err != nil {
			return err
		} else if found != nil {
			return fault.New(CodeEntityAlreadyExists, "Role with name %s already exists.", found.Name)
		}
		return store.PutJSON(tx, keyRole+strings.ToLower(in.Name), rec)
	})
	return s.role(rec), err
}

// findRole reads a role by name; IAM names are unique case-insensitively, so records are keyed lower-case.
func (s *Service) findRole(tx store.Tx, name string) (*roleRecord, error) {
	var r roleRecord
	err := store.GetJSON(tx, keyRole+strings.ToLower(name), &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return &r, err
}

func (s *Service) mustRole(tx store.Tx, name string) (*roleRecord, error) {
	r, err := s.findRole(tx, name)
	if err == nil && r == nil {
		err = notFound("The role with name %s cannot be found.", name)
	}
	return r, err
}

// GetRole returns a role.
func (s *Service) GetRole(ctx context.Context, name string) (Role, error) {
	var r *roleRecord
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		r, err = s.mustRole(tx, name)
		return err
	})
	if err != nil {
		return Role{}, err
	}
	return s.role(*r), nil
}

// RoleByARN returns the role an ARN names, if it exists in this account with that path.
func (s *Service) RoleByARN(ctx context.Context, arn string) (Role, bool, error) {
	path, name, ok := s.nameFromARN(arn, "role")
	if !ok {
		return Role{}, false, nil
	}
	r, err := s.GetRole(ctx, name)
	if fault.Is(err, CodeNoSuchEntity) {
		return Role{}, false, nil
	}
	if err != nil || r.Path != path {
		return Role{}, false, err
	}
	return r, true, nil
}

// ListRoles lists roles whose path starts with pathPrefix, by name, a page at a time.
func (s *Service) ListRoles(ctx context.Context, pathPrefix, marker string, max int) ([]Role, string, error) {
	var out []Role
	next, err := s.page(ctx, keyRole, marker, max, func(v []byte) (bool, error) {
		var r roleRecord
		if err := unmarshal(v, &r); err != nil {
			return false, err
		}
		if !strings.HasPrefix(r.Path, pathPrefixOrRoot(pathPrefix)) {
			return false, nil
		}
		out = append(out, s.role(r))
		return true, nil
	})
	return out, next, err
}

// ListUsers lists users whose path starts with pathPrefix.
func (s *Service) ListUsers(ctx context.Context, pathPrefix, marker string, max int) ([]User, string, error) {
	var out []User
	next, err := s.page(ctx, keyUser, marker, max, func(v []byte) (bool, error) {
		var r userRecord
		if err := unmarshal(v, &r); err != nil {
			return false, err
		}
		if !strings.HasPrefix(r.Path, pathPrefixOrRoot(pathPrefix)) {
			return false, nil
		}
		out = append(out, s.user(r))
		return true, nil
	})
	return out, next, err
}

func pathPrefixOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// page scans prefix after marker (the last key of the previous page), keeping up to max records that take
// returns true for; the marker for the next page is returned when more may follow.
func (s *Service) page(ctx context.Context, prefix, marker string, max int, take func([]byte) (bool, error)) (string, error) {
	if max <= 0 {
		max = 100
	}
	var next, lastKey string
	n := 0
	after := ""
	if marker != "" {
		after = prefix + marker
	}
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefix, after, func(key string, v []byte) (bool, error) {
			if n == max {
				next = strings.TrimPrefix(lastKey, prefix)
				return false, nil
			}
			ok, err := take(v)
			if ok {
				n++
				lastKey = key
			}
			return err == nil, err
		})
	})
	return next, err
}

// DeleteRole deletes a role that has no inline policies left.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := s.mustRole(tx, name); err != nil {
			return err
		}
		if has, err := hasPrefix(tx, keyRolePolicy+strings.ToLower(name)+"/"); err != nil {
			return err
		} else if has {
			return fault.New(CodeDeleteConflict, "Cannot delete entity, must delete policies first.")
		}
		if arns, err := attached(tx, name); err != nil {
			return err
		} else if len(arns) > 0 {
			return attachedConflict()
		}
		return tx.Delete(keyRole + strings.ToLower(name))
	})
	return err
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if _, err := policy.Parse(doc, policy.Trust); err != nil {
		return malformed(err)
	}
	return s.update(ctx, func(tx store.Tx) error {
		r, err := s.mustRole(tx, name)
		if err != nil {
			return err
		}
		r.Trust = doc
		return store.PutJSON(tx, keyRole+strings.ToLower(name), r)
	})
}

func hasPrefix(tx store.Tx, prefix string) (bool, error) {
	found := false
	err := tx.Scan(prefix, "", func(string, []byte) (bool, error) {
		found = true
		return false, nil
	})
	return found, err
}

// principalKind distinguishes the two entities that carry inline policies.
type principalKind struct {
	kind, label string // "role"/"user"; "role"/"user" as messages say
	policyKey   string
	maxSize     int
	exists      func(s *Service, tx store.Tx, name string) error
}

var (
	roleKind = principalKind{kind: "role", policyKey: keyRolePolicy, maxSize: maxRolePoliciesSize,
		exists: func(s *Service, tx store.Tx, name string) error { _, err := s.mustRole(tx, name); return err }}
	userKind = principalKind{kind: "user", policyKey: keyUserPolicy, maxSize: maxUserPoliciesSize,
		exists: func(s *Service, tx store.Tx, name string) error { _, err := s.mustUser(tx, name); return err }}
)

// PutRolePolicy adds or replaces an inline policy of a role.
func (s *Service) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	return s.putPolicy(ctx, roleKind, role, name, doc)
}

// PutUserPolicy adds or replaces an inline policy of a user.
func (s *Service) PutUserPolicy(ctx context.Context, user, name, doc string) error {
	return s.putPolicy(ctx, userKind, user, name, doc)
}

func (s *Service) putPolicy(ctx context.Context, k principalKind, owner, name, doc string) error {
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return malformed(err)
	}
	prefix := k.policyKey + strings.ToLower(owner) + "/"
	err := s.update(ctx, func(tx store.Tx) error {
		if err := k.exists(s, tx, owner); err != nil {
			return err
		}
		size := len(compact(doc))
		if err := tx.Scan(prefix, "", func(key string, v []byte) (bool, error) {
			if key != prefix+name {
				size += len(compact(string(v)))
			}
			return true, nil
		}); err != nil {
			return err
		}
		if size > k.maxSize {
			return fault.New(CodeLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", k.maxSize, k.kind, owner)
		}
		return tx.Put(prefix+name, []byte(doc))
	})
	return err
}

// compact is a policy's size as IAM counts it: without insignificant whitespace.
func compact(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// GetRolePolicy returns a role's inline policy document.
func (s *Service) GetRolePolicy(ctx context.Context, role, name string) (string, error) {
	return s.getPolicy(ctx, roleKind, role, name)
}

// GetUserPolicy returns a user's inline policy document.
func (s *Service) GetUserPolicy(ctx context.Context, user, name string) (string, error) {
	return s.getPolicy(ctx, userKind, user, name)
}

func (s *Service) getPolicy(ctx context.Context, k principalKind, owner, name string) (string, error) {
	var doc string
	err := s.db.View(ctx, func(tx store.Tx) error {
		if err := k.exists(s, tx, owner); err != nil {
			return err
		}
		b, err := tx.Get(k.policyKey + strings.ToLower(owner) + "/" + name)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("The %s policy with name %s cannot be found.", k.kind, name)
		}
		doc = string(b)
		return err
	})
	return doc, err
}

// DeleteRolePolicy removes a role's inline policy.
func (s *Service) DeleteRolePolicy(ctx context.Context, role, name string) error {
	return s.deletePolicy(ctx, roleKind, role, name)
}

// DeleteUserPolicy removes a user's inline policy.
func (s *Service) DeleteUserPolicy(ctx context.Context, user, name string) error {
	return s.deletePolicy(ctx, userKind, user, name)
}

func (s *Service) deletePolicy(ctx context.Context, k principalKind, owner, name string) error {
	key := k.policyKey + strings.ToLower(owner) + "/" + name
	err := s.update(ctx, func(tx store.Tx) error {
		if err := k.exists(s, tx, owner); err != nil {
			return err
		}
		if ok, err := store.Exists(tx, key); err != nil {
			return err
		} else if !ok {
			return notFound("The %s policy with name %s cannot be found.", k.kind, name)
		}
		return tx.Delete(key)
	})
	return err
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, role, marker string, max int) ([]string, string, error) {
	return s.listPolicies(ctx, roleKind, role, marker, max)
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, user, marker string, max int) ([]string, string, error) {
	return s.listPolicies(ctx, userKind, user, marker, max)
}

func (s *Service) listPolicies(ctx context.Context, k principalKind, owner, marker string, max int) ([]string, string, error) {
	if err := s.db.View(ctx, func(tx store.Tx) error { return k.exists(s, tx, owner) }); err != nil {
		return nil, "", err
	}
	prefix := k.policyKey + strings.ToLower(owner) + "/"
	var names []string
	var keys []string
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefix, "", func(key string, _ []byte) (bool, error) {
			keys = append(keys, strings.TrimPrefix(key, prefix))
			return true, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	sort.Strings(keys)
	start := 0
	if marker != "" {
		start = sort.SearchStrings(keys, marker)
		if start < len(keys) && keys[start] == marker {
			start++
		}
	}
	if max <= 0 {
		max = 100
	}
	names = keys[start:]
	if len(names) > max {
		return names[:max], names[max-1], nil
	}
	return names, "", nil
}

// CreateUser creates a user.
func (s *Service) CreateUser(ctx context.Context, name, path string, tags []Tag) (User, error) {
	path, err := parsePath(path)
	if err != nil {
		return User{}, err
	}
	rec := userRecord{Name: name, Path: path, ID: newID("AIDA"), Created: s.now().UTC().Truncate(time.Second), Tags: tags}
	err = s.update(ctx, func(tx store.Tx) error {
		if found, err := s.findUser(tx, name); err != nil {
			return err
		} else if found != nil {
			return fault.New(CodeEntityAlreadyExists, "User with name %s already exists.", found.Name)
		}
		return store.PutJSON(tx, keyUser+strings.ToLower(name), rec)
	})
	return s.user(rec), err
}

func (s *Service) findUser(tx store.Tx, name string) (*userRecord, error) {
	var r userRecord
	err := store.GetJSON(tx, keyUser+strings.ToLower(name), &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return &r, err
}

func (s *Service) mustUser(tx store.Tx, name string) (*userRecord, error) {
	r, err := s.findUser(tx, name)
	if err == nil && r == nil {
		err = notFound("The user with name %s cannot be found.", name)
	}
	return r, err
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, name string) (User, error) {
	var r *userRecord
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		r, err = s.mustUser(tx, name)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return s.user(*r), nil
}

// DeleteUser deletes a user without access keys or inline policies.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	lower := strings.ToLower(name)
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := s.mustUser(tx, name); err != nil {
			return err
		}
		keys, err := s.userKeys(tx, name)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			return fault.New(CodeDeleteConflict, "Cannot delete entity, must delete access keys first.")
		}
		if has, err := hasPrefix(tx, keyUserPolicy+lower+"/"); err != nil {
			return err
		} else if has {
			return fault.New(CodeDeleteConflict, "Cannot delete entity, must delete policies first.")
		}
		return tx.Delete(keyUser + lower)
	})
	return err
}

func (s *Service) userKeys(tx store.Tx, user string) ([]accessKeyRecord, error) {
	var out []accessKeyRecord
	err := tx.Scan(keyAccessKey, "", func(_ string, v []byte) (bool, error) {
		var k accessKeyRecord
		if err := unmarshal(v, &k); err != nil {
			return false, err
		}
		if strings.EqualFold(k.User, user) {
			out = append(out, k)
		}
		return true, nil
	})
	return out, err
}

// CreateAccessKey creates a long-lived key for a user (at most two per user, as IAM allows).
func (s *Service) CreateAccessKey(ctx context.Context, user string) (AccessKey, error) {
	var rec accessKeyRecord
	err := s.update(ctx, func(tx store.Tx) error {
		u, err := s.mustUser(tx, user)
		if err != nil {
			return err
		}
		keys, err := s.userKeys(tx, user)
		if err != nil {
			return err
		}
		if len(keys) >= maxAccessKeys {
			return fault.New(CodeLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
		}
		secret, err := randomSecret()
		if err != nil {
			return err
		}
		rec = accessKeyRecord{ID: newID("AKIA"), User: u.Name, UserPath: u.Path, Secret: secret, Status: statusActive,
			Created: s.now().UTC().Truncate(time.Second)}
		return store.PutJSON(tx, keyAccessKey+rec.ID, rec)
	})
	if err != nil {
		return AccessKey{}, err
	}
	return AccessKey{User: rec.User, ID: rec.ID, Secret: rec.Secret, Status: rec.Status, Created: rec.Created}, nil
}

// DeleteAccessKey deletes a user's key; it stops working at once.
func (s *Service) DeleteAccessKey(ctx context.Context, user, id string) error {
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := s.mustUser(tx, user); err != nil {
			return err
		}
		var k accessKeyRecord
		err := store.GetJSON(tx, keyAccessKey+id, &k)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(k.User, user)) {
			return notFound("The Access Key with id %s cannot be found.", id)
		}
		if err != nil {
			return err
		}
		return tx.Delete(keyAccessKey + id)
	})
	return err
}

// ListAccessKeys lists a user's keys (without secrets).
func (s *Service) ListAccessKeys(ctx context.Context, user string) ([]AccessKey, error) {
	var out []AccessKey
	err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := s.mustUser(tx, user); err != nil {
			return err
		}
		keys, err := s.userKeys(tx, user)
		for _, k := range keys {
			out = append(out, AccessKey{User: k.User, ID: k.ID, Status: k.Status, Created: k.Created})
		}
		return err
	})
	return out, err
}
