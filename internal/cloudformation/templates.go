package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store"
)

const prefixTemplate = "cfn/tpl/"

// storedTemplate is a template as given (Original, the text) and as processed (its transforms expanded, as
// JSON), which GetTemplate answers with.
type storedTemplate struct {
	Original  string          `json:"original"`
	Processed json.RawMessage `json:"processed,omitempty"`
}

// newTemplateKey names a template's key: one per operation or change set, deleted with what it belongs to.
func newTemplateKey() string { return uuid.NewString() }

func putTemplate(tx store.Tx, key string, t storedTemplate) error {
	return store.PutJSON(tx, prefixTemplate+key, t)
}

func getTemplate(tx store.Tx, key string) (storedTemplate, error) {
	var t storedTemplate
	if key == "" {
		return t, store.ErrNotFound
	}
	return t, store.GetJSON(tx, prefixTemplate+key, &t)
}

func deleteTemplate(tx store.Tx, key string) error {
	if key == "" {
		return nil
	}
	return tx.Delete(prefixTemplate + key)
}

// templateSource is where an API call's template comes from.
type templateSource struct {
	Body, URL   string
	UsePrevious bool
}

// resolve returns the template's text: the body, the object an S3 TemplateURL names (read as the caller), or the
// stack's current template (UsePreviousTemplate).
func (s *Service) resolve(ctx context.Context, caller Caller, src templateSource, current *stack.Stack) ([]byte, error) {
	given := 0
	for _, set := range []bool{src.Body != "", src.URL != "", src.UsePrevious} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, validation("Either Template URL or Template Body must be specified.")
	case given > 1 && src.UsePrevious:
		return nil, validation("Exactly one of TemplateBody, TemplateUrl or UsePreviousTemplate must be specified.")
	case given > 1:
		return nil, validation("Exactly one of TemplateBody or TemplateUrl must be specified.")
	case src.Body != "":
		return []byte(src.Body), nil
	case src.URL != "":
		return s.fetch(ctx, caller, src.URL)
	}
	if current == nil || current.API == nil || current.API.TemplateKey == "" {
		return nil, validation("UsePreviousTemplate is set, but the stack has no previous template.")
	}
	var t storedTemplate
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = getTemplate(tx, current.API.TemplateKey)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the template of %s: %w", current.Name, err)
	}
	return []byte(t.Original), nil
}

// fetch reads the template a TemplateURL names. Only S3 URLs are accepted, as on AWS (so the server never
// fetches an arbitrary URL), and they are read through the S3 API as the caller.
func (s *Service) fetch(ctx context.Context, caller Caller, raw string) ([]byte, error) {
	bucket, key, version, ok := parseS3URL(raw, s.o.S3Domain)
	if !ok {
		return nil, validation("TemplateURL must be a supported URL.")
	}
	if s.o.Objects == nil {
		return nil, validation("TemplateURL must reference a valid S3 object to which you have access. (This Sluice serves no S3: give the template as TemplateBody.)")
	}
	body, err := s.o.Objects.GetObject(ctx, caller, bucket, key, version)
	if err != nil {
		if _, ok := fault.As(err); ok {
			return nil, validation("TemplateURL must reference a valid S3 object to which you have access.")
		}
		return nil, err
	}
	if len(body) > maxTemplateFetched {
		return nil, validation("Template may not exceed %d bytes in size.", maxTemplateFetched)
	}
	return body, nil
}

// parseS3URL reads the S3 URL forms CloudFormation takes: path-style (https://s3.amazonaws.com/<bucket>/<key>,
// https://s3.<region>.amazonaws.com/…, https://s3-<region>.amazonaws.com/…) and virtual-hosted
// (https://<bucket>.s3[.<region>].amazonaws.com/<key>), with an optional versionId query parameter; and Sluice's
// own S3 hosts, which clients pointed at Sluice build their URLs from: its S3 domain (localDomain, path-style, and
// <bucket>.<localDomain> virtual-hosted) and its listener on loopback (path-style, as `aws cloudformation deploy
// --s3-bucket` writes http://127.0.0.1:<port>/<bucket>/<key>). Nothing is ever fetched from the host named: the
// object is read from Sluice's S3.
func parseS3URL(raw, localDomain string) (bucket, key, version string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", "", false
	}
	host := strings.ToLower(u.Hostname())
	path := strings.TrimPrefix(u.Path, "/")
	switch {
	case localDomain != "" && host == localDomain, host == "localhost", isLoopbackIP(host):
		bucket, key, ok = strings.Cut(path, "/")
	case localDomain != "" && strings.HasSuffix(host, "."+localDomain):
		bucket, key, ok = strings.TrimSuffix(host, "."+localDomain), path, path != ""
	case strings.HasSuffix(host, ".amazonaws.com"):
		labels := strings.Split(strings.TrimSuffix(host, ".amazonaws.com"), ".")
		s3Label := func(l string) bool { return l == "s3" || strings.HasPrefix(l, "s3-") }
		switch {
		case s3Label(labels[0]):
			bucket, key, ok = strings.Cut(path, "/")
		case len(labels) >= 2 && s3Label(labels[1]):
			bucket, key, ok = labels[0], path, path != ""
		}
	}
	if !ok || bucket == "" || key == "" {
		return "", "", "", false
	}
	return bucket, key, u.Query().Get("versionId"), true
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// inspect reads a template as the engine would deploy it, its problems put as CloudFormation puts them.
func (s *Service) inspect(ctx context.Context, body []byte, pseudo cfn.Pseudo, overrides map[string]string) (*Inspection, error) {
	in, err := s.o.Engine.Inspect(ctx, body, pseudo, overrides)
	if err != nil {
		return nil, templateError(err)
	}
	return in, nil
}

// templateError is a template's problem as a ValidationError. Messages the engine words for `sluice deploy`
// name Sluice instead.
func templateError(err error) error {
	if f, ok := fault.As(err); ok {
		return f
	}
	msg := strings.ReplaceAll(err.Error(), "sluice deploy", "Sluice")
	var ce *cfn.Error
	if errors.As(err, &ce) && !strings.Contains(msg, "Template format error") && !strings.HasPrefix(msg, "Parameter") {
		msg = "Template format error: " + msg
	}
	return validation("%s", msg)
}

// parseTemplate parses a template for the calls that only read it (ValidateTemplate, GetTemplateSummary).
func parseTemplate(body []byte) (*cfn.Template, error) {
	t, err := cfn.Parse(body)
	if err != nil {
		return nil, templateError(err)
	}
	return t, nil
}

// ---- ValidateTemplate, GetTemplateSummary, GetTemplate ----

// TemplateParameter is a declared parameter as ValidateTemplate and GetTemplateSummary describe it.
type TemplateParameter struct {
	Key, Type, Description string
	Default                *string
	NoEcho                 bool
	AllowedValues          []string
}

// TemplateSummary is what ValidateTemplate and GetTemplateSummary answer.
type TemplateSummary struct {
	Parameters         []TemplateParameter
	Description        string
	Capabilities       []string
	CapabilitiesReason string
	ResourceTypes      []string
	Version            string
	Metadata           string // JSON
	DeclaredTransforms []string
}

// ValidateTemplate checks a template as CloudFormation's ValidateTemplate does: its syntax and sections.
func (s *Service) ValidateTemplate(ctx context.Context, caller Caller, body, templateURL string) (TemplateSummary, error) {
	text, err := s.resolve(ctx, caller, templateSource{Body: body, URL: templateURL}, nil)
	if err != nil {
		return TemplateSummary{}, err
	}
	t, err := parseTemplate(text)
	if err != nil {
		return TemplateSummary{}, err
	}
	return summarize(t), nil
}

// GetTemplateSummary describes a template given, or a stack's (by name or ID; a deleted stack's by ID).
func (s *Service) GetTemplateSummary(ctx context.Context, caller Caller, stackName, body, templateURL string) (TemplateSummary, error) {
	var text []byte
	if stackName != "" {
		if body != "" || templateURL != "" {
			return TemplateSummary{}, validation("Only one of TemplateBody, TemplateURL, StackName or StackSetName may be specified.")
		}
		st, err := s.find(ctx, stackName)
		if err != nil {
			return TemplateSummary{}, err
		}
		t, err := s.storedTemplate(ctx, st.API)
		if err != nil {
			return TemplateSummary{}, err
		}
		text = []byte(t.Original)
	} else {
		var err error
		if text, err = s.resolve(ctx, caller, templateSource{Body: body, URL: templateURL}, nil); err != nil {
			return TemplateSummary{}, err
		}
	}
	t, err := parseTemplate(text)
	if err != nil {
		return TemplateSummary{}, err
	}
	sum := summarize(t)
	sum.Version = t.FormatVersion
	if sum.Version == "" {
		sum.Version = "2010-09-09"
	}
	types := map[string]bool{}
	for _, r := range t.Resources {
		types[r.Type] = true
	}
	sum.ResourceTypes = slices.Sorted(maps.Keys(types))
	if t.Metadata != nil {
		b, _ := json.Marshal(t.Metadata)
		sum.Metadata = string(b)
	}
	return sum, nil
}

func summarize(t *cfn.Template) TemplateSummary {
	sum := TemplateSummary{Description: t.Description, DeclaredTransforms: t.Transform, Parameters: []TemplateParameter{}}
	sum.Capabilities, sum.CapabilitiesReason = cfn.RequiredCapabilities(t)
	if tc := cfn.TransformCapability(t); tc != nil {
		sum.Capabilities = append(sum.Capabilities, tc...)
		if sum.CapabilitiesReason == "" {
			sum.CapabilitiesReason = "The following resource(s) require capabilities: [" + strings.Join(t.Transform, ", ") + "]"
		}
	}
	for _, name := range parameterOrder(t) {
		p := t.Parameters[name]
		tp := TemplateParameter{Key: name, Type: p.Type, Description: p.Description, NoEcho: p.NoEcho}
		if d, ok := scalarText(p.Default); ok {
			tp.Default = &d
		}
		for _, v := range p.AllowedValues {
			if s, ok := scalarText(v); ok {
				tp.AllowedValues = append(tp.AllowedValues, s)
			}
		}
		sum.Parameters = append(sum.Parameters, tp)
	}
	return sum
}

// parameterOrder lists a template's parameters in declaration order (sorted when it is unknown).
func parameterOrder(t *cfn.Template) []string {
	if len(t.ParameterOrder) == len(t.Parameters) {
		return t.ParameterOrder
	}
	return slices.Sorted(maps.Keys(t.Parameters))
}

// scalarText spells a template's scalar as CloudFormation shows it.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool, int, int64, float64, json.Number:
		b, _ := json.Marshal(x)
		return string(b), true
	}
	return fmt.Sprint(v), true
}

// TemplateStage is GetTemplate's stage.
const (
	StageOriginal  = "Original"
	StageProcessed = "Processed"
)

// GetTemplate returns a stack's template (by name or ID, a deleted one's by ID), or a change set's.
func (s *Service) GetTemplate(ctx context.Context, stackName, changeSetName, stage string) (body string, stages []string, err error) {
	var key string
	if changeSetName != "" {
		cs, err := s.findChangeSet(ctx, stackName, changeSetName)
		if err != nil {
			return "", nil, err
		}
		key = cs.TemplateKey
	} else {
		if stackName == "" {
			return "", nil, validation("StackName must be specified if ChangeSetName is not specified as an ARN.")
		}
		st, err := s.find(ctx, stackName)
		if err != nil {
			return "", nil, err
		}
		if st.API != nil {
			key = st.API.TemplateKey
			if key == "" && st.Status == stack.StatusReviewInProgress {
				// A stack a change set made that has not been executed has no template yet: AWS answers with
				// none (what `cdk deploy` reads when it looks a stack in review up).
				return "", []string{}, nil
			}
		}
	}
	var t storedTemplate
	err = s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = getTemplate(tx, key)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, validation("Template not found for the stack: it was made by `sluice deploy`, which does not keep templates.")
	}
	if err != nil {
		return "", nil, err
	}
	stages = []string{StageOriginal, StageProcessed}
	if stage == StageProcessed && len(t.Processed) > 0 {
		return string(t.Processed), stages, nil
	}
	return t.Original, stages, nil
}

// storedTemplate reads the template a stack was last made from.
func (s *Service) storedTemplate(ctx context.Context, api *stack.APISettings) (storedTemplate, error) {
	var t storedTemplate
	if api == nil || api.TemplateKey == "" {
		return t, validation("Template not found for the stack: it was made by `sluice deploy`, which does not keep templates.")
	}
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = getTemplate(tx, api.TemplateKey)
		return err
	})
	return t, err
}
