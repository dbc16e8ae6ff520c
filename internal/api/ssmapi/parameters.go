package ssmapi

import (
	"context"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/internal/parameterstore"
	"github.com/sluice-dev/sluice/internal/ssm"
)

// epoch is an SSM timestamp: epoch seconds as a JSON number, fractional to the millisecond.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', -1, 64)), nil
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagsOf(in []tag) []ssm.Tag {
	out := make([]ssm.Tag, len(in))
	for i, t := range in {
		out[i] = ssm.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ---- PutParameter ----

type putParameterInput struct {
	Name           *string `json:"Name"`
	Description    *string `json:"Description"`
	Value          *string `json:"Value"`
	Type           *string `json:"Type"`
	KeyID          *string `json:"KeyId"`
	Overwrite      *bool   `json:"Overwrite"`
	AllowedPattern *string `json:"AllowedPattern"`
	Tags           []tag   `json:"Tags"`
	Tier           *string `json:"Tier"`
	Policies       *string `json:"Policies"`
	DataType       *string `json:"DataType"`
}

type putParameterOutput struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}

func (h *Handler) putParameter(ctx context.Context, in *putParameterInput) (*putParameterOutput, error) {
	res, err := h.params.Put(ctx, ssm.PutRequest{
		Name: deref(in.Name), Value: deref(in.Value), Type: in.Type, KeyID: in.KeyID, Description: in.Description,
		Overwrite: deref(in.Overwrite), AllowedPattern: in.AllowedPattern, Tier: in.Tier, DataType: in.DataType,
		Tags: tagsOf(in.Tags), HasTags: in.Tags != nil, Policies: in.Policies,
	}, caller(ctx))
	if err != nil {
		return nil, err
	}
	return &putParameterOutput{Version: res.Version, Tier: res.Tier}, nil
}

// ---- GetParameter, GetParameters, GetParametersByPath ----

type parameter struct {
	Name             string `json:"Name"`
	Type             string `json:"Type"`
	Value            string `json:"Value"`
	Version          int64  `json:"Version"`
	Selector         string `json:"Selector,omitempty"`
	LastModifiedDate epoch  `json:"LastModifiedDate"`
	ARN              string `json:"ARN"`
	DataType         string `json:"DataType"`
}

func (h *Handler) parameterOf(v parameterstore.Value) parameter {
	return parameter{Name: v.Name, Type: v.Type, Value: v.Value, Version: v.Version, Selector: v.Selector,
		LastModifiedDate: epoch(v.Modified), ARN: ssm.ARN(h.acct.Region, h.acct.ID, v.Name), DataType: v.DataType}
}

type getParameterInput struct {
	Name           *string `json:"Name"`
	WithDecryption *bool   `json:"WithDecryption"`
}

type getParameterOutput struct {
	Parameter parameter `json:"Parameter"`
}

func (h *Handler) getParameter(ctx context.Context, in *getParameterInput) (*getParameterOutput, error) {
	v, err := h.params.Get(ctx, h.nameOf(deref(in.Name)), deref(in.WithDecryption))
	if err != nil {
		return nil, err
	}
	return &getParameterOutput{Parameter: h.parameterOf(v)}, nil
}

type getParametersInput struct {
	Names          []string `json:"Names"`
	WithDecryption *bool    `json:"WithDecryption"`
}

type getParametersOutput struct {
	Parameters        []parameter `json:"Parameters"`
	InvalidParameters []string    `json:"InvalidParameters"`
}

func (h *Handler) getParameters(ctx context.Context, in *getParametersInput) (*getParametersOutput, error) {
	if err := h.authorizeEach(ctx, "GetParameters", in.Names); err != nil {
		return nil, err
	}
	names := make([]string, len(in.Names))
	for i, n := range in.Names {
		names[i] = h.nameOf(n)
	}
	found, invalid, err := h.params.GetMany(ctx, names, deref(in.WithDecryption))
	if err != nil {
		return nil, err
	}
	out := &getParametersOutput{Parameters: []parameter{}, InvalidParameters: []string{}}
	for _, v := range found {
		out.Parameters = append(out.Parameters, h.parameterOf(v))
	}
	out.InvalidParameters = append(out.InvalidParameters, invalid...)
	return out, nil
}

type stringFilter struct {
	Key    string   `json:"Key"`
	Option *string  `json:"Option"`
	Values []string `json:"Values"`
}

func stringFilters(in []stringFilter) []ssm.StringFilter {
	out := make([]ssm.StringFilter, len(in))
	for i, f := range in {
		out[i] = ssm.StringFilter{Key: f.Key, Option: deref(f.Option), Values: f.Values}
	}
	return out
}

type getParametersByPathInput struct {
	Path             *string        `json:"Path"`
	Recursive        *bool          `json:"Recursive"`
	ParameterFilters []stringFilter `json:"ParameterFilters"`
	WithDecryption   *bool          `json:"WithDecryption"`
	MaxResults       *int           `json:"MaxResults"`
	NextToken        *string        `json:"NextToken"`
}

type getParametersByPathOutput struct {
	Parameters []parameter `json:"Parameters"`
	NextToken  string      `json:"NextToken,omitempty"`
}

func (h *Handler) getParametersByPath(ctx context.Context, in *getParametersByPathInput) (*getParametersByPathOutput, error) {
	max := 10
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	found, next, err := h.params.ByPath(ctx, parameterstore.ByPathRequest{Path: deref(in.Path), Recursive: deref(in.Recursive),
		Filters: stringFilters(in.ParameterFilters), Decrypt: deref(in.WithDecryption), Max: max, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	out := &getParametersByPathOutput{Parameters: []parameter{}, NextToken: next}
	for _, v := range found {
		out.Parameters = append(out.Parameters, h.parameterOf(v))
	}
	return out, nil
}

// ---- DeleteParameter, DeleteParameters ----

type deleteParameterInput struct {
	Name *string `json:"Name"`
}

func (h *Handler) deleteParameter(ctx context.Context, in *deleteParameterInput) (struct{}, error) {
	return struct{}{}, h.params.Delete(ctx, deref(in.Name))
}

type deleteParametersInput struct {
	Names []string `json:"Names"`
}

type deleteParametersOutput struct {
	DeletedParameters []string `json:"DeletedParameters"`
	InvalidParameters []string `json:"InvalidParameters"`
}

func (h *Handler) deleteParameters(ctx context.Context, in *deleteParametersInput) (*deleteParametersOutput, error) {
	if err := h.authorizeEach(ctx, "DeleteParameters", in.Names); err != nil {
		return nil, err
	}
	deleted, invalid, err := h.params.DeleteMany(ctx, in.Names)
	if err != nil {
		return nil, err
	}
	return &deleteParametersOutput{DeletedParameters: append([]string{}, deleted...), InvalidParameters: append([]string{}, invalid...)}, nil
}

// ---- DescribeParameters ----

type parametersFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type describeParametersInput struct {
	Filters          []parametersFilter `json:"Filters"`
	ParameterFilters []stringFilter     `json:"ParameterFilters"`
	MaxResults       *int               `json:"MaxResults"`
	NextToken        *string            `json:"NextToken"`
	Shared           *bool              `json:"Shared"`
}

type parameterMetadata struct {
	Name             string   `json:"Name"`
	ARN              string   `json:"ARN"`
	Type             string   `json:"Type"`
	KeyID            string   `json:"KeyId,omitempty"`
	LastModifiedDate epoch    `json:"LastModifiedDate"`
	LastModifiedUser string   `json:"LastModifiedUser"`
	Description      string   `json:"Description,omitempty"`
	AllowedPattern   string   `json:"AllowedPattern,omitempty"`
	Version          int64    `json:"Version"`
	Tier             string   `json:"Tier"`
	Policies         []string `json:"Policies"`
	DataType         string   `json:"DataType"`
}

type describeParametersOutput struct {
	Parameters []parameterMetadata `json:"Parameters"`
	NextToken  string              `json:"NextToken,omitempty"`
}

func (h *Handler) describeParameters(ctx context.Context, in *describeParametersInput) (*describeParametersOutput, error) {
	max := 50
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	legacy := make([]ssm.LegacyFilter, len(in.Filters))
	for i, f := range in.Filters {
		legacy[i] = ssm.LegacyFilter{Key: f.Key, Values: f.Values}
	}
	out := &describeParametersOutput{Parameters: []parameterMetadata{}}
	if deref(in.Shared) {
		return out, nil // no other account shares parameters with this one
	}
	found, next, err := h.params.Describe(ctx, parameterstore.DescribeRequest{Filters: legacy,
		ParameterFilters: stringFilters(in.ParameterFilters), Max: max, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	for _, p := range found {
		out.Parameters = append(out.Parameters, parameterMetadata{Name: p.Name, ARN: ssm.ARN(h.acct.Region, h.acct.ID, p.Name),
			Type: p.Type, KeyID: p.KeyID, LastModifiedDate: epoch(p.Modified), LastModifiedUser: p.User,
			Description: p.Description, AllowedPattern: p.AllowedPattern, Version: p.Version.Version, Tier: p.Tier,
			Policies: []string{}, DataType: p.DataType})
	}
	return out, nil
}

// ---- GetParameterHistory ----

type getParameterHistoryInput struct {
	Name           *string `json:"Name"`
	WithDecryption *bool   `json:"WithDecryption"`
	MaxResults     *int    `json:"MaxResults"`
	NextToken      *string `json:"NextToken"`
}

type parameterHistory struct {
	Name             string   `json:"Name"`
	Type             string   `json:"Type"`
	KeyID            string   `json:"KeyId,omitempty"`
	LastModifiedDate epoch    `json:"LastModifiedDate"`
	LastModifiedUser string   `json:"LastModifiedUser"`
	Description      string   `json:"Description,omitempty"`
	Value            string   `json:"Value"`
	AllowedPattern   string   `json:"AllowedPattern,omitempty"`
	Version          int64    `json:"Version"`
	Labels           []string `json:"Labels"`
	Tier             string   `json:"Tier"`
	Policies         []string `json:"Policies"`
	DataType         string   `json:"DataType"`
}

type getParameterHistoryOutput struct {
	Parameters []parameterHistory `json:"Parameters"`
	NextToken  string             `json:"NextToken,omitempty"`
}

func (h *Handler) getParameterHistory(ctx context.Context, in *getParameterHistoryInput) (*getParameterHistoryOutput, error) {
	max := 50
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	entries, next, err := h.params.History(ctx, h.nameOf(deref(in.Name)), deref(in.WithDecryption), max, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &getParameterHistoryOutput{Parameters: []parameterHistory{}, NextToken: next}
	for _, e := range entries {
		out.Parameters = append(out.Parameters, parameterHistory{Name: e.Name, Type: e.Type, KeyID: e.KeyID,
			LastModifiedDate: epoch(e.Modified), LastModifiedUser: e.User, Description: e.Description, Value: e.Value,
			AllowedPattern: e.AllowedPattern, Version: e.Version.Version, Labels: append([]string{}, e.Labels...),
			Tier: e.Tier, Policies: []string{}, DataType: e.DataType})
	}
	return out, nil
}

// ---- LabelParameterVersion, UnlabelParameterVersion ----

type labelParameterVersionInput struct {
	Name             *string  `json:"Name"`
	ParameterVersion *int64   `json:"ParameterVersion"`
	Labels           []string `json:"Labels"`
}

type labelParameterVersionOutput struct {
	InvalidLabels    []string `json:"InvalidLabels"`
	ParameterVersion int64    `json:"ParameterVersion"`
}

func (h *Handler) labelParameterVersion(ctx context.Context, in *labelParameterVersionInput) (*labelParameterVersionOutput, error) {
	invalid, version, err := h.params.Label(ctx, h.nameOf(deref(in.Name)), in.ParameterVersion, in.Labels)
	if err != nil {
		return nil, err
	}
	return &labelParameterVersionOutput{InvalidLabels: append([]string{}, invalid...), ParameterVersion: version}, nil
}

type unlabelParameterVersionInput struct {
	Name             *string  `json:"Name"`
	ParameterVersion *int64   `json:"ParameterVersion"`
	Labels           []string `json:"Labels"`
}

type unlabelParameterVersionOutput struct {
	RemovedLabels []string `json:"RemovedLabels"`
	InvalidLabels []string `json:"InvalidLabels"`
}

func (h *Handler) unlabelParameterVersion(ctx context.Context, in *unlabelParameterVersionInput) (*unlabelParameterVersionOutput, error) {
	removed, invalid, err := h.params.Unlabel(ctx, h.nameOf(deref(in.Name)), deref(in.ParameterVersion), in.Labels)
	if err != nil {
		return nil, err
	}
	return &unlabelParameterVersionOutput{RemovedLabels: append([]string{}, removed...), InvalidLabels: append([]string{}, invalid...)}, nil
}

// ---- AddTagsToResource, ListTagsForResource, RemoveTagsFromResource ----

type addTagsToResourceInput struct {
	ResourceType *string `json:"ResourceType"`
	ResourceID   *string `json:"ResourceId"`
	Tags         []tag   `json:"Tags"`
}

func (h *Handler) addTagsToResource(ctx context.Context, in *addTagsToResourceInput) (struct{}, error) {
	if err := ssm.CheckResourceType(deref(in.ResourceType)); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, h.params.AddTags(ctx, h.nameOf(deref(in.ResourceID)), tagsOf(in.Tags))
}

type listTagsForResourceInput struct {
	ResourceType *string `json:"ResourceType"`
	ResourceID   *string `json:"ResourceId"`
}

type listTagsForResourceOutput struct {
	TagList []tag `json:"TagList"`
}

func (h *Handler) listTagsForResource(ctx context.Context, in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	if err := ssm.CheckResourceType(deref(in.ResourceType)); err != nil {
		return nil, err
	}
	tags, err := h.params.ListTags(ctx, h.nameOf(deref(in.ResourceID)))
	if err != nil {
		return nil, err
	}
	out := &listTagsForResourceOutput{TagList: []tag{}}
	for _, t := range tags {
		out.TagList = append(out.TagList, tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

type removeTagsFromResourceInput struct {
	ResourceType *string  `json:"ResourceType"`
	ResourceID   *string  `json:"ResourceId"`
	TagKeys      []string `json:"TagKeys"`
}

func (h *Handler) removeTagsFromResource(ctx context.Context, in *removeTagsFromResourceInput) (struct{}, error) {
	if err := ssm.CheckResourceType(deref(in.ResourceType)); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, h.params.RemoveTags(ctx, h.nameOf(deref(in.ResourceID)), in.TagKeys)
}
