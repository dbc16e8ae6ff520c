package ssm

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func ptr[T any](v T) *T { return &v }

// code is the fault code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	f, ok := fault.As(err)
	if !ok {
		return "not a fault: " + err.Error()
	}
	return f.Code
}

func TestNames(t *testing.T) {
	deep := "/" + strings.Repeat("l/", MaxLevels-1) + "name" // 15 levels
	for _, tc := range []struct {
		name          string
		read, written string // expected codes for CheckName and CheckNewName
	}{
		{"plain", "", ""},
		{"/a/b-c/d_e.f", "", ""},
		{"/single", "", ""},
		{"rel/path", CodeValidation, CodeValidation},
		{"/trailing/", CodeValidation, CodeValidation},
		{"/dou//ble", CodeValidation, CodeValidation},
		{"has space", CodeValidation, CodeValidation},
		{"/bad@char", CodeValidation, CodeValidation},
		{"", CodeValidation, CodeValidation},
		{"awsThing", "", CodeValidation},
		{"/aws/service/x", "", CodeValidation}, // readable (AWS's public parameters), never writable
		{"SSM-thing", "", CodeValidation},
		{"/Ssm/x", "", CodeValidation},
		{"assm", "", ""},
		{deep, "", ""},
		{"/x" + deep, "", CodeHierarchyLevelLimit},
		{"/" + strings.Repeat("a", MaxNameLength), "", CodeValidation},
	} {
		if got := code(CheckName(tc.name)); got != tc.read {
			t.Errorf("CheckName(%q) = %q, want %q", tc.name, got, tc.read)
		}
		if got := code(CheckNewName(tc.name)); got != tc.written {
			t.Errorf("CheckNewName(%q) = %q, want %q", tc.name, got, tc.written)
		}
	}
	if err := CheckName("a b"); err.(*fault.Error).Message != msgBadName {
		t.Errorf("message %q", err.(*fault.Error).Message)
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/", ""}, {"/a", ""}, {"/a/", ""}, {"/a/b", ""},
		{"a", CodeValidation}, {"/a//b", CodeValidation}, {"//", CodeValidation}, {"/a b", CodeValidation},
		{"/aws/service", ""}, // reading public parameters' paths is allowed
	} {
		if got := code(CheckPath(tc.path)); got != tc.want {
			t.Errorf("CheckPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		prefix, name string
		recursive    bool
		want         bool
	}{
		{"/a/", "/a/b", false, true},
		{"/a/", "/a/b/c", false, false},
		{"/a/", "/a/b/c", true, true},
		{"/a/", "/ab", true, false},
		{"/a/", "/a", true, false},
		{"/", "/x", false, true},
		{"/", "x", true, false},
	} {
		if got := UnderPath(tc.prefix, tc.name, tc.recursive); got != tc.want {
			t.Errorf("UnderPath(%q, %q, %v) = %v", tc.prefix, tc.name, tc.recursive, got)
		}
	}
	if got := PathARN("us-east-1", "1", "/a/b/"); got != "arn:aws:ssm:us-east-1:1:parameter/a/b" {
		t.Errorf("PathARN = %s", got)
	}
	if got := ARN("us-east-1", "1", "plain"); got != "arn:aws:ssm:us-east-1:1:parameter/plain" {
		t.Errorf("ARN = %s", got)
	}
	for arn, want := range map[string]string{
		"arn:aws:ssm:us-east-1:1:parameter/a/b":   "/a/b",
		"arn:aws:ssm:us-east-1:1:parameter/plain": "plain",
		"arn:aws:ssm:us-east-1:1:parameter/x:3":   "x:3",
		"arn:aws:ssm:eu-west-1:1:parameter/x":     "",
	} {
		got, _ := NameOfARN("us-east-1", "1", arn)
		if got != want {
			t.Errorf("NameOfARN(%s) = %q, want %q", arn, got, want)
		}
	}
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		in      string
		name    string
		sel     Selector
		errCode string
	}{
		{"/a/b", "/a/b", Selector{}, ""},
		{"/a/b:3", "/a/b", Selector{Text: ":3", Version: 3}, ""},
		{"/a/b:prod", "/a/b", Selector{Text: ":prod", Label: "prod"}, ""},
		{"/a/b:0", "/a/b", Selector{}, CodeValidation},
		{"/a/b:-1", "/a/b", Selector{}, CodeValidation},
		{"/a/b:awsLabel", "/a/b", Selector{}, CodeValidation},
		{"/a/b:", "/a/b", Selector{}, CodeValidation},
		{"bad name:3", "", Selector{}, CodeValidation},
	} {
		name, sel, err := ParseSelector(tc.in)
		if code(err) != tc.errCode {
			t.Errorf("ParseSelector(%q) error %v, want %q", tc.in, err, tc.errCode)
			continue
		}
		if err == nil && (name != tc.name || sel != tc.sel) {
			t.Errorf("ParseSelector(%q) = %q %+v, want %q %+v", tc.in, name, sel, tc.name, tc.sel)
		}
	}
	for l, want := range map[string]bool{
		"prod": true, "Release-1.2_x": true, "1st": false, "awsy": false, "SSMx": false, "with space": false,
		"": false, strings.Repeat("l", 100): true, strings.Repeat("l", 101): false, "a:b": false,
	} {
		if got := ValidLabel(l); got != want {
			t.Errorf("ValidLabel(%q) = %v", l, got)
		}
	}
}

var now = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func TestPlanPut(t *testing.T) {
	existing := &Parameter{Name: "/app/x", Oldest: 1, Version: Version{Version: 3, Type: TypeString, Value: "v3",
		DataType: DataTypeText, Tier: TierStandard, Description: "kept", AllowedPattern: "v[0-9]+"}}
	advanced := &Parameter{Name: "/app/big", Oldest: 1, Version: Version{Version: 1, Type: TypeString, Value: "v",
		DataType: DataTypeText, Tier: TierAdvanced}}
	secure := &Parameter{Name: "/app/s", Oldest: 1, Version: Version{Version: 1, Type: TypeSecureString, Value: "c",
		KeyID: "alias/mine", DataType: DataTypeText, Tier: TierStandard}}
	full := &Parameter{Name: "/app/full", Oldest: 7, Labels: map[string]int64{"old": 7},
		Version: Version{Version: 106, Type: TypeString, DataType: DataTypeText, Tier: TierStandard}}
	fullUnlabelled := &Parameter{Name: "/app/full", Oldest: 7, Labels: map[string]int64{"new": 106},
		Version: Version{Version: 106, Type: TypeString, DataType: DataTypeText, Tier: TierStandard}}
	big := strings.Repeat("x", StandardValueLimit+1)
	for _, tc := range []struct {
		desc    string
		req     PutRequest
		cur     *Parameter
		errCode string
		errText string
		check   func(t *testing.T, v Version)
	}{
		{desc: "create", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString)}, check: func(t *testing.T, v Version) {
			if v.Version != 1 || v.Tier != TierStandard || v.DataType != DataTypeText || v.User != "me" || !v.Modified.Equal(now) {
				t.Errorf("%+v", v)
			}
		}},
		{desc: "type required on create", req: PutRequest{Name: "/n", Value: "v"}, errCode: CodeValidation, errText: msgTypeRequired},
		{desc: "exists without overwrite", req: PutRequest{Name: "/app/x", Value: "v4", Type: ptr(TypeString)}, cur: existing,
			errCode: CodeParameterAlreadyExists, errText: msgAlreadyExists},
		{desc: "overwrite keeps what is not given", req: PutRequest{Name: "/app/x", Value: "v4", Overwrite: true}, cur: existing,
			check: func(t *testing.T, v Version) {
				if v.Version != 4 || v.Type != TypeString || v.Description != "kept" || v.AllowedPattern != "v[0-9]+" {
					t.Errorf("%+v", v)
				}
			}},
		{desc: "tags with overwrite", req: PutRequest{Name: "/app/x", Value: "v4", Overwrite: true, HasTags: true}, cur: existing,
			errCode: CodeValidation, errText: msgTagsWithOverwrite},
		{desc: "tags with overwrite, even for a new parameter", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), Overwrite: true, HasTags: true},
			errCode: CodeValidation},
		{desc: "type change", req: PutRequest{Name: "/app/x", Value: "v4", Overwrite: true, Type: ptr(TypeSecureString)}, cur: existing,
			errCode: CodeHierarchyTypeMismatch},
		{desc: "pattern mismatch", req: PutRequest{Name: "/app/x", Value: "nope", Overwrite: true}, cur: existing,
			errCode: CodePatternMismatch, errText: "Parameter value, cannot be validated against allowedPattern: v[0-9]+"},
		{desc: "pattern is whole-value", req: PutRequest{Name: "/n", Value: "a1", Type: ptr(TypeString), AllowedPattern: ptr(`\d+`)},
			errCode: CodePatternMismatch},
		{desc: "bad pattern", req: PutRequest{Name: "/n", Value: "a", Type: ptr(TypeString), AllowedPattern: ptr(`(`)},
			errCode: CodeInvalidAllowedPattern},
		{desc: "lookaround is not Go's", req: PutRequest{Name: "/n", Value: "a", Type: ptr(TypeString), AllowedPattern: ptr(`(?!x).*`)},
			errCode: CodeInvalidAllowedPattern},
		{desc: "standard too large", req: PutRequest{Name: "/n", Value: big, Type: ptr(TypeString)}, errCode: CodeValidation, errText: msgStandardSize},
		{desc: "advanced takes 8 KB", req: PutRequest{Name: "/n", Value: big, Type: ptr(TypeString), Tier: ptr(TierAdvanced)},
			check: func(t *testing.T, v Version) {
				if v.Tier != TierAdvanced {
					t.Errorf("tier %s", v.Tier)
				}
			}},
		{desc: "advanced too large", req: PutRequest{Name: "/n", Value: strings.Repeat("x", AdvancedValueLimit+1), Type: ptr(TypeString), Tier: ptr(TierAdvanced)},
			errCode: CodeValidation},
		{desc: "intelligent tiering picks advanced for a large value", req: PutRequest{Name: "/n", Value: big, Type: ptr(TypeString), Tier: ptr(TierIntelligentTiering)},
			check: func(t *testing.T, v Version) {
				if v.Tier != TierAdvanced {
					t.Errorf("tier %s", v.Tier)
				}
			}},
		{desc: "intelligent tiering picks standard for a small one", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), Tier: ptr(TierIntelligentTiering)},
			check: func(t *testing.T, v Version) {
				if v.Tier != TierStandard {
					t.Errorf("tier %s", v.Tier)
				}
			}},
		{desc: "advanced stays advanced", req: PutRequest{Name: "/app/big", Value: "v", Overwrite: true}, cur: advanced,
			check: func(t *testing.T, v Version) {
				if v.Tier != TierAdvanced {
					t.Errorf("tier %s", v.Tier)
				}
			}},
		{desc: "no downgrade", req: PutRequest{Name: "/app/big", Value: "v", Overwrite: true, Tier: ptr(TierStandard)}, cur: advanced,
			errCode: CodeValidation, errText: msgDowngrade},
		{desc: "secure default key", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeSecureString)},
			check: func(t *testing.T, v Version) {
				if v.KeyID != DefaultKeyID {
					t.Errorf("key %q", v.KeyID)
				}
			}},
		{desc: "secure keeps its key", req: PutRequest{Name: "/app/s", Value: "v", Overwrite: true}, cur: secure,
			check: func(t *testing.T, v Version) {
				if v.KeyID != "alias/mine" {
					t.Errorf("key %q", v.KeyID)
				}
			}},
		{desc: "string has no key", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), KeyID: ptr("alias/x")},
			check: func(t *testing.T, v Version) {
				if v.KeyID != "" {
					t.Errorf("key %q", v.KeyID)
				}
			}},
		{desc: "image id", req: PutRequest{Name: "/n", Value: "ami-0123456789abcdef0", Type: ptr(TypeString), DataType: ptr(DataTypeImage)}},
		{desc: "not an image id", req: PutRequest{Name: "/n", Value: "ami-xyz", Type: ptr(TypeString), DataType: ptr(DataTypeImage)}, errCode: CodeValidation},
		{desc: "image id only for String", req: PutRequest{Name: "/n", Value: "ami-01234567", Type: ptr(TypeStringList), DataType: ptr(DataTypeImage)}, errCode: CodeValidation},
		{desc: "unknown data type", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), DataType: ptr("Text")}, errCode: CodeValidation,
			errText: "The following data type is not supported: Text (Data type names are all lowercase.)"},
		{desc: "policies refused", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), Policies: ptr("[]")}, errCode: CodeValidation},
		{desc: "reserved name", req: PutRequest{Name: "/aws/x", Value: "v", Type: ptr(TypeString)}, errCode: CodeValidation},
		{desc: "51 tags", req: PutRequest{Name: "/n", Value: "v", Type: ptr(TypeString), HasTags: true, Tags: make([]Tag, MaxTags+1)}, errCode: CodeTooManyTags},
		{desc: "the oldest of 100 carries a label", req: PutRequest{Name: "/app/full", Value: "v", Overwrite: true}, cur: full,
			errCode: CodeMaxVersionLimitExceeded, errText: "You attempted to create a new version of /app/full by calling the PutParameter API with the overwrite flag. " +
				"Version 7, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."},
		{desc: "the oldest of 100 goes", req: PutRequest{Name: "/app/full", Value: "v", Overwrite: true}, cur: fullUnlabelled,
			check: func(t *testing.T, v Version) {
				if v.Version != 107 {
					t.Errorf("version %d", v.Version)
				}
			}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			v, err := PlanPut(tc.req, tc.cur, now, "me")
			if code(err) != tc.errCode {
				t.Fatalf("error %v, want %q", err, tc.errCode)
			}
			if tc.errText != "" && err.(*fault.Error).Message != tc.errText {
				t.Errorf("message %q, want %q", err.(*fault.Error).Message, tc.errText)
			}
			if err == nil && tc.check != nil {
				tc.check(t, v)
			}
		})
	}
}

func TestCommitDropsTheOldest(t *testing.T) {
	p, dropped := Commit("/x", nil, Version{Version: 1})
	if p.Oldest != 1 || dropped != 0 {
		t.Fatalf("%+v %d", p, dropped)
	}
	for v := int64(2); v <= MaxVersions; v++ {
		if p, dropped = Commit("/x", &p, Version{Version: v}); dropped != 0 {
			t.Fatalf("version %d dropped %d", v, dropped)
		}
	}
	p, dropped = Commit("/x", &p, Version{Version: MaxVersions + 1})
	if dropped != 1 || p.Oldest != 2 || p.Version.Version != MaxVersions+1 {
		t.Fatalf("%+v dropped %d", p, dropped)
	}
}

func TestLabels(t *testing.T) {
	p := &Parameter{Name: "/x", Oldest: 1, Version: Version{Version: 3}}
	invalid, err := Label(p, 2, []string{"prod", "1bad", "awsx", "prod", "beta"})
	if err != nil || !slices.Equal(invalid, []string{"1bad", "awsx"}) || !slices.Equal(p.LabelsOf(2), []string{"beta", "prod"}) {
		t.Fatalf("invalid %v err %v labels %v", invalid, err, p.LabelsOf(2))
	}
	// A label moves from the version it was on.
	if _, err := Label(p, 3, []string{"prod"}); err != nil || !slices.Equal(p.LabelsOf(3), []string{"prod"}) || !slices.Equal(p.LabelsOf(2), []string{"beta"}) {
		t.Fatalf("move: %v %v %v", err, p.LabelsOf(3), p.LabelsOf(2))
	}
	if _, err := Label(p, 4, []string{"x"}); code(err) != CodeParameterVersionNotFound {
		t.Fatalf("missing version: %v", err)
	}
	many := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}
	if _, err := Label(p, 1, many); err != nil {
		t.Fatal(err)
	}
	if _, err := Label(p, 1, []string{"one-more"}); code(err) != CodeLabelLimitExceeded {
		t.Fatalf("eleventh label: %v", err)
	}
	if _, err := Label(p, 1, []string{"a1"}); err != nil {
		t.Fatalf("a label it has: %v", err)
	}
	removed, invalid, err := Unlabel(p, 3, []string{"prod", "beta", "nope"})
	if err != nil || !slices.Equal(removed, []string{"prod"}) || !slices.Equal(invalid, []string{"beta", "nope"}) {
		t.Fatalf("unlabel: %v %v %v", removed, invalid, err)
	}
}

func TestFilters(t *testing.T) {
	p := &Parameter{Name: "/app/db/url", Version: Version{Type: TypeSecureString, KeyID: "alias/aws/ssm", Tier: TierStandard, DataType: DataTypeText},
		Tags: map[string]string{"env": "prod"}, Labels: map[string]int64{"live": 1}}
	for _, tc := range []struct {
		desc    string
		legacy  []LegacyFilter
		filters []StringFilter
		errCode string
		match   bool
	}{
		{desc: "none", match: true},
		{desc: "name begins", filters: []StringFilter{{Key: "Name", Option: "BeginsWith", Values: []string{"/app/"}}}, match: true},
		{desc: "name equals", filters: []StringFilter{{Key: "Name", Values: []string{"/app/db"}}}, match: false},
		{desc: "name contains", filters: []StringFilter{{Key: "Name", Option: "Contains", Values: []string{"db/u"}}}, match: true},
		{desc: "type", filters: []StringFilter{{Key: "Type", Values: []string{"String", "SecureString"}}}, match: true},
		{desc: "bad type value", filters: []StringFilter{{Key: "Type", Values: []string{"Str"}}}, errCode: CodeInvalidFilterValue},
		{desc: "path one level", filters: []StringFilter{{Key: "Path", Values: []string{"/app"}}}, match: false},
		{desc: "path recursive", filters: []StringFilter{{Key: "Path", Option: "Recursive", Values: []string{"/app"}}}, match: true},
		{desc: "bad path option", filters: []StringFilter{{Key: "Path", Option: "Equals", Values: []string{"/app"}}}, errCode: CodeInvalidFilterOption},
		{desc: "tag key", filters: []StringFilter{{Key: "tag:env"}}, match: true},
		{desc: "tag value", filters: []StringFilter{{Key: "tag:env", Values: []string{"dev"}}}, match: false},
		{desc: "label not in describe", filters: []StringFilter{{Key: "Label", Values: []string{"live"}}}, errCode: CodeInvalidFilterKey},
		{desc: "legacy name prefix", legacy: []LegacyFilter{{Key: "Name", Values: []string{"/app"}}}, match: true},
		{desc: "legacy key id", legacy: []LegacyFilter{{Key: "KeyId", Values: []string{"alias/other"}}}, match: false},
		{desc: "both kinds", legacy: []LegacyFilter{{Key: "Name", Values: []string{"/app"}}}, filters: []StringFilter{{Key: "Type", Values: []string{"String"}}},
			errCode: CodeValidation},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			f, err := DescribeFilters(tc.legacy, tc.filters)
			if code(err) != tc.errCode {
				t.Fatalf("error %v, want %q", err, tc.errCode)
			}
			if err == nil && f.Match(p) != tc.match {
				t.Errorf("match = %v", !tc.match)
			}
		})
	}
	for _, tc := range []struct {
		filters []StringFilter
		errCode string
		label   string
	}{
		{filters: []StringFilter{{Key: "Label", Values: []string{"live"}}}, label: "live"},
		{filters: []StringFilter{{Key: "Label", Option: "BeginsWith", Values: []string{"l"}}}, errCode: CodeInvalidFilterOption},
		{filters: []StringFilter{{Key: "Name", Values: []string{"/app"}}}, errCode: CodeInvalidFilterKey},
		{filters: []StringFilter{{Key: "tag:env"}}, errCode: CodeInvalidFilterKey},
	} {
		f, err := ByPathFilters(tc.filters)
		if code(err) != tc.errCode {
			t.Errorf("%+v: error %v, want %q", tc.filters, err, tc.errCode)
			continue
		}
		if err == nil {
			if l, _ := f.Label(p); l != tc.label || !f.Match(p) {
				t.Errorf("%+v: label %q", tc.filters, l)
			}
		}
	}
}
