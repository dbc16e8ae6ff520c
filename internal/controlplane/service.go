package controlplane

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/codestore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// Options configures a Service. The zero value of each optional field means the documented default.
type Options struct {
	Store store.Store
	// Code holds the packages: a *codestore.Store, or in cluster mode a *replica.Replica, which keeps a second
	// copy on another node and fetches the packages this node lacks.
	Code    CodeStore
	Account lambda.Account
	// ConcurrencyLimit is the account's concurrent-execution limit (default 1000).
	ConcurrencyLimit int
	// CodeLimits bounds uploaded packages (zero fields take AWS's limits).
	CodeLimits codestore.Limits
	// MinSettleTime keeps a created function Pending, and an updated one InProgress (with a version published
	// with it Pending), for at least this long after the call committed, measured from the commit (LastModified)
	// whichever node settles it: AWS takes seconds, so a script that forgets a waiter fails here as it would
	// there. Zero settles as soon as the package is processed.
	MinSettleTime time.Duration
	// Progress, if set, holds API calls until this process's watch-fed caches (the invoke path's catalog) have
	// applied what the call wrote or read.
	Progress *store.Progress
	// ExecutionRoles, if set, refuses execution roles Lambda could not assume (missing, or not trusting
	// lambda.amazonaws.com) at CreateFunction and UpdateFunctionConfiguration, as AWS does.
	ExecutionRoles RoleChecker
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// RoleChecker says whether an AWS service principal may assume a role (iam.Service has it).
type RoleChecker interface {
	ServiceCanAssume(ctx context.Context, roleARN, servicePrincipal string) (bool, error)
}

// CodeStore is where the control plane keeps code packages (codestore's contract: content-addressed blobs,
// extraction a local cache). *codestore.Store has it; so does the cluster's replica.Replica, whose PutZip returns
// once another node holds a copy and whose Extract and ZipPath fetch a package this node lacks.
type CodeStore interface {
	PutZip(zip []byte, lim codestore.Limits) (codestore.Info, error)
	Extract(sha256b64 string, lim codestore.Limits) (dir string, err error)
	CodeDir(sha256b64 string) (string, bool)
	ZipPath(sha256b64 string) (string, bool)
}

var _ CodeStore = (*codestore.Store)(nil)

// Service implements the Lambda control plane.
type Service struct {
	opts  Options
	acct  lambda.Account
	store store.Store
	code  CodeStore
	now   func() time.Time
	log   *slog.Logger

	wake chan struct{}

	// policies is the resource-policy cache once StartPolicyCache ran (policycache.go).
	policies atomic.Pointer[policyCache]

	// settled is closed and replaced each time the processor finishes a pass, so tests and callers can wait.
	mu      sync.Mutex
	settled chan struct{}
}

// New returns a Service; call Run to start its background processor.
func New(o Options) *Service {
	if o.ConcurrencyLimit == 0 {
		o.ConcurrencyLimit = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{
		opts: o, acct: o.Account, store: o.Store, code: o.Code, now: o.Now, log: o.Logger.With("component", "controlplane"),
		wake: make(chan struct{}, 1), settled: make(chan struct{}),
	}
}

// Account returns the account the service mints ARNs for.
func (s *Service) Account() lambda.Account { return s.acct }

func newRevision() string { return uuid.NewString() }

// FunctionView is one function configuration — $LATEST or a version, possibly reached through an alias — as the
// API shows it.
type FunctionView struct {
	Name         string
	ARN          string
	Version      string
	Config       lambda.Config
	Status       lambda.Status
	RevisionID   string
	LastModified time.Time
}

func (s *Service) latestView(f *lambda.Function, qualifiedARN bool) FunctionView {
	arn := s.acct.FunctionARN(f.Name)
	if qualifiedARN {
		arn = s.acct.QualifiedARN(f.Name, lambda.Latest)
	}
	return FunctionView{Name: f.Name, ARN: arn, Version: lambda.Latest, Config: f.Config, Status: f.Status,
		RevisionID: f.RevisionID, LastModified: f.LastModified}
}

func (s *Service) versionView(v *lambda.Version, arnQualifier string) FunctionView {
	return FunctionView{Name: v.Function, ARN: s.acct.QualifiedARN(v.Function, arnQualifier), Version: itoa(v.Number),
		Config: v.Config, Status: v.Status, RevisionID: v.RevisionID, LastModified: v.LastModified}
}

// usage holds account-wide aggregates kept in one record so account queries stay O(1).
type usage struct {
	FunctionCount       int64 `json:"functionCount"`
	TotalCodeSize       int64 `json:"totalCodeSize"`
	ReservedConcurrency int   `json:"reservedConcurrency"`
}

func loadUsage(tx store.Tx) (usage, error) {
	var u usage
	err := store.GetJSON(tx, usageKey, &u)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return u, err
}

func addUsage(tx store.Tx, f func(*usage)) error {
	u, err := loadUsage(tx)
	if err != nil {
		return err
	}
	f(&u)
	return store.PutJSON(tx, usageKey, u)
}

// loadFunction reads fn/<name>, mapping absence to AWS's 404.
func (s *Service) loadFunction(tx store.Tx, name string) (*lambda.Function, error) {
	var f lambda.Function
	if err := store.GetJSON(tx, functionKey(name), &f); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.NotFound("Function not found: %s", s.acct.FunctionARN(name))
		}
		return nil, err
	}
	return &f, nil
}

// loadFunctionAs is loadFunction for operations whose 404 names a qualified ARN: the qualifier the request named,
// or the one AWS adds ($LATEST for PutFunctionConcurrency, the target version for CreateAlias).
func (s *Service) loadFunctionAs(tx store.Tx, name, qualifier string) (*lambda.Function, error) {
	f, err := s.loadFunction(tx, name)
	if fault.Is(err, fault.ResourceNotFound) {
		return nil, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(name, qualifier))
	}
	return f, err
}

func loadVersion(tx store.Tx, name string, n int) (*lambda.Version, error) {
	var v lambda.Version
	if err := store.GetJSON(tx, versionKey(name, n), &v); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &v, nil
}

func loadAlias(tx store.Tx, name, alias string) (*lambda.Alias, error) {
	var a lambda.Alias
	if err := store.GetJSON(tx, aliasKey(name, alias), &a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &a, nil
}

// lastVersion returns the highest-numbered existing version, or nil.
func lastVersion(tx store.Tx, name string) (*lambda.Version, error) {
	var last []byte
	err := tx.Scan(versionPrefix(name), "", func(_ string, v []byte) (bool, error) {
		last = append(last[:0], v...)
		return true, nil
	})
	if err != nil || last == nil {
		return nil, err
	}
	var v lambda.Version
	return &v, jsonUnmarshal(last, &v)
}

// resolve finds the configuration a qualified or unqualified reference names; a missing function's 404 names
// the reference as asked, qualifier included, as AWS's does.
func (s *Service) resolve(tx store.Tx, ref lambda.Ref) (FunctionView, error) {
	f, err := s.loadFunction(tx, ref.Name)
	if fault.Is(err, fault.ResourceNotFound) {
		return FunctionView{}, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, ref.Qualifier))
	}
	if err != nil {
		return FunctionView{}, err
	}
	switch q := ref.Qualifier; {
	case q == "":
		return s.latestView(f, false), nil
	case q == lambda.Latest:
		return s.latestView(f, true), nil
	case lambda.IsVersionNumber(q):
		v, err := loadVersion(tx, ref.Name, atoi(q))
		if err != nil {
			return FunctionView{}, err
		}
		if v == nil {
			return FunctionView{}, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q))
		}
		return s.versionView(v, q), nil
	default:
		a, err := loadAlias(tx, ref.Name, q)
		if err != nil {
			return FunctionView{}, err
		}
		if a == nil {
			return FunctionView{}, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q))
		}
		if a.FunctionVersion == lambda.Latest {
			view := s.latestView(f, true)
			view.ARN = s.acct.QualifiedARN(ref.Name, q)
			return view, nil
		}
		v, err := loadVersion(tx, ref.Name, atoi(a.FunctionVersion))
		if err != nil || v == nil {
			return FunctionView{}, errors.Join(err, errors.New("alias "+q+" points at a missing version"))
		}
		return s.versionView(v, q), nil
	}
}

// GetFunctionConfiguration returns the configuration a reference names.
func (s *Service) GetFunctionConfiguration(ctx context.Context, ref lambda.Ref) (FunctionView, error) {
	var out FunctionView
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.resolve(tx, ref)
		return err
	})
	return out, err
}

// FunctionDetails is GetFunction's answer.
type FunctionDetails struct {
	View                FunctionView
	Tags                map[string]string
	ReservedConcurrency *int
}

// GetFunction returns the configuration plus function-level settings.
func (s *Service) GetFunction(ctx context.Context, ref lambda.Ref) (FunctionDetails, error) {
	var out FunctionDetails
	err := s.view(ctx, func(tx store.Tx) error {
		view, err := s.resolve(tx, ref)
		if err != nil {
			return err
		}
		f, err := s.loadFunction(tx, ref.Name)
		if err != nil {
			return err
		}
		out = FunctionDetails{View: view, Tags: f.Tags, ReservedConcurrency: f.ReservedConcurrency}
		return nil
	})
	return out, err
}

// CodePath returns the stored package of a CodeSha256, for GetFunction's download location.
func (s *Service) CodePath(sha string) (string, bool) { return s.code.ZipPath(sha) }

// mutate runs fn in a read-write transaction and returns once this process's caches have applied the commit, so
// the invoke path runs what the call just configured (read-your-writes; no lock spans the commit).
func (s *Service) mutate(ctx context.Context, fn func(store.Tx) error) error {
	rev, err := s.store.UpdateRev(ctx, fn)
	if err != nil {
		return err
	}
	s.awaitCaches(ctx, rev)
	return nil
}

// view runs fn in a read-only transaction and returns once this process's caches have applied the revision it read:
// a client that sees LastUpdateStatus=Successful, or an alias at its new version, and then invokes, runs that.
func (s *Service) view(ctx context.Context, fn func(store.Tx) error) error {
	var rev int64
	err := s.store.View(ctx, func(tx store.Tx) error {
		rev = tx.Revision()
		return fn(tx)
	})
	if err == nil {
		s.awaitCaches(ctx, rev)
	}
	return err
}

// cacheWaitLimit bounds how long a call waits for a cache that stopped applying changes: the change is committed
// either way, so the call answers (and says so in the log) rather than hanging.
const cacheWaitLimit = 10 * time.Second

func (s *Service) awaitCaches(ctx context.Context, rev int64) {
	if s.opts.Progress == nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, cacheWaitLimit)
	defer cancel()
	if err := s.opts.Progress.Wait(wctx, rev); err != nil && ctx.Err() == nil {
		s.log.Warn("caches did not apply a change in time; answering anyway", "revision", rev,
			"lagging", s.opts.Progress.Lagging(rev))
	}
}
