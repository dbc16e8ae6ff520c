package codedeploy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

func TestPredefinedConfigs(t *testing.T) {
	want := []string{
		"CodeDeployDefault.LambdaAllAtOnce",
		"CodeDeployDefault.LambdaCanary10Percent10Minutes",
		"CodeDeployDefault.LambdaCanary10Percent15Minutes",
		"CodeDeployDefault.LambdaCanary10Percent30Minutes",
		"CodeDeployDefault.LambdaCanary10Percent5Minutes",
		"CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
		"CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
		"CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
		"CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
	}
	got := PredefinedConfigs()
	if len(got) != len(want) {
		t.Fatalf("%d configs", len(got))
	}
	for i, c := range got {
		if c.Name != want[i] || c.ComputePlatform != "Lambda" || !IsPredefined(c.Name) {
			t.Fatalf("config %d: %+v", i, c)
		}
		if err := ValidateTrafficRouting(c.TrafficRouting); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	for _, name := range []string{"CodeDeployDefault.LambdaLinear10PercentEvery1Minutes", "CodeDeployDefault.OneAtATime", "codedeploydefault.lambdaallatonce", "LambdaAllAtOnce"} {
		if IsPredefined(name) {
			t.Errorf("%s is not predefined", name)
		}
	}
	c, _ := PredefinedConfig(LambdaLinear10PercentEvery3Minutes)
	raw, _ := json.Marshal(c.TrafficRouting.Wire())
	if string(raw) != `{"type":"TimeBasedLinear","timeBasedLinear":{"linearPercentage":10,"linearInterval":3}}` {
		t.Fatalf("wire %s", raw)
	}
	c, _ = PredefinedConfig(LambdaAllAtOnce)
	if raw, _ = json.Marshal(c.TrafficRouting.Wire()); string(raw) != `{"type":"AllAtOnce"}` {
		t.Fatalf("wire %s", raw)
	}
}

func TestConfigNameFromSAM(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		ok      bool
	}{
		{"Canary10Percent5Minutes", "CodeDeployDefault.LambdaCanary10Percent5Minutes", true},
		{"Canary10Percent30Minutes", "CodeDeployDefault.LambdaCanary10Percent30Minutes", true},
		{"Linear10PercentEvery1Minute", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", true},
		{"Linear10PercentEvery10Minutes", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", true},
		{"AllAtOnce", "CodeDeployDefault.LambdaAllAtOnce", true},
		{"Linear10PercentEvery1Minutes", "Linear10PercentEvery1Minutes", false},
		{"canary10percent5minutes", "canary10percent5minutes", false},
		{"MyCustomConfig", "MyCustomConfig", false},
		{"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.LambdaAllAtOnce", false},
	} {
		out, ok := ConfigNameFromSAM(tc.in)
		if out != tc.out || ok != tc.ok {
			t.Errorf("ConfigNameFromSAM(%q) = %q, %v", tc.in, out, ok)
		}
		if ok && !IsPredefined(out) {
			t.Errorf("%s is not predefined", out)
		}
	}
}

// Ensure SAM's short names and the predefined configurations are the same nine: a configuration added to one list
// and not the other would make a SAM template's Type resolve differently from CodeDeploy's own name.
func TestSAMShortNamesAreThePredefinedConfigs(t *testing.T) {
	predefined := PredefinedConfigs()
	if len(samShortNames) != len(predefined) {
		t.Fatalf("%d SAM short names, %d predefined Lambda configurations", len(samShortNames), len(predefined))
	}
	for _, c := range predefined {
		short := strings.TrimPrefix(c.Name, PredefinedPrefix+"Lambda")
		if !IsSAMShortName(short) {
			t.Errorf("predefined %s has no SAM short name %q", c.Name, short)
		}
	}
}

func TestValidateTrafficRouting(t *testing.T) {
	for _, tc := range []struct {
		r   TrafficRouting
		msg string // "" = valid
	}{
		{TrafficRouting{Type: AllAtOnce}, ""},
		{TrafficRouting{TimeBasedCanary, 1, 1}, ""},
		{TrafficRouting{TimeBasedCanary, 99, 2880}, ""},
		{TrafficRouting{TimeBasedCanary, 0, 5}, "Canary percentage must be between 1 and 99."},
		{TrafficRouting{TimeBasedCanary, 100, 5}, "Canary percentage must be between 1 and 99."},
		{TrafficRouting{TimeBasedCanary, -5, 5}, "Canary percentage must be between 1 and 99."},
		{TrafficRouting{TimeBasedCanary, 10, 0}, "Canary interval must be between 1 and 2880 minutes (2 days)"},
		{TrafficRouting{TimeBasedCanary, 10, 2881}, "Canary interval must be between 1 and 2880 minutes (2 days)"},
		{TrafficRouting{TimeBasedLinear, 10, 288}, ""},
		{TrafficRouting{TimeBasedLinear, 10, 289}, "Total Traffic shifting intervals must be positive integers up to 2880 minutes (2 days)"},
		{TrafficRouting{TimeBasedLinear, 1, 28}, ""},
		{TrafficRouting{TimeBasedLinear, 1, 29}, "Total Traffic shifting intervals"},
		{TrafficRouting{TimeBasedLinear, 33, 960}, ""},
		{TrafficRouting{TimeBasedLinear, 33, 961}, "Total Traffic shifting intervals"},
		{TrafficRouting{TimeBasedLinear, 50, 1440}, ""},
		{TrafficRouting{TimeBasedLinear, 99, 2880}, ""},
		{TrafficRouting{TimeBasedLinear, 99, 2881}, "Total Traffic shifting intervals"},
		{TrafficRouting{TimeBasedLinear, 10, 0}, "Total Traffic shifting intervals"},
		{TrafficRouting{TimeBasedLinear, 0, 1}, "Linear percentage must be between 1 and 99."},
		{TrafficRouting{TimeBasedLinear, 100, 1}, "Linear percentage must be between 1 and 99."},
		{TrafficRouting{}, "The traffic routing type must be specified"},
		{TrafficRouting{Type: "TimeBasedSomething"}, "The traffic routing type TimeBasedSomething is invalid."},
	} {
		err := ValidateTrafficRouting(tc.r)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.r, err)
			}
			continue
		}
		f, ok := fault.As(err)
		if !ok || f.Code != ErrInvalidTrafficRoutingConfiguration || !strings.HasPrefix(f.Message, tc.msg) {
			t.Errorf("%+v: %v, want %q", tc.r, err, tc.msg)
		}
	}
}

func TestRoutingConfigWire(t *testing.T) {
	var c RoutingConfig
	if err := json.Unmarshal([]byte(`{"type":"TimeBasedCanary","timeBasedCanary":{"canaryPercentage":25,"canaryInterval":45}}`), &c); err != nil {
		t.Fatal(err)
	}
	r, err := c.TrafficRouting()
	if err != nil || r != (TrafficRouting{TimeBasedCanary, 25, 45}) {
		t.Fatalf("%+v %v", r, err)
	}
	if back := r.Wire(); *back.TimeBasedCanary != *c.TimeBasedCanary || back.TimeBasedLinear != nil {
		t.Fatalf("%+v", back)
	}
	// The block of the other type is ignored; a missing block is an error.
	r, err = RoutingConfig{Type: "AllAtOnce", TimeBasedLinear: &TimeBasedLinearConfig{10, 1}}.TrafficRouting()
	if err != nil || r != (TrafficRouting{Type: AllAtOnce}) {
		t.Fatalf("%+v %v", r, err)
	}
	for _, c := range []RoutingConfig{{Type: "TimeBasedCanary"}, {Type: "TimeBasedLinear", TimeBasedCanary: &TimeBasedCanaryConfig{10, 5}}} {
		if _, err := c.TrafficRouting(); !fault.Is(err, ErrInvalidTrafficRoutingConfiguration) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestResolveConfig(t *testing.T) {
	custom := map[string]DeploymentConfig{
		"Canary25Percent45Minutes": {Name: "Canary25Percent45Minutes", ComputePlatform: "Lambda", TrafficRouting: TrafficRouting{TimeBasedCanary, 25, 45}},
		"ServerHalf":               {Name: "ServerHalf", ComputePlatform: "Server"},
	}
	lookup := func(n string) (DeploymentConfig, bool) { c, ok := custom[n]; return c, ok }
	if c, err := ResolveConfig(LambdaCanary10Percent5Minutes, lookup); err != nil || c.TrafficRouting.IntervalMinutes != 5 {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := ResolveConfig("Canary25Percent45Minutes", lookup); err != nil || c.TrafficRouting.Percentage != 25 {
		t.Fatalf("%+v %v", c, err)
	}
	_, err := ResolveConfig("Nope", lookup)
	if f, ok := fault.As(err); !ok || f.Code != ErrDeploymentConfigDoesNotExist || f.Message != "No deployment configuration found for name: Nope" {
		t.Fatalf("%v", err)
	}
	if _, err := ResolveConfig("Nope", nil); !fault.Is(err, ErrDeploymentConfigDoesNotExist) {
		t.Fatalf("%v", err)
	}
	if _, err := ResolveConfig("ServerHalf", lookup); !fault.Is(err, ErrInvalidDeploymentConfigName) {
		t.Fatalf("%v", err)
	}
	if _, err := ResolveConfig("", lookup); !fault.Is(err, ErrDeploymentConfigNameRequired) {
		t.Fatalf("%v", err)
	}
}

func TestCustomConfigLifecycle(t *testing.T) {
	routing := &RoutingConfig{Type: "TimeBasedLinear", TimeBasedLinear: &TimeBasedLinearConfig{LinearPercentage: 20, LinearInterval: 3}}
	c, err := NewCustomConfig("Linear20Every3", "Lambda", routing)
	if err != nil || c.TrafficRouting != (TrafficRouting{TimeBasedLinear, 20, 3}) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, tc := range []struct {
		name, platform string
		routing        *RoutingConfig
		code           string
	}{
		{"", "Lambda", routing, ErrDeploymentConfigNameRequired},
		{strings.Repeat("x", 101), "Lambda", routing, ErrInvalidDeploymentConfigName},
		{"CodeDeployDefault.LambdaMine", "Lambda", routing, ErrInvalidDeploymentConfigName},
		{"Mine", "", routing, ErrInvalidComputePlatform},
		{"Mine", "Server", routing, ErrInvalidComputePlatform},
		{"Mine", "Mainframe", routing, ErrInvalidComputePlatform},
		{"Mine", "Lambda", nil, ErrInvalidTrafficRoutingConfiguration},
		{"Mine", "Lambda", &RoutingConfig{Type: "TimeBasedCanary", TimeBasedCanary: &TimeBasedCanaryConfig{0, 5}}, ErrInvalidTrafficRoutingConfiguration},
	} {
		if _, err := NewCustomConfig(tc.name, tc.platform, tc.routing); !fault.Is(err, tc.code) {
			t.Errorf("%q %q: %v, want %s", tc.name, tc.platform, err, tc.code)
		}
	}
	if err := CheckDeletable(LambdaAllAtOnce); !fault.Is(err, ErrInvalidOperation) {
		t.Fatalf("predefined deletable: %v", err)
	}
	if err := CheckDeletable("CodeDeployDefault.OneAtATime"); !fault.Is(err, ErrInvalidOperation) {
		t.Fatalf("predefined deletable: %v", err)
	}
	if err := CheckDeletable("Linear20Every3"); err != nil {
		t.Fatal(err)
	}
	if err := CheckDeletable(""); !fault.Is(err, ErrDeploymentConfigNameRequired) {
		t.Fatal(err)
	}
}
