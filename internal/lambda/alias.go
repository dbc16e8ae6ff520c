package lambda

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Alias is a named, movable pointer to one version, optionally splitting traffic with one more.
type Alias struct {
	Function        string `json:"function"`
	Name            string `json:"name"`
	FunctionVersion string `json:"functionVersion"`
	Description     string `json:"description,omitempty"`
	// Routing is nil when no RoutingConfig was ever supplied (AWS then omits it from responses).
	Routing    *Routing `json:"routing,omitempty"`
	RevisionID string   `json:"revisionId"`
}

// Routing is an alias's RoutingConfig.
type Routing struct {
	AdditionalVersionWeights map[string]float64 `json:"additionalVersionWeights"`
}

// AdditionalVersion returns the single weighted extra version and its weight, if any.
func (a *Alias) AdditionalVersion() (string, float64, bool) {
	if a.Routing == nil {
		return "", 0, false
	}
	for v, w := range a.Routing.AdditionalVersionWeights {
		return v, w, true
	}
	return "", 0, false
}

// VersionLookup returns the published version with the given number, or nil.
type VersionLookup func(number string) *Version

// CheckRouting validates an alias target: the primary version and the optional weights (reference §3.3).
// exists answers whether a version exists; versions also gives their configs to compare role and DLQ.
func CheckRouting(a Account, function, primary string, routing *Routing, lookup VersionLookup) error {
	if err := ValidVersion("functionVersion", primary); err != nil {
		return err
	}
	var primaryVersion *Version
	if primary != Latest {
		if primaryVersion = lookup(primary); primaryVersion == nil {
			return fault.NotFound("Function not found: %s", a.QualifiedARN(function, primary))
		}
	}
	if routing == nil || len(routing.AdditionalVersionWeights) == 0 {
		return nil
	}
	weights := routing.AdditionalVersionWeights
	for v, w := range weights {
		if !IsVersionNumber(v) {
			return ValidationError(formatWeights(weights), "routingConfig.additionalVersionWeights", "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")
		}
		if w < 0 || w > 1 || w != w {
			return ValidationError(formatWeights(weights), "routingConfig.additionalVersionWeights", "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")
		}
	}
	if len(weights) > 1 {
		return fault.InvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	if primary == Latest {
		return fault.InvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
	}
	for v := range weights {
		if canonicalVersion(v) == canonicalVersion(primary) {
			return fault.InvalidParameter("Invalid function version %s. Function version %s is already included in routing configuration.", v, v)
		}
		extra := lookup(canonicalVersion(v))
		if extra == nil {
			return fault.NotFound("Function not found: %s", a.QualifiedARN(function, v))
		}
		if extra.Config.Role != primaryVersion.Config.Role {
			return fault.InvalidParameter("The execution role of version %s (%s) differs from that of version %s (%s). Both versions of a weighted alias must use the same execution role.", v, extra.Config.Role, primary, primaryVersion.Config.Role)
		}
		if extra.Config.DeadLetterTargetARN != primaryVersion.Config.DeadLetterTargetARN {
			return fault.InvalidParameter("The dead-letter queue configuration of version %s differs from that of version %s. Both versions of a weighted alias must use the same dead-letter configuration.", v, primary)
		}
	}
	return nil
}

// canonicalVersion strips leading zeros so "043" and "43" compare equal.
func canonicalVersion(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		return v
	}
	return strconv.Itoa(n)
}

// CanonicalRouting returns routing with its version keys in canonical form; an empty map stays empty (AWS echoes
// `{"AdditionalVersionWeights":{}}` when a cleared config was supplied).
func CanonicalRouting(r *Routing) *Routing {
	if r == nil {
		return nil
	}
	out := &Routing{AdditionalVersionWeights: map[string]float64{}}
	for v, w := range r.AdditionalVersionWeights {
		out.AdditionalVersionWeights[canonicalVersion(v)] = w
	}
	return out
}

func formatWeights(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + formatWeight(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// ReferencesVersion reports whether the alias points at version n, as primary or weighted extra.
func (a *Alias) ReferencesVersion(n string) bool {
	if a.FunctionVersion == n {
		return true
	}
	v, _, ok := a.AdditionalVersion()
	return ok && v == n
}

// formatWeight prints a weight the way AWS's validation messages do (Java's Double.toString: 2.0, 0.03).
func formatWeight(w float64) string {
	s := strconv.FormatFloat(w, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEN") {
		s += ".0"
	}
	return s
}
