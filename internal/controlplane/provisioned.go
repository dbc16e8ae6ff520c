package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/store"
)

// ProvisionedConfig is a provisioned-concurrency request on a version or alias.
type ProvisionedConfig struct {
	Qualifier    string    `json:"qualifier"`
	Requested    int       `json:"requested"`
	LastModified time.Time `json:"lastModified"`
}

// ProvisionedState is a configuration's live state as the API shows it.
type ProvisionedState struct {
	Allocated, Available int
	Status, Reason       string // IN_PROGRESS, READY or FAILED
}

// ProvisionedReport is what the execution layer reports about the environments of one configuration.
type ProvisionedReport struct {
	// Ready counts the initialised environments kept for the configuration.
	Ready int `json:"ready"`
	// Failure is why the last start failed, set only while no start is pending.
	Failure string `json:"failure,omitempty"`
}

// ProvisionedView is a configuration with its live state.
type ProvisionedView struct {
	FunctionARN string
	Config      ProvisionedConfig
	State       ProvisionedState
}

// provisionedState is Lambda's status for a request given the reports of the nodes keeping its environments
// (one in embedded mode): READY once enough environments are initialised in total, FAILED when fewer are and a
// node's starts failed with none pending there, IN_PROGRESS otherwise (and before anything was reported).
func provisionedState(requested int, reports ...ProvisionedReport) ProvisionedState {
	total, failure := 0, ""
	for _, r := range reports {
		total += r.Ready
		if failure == "" {
			failure = r.Failure
		}
	}
	ready := min(total, requested)
	st := ProvisionedState{Allocated: ready, Available: ready, Status: "IN_PROGRESS"}
	switch {
	case ready >= requested:
		st.Status = "READY"
	case failure != "":
		st.Status, st.Reason = "FAILED", failure
	}
	return st
}

// Provisioned reports are kept per node: pcstate/<name>/<qualifier> is the report of the one node of embedded mode
// (ReportProvisioned), pcstate/<name>/<qualifier>/<node> a cluster node's (ReportProvisionedFrom). Each node keeps
// its share of a configuration's environments (invoke.Share), so the API sums the reports of every node.

// nodeReportKey is where node's report on a configuration lives ("" is embedded mode's node).
func nodeReportKey(name, qualifier, node string) string {
	if node == "" {
		return provisionedReportKey(name, qualifier)
	}
	return provisionedReportKey(name, qualifier) + "/" + node
}

// splitReportKey is the qualifier and node of a key under provisionedReportPrefix(name).
func splitReportKey(name, key string) (qualifier, node string) {
	qualifier, node, _ = strings.Cut(key[len(provisionedReportPrefix(name)):], "/")
	return qualifier, node
}

// provisionedReports reads every node's report on a configuration.
func provisionedReports(tx store.Tx, name, qualifier string) ([]ProvisionedReport, error) {
	var out []ProvisionedReport
	collect := func(_ string, b []byte) (bool, error) {
		var r ProvisionedReport
		err := jsonUnmarshal(b, &r)
		out = append(out, r)
		return err == nil, err
	}
	b, err := tx.Get(provisionedReportKey(name, qualifier))
	if err == nil {
		_, err = collect("", b)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return out, tx.Scan(provisionedReportKey(name, qualifier)+"/", "", collect)
}

func (s *Service) provisionedView(tx store.Tx, name string, c ProvisionedConfig) (ProvisionedView, error) {
	reports, err := provisionedReports(tx, name, c.Qualifier)
	if err != nil {
		return ProvisionedView{}, err
	}
	return ProvisionedView{FunctionARN: s.acct.QualifiedARN(name, c.Qualifier), Config: c, State: provisionedState(c.Requested, reports...)}, nil
}

// ReportProvisioned records what the execution layer of embedded mode knows about a function's provisioned
// environments, by qualifier (ReportProvisionedFrom with no node name).
func (s *Service) ReportProvisioned(ctx context.Context, name string, reports map[string]ProvisionedReport) error {
	return s.ReportProvisionedFrom(ctx, "", name, reports)
}

// ReportProvisionedFrom records what node's execution layer knows about the provisioned environments it keeps
// for a function, by qualifier. Reports for configurations that no longer exist are dropped, and so are the
// node's stored reports the new set does not mention; other nodes' reports stay.
func (s *Service) ReportProvisionedFrom(ctx context.Context, node, name string, reports map[string]ProvisionedReport) error {
	if strings.Contains(node, "/") {
		return fmt.Errorf("report provisioned concurrency: node name %q has a '/'", node)
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		err := deleteWhere(tx, provisionedReportPrefix(name), func(k string) bool {
			q, n := splitReportKey(name, k)
			_, reported := reports[q]
			return !reported && n == node
		})
		if err != nil {
			return err
		}
		for q, r := range reports {
			exists, err := store.Exists(tx, provisionedKey(name, q))
			if err != nil {
				return err
			}
			if !exists {
				err = tx.Delete(nodeReportKey(name, q, node))
			} else {
				err = store.PutJSON(tx, nodeReportKey(name, q, node), r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// DropProvisionedReports deletes every provisioned report of the given nodes (nodes that left the cluster: their
// environments went with them), so the API's sums count only live nodes' environments.
func (s *Service) DropProvisionedReports(ctx context.Context, nodes ...string) error {
	if len(nodes) == 0 {
		return nil
	}
	gone := map[string]bool{}
	for _, n := range nodes {
		gone[n] = true
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		return deleteWhere(tx, "pcstate/", func(k string) bool {
			parts := strings.SplitN(strings.TrimPrefix(k, "pcstate/"), "/", 3)
			return len(parts) == 3 && gone[parts[2]]
		})
	})
}

// deleteWhere deletes the keys under prefix that match.
func deleteWhere(tx store.Tx, prefix string, match func(key string) bool) error {
	var doomed []string
	if err := tx.Scan(prefix, "", func(k string, _ []byte) (bool, error) {
		if match(k) {
			doomed = append(doomed, k)
		}
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range doomed {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// loadProvisionedFunction loads the function of a provisioned-concurrency request. A missing function's 404
// names what the qualifier names, as AWS's does: "Function not found: …:1" for a version, "Cannot find alias arn:
// …:live" for an alias (its versions and aliases are missing too, so provisionedTarget says which).
func (s *Service) loadProvisionedFunction(tx store.Tx, ref lambda.Ref, forPut bool) (*lambda.Function, error) {
	f, err := s.loadFunction(tx, ref.Name)
	if fault.Is(err, fault.ResourceNotFound) {
		if _, terr := s.provisionedTarget(tx, ref, forPut); terr != nil {
			return nil, terr
		}
	}
	return f, err
}

// provisionedTarget resolves the version a qualifier provisions and checks it may carry a configuration.
func (s *Service) provisionedTarget(tx store.Tx, ref lambda.Ref, forPut bool) (string, error) {
	q := ref.Qualifier
	if q == "" {
		return "", lambda.ValidationError("null", "qualifier", "Member must not be null")
	}
	if q == lambda.Latest {
		if forPut {
			return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
		}
		return "", fault.InvalidParameter("The function resource provided must be an alias or a published version.")
	}
	if lambda.IsVersionNumber(q) {
		v, err := loadVersion(tx, ref.Name, atoi(q))
		if err != nil || v == nil {
			return "", errors.Join(err, fault.NotFound("Function not found: %s", s.acct.QualifiedARN(ref.Name, q)))
		}
		return q, nil
	}
	a, err := loadAlias(tx, ref.Name, q)
	if err != nil || a == nil {
		return "", errors.Join(err, fault.NotFound("Cannot find alias arn: %s", s.acct.QualifiedARN(ref.Name, q)))
	}
	if forPut && a.FunctionVersion == lambda.Latest {
		return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	if _, _, weighted := a.AdditionalVersion(); forPut && weighted {
		return "", fault.InvalidParameter("Provisioned Concurrency Configs cannot be applied to an alias with a routing configuration.")
	}
	return a.FunctionVersion, nil
}

// PutProvisionedConcurrencyConfig requests n warm environments for a version or alias.
func (s *Service) PutProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref, n int) (ProvisionedView, error) {
	if n < 1 {
		return ProvisionedView{}, lambda.ValidationError(itoa(n), "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	var out ProvisionedView
	err := s.mutate(ctx, func(tx store.Tx) error {
		f, err := s.loadProvisionedFunction(tx, ref, true)
		if err != nil {
			return err
		}
		version, err := s.provisionedTarget(tx, ref, true)
		if err != nil {
			return err
		}
		// One configuration per version: directly on it, or through one alias pointing at it.
		total := n
		err = tx.Scan(provisionedPrefix(ref.Name), "", func(_ string, b []byte) (bool, error) {
			var c ProvisionedConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			if c.Qualifier == ref.Qualifier {
				return true, nil
			}
			total += c.Requested
			other, err := s.provisionedTarget(tx, lambda.Ref{Name: ref.Name, Qualifier: c.Qualifier}, false)
			if err != nil || other != version {
				return err == nil, nil
			}
			if lambda.IsVersionNumber(ref.Qualifier) {
				return false, fault.Conflict("Version is pointed by a Provisioned Concurrency alias")
			}
			return false, fault.Conflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
		})
		if err != nil {
			return err
		}
		if f.ReservedConcurrency != nil && total > *f.ReservedConcurrency {
			return fault.InvalidParameter("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
		}
		c := ProvisionedConfig{Qualifier: ref.Qualifier, Requested: n, LastModified: s.now()}
		out = ProvisionedView{FunctionARN: s.acct.QualifiedARN(ref.Name, ref.Qualifier), Config: c, State: ProvisionedState{Status: "IN_PROGRESS"}}
		return store.PutJSON(tx, provisionedKey(ref.Name, ref.Qualifier), c)
	})
	return out, err
}

func (s *Service) noProvisioned() error {
	return fault.New("ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

// GetProvisionedConcurrencyConfig returns a configuration with its live state.
func (s *Service) GetProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref) (ProvisionedView, error) {
	var out ProvisionedView
	err := s.view(ctx, func(tx store.Tx) error {
		if _, err := s.loadProvisionedFunction(tx, ref, false); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
			return err
		}
		var c ProvisionedConfig
		err := store.GetJSON(tx, provisionedKey(ref.Name, ref.Qualifier), &c)
		if errors.Is(err, store.ErrNotFound) {
			return s.noProvisioned()
		}
		if err != nil {
			return err
		}
		out, err = s.provisionedView(tx, ref.Name, c)
		return err
	})
	return out, err
}

// DeleteProvisionedConcurrencyConfig removes a configuration (204 even when there was none, as on AWS).
func (s *Service) DeleteProvisionedConcurrencyConfig(ctx context.Context, ref lambda.Ref) error {
	return s.mutate(ctx, func(tx store.Tx) error {
		if _, err := s.loadProvisionedFunction(tx, ref, false); err != nil {
			return err
		}
		if _, err := s.provisionedTarget(tx, ref, false); err != nil {
			return err
		}
		if err := tx.Delete(provisionedReportKey(ref.Name, ref.Qualifier)); err != nil {
			return err
		}
		var nodes []string // every node's report on the configuration
		if err := tx.Scan(provisionedReportKey(ref.Name, ref.Qualifier)+"/", "", func(k string, _ []byte) (bool, error) {
			nodes = append(nodes, k)
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range nodes {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return tx.Delete(provisionedKey(ref.Name, ref.Qualifier))
	})
}

// ListProvisionedConcurrencyConfigs lists a function's configurations.
func (s *Service) ListProvisionedConcurrencyConfigs(ctx context.Context, ref lambda.Ref, marker string, maxItems int) ([]ProvisionedView, string, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, "", err
	}
	var page *pager[ProvisionedView]
	err = s.view(ctx, func(tx store.Tx) error {
		page = newPager[ProvisionedView](maxItems)
		if _, err := s.loadFunction(tx, ref.Name); err != nil {
			return err
		}
		return tx.Scan(provisionedPrefix(ref.Name), after, func(k string, b []byte) (bool, error) {
			var c ProvisionedConfig
			if err := jsonUnmarshal(b, &c); err != nil {
				return false, err
			}
			v, err := s.provisionedView(tx, ref.Name, c)
			if err != nil {
				return false, err
			}
			return page.add(k, v), nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	return page.items, page.next(), nil
}

// provisionedConfigs reads a function's configurations (for snapshots).
func provisionedConfigs(tx store.Tx, name string) ([]ProvisionedConfig, error) {
	var out []ProvisionedConfig
	err := tx.Scan(provisionedPrefix(name), "", func(_ string, b []byte) (bool, error) {
		var c ProvisionedConfig
		err := jsonUnmarshal(b, &c)
		out = append(out, c)
		return err == nil, err
	})
	return out, err
}
