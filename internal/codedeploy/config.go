package codedeploy

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// RoutingType is trafficRoutingConfig.type.
type RoutingType string

// The three traffic routing types of a Lambda deployment configuration.
const (
	TimeBasedCanary RoutingType = "TimeBasedCanary"
	TimeBasedLinear RoutingType = "TimeBasedLinear"
	AllAtOnce       RoutingType = "AllAtOnce"
)

// ComputePlatformLambda is the only compute platform this package deploys to.
const ComputePlatformLambda = "Lambda"

// Limits of a custom traffic routing configuration (see ValidateTrafficRouting for where they come from).
const (
	MinPercentage       = 1
	MaxPercentage       = 99
	MaxShiftingMinutes  = 2880 // two days: the cap on a canary interval and on a linear shift's total
	MaxConfigNameLength = 100
)

// PredefinedPrefix starts the name of every configuration CodeDeploy ships (Server, ECS and Lambda alike).
const PredefinedPrefix = "CodeDeployDefault."

// TrafficRouting is the domain form of a Lambda deployment configuration's trafficRoutingConfig. Percentage and
// IntervalMinutes are zero for AllAtOnce. For a canary Percentage is shifted at once and the rest after
// IntervalMinutes; for a linear configuration Percentage more is shifted every IntervalMinutes.
type TrafficRouting struct {
	Type            RoutingType `json:"type"`
	Percentage      int         `json:"percentage,omitempty"`
	IntervalMinutes int         `json:"intervalMinutes,omitempty"`
}

// DeploymentConfig is a named deployment configuration. ID and CreateTime are assigned by whoever stores custom
// configurations; the predefined ones have neither.
type DeploymentConfig struct {
	Name            string         `json:"deploymentConfigName"`
	ID              string         `json:"deploymentConfigId,omitempty"`
	ComputePlatform string         `json:"computePlatform"`
	TrafficRouting  TrafficRouting `json:"trafficRouting"`
	CreateTime      time.Time      `json:"createTime,omitzero"`
}

// Names of the nine predefined Lambda configurations (reference §5.3). Only the one-minute linear is singular.
const (
	LambdaCanary10Percent5Minutes       = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
	LambdaCanary10Percent10Minutes      = "CodeDeployDefault.LambdaCanary10Percent10Minutes"
	LambdaCanary10Percent15Minutes      = "CodeDeployDefault.LambdaCanary10Percent15Minutes"
	LambdaCanary10Percent30Minutes      = "CodeDeployDefault.LambdaCanary10Percent30Minutes"
	LambdaLinear10PercentEvery1Minute   = "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
	LambdaLinear10PercentEvery2Minutes  = "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"
	LambdaLinear10PercentEvery3Minutes  = "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
	LambdaLinear10PercentEvery10Minutes = "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
	LambdaAllAtOnce                     = "CodeDeployDefault.LambdaAllAtOnce"
)

var predefined = map[string]TrafficRouting{
	LambdaCanary10Percent5Minutes:       {Type: TimeBasedCanary, Percentage: 10, IntervalMinutes: 5},
	LambdaCanary10Percent10Minutes:      {Type: TimeBasedCanary, Percentage: 10, IntervalMinutes: 10},
	LambdaCanary10Percent15Minutes:      {Type: TimeBasedCanary, Percentage: 10, IntervalMinutes: 15},
	LambdaCanary10Percent30Minutes:      {Type: TimeBasedCanary, Percentage: 10, IntervalMinutes: 30},
	LambdaLinear10PercentEvery1Minute:   {Type: TimeBasedLinear, Percentage: 10, IntervalMinutes: 1},
	LambdaLinear10PercentEvery2Minutes:  {Type: TimeBasedLinear, Percentage: 10, IntervalMinutes: 2},
	LambdaLinear10PercentEvery3Minutes:  {Type: TimeBasedLinear, Percentage: 10, IntervalMinutes: 3},
	LambdaLinear10PercentEvery10Minutes: {Type: TimeBasedLinear, Percentage: 10, IntervalMinutes: 10},
	LambdaAllAtOnce:                     {Type: AllAtOnce},
}

// PredefinedConfigs returns the nine built-in Lambda configurations, sorted by name.
func PredefinedConfigs() []DeploymentConfig {
	out := make([]DeploymentConfig, 0, len(predefined))
	for name, r := range predefined {
		out = append(out, DeploymentConfig{Name: name, ComputePlatform: ComputePlatformLambda, TrafficRouting: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PredefinedConfig returns the built-in Lambda configuration with this exact (case-sensitive) name.
func PredefinedConfig(name string) (DeploymentConfig, bool) {
	r, ok := predefined[name]
	if !ok {
		return DeploymentConfig{}, false
	}
	return DeploymentConfig{Name: name, ComputePlatform: ComputePlatformLambda, TrafficRouting: r}, true
}

// IsPredefined reports whether name is one of the nine built-in Lambda configurations. They always exist, cannot
// be created, changed or deleted.
func IsPredefined(name string) bool {
	_, ok := predefined[name]
	return ok
}

// samShortNames are the DeploymentPreference.Type values SAM rewrites to CodeDeployDefault.Lambda<Name>
// (samtranslator deployment_preference_collection.CODEDEPLOY_PREDEFINED_CONFIGURATIONS_LIST). This is the one
// list: the SAM transform (internal/sam) asks IsSAMShortName rather than keeping its own copy.
var samShortNames = []string{
	"Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes", "Canary10Percent30Minutes",
	"Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes", "Linear10PercentEvery3Minutes",
	"Linear10PercentEvery10Minutes", "AllAtOnce",
}

// IsSAMShortName reports whether typ is one of SAM's nine short DeploymentPreference.Type names (exact case, as
// SAM matches them), which SAM rewrites to "CodeDeployDefault.Lambda<Name>".
func IsSAMShortName(typ string) bool { return slices.Contains(samShortNames, typ) }

// ConfigNameFromSAM translates a SAM DeploymentPreference.Type. One of SAM's nine short names (exact case, as SAM
// matches them) becomes "CodeDeployDefault.Lambda<Name>" and ok is true; any other string is, as in SAM, the name
// of a custom configuration and comes back unchanged with ok false.
func ConfigNameFromSAM(typ string) (string, bool) {
	if IsSAMShortName(typ) {
		return PredefinedPrefix + "Lambda" + typ, true
	}
	return typ, false
}

// ResolveConfig finds the configuration a deployment names: a predefined one, or a custom one through lookup
// (which may be nil when no custom configurations exist). A configuration of another compute platform is refused:
// a Lambda deployment group can only use Lambda configurations.
func ResolveConfig(name string, lookup func(name string) (DeploymentConfig, bool)) (DeploymentConfig, error) {
	if name == "" {
		return DeploymentConfig{}, fault.New(ErrDeploymentConfigNameRequired, "Deployment configuration name must be specified.")
	}
	if c, ok := PredefinedConfig(name); ok {
		return c, nil
	}
	if lookup != nil {
		if c, ok := lookup(name); ok {
			if c.ComputePlatform != ComputePlatformLambda {
				return DeploymentConfig{}, fault.New(ErrInvalidDeploymentConfigName,
					"The deployment configuration %s is for the %s compute platform and cannot be used for a Lambda deployment.",
					name, c.ComputePlatform)
			}
			return c, nil
		}
	}
	return DeploymentConfig{}, DeploymentConfigDoesNotExist(name)
}

// CheckConfigName validates the name of a configuration a client wants to create: 1..100 characters, and not in
// CodeDeploy's reserved "CodeDeployDefault." namespace.
func CheckConfigName(name string) error {
	switch {
	case name == "":
		return fault.New(ErrDeploymentConfigNameRequired, "Deployment configuration name must be specified.")
	case len(name) > MaxConfigNameLength:
		return fault.New(ErrInvalidDeploymentConfigName, "Deployment configuration name %s is longer than %d characters.", name, MaxConfigNameLength)
	case strings.HasPrefix(name, PredefinedPrefix):
		return fault.New(ErrInvalidDeploymentConfigName, "Deployment configuration name %s is invalid: the prefix %s is reserved for predefined configurations.", name, PredefinedPrefix)
	}
	return nil
}

// CheckDeletable refuses to delete a predefined configuration (DeleteDeploymentConfig: "Predefined configurations
// cannot be deleted"). Whether a custom configuration is still in use is for the caller to check.
func CheckDeletable(name string) error {
	if name == "" {
		return fault.New(ErrDeploymentConfigNameRequired, "Deployment configuration name must be specified.")
	}
	if strings.HasPrefix(name, PredefinedPrefix) {
		return fault.New(ErrInvalidOperation, "The predefined deployment configuration %s cannot be deleted.", name)
	}
	return nil
}

// NewCustomConfig validates a CreateDeploymentConfig request for the Lambda platform and returns the record to
// store (ID and CreateTime are the caller's). platform "" means the request named none; AWS then defaults to
// Server, which has no traffic routing, so a Lambda configuration must name its platform.
func NewCustomConfig(name, platform string, routing *RoutingConfig) (DeploymentConfig, error) {
	if err := CheckConfigName(name); err != nil {
		return DeploymentConfig{}, err
	}
	switch platform {
	case ComputePlatformLambda:
	case "", "Server", "ECS":
		return DeploymentConfig{}, fault.New(ErrInvalidComputePlatform,
			"Only the %s compute platform is supported; computePlatform must be %s.", ComputePlatformLambda, ComputePlatformLambda)
	default:
		return DeploymentConfig{}, fault.New(ErrInvalidComputePlatform, "The computePlatform %s is invalid.", platform)
	}
	if routing == nil {
		return DeploymentConfig{}, fault.New(ErrInvalidTrafficRoutingConfiguration,
			"A deployment configuration for the Lambda compute platform must specify a traffic routing configuration.")
	}
	r, err := routing.TrafficRouting()
	if err != nil {
		return DeploymentConfig{}, err
	}
	return DeploymentConfig{Name: name, ComputePlatform: ComputePlatformLambda, TrafficRouting: r}, nil
}

// ValidateTrafficRouting checks a custom traffic routing configuration against CodeDeploy's limits. The API model
// declares none (Percentage and WaitTimeInMins are bare integers); the limits are those CodeDeploy enforces:
//   - canary and linear percentages are integers 1..99 (a 0 % or 100 % step would be an AllAtOnce or a no-op);
//   - a canary interval is 1..2880 minutes ("Canary interval must be between 1 and 2880 minutes (2 days)");
//   - a linear interval is at least 1 minute and the whole linear shift, counted as interval × ⌊100/percentage⌋,
//     at most 2880 minutes ("Total Traffic shifting intervals must be positive integers up to 2880 minutes (2 days)").
//     2880×99 %, 1440×50 %, 960×33 %, 288×10 % and 28×1 % are the largest accepted.
func ValidateTrafficRouting(r TrafficRouting) error {
	invalid := func(format string, args ...any) error {
		return fault.New(ErrInvalidTrafficRoutingConfiguration, format, args...)
	}
	switch r.Type {
	case AllAtOnce:
		return nil
	case TimeBasedCanary:
		if r.Percentage < MinPercentage || r.Percentage > MaxPercentage {
			return invalid("Canary percentage must be between %d and %d.", MinPercentage, MaxPercentage)
		}
		if r.IntervalMinutes < 1 || r.IntervalMinutes > MaxShiftingMinutes {
			return invalid("Canary interval must be between 1 and %d minutes (2 days)", MaxShiftingMinutes)
		}
		return nil
	case TimeBasedLinear:
		if r.Percentage < MinPercentage || r.Percentage > MaxPercentage {
			return invalid("Linear percentage must be between %d and %d.", MinPercentage, MaxPercentage)
		}
		if r.IntervalMinutes < 1 || r.IntervalMinutes*(100/r.Percentage) > MaxShiftingMinutes {
			return invalid("Total Traffic shifting intervals must be positive integers up to %d minutes (2 days)", MaxShiftingMinutes)
		}
		return nil
	case "":
		return invalid("The traffic routing type must be specified: TimeBasedCanary, TimeBasedLinear or AllAtOnce.")
	default:
		return invalid("The traffic routing type %s is invalid. Valid types are TimeBasedCanary, TimeBasedLinear and AllAtOnce.", r.Type)
	}
}

// RoutingConfig is trafficRoutingConfig as CodeDeploy's JSON carries it (CreateDeploymentConfig,
// GetDeploymentConfig). A block that does not belong to Type is ignored, as absent.
type RoutingConfig struct {
	Type            string                 `json:"type,omitempty"`
	TimeBasedCanary *TimeBasedCanaryConfig `json:"timeBasedCanary,omitempty"`
	TimeBasedLinear *TimeBasedLinearConfig `json:"timeBasedLinear,omitempty"`
}

// TimeBasedCanaryConfig is trafficRoutingConfig.timeBasedCanary.
type TimeBasedCanaryConfig struct {
	CanaryPercentage int `json:"canaryPercentage"`
	CanaryInterval   int `json:"canaryInterval"`
}

// TimeBasedLinearConfig is trafficRoutingConfig.timeBasedLinear.
type TimeBasedLinearConfig struct {
	LinearPercentage int `json:"linearPercentage"`
	LinearInterval   int `json:"linearInterval"`
}

// TrafficRouting converts and validates the wire form.
func (c RoutingConfig) TrafficRouting() (TrafficRouting, error) {
	r := TrafficRouting{Type: RoutingType(c.Type)}
	switch r.Type {
	case TimeBasedCanary:
		if c.TimeBasedCanary == nil {
			return TrafficRouting{}, fault.New(ErrInvalidTrafficRoutingConfiguration,
				"A traffic routing configuration of type TimeBasedCanary must specify timeBasedCanary.")
		}
		r.Percentage, r.IntervalMinutes = c.TimeBasedCanary.CanaryPercentage, c.TimeBasedCanary.CanaryInterval
	case TimeBasedLinear:
		if c.TimeBasedLinear == nil {
			return TrafficRouting{}, fault.New(ErrInvalidTrafficRoutingConfiguration,
				"A traffic routing configuration of type TimeBasedLinear must specify timeBasedLinear.")
		}
		r.Percentage, r.IntervalMinutes = c.TimeBasedLinear.LinearPercentage, c.TimeBasedLinear.LinearInterval
	}
	if err := ValidateTrafficRouting(r); err != nil {
		return TrafficRouting{}, err
	}
	return r, nil
}

// Wire returns the trafficRoutingConfig form of r.
func (r TrafficRouting) Wire() RoutingConfig {
	c := RoutingConfig{Type: string(r.Type)}
	switch r.Type {
	case TimeBasedCanary:
		c.TimeBasedCanary = &TimeBasedCanaryConfig{CanaryPercentage: r.Percentage, CanaryInterval: r.IntervalMinutes}
	case TimeBasedLinear:
		c.TimeBasedLinear = &TimeBasedLinearConfig{LinearPercentage: r.Percentage, LinearInterval: r.IntervalMinutes}
	}
	return c
}
