package codedeploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Revision types of a RevisionLocation.
const (
	RevisionAppSpecContent = "AppSpecContent"
	RevisionString         = "String"
	RevisionS3             = "S3"
	RevisionGitHub         = "GitHub"
)

// Revision is CodeDeploy's RevisionLocation as CreateDeployment receives it and GetDeployment returns it.
type Revision struct {
	RevisionType   string          `json:"revisionType,omitempty"`
	AppSpecContent *RawString      `json:"appSpecContent,omitempty"`
	String         *RawString      `json:"string,omitempty"`
	S3Location     *S3Location     `json:"s3Location,omitempty"`
	GitHubLocation *GitHubLocation `json:"gitHubLocation,omitempty"`
}

// RawString is the AppSpecContent / RawString shape: the AppSpec text and, optionally, the hex SHA-256 of it.
type RawString struct {
	Content string `json:"content,omitempty"`
	Sha256  string `json:"sha256,omitempty"`
}

// S3Location is accepted on the wire only to be refused with a clear message.
type S3Location struct {
	Bucket     string `json:"bucket,omitempty"`
	Key        string `json:"key,omitempty"`
	BundleType string `json:"bundleType,omitempty"`
	Version    string `json:"version,omitempty"`
	ETag       string `json:"eTag,omitempty"`
}

// GitHubLocation is accepted on the wire only to be refused.
type GitHubLocation struct {
	Repository string `json:"repository,omitempty"`
	CommitID   string `json:"commitId,omitempty"`
}

// AppSpecVersion is the only AppSpec version CodeDeploy knows.
const AppSpecVersion = "0.0"

// LambdaFunctionType is the only resource type of a Lambda AppSpec.
const LambdaFunctionType = "AWS::Lambda::Function"

// AppSpec is a parsed Lambda AppSpec file (reference §5.4).
type AppSpec struct {
	Version  string         `json:"version"`
	Resource LambdaResource `json:"resource"`
	Hooks    AppSpecHooks   `json:"hooks"`
}

// LambdaResource is the one AWS::Lambda::Function resource: which alias of which function moves from which version
// to which. Versions are canonical positive integers ("7", never "07" or "$LATEST").
type LambdaResource struct {
	LogicalName    string `json:"logicalName"`
	Name           string `json:"name"`
	Alias          string `json:"alias"`
	CurrentVersion string `json:"currentVersion"`
	TargetVersion  string `json:"targetVersion"`
}

// AppSpecHooks names the validation functions of the two scriptable lifecycle events; "" means none.
type AppSpecHooks struct {
	BeforeAllowTraffic string `json:"beforeAllowTraffic,omitempty"`
	AfterAllowTraffic  string `json:"afterAllowTraffic,omitempty"`
}

// appSpecInvalid is CodeDeploy's wording for a Lambda AppSpec it cannot use, followed by the specific problem.
const appSpecInvalid = "The AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration."

func invalidAppSpec(format string, args ...any) *fault.Error {
	return fault.New(ErrInvalidRevision, "%s %s", appSpecInvalid, fmt.Sprintf(format, args...))
}

// ParseRevision validates a CreateDeployment revision and parses its AppSpec. AppSpecContent and the deprecated
// String type carry the AppSpec inline; when sha256 is given it must be the hex SHA-256 (either case) of content.
// S3 and GitHub revisions are refused: Sluice has no object store to fetch an AppSpec from, and GitHub revisions
// are EC2/On-premises only even on AWS.
func ParseRevision(r Revision) (AppSpec, error) {
	var raw *RawString
	switch r.RevisionType {
	case "":
		if r.AppSpecContent == nil && r.String == nil && r.S3Location == nil && r.GitHubLocation == nil {
			return AppSpec{}, fault.New(ErrRevisionRequired, "RevisionLocation must be specified")
		}
		return AppSpec{}, fault.New(ErrInvalidRevision, "The revision type must be specified: AppSpecContent or String.")
	case RevisionAppSpecContent:
		raw = r.AppSpecContent
	case RevisionString:
		raw = r.String
	case RevisionS3:
		return AppSpec{}, fault.New(ErrInvalidRevision,
			"Revisions stored in Amazon S3 are not supported for AWS Lambda deployments by this server; pass the AppSpec inline with revisionType AppSpecContent.")
	case RevisionGitHub:
		return AppSpec{}, fault.New(ErrInvalidRevision,
			"GitHub revisions are supported only for EC2/On-premises deployments; use revisionType AppSpecContent for an AWS Lambda deployment.")
	default:
		return AppSpec{}, fault.New(ErrInvalidRevision,
			"The revision type %s is invalid. Valid types for an AWS Lambda deployment are AppSpecContent and String.", r.RevisionType)
	}
	if raw == nil || strings.TrimSpace(raw.Content) == "" {
		return AppSpec{}, fault.New(ErrInvalidRevision, "The %s revision has no content; it must carry the AppSpec file.", r.RevisionType)
	}
	if raw.Sha256 != "" {
		sum := sha256.Sum256([]byte(raw.Content))
		if !strings.EqualFold(raw.Sha256, hex.EncodeToString(sum[:])) {
			return AppSpec{}, fault.New(ErrInvalidRevision,
				"The sha256 value %s does not match the SHA-256 hash of the revision content (%s).", raw.Sha256, hex.EncodeToString(sum[:]))
		}
	}
	return ParseAppSpec(raw.Content)
}

// ParseAppSpec parses a Lambda AppSpec written in YAML or JSON. Keys are matched without regard to case
// ("Resources", "resources", "currentversion"…). Unknown top-level keys are ignored; unknown keys inside a resource
// or its properties are refused, so that a typo never silently deploys the wrong thing.
//
// The file must have version 0.0, in any spelling of the number zero (see zeroVersion), exactly one resource of type AWS::Lambda::Function whose
// properties Name, Alias, CurrentVersion and TargetVersion are present (versions as positive integers), and
// optionally Hooks: a list of single-key maps (a plain map is accepted too) naming the BeforeAllowTraffic and
// AfterAllowTraffic functions, each at most once. AWS documents one Lambda function per AppSpec (a deployment has
// one target per resource and SAM creates one deployment group per function); more than one resource is refused
// rather than partially deployed.
func ParseAppSpec(content string) (AppSpec, error) {
	root, err := parseTree(content)
	if err != nil {
		return AppSpec{}, err
	}
	if root.kind != mapNode {
		return AppSpec{}, invalidAppSpec("The AppSpec file must be a map with the keys version, Resources and Hooks.")
	}
	top, err := root.fields("the AppSpec file")
	if err != nil {
		return AppSpec{}, err
	}
	var spec AppSpec

	v, ok := top["version"]
	if !ok || v.null() {
		return AppSpec{}, invalidAppSpec("The version field is missing; it must be %s.", AppSpecVersion)
	}
	if v.kind != scalarNode || !zeroVersion(v.value) {
		return AppSpec{}, invalidAppSpec("An invalid version value (%s) was entered in the application specification file. Make sure your AppSpec file specifies \"%s\" as the version, and then try again.", v.text(), AppSpecVersion)
	}
	spec.Version = AppSpecVersion

	res, ok := top["resources"]
	if !ok || res.null() || (res.kind == seqNode && len(res.items) == 0) {
		return AppSpec{}, invalidAppSpec("The Resources section is missing; it must list exactly one %s resource.", LambdaFunctionType)
	}
	if res.kind != seqNode {
		return AppSpec{}, invalidAppSpec("The Resources section must be a list of resources.")
	}
	if len(res.items) != 1 {
		return AppSpec{}, invalidAppSpec("The Resources section lists %d resources; an AWS Lambda deployment deploys exactly one %s.", len(res.items), LambdaFunctionType)
	}
	if spec.Resource, err = parseResource(res.items[0]); err != nil {
		return AppSpec{}, err
	}

	if h, ok := top["hooks"]; ok && !h.null() {
		if spec.Hooks, err = parseHooks(h); err != nil {
			return AppSpec{}, err
		}
	}
	return spec, nil
}

func parseResource(n *node) (LambdaResource, error) {
	if n.kind != mapNode || len(n.keys) != 1 {
		return LambdaResource{}, invalidAppSpec("Each entry of the Resources section must be a map with a single key, the resource's logical name.")
	}
	r := LambdaResource{LogicalName: n.keys[0]}
	body := n.vals[0]
	if body.kind != mapNode {
		return LambdaResource{}, invalidAppSpec("The resource %s must be a map with the keys Type and Properties.", r.LogicalName)
	}
	f, err := body.fields("resource " + r.LogicalName)
	if err != nil {
		return LambdaResource{}, err
	}
	if err := onlyKeys(f, "resource "+r.LogicalName, "type", "properties"); err != nil {
		return LambdaResource{}, err
	}
	typ, ok := f["type"]
	if !ok || typ.null() {
		return LambdaResource{}, invalidAppSpec("The Type of resource %s is missing; it must be %s.", r.LogicalName, LambdaFunctionType)
	}
	if typ.kind != scalarNode || typ.value != LambdaFunctionType {
		return LambdaResource{}, invalidAppSpec("The resource %s has type %s; only %s is supported.", r.LogicalName, typ.text(), LambdaFunctionType)
	}
	props, ok := f["properties"]
	if !ok || props.null() {
		return LambdaResource{}, invalidAppSpec("The Properties of resource %s are missing; Name, Alias, CurrentVersion and TargetVersion are required.", r.LogicalName)
	}
	if props.kind != mapNode {
		return LambdaResource{}, invalidAppSpec("The Properties of resource %s must be a map.", r.LogicalName)
	}
	p, err := props.fields("the Properties of resource " + r.LogicalName)
	if err != nil {
		return LambdaResource{}, err
	}
	if err := onlyKeys(p, "the Properties of resource "+r.LogicalName, "name", "alias", "currentversion", "targetversion"); err != nil {
		return LambdaResource{}, err
	}
	str := func(key, label string) (string, error) {
		v, ok := p[key]
		if !ok || v.null() || (v.kind == scalarNode && strings.TrimSpace(v.value) == "") {
			return "", invalidAppSpec("The %s property of resource %s is missing.", label, r.LogicalName)
		}
		if v.kind != scalarNode {
			return "", invalidAppSpec("The %s property of resource %s must be a string.", label, r.LogicalName)
		}
		return strings.TrimSpace(v.value), nil
	}
	if r.Name, err = str("name", "Name"); err != nil {
		return LambdaResource{}, err
	}
	if r.Alias, err = str("alias", "Alias"); err != nil {
		return LambdaResource{}, err
	}
	for _, pv := range []struct {
		key, label string
		dst        *string
	}{{"currentversion", "CurrentVersion", &r.CurrentVersion}, {"targetversion", "TargetVersion", &r.TargetVersion}} {
		s, err := str(pv.key, pv.label)
		if err != nil {
			return LambdaResource{}, err
		}
		v, ok := canonicalVersion(s)
		if !ok {
			return LambdaResource{}, invalidAppSpec("The %s property of resource %s is %s; it must be a published version number (a positive integer).", pv.label, r.LogicalName, s)
		}
		*pv.dst = v
	}
	return r, nil
}

func parseHooks(h *node) (AppSpecHooks, error) {
	var hooks AppSpecHooks
	var pairs [][2]*node // key node (scalar) and value
	switch h.kind {
	case seqNode:
		for _, item := range h.items {
			if item.kind != mapNode || len(item.keys) != 1 {
				return AppSpecHooks{}, invalidAppSpec("Each entry of the Hooks section must be a map with a single key, the lifecycle event name.")
			}
			pairs = append(pairs, [2]*node{{kind: scalarNode, value: item.keys[0]}, item.vals[0]})
		}
	case mapNode:
		for i, k := range h.keys {
			pairs = append(pairs, [2]*node{{kind: scalarNode, value: k}, h.vals[i]})
		}
	default:
		return AppSpecHooks{}, invalidAppSpec("The Hooks section must be a list of lifecycle event hooks.")
	}
	for _, kv := range pairs {
		name, fn := kv[0].value, kv[1]
		var dst *string
		var event EventName
		switch strings.ToLower(name) {
		case "beforeallowtraffic":
			dst, event = &hooks.BeforeAllowTraffic, EventBeforeAllowTraffic
		case "afterallowtraffic":
			dst, event = &hooks.AfterAllowTraffic, EventAfterAllowTraffic
		default:
			return AppSpecHooks{}, invalidAppSpec("The hook %s is not a lifecycle event of an AWS Lambda deployment; the valid hooks are BeforeAllowTraffic and AfterAllowTraffic.", name)
		}
		if *dst != "" {
			return AppSpecHooks{}, invalidAppSpec("The %s hook is specified more than once.", event)
		}
		if fn.kind != scalarNode || fn.null() || strings.TrimSpace(fn.value) == "" {
			return AppSpecHooks{}, invalidAppSpec("The %s hook must name a Lambda function.", event)
		}
		*dst = strings.TrimSpace(fn.value)
	}
	return hooks, nil
}

// zeroVersion reports whether an AppSpec's version value is 0.0, the only version there is. CodeDeploy reads it as
// a number, whether it is written as one or as a string: the documented 0.0 and "0.0", and the 0 that clients
// building the AppSpec as an object send (JavaScript's JSON.stringify writes 0.0 as 0; aws-actions'
// amazon-ecs-deploy-task-definition does so), are all accepted; so is any other decimal spelling of zero (0.00, -0,
// 0e0, "0"). Anything else — another number, a word, true/false — is not version 0.0.
func zeroVersion(v string) bool {
	return zeroDecimal.MatchString(strings.TrimSpace(v))
}

// zeroDecimal matches a decimal number whose value is zero: optional sign, zero digits with an optional zero
// fraction (or a zero fraction alone), optional exponent.
var zeroDecimal = regexp.MustCompile(`^[+-]?(0+(\.0*)?|\.0+)([eE][+-]?[0-9]+)?$`)

// canonicalVersion accepts a published version number (digits, value ≥ 1) and returns it without leading zeros.
func canonicalVersion(s string) (string, bool) {
	if s == "" || len(s) > 1024 {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "", false
	}
	return t, true
}

// Content renders spec as a canonical YAML AppSpec file (used for the revision of a rollback deployment).
func (a AppSpec) Content() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: %s\nResources:\n  - %s:\n      Type: %s\n      Properties:\n", AppSpecVersion, yamlString(a.Resource.LogicalName), LambdaFunctionType)
	fmt.Fprintf(&b, "        Name: %s\n        Alias: %s\n", yamlString(a.Resource.Name), yamlString(a.Resource.Alias))
	fmt.Fprintf(&b, "        CurrentVersion: %s\n        TargetVersion: %s\n", yamlString(a.Resource.CurrentVersion), yamlString(a.Resource.TargetVersion))
	if a.Hooks.BeforeAllowTraffic != "" || a.Hooks.AfterAllowTraffic != "" {
		b.WriteString("Hooks:\n")
		if a.Hooks.BeforeAllowTraffic != "" {
			fmt.Fprintf(&b, "  - BeforeAllowTraffic: %s\n", yamlString(a.Hooks.BeforeAllowTraffic))
		}
		if a.Hooks.AfterAllowTraffic != "" {
			fmt.Fprintf(&b, "  - AfterAllowTraffic: %s\n", yamlString(a.Hooks.AfterAllowTraffic))
		}
	}
	return b.String()
}

// Revision wraps Content as an AppSpecContent revision with its SHA-256.
func (a AppSpec) Revision() Revision {
	c := a.Content()
	sum := sha256.Sum256([]byte(c))
	return Revision{RevisionType: RevisionAppSpecContent, AppSpecContent: &RawString{Content: c, Sha256: hex.EncodeToString(sum[:])}}
}

func yamlString(s string) string { return strconv.Quote(s) }

// ---- a small document tree shared by the YAML and JSON readers ----

type nodeKind int

const (
	scalarNode nodeKind = iota
	mapNode
	seqNode
	nullNode
)

type node struct {
	kind  nodeKind
	value string   // scalar: its literal text (0.0 stays "0.0")
	keys  []string // map: keys in document order
	vals  []*node
	items []*node // sequence
}

func (n *node) null() bool { return n == nil || n.kind == nullNode }

func (n *node) text() string {
	switch n.kind {
	case scalarNode:
		return n.value
	case mapNode:
		return "a map"
	case seqNode:
		return "a list"
	}
	return "null"
}

// fields indexes a map by lower-cased key; two keys differing only in case are refused.
func (n *node) fields(where string) (map[string]*node, error) {
	f := make(map[string]*node, len(n.keys))
	for i, k := range n.keys {
		lk := strings.ToLower(k)
		if _, dup := f[lk]; dup {
			return nil, invalidAppSpec("The key %s appears more than once in %s.", k, where)
		}
		f[lk] = n.vals[i]
	}
	return f, nil
}

func onlyKeys(f map[string]*node, where string, allowed ...string) error {
	var unknown []string
	for k := range f {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return invalidAppSpec("The key %s is not valid in %s.", unknown[0], where)
	}
	return nil
}

// treeBudget caps the nodes a parsed AppSpec may expand to (YAML aliases can multiply a small text) and its depth.
const (
	treeBudget   = 10000
	maxTreeDepth = 64
)

type treeBuilder struct{ left int }

func (b *treeBuilder) spend(depth int) error {
	b.left--
	if b.left < 0 || depth > maxTreeDepth {
		return invalidAppSpec("The input AppSpec file is too large or too deeply nested.")
	}
	return nil
}

// parseTree reads JSON (when the content starts with '{') or YAML. JSON is read by encoding/json because YAML
// parsers reject some valid JSON (tab indentation); numbers keep their literal text either way.
func parseTree(content string) (*node, error) {
	trimmed := strings.TrimSpace(strings.TrimPrefix(content, "\ufeff"))
	if trimmed == "" {
		return nil, invalidAppSpec("The AppSpec file is empty.")
	}
	b := &treeBuilder{left: treeBudget}
	if strings.HasPrefix(trimmed, "{") {
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.UseNumber()
		n, err := b.json(dec, 0)
		if err == nil {
			if _, err = dec.Token(); err == nil {
				err = errors.New("trailing data")
			} else if errors.Is(err, io.EOF) {
				err = nil
			}
		}
		if f, ok := fault.As(err); ok {
			return nil, f
		}
		if err != nil {
			return nil, invalidAppSpec("The input AppSpec file is a not well-formed json. The template cannot be parsed.")
		}
		return n, nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(&doc); err != nil {
		return nil, invalidAppSpec("The input AppSpec file is a not well-formed yaml. The template cannot be parsed.")
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		return nil, invalidAppSpec("The input AppSpec file holds more than one YAML document.")
	}
	return b.yaml(&doc, 0)
}

func (b *treeBuilder) yaml(y *yaml.Node, depth int) (*node, error) {
	if err := b.spend(depth); err != nil {
		return nil, err
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: nullNode}, nil
		}
		return b.yaml(y.Content[0], depth+1)
	case yaml.AliasNode:
		if y.Alias == nil {
			return &node{kind: nullNode}, nil
		}
		return b.yaml(y.Alias, depth+1)
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			return &node{kind: nullNode}, nil
		}
		return &node{kind: scalarNode, value: y.Value}, nil
	case yaml.SequenceNode:
		n := &node{kind: seqNode}
		for _, c := range y.Content {
			item, err := b.yaml(c, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
		return n, nil
	case yaml.MappingNode:
		n := &node{kind: mapNode}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, invalidAppSpec("The AppSpec file has a key that is not a string.")
			}
			val, err := b.yaml(v, depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.Value)
			n.vals = append(n.vals, val)
		}
		return n, nil
	}
	return &node{kind: nullNode}, nil
}

// json reads one JSON value from dec as a node, keeping key order and literal number text.
func (b *treeBuilder) json(dec *json.Decoder, depth int) (*node, error) {
	if err := b.spend(depth); err != nil {
		return nil, err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: mapNode}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := b.json(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: seqNode}
			for dec.More() {
				v, err := b.json(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case string:
		return &node{kind: scalarNode, value: t}, nil
	case json.Number:
		return &node{kind: scalarNode, value: t.String()}, nil
	case bool:
		return &node{kind: scalarNode, value: strconv.FormatBool(t)}, nil
	case nil:
		return &node{kind: nullNode}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
