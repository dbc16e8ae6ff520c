package ssm

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Parameter types.
const (
	TypeString       = "String"
	TypeStringList   = "StringList"
	TypeSecureString = "SecureString"
)

// Tiers. Intelligent-Tiering is only ever asked for: a parameter is Standard or Advanced.
const (
	TierStandard           = "Standard"
	TierAdvanced           = "Advanced"
	TierIntelligentTiering = "Intelligent-Tiering"
)

// Data types.
const (
	DataTypeText        = "text"
	DataTypeImage       = "aws:ec2:image"
	DataTypeIntegration = "aws:ssm:integration"
)

// DefaultKeyID is the KMS key a SecureString names when the request names none: the account's AWS managed key.
const DefaultKeyID = "alias/aws/ssm"

// Limits AWS documents.
const (
	MaxVersions           = 100  // versions kept per parameter
	StandardValueLimit    = 4096 // characters
	AdvancedValueLimit    = 8192
	MaxStandardParameters = 10000 // per account and region
	MaxAdvancedParameters = 100000
	MaxTags               = 50 // per parameter
	MaxLabelsPerVersion   = 10
)

// Version is one version of a parameter, as GetParameterHistory lists it.
type Version struct {
	Version int64  `json:"version"`
	Type    string `json:"type"`
	// Value is the value as answered without decryption: for a SecureString, the ciphertext.
	Value          string    `json:"value"`
	KeyID          string    `json:"keyId,omitempty"` // SecureString only
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	DataType       string    `json:"dataType"`
	Tier           string    `json:"tier"`
	Modified       time.Time `json:"modified"`
	User           string    `json:"user"` // the caller's ARN: LastModifiedUser
}

// Parameter is a parameter's current state: its latest version, the oldest version it keeps (versions Oldest to
// Version are all kept), its labels (label → version) and its tags.
type Parameter struct {
	Name string `json:"name"`
	Version
	Oldest int64             `json:"oldest"`
	Labels map[string]int64  `json:"labels,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
}

// LabelsOf lists the labels on a version, sorted.
func (p *Parameter) LabelsOf(version int64) []string {
	var out []string
	for l, v := range p.Labels {
		if v == version {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// Tag is a key and a value.
type Tag struct{ Key, Value string }

// PutRequest is a PutParameter call. Optional members are nil when absent.
type PutRequest struct {
	Name           string
	Value          string
	Type           *string
	KeyID          *string
	Description    *string
	Overwrite      bool
	AllowedPattern *string
	Tier           *string
	DataType       *string
	Tags           []Tag
	HasTags        bool // Tags was sent (an empty list counts)
	Policies       *string
}

// PlanPut decides what a PutParameter makes of the parameter's current state (nil: it does not exist): the next
// version, its value still in plain text (a SecureString's is encrypted by the caller), or AWS's refusal. It checks
// in AWS's order: the name, tags with overwrite, the data type, existence, the type, the allowed pattern, the tier
// and the value's size, the version limit.
func PlanPut(req PutRequest, cur *Parameter, now time.Time, user string) (Version, error) {
	if err := CheckNewName(req.Name); err != nil {
		return Version{}, err
	}
	if req.HasTags && req.Overwrite {
		return Version{}, Invalid("%s", msgTagsWithOverwrite)
	}
	if req.Policies != nil {
		return Version{}, Invalid("Parameter policies are not supported by Sluice.")
	}
	if len(req.Tags) > MaxTags {
		return Version{}, &fault.Error{Code: CodeTooManyTags}
	}
	if cur != nil && !req.Overwrite {
		return Version{}, AlreadyExists()
	}
	v := Version{Value: req.Value, Modified: now, User: user, DataType: DataTypeText, Tier: TierStandard}
	if cur != nil {
		v.Version = cur.Version.Version + 1
		v.Type, v.KeyID, v.Description, v.AllowedPattern, v.DataType, v.Tier =
			cur.Type, cur.KeyID, cur.Description, cur.AllowedPattern, cur.DataType, cur.Tier
	} else {
		v.Version = 1
	}
	switch {
	case req.Type == nil && cur == nil:
		return Version{}, Invalid("%s", msgTypeRequired)
	case req.Type != nil && cur != nil && *req.Type != cur.Type:
		return Version{}, &fault.Error{Code: CodeHierarchyTypeMismatch, Message: msgTypeMismatch}
	case req.Type != nil:
		v.Type = *req.Type
	}
	if v.Type == TypeSecureString {
		switch {
		case req.KeyID != nil:
			v.KeyID = *req.KeyID
		case v.KeyID == "":
			v.KeyID = DefaultKeyID
		}
	} else {
		v.KeyID = "" // KMS keys only encrypt SecureStrings
	}
	if req.Description != nil {
		v.Description = *req.Description
	}
	if req.DataType != nil {
		v.DataType = *req.DataType
		if v.DataType == "" {
			v.DataType = DataTypeText
		}
	}
	if err := checkDataType(v); err != nil {
		return Version{}, err
	}
	if req.AllowedPattern != nil {
		v.AllowedPattern = *req.AllowedPattern
	}
	if err := CheckAllowedPattern(v.AllowedPattern, v.Value); err != nil {
		return Version{}, err
	}
	tier, err := resolveTier(req.Tier, cur, v.Value)
	if err != nil {
		return Version{}, err
	}
	v.Tier = tier
	if cur != nil && cur.Version.Version-cur.Oldest+1 >= MaxVersions && len(cur.LabelsOf(cur.Oldest)) > 0 {
		return Version{}, MaxVersionLimit(req.Name, cur.Oldest)
	}
	return v, nil
}

// resolveTier is the tier a value is kept in: the one asked for (Intelligent-Tiering: Advanced only when the value
// needs it), else the parameter's own, else Standard; an Advanced parameter never goes back to Standard.
func resolveTier(asked *string, cur *Parameter, value string) (string, error) {
	size := utf8.RuneCountInString(value)
	tier := TierStandard
	if cur != nil {
		tier = cur.Tier
	}
	if asked != nil {
		switch *asked {
		case TierIntelligentTiering:
			if size > StandardValueLimit {
				tier = TierAdvanced
			}
		case TierStandard:
			if tier == TierAdvanced {
				return "", Invalid("%s", msgDowngrade)
			}
		default:
			tier = *asked
		}
	}
	switch {
	case tier == TierStandard && size > StandardValueLimit:
		return "", Invalid("%s", msgStandardSize)
	case size > AdvancedValueLimit:
		return "", Invalid("Advanced tier parameters support a maximum parameter value of %d characters.", AdvancedValueLimit)
	}
	return tier, nil
}

var imageID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// checkDataType checks the data type and, for AMI IDs, the value's form (AWS checks the image exists too,
// asynchronously; Sluice has no EC2).
func checkDataType(v Version) error {
	switch v.DataType {
	case DataTypeText, DataTypeIntegration:
		return nil
	case DataTypeImage:
		if v.Type != TypeString {
			return Invalid("The data type %s is only supported for String parameters.", DataTypeImage)
		}
		if !imageID.MatchString(v.Value) {
			return Invalid("Parameter value, %s, is not a valid Amazon Machine Image (AMI) ID.", v.Value)
		}
		return nil
	}
	return Invalid("The following data type is not supported: %s (Data type names are all lowercase.)", v.DataType)
}

// CheckAllowedPattern checks a value against a parameter's AllowedPattern, a regular expression the whole value
// must match ("" allows anything). Patterns are run by Go's regexp: Java features it lacks (lookaround,
// backreferences) make the pattern invalid here.
func CheckAllowedPattern(pattern, value string) error {
	if pattern == "" {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fault.New(CodeInvalidAllowedPattern, "The allowed pattern %s is not a valid regular expression.", pattern)
	}
	if !re.MatchString(value) {
		return fault.New(CodePatternMismatch, "Parameter value, cannot be validated against allowedPattern: %s", pattern)
	}
	return nil
}

// Commit applies a planned version to the parameter's state (nil: a new parameter) and returns the new state and
// the version the limit drops (0: none). PlanPut has already refused to drop a labelled version.
func Commit(name string, cur *Parameter, v Version) (next Parameter, dropped int64) {
	if cur == nil {
		return Parameter{Name: name, Version: v, Oldest: v.Version}, 0
	}
	next = *cur
	next.Labels = maps.Clone(cur.Labels)
	next.Tags = maps.Clone(cur.Tags)
	next.Version = v
	if v.Version-next.Oldest+1 > MaxVersions {
		dropped = next.Oldest
		next.Oldest++
	}
	return next, dropped
}

// Label attaches labels to a version (moving any the parameter has on another version) and returns the labels it
// refused (invalid ones: AWS lists them and attaches the rest). More than ten labels on the version is
// ParameterVersionLabelLimitExceeded, and nothing is attached.
func Label(p *Parameter, version int64, labels []string) (invalid []string, err error) {
	if version < p.Oldest || version > p.Version.Version {
		return nil, VersionNotFound(p.Name, version)
	}
	var valid []string
	for _, l := range labels {
		if !ValidLabel(l) {
			invalid = append(invalid, l)
		} else if !slices.Contains(valid, l) {
			valid = append(valid, l)
		}
	}
	after := map[string]bool{}
	for _, l := range p.LabelsOf(version) {
		after[l] = true
	}
	for _, l := range valid {
		after[l] = true
	}
	if len(after) > MaxLabelsPerVersion {
		return nil, &fault.Error{Code: CodeLabelLimitExceeded, Message: msgLabelLimit}
	}
	if len(valid) > 0 && p.Labels == nil {
		p.Labels = map[string]int64{}
	}
	for _, l := range valid {
		p.Labels[l] = version
	}
	return invalid, nil
}

// Unlabel removes labels from a version: those it carries are removed, the others listed as invalid.
func Unlabel(p *Parameter, version int64, labels []string) (removed, invalid []string, err error) {
	if version < p.Oldest || version > p.Version.Version {
		return nil, nil, VersionNotFound(p.Name, version)
	}
	for _, l := range labels {
		if v, ok := p.Labels[l]; ok && v == version {
			if !slices.Contains(removed, l) {
				removed = append(removed, l)
			}
			delete(p.Labels, l)
		} else if !slices.Contains(invalid, l) && !slices.Contains(removed, l) {
			invalid = append(invalid, l)
		}
	}
	return removed, invalid, nil
}

// AddTags adds or replaces tags, at most MaxTags in all.
func AddTags(p *Parameter, tags []Tag) error {
	next := maps.Clone(p.Tags)
	if next == nil {
		next = map[string]string{}
	}
	for _, t := range tags {
		next[t.Key] = t.Value
	}
	if len(next) > MaxTags {
		return &fault.Error{Code: CodeTooManyTags}
	}
	p.Tags = next
	return nil
}

// SortedTags lists tags by key.
func SortedTags(tags map[string]string) []Tag {
	out := make([]Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// CheckResourceType checks a tagging call's ResourceType: Sluice keeps tags of parameters only.
func CheckResourceType(t string) error {
	if t != "Parameter" {
		return &fault.Error{Code: CodeInvalidResourceType}
	}
	return nil
}
