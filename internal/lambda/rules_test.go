package lambda

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

func ptr[T any](v T) *T { return &v }

func TestConfigApply(t *testing.T) {
	base := NewConfig("orders")
	cases := []struct {
		name     string
		patch    ConfigPatch
		check    func(Config) bool
		wantCode string
		wantMsg  string
	}{
		{name: "defaults", patch: ConfigPatch{}, check: func(c Config) bool {
			return c.Timeout == 3 && c.MemorySize == 128 && c.Architecture == "x86_64" && c.LogGroup == "/aws/lambda/orders"
		}},
		{name: "timeout ok", patch: ConfigPatch{Timeout: ptr(900)}, check: func(c Config) bool { return c.Timeout == 900 }},
		{name: "timeout high", patch: ConfigPatch{Timeout: ptr(901)}, wantCode: fault.Validation,
			wantMsg: "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{name: "timeout zero", patch: ConfigPatch{Timeout: ptr(0)}, wantCode: fault.Validation},
		{name: "memory low", patch: ConfigPatch{MemorySize: ptr(64)}, wantCode: fault.Validation},
		{name: "memory high", patch: ConfigPatch{MemorySize: ptr(10241)}, wantCode: fault.Validation},
		{name: "role bad", patch: ConfigPatch{Role: ptr("not-a-role")}, wantCode: fault.Validation},
		{name: "role ok", patch: ConfigPatch{Role: ptr("arn:aws:iam::123456789012:role/service-role/x")}, check: func(c Config) bool { return c.Role != "" }},
		{name: "runtime bad", patch: ConfigPatch{Runtime: ptr("cobol9")}, wantCode: fault.InvalidParameterValue},
		{name: "reserved env", patch: ConfigPatch{Environment: ptr(map[string]string{"AWS_REGION": "x", "A1": "b"})}, wantCode: fault.InvalidParameterValue,
			wantMsg: "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"},
		{name: "env name", patch: ConfigPatch{Environment: ptr(map[string]string{"1BAD": "x"})}, wantCode: fault.Validation},
		{name: "env too big", patch: ConfigPatch{Environment: ptr(map[string]string{"BIG": strings.Repeat("x", 4096)})}, wantCode: fault.InvalidParameterValue},
		{name: "env empty clears", patch: ConfigPatch{Environment: ptr(map[string]string{})}, check: func(c Config) bool { return c.Environment == nil }},
		{name: "arch", patch: ConfigPatch{Architectures: ptr([]string{"arm64"})}, check: func(c Config) bool { return c.Architecture == "arm64" }},
		{name: "arch two", patch: ConfigPatch{Architectures: ptr([]string{"arm64", "x86_64"})}, wantCode: fault.Validation},
		{name: "arch bad", patch: ConfigPatch{Architectures: ptr([]string{"mips"})}, wantCode: fault.Validation},
		{name: "ephemeral", patch: ConfigPatch{EphemeralStorage: ptr(100)}, wantCode: fault.Validation},
		{name: "tracing", patch: ConfigPatch{TracingMode: ptr("Sometimes")}, wantCode: fault.Validation},
		{name: "description long", patch: ConfigPatch{Description: ptr(strings.Repeat("d", 257))}, wantCode: fault.Validation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := base.Apply(c.patch)
			if c.wantCode != "" {
				f, ok := fault.As(err)
				if !ok || f.Code != c.wantCode {
					t.Fatalf("err = %v, want %s", err, c.wantCode)
				}
				if c.wantMsg != "" && f.Message != c.wantMsg {
					t.Fatalf("message = %q\nwant      %q", f.Message, c.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(got) {
				t.Fatalf("unexpected config %+v", got)
			}
		})
	}
}

func TestCheckMutable(t *testing.T) {
	cases := []struct {
		status Status
		want   string
	}{
		{Creating(), "The operation cannot be performed at this time. The function is currently in the following state: Pending"},
		{Updating(), "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:orders"},
		{Settled(), ""},
		{UpdateFailedStatus("InvalidZipFileException", "bad"), ""},
	}
	for _, c := range cases {
		f := &Function{Name: "orders", Status: c.status}
		err := f.CheckMutable(acct)
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: unexpected %v", c.status, err)
			}
			continue
		}
		if fe, ok := fault.As(err); !ok || fe.Code != fault.ResourceConflict || fe.Message != c.want {
			t.Errorf("%+v: err = %v, want 409 %q", c.status, err, c.want)
		}
	}
}

func TestPublishRules(t *testing.T) {
	cfg := NewConfig("f")
	cfg.CodeSha256 = "abc"
	v := &Version{Number: 1, Config: cfg}
	if NeedsNewVersion(cfg, v) {
		t.Error("unchanged $LATEST must not publish a new version")
	}
	if !NeedsNewVersion(cfg, nil) {
		t.Error("first publish must create a version")
	}
	changed := cfg
	changed.Description = "only the description"
	if !NeedsNewVersion(changed, v) {
		t.Error("a description-only change must publish a new version")
	}
	if err := CheckPublishCodeSha("zzz", "abc"); !fault.Is(err, fault.InvalidParameterValue) {
		t.Errorf("CodeSha256 mismatch: %v, want InvalidParameterValueException", err)
	}
	if err := CheckPublishCodeSha("", "abc"); err != nil {
		t.Error(err)
	}
	if err := CheckRevision("r1", "r2"); !fault.Is(err, fault.PreconditionFailed) {
		t.Errorf("revision mismatch: %v, want PreconditionFailedException", err)
	}
	if err := CheckRevision("", "r2"); err != nil {
		t.Error(err)
	}
}

func TestCheckRouting(t *testing.T) {
	role := "arn:aws:iam::000000000000:role/a"
	versions := map[string]*Version{
		"1": {Number: 1, Config: Config{Role: role}},
		"2": {Number: 2, Config: Config{Role: role}},
		"3": {Number: 3, Config: Config{Role: "arn:aws:iam::000000000000:role/other"}},
		"4": {Number: 4, Config: Config{Role: role, DeadLetterTargetARN: "arn:aws:sqs:us-east-1:000000000000:dlq"}},
	}
	lookup := func(n string) *Version { return versions[n] }
	w := func(m map[string]float64) *Routing { return &Routing{AdditionalVersionWeights: m} }
	cases := []struct {
		name     string
		primary  string
		routing  *Routing
		wantCode string
		wantMsg  string
	}{
		{"plain", "1", nil, "", ""},
		{"latest", "$LATEST", nil, "", ""},
		{"latest empty weights", "$LATEST", w(map[string]float64{}), "", ""},
		{"canary", "1", w(map[string]float64{"2": 0.03}), "", ""},
		{"zero weight", "1", w(map[string]float64{"2": 0}), "", ""},
		{"full weight", "1", w(map[string]float64{"2": 1}), "", ""},
		{"missing primary", "9", nil, fault.ResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:9"},
		{"bad primary", "live", nil, fault.Validation, ""},
		{"two extras", "1", w(map[string]float64{"2": 0.1, "4": 0.1}), fault.InvalidParameterValue, "Number of items in AdditionalVersionWeights cannot be greater than 1"},
		{"weight high", "1", w(map[string]float64{"2": 2}), fault.Validation,
			"1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"weight negative", "1", w(map[string]float64{"2": -0.1}), fault.Validation, ""},
		{"latest key", "1", w(map[string]float64{"$LATEST": 0.1}), fault.Validation, ""},
		{"same as primary", "1", w(map[string]float64{"1": 0.5}), fault.InvalidParameterValue, "Invalid function version 1. Function version 1 is already included in routing configuration."},
		{"latest primary", "$LATEST", w(map[string]float64{"2": 0.5}), fault.InvalidParameterValue, "$LATEST is not supported for an alias pointing to more than 1 version"},
		{"missing extra", "1", w(map[string]float64{"99": 0.5}), fault.ResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:99"},
		{"different role", "1", w(map[string]float64{"3": 0.5}), fault.InvalidParameterValue, ""},
		{"different dlq", "1", w(map[string]float64{"4": 0.5}), fault.InvalidParameterValue, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckRouting(acct, "f", c.primary, c.routing, lookup)
			if c.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Code != c.wantCode {
				t.Fatalf("err = %v, want %s", err, c.wantCode)
			}
			if c.wantMsg != "" && f.Message != c.wantMsg {
				t.Fatalf("message = %q\nwant      %q", f.Message, c.wantMsg)
			}
		})
	}
}

func TestAliasReferences(t *testing.T) {
	a := &Alias{FunctionVersion: "1", Routing: &Routing{AdditionalVersionWeights: map[string]float64{"2": 0.1}}}
	for v, want := range map[string]bool{"1": true, "2": true, "3": false} {
		if got := a.ReferencesVersion(v); got != want {
			t.Errorf("ReferencesVersion(%s) = %v", v, got)
		}
	}
	if got := CanonicalRouting(&Routing{AdditionalVersionWeights: map[string]float64{"007": 0.5}}); got.AdditionalVersionWeights["7"] != 0.5 {
		t.Errorf("canonical routing = %v", got)
	}
}

func TestVCPUs(t *testing.T) {
	for _, tc := range []struct{ memory, want int }{
		{MinMemorySize, 1}, {1024, 1}, {1769, 1}, {1770, 2}, {3538, 2}, {3539, 3}, {MaxMemorySize, 6},
	} {
		if got := VCPUs(tc.memory); got != tc.want {
			t.Errorf("VCPUs(%d) = %d, want %d", tc.memory, got, tc.want)
		}
	}
}
