package policy

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Kind says which IAM policy grammar a document follows.
type Kind int

const (
	// Identity is a permissions policy attached to a role: it names actions
	// and resources and never a principal.
	Identity Kind = iota
	// Trust is a role's AssumeRolePolicyDocument: it names principals and
	// STS actions and never a resource.
	Trust
	// Resource is a resource-based policy (a Lambda function's): it names
	// principals, actions and resources.
	Resource
)

// String returns "Identity", "Trust" or "Resource".
func (k Kind) String() string {
	switch k {
	case Identity:
		return "Identity"
	case Trust:
		return "Trust"
	case Resource:
		return "Resource"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Policy language versions IAM accepts. Without a Version IAM applies
// 2008-10-17 rules.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Statement effects.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Principal types that may appear as keys of Statement.Principal and
// Statement.NotPrincipal. PrincipalAll is the key Parse uses for the bare
// "Principal": "*" form.
const (
	PrincipalAWS       = "AWS"
	PrincipalFederated = "Federated"
	PrincipalService   = "Service"
	PrincipalAll       = "*"
)

// Document is a parsed policy document.
type Document struct {
	Version    string // "2012-10-17", "2008-10-17" or "" when the document has none
	ID         string // the optional top-level "Id"
	Statements []Statement
	// Kind is the grammar Parse read the document with (the zero value,
	// Identity, for a hand-built document). Evaluate reads an account
	// principal differently in a Resource document (see the package doc).
	Kind Kind
}

// Statement is one policy statement. Elements that JSON allows as a string or
// a list of strings are always lists here; an element absent from the
// document is nil.
type Statement struct {
	Sid    string
	Effect string // EffectAllow or EffectDeny

	// Principal and NotPrincipal map a principal type (PrincipalAWS,
	// PrincipalFederated, PrincipalService) to its values. The bare "*" form
	// is {"*": ["*"]}.
	Principal, NotPrincipal map[string][]string

	Action, NotAction     []string
	Resource, NotResource []string

	// Condition holds one entry per operator and key, in document order.
	Condition []Condition
}

// Condition is one key test of a statement's Condition block:
//
//	"Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:o/r:*"]}}
//
// is {Operator: "StringLike", Key: "token.actions.githubusercontent.com:sub",
// Values: ["repo:o/r:*"]}. Operator is kept as written, including any
// "ForAnyValue:"/"ForAllValues:" prefix and "IfExists" suffix. JSON numbers
// and booleans become their literal text.
//
// Evaluation against the request's values for Key:
//
//   - The condition holds if a request value matches any of Values (OR). For a
//     negated operator (StringNotEquals, StringNotLike, ArnNotEquals,
//     ArnNotLike, NumericNotEquals, DateNotEquals, NotIpAddress) a request
//     value passes only if it matches none of Values.
//   - Without a set prefix, a positive operator needs one passing request
//     value and a negated operator needs every request value to pass. An
//     absent key fails a positive operator and passes a negated one.
//   - "ForAnyValue:" needs one passing request value; an absent key fails.
//     "ForAllValues:" needs every request value to pass; an absent key passes.
//   - The "IfExists" suffix makes an absent key pass.
//   - Null holds when the key is absent for "true" and present for "false".
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// String returns the document as compact JSON in a canonical shape: every
// list element is a JSON list, the bare principal is "*", condition
// operators and keys are sorted, and absent elements are left out. Parse
// accepts the result. It is meant for logs and debugging.
func (d *Document) String() string {
	if d == nil {
		return "<nil>"
	}
	type statementJSON struct {
		Sid          string                         `json:"Sid,omitempty"`
		Effect       string                         `json:"Effect"`
		Principal    any                            `json:"Principal,omitempty"`
		NotPrincipal any                            `json:"NotPrincipal,omitempty"`
		Action       []string                       `json:"Action,omitempty"`
		NotAction    []string                       `json:"NotAction,omitempty"`
		Resource     []string                       `json:"Resource,omitempty"`
		NotResource  []string                       `json:"NotResource,omitempty"`
		Condition    map[string]map[string][]string `json:"Condition,omitempty"`
	}
	type documentJSON struct {
		Version   string          `json:"Version,omitempty"`
		ID        string          `json:"Id,omitempty"`
		Statement []statementJSON `json:"Statement"`
	}
	out := documentJSON{Version: d.Version, ID: d.ID, Statement: []statementJSON{}}
	for _, st := range d.Statements {
		sj := statementJSON{
			Sid: st.Sid, Effect: st.Effect,
			Action: st.Action, NotAction: st.NotAction,
			Resource: st.Resource, NotResource: st.NotResource,
		}
		// Assign only non-empty principals: a nil map in an interface is
		// not omitted by omitempty.
		if p := principalJSON(st.Principal); p != nil {
			sj.Principal = p
		}
		if p := principalJSON(st.NotPrincipal); p != nil {
			sj.NotPrincipal = p
		}
		for _, c := range st.Condition {
			if sj.Condition == nil {
				sj.Condition = map[string]map[string][]string{}
			}
			block := sj.Condition[c.Operator]
			if block == nil {
				block = map[string][]string{}
				sj.Condition[c.Operator] = block
			}
			block[c.Key] = append(block[c.Key], c.Values...)
		}
		out.Statement = append(out.Statement, sj)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // ARN patterns and conditions stay readable in logs
	if err := enc.Encode(out); err != nil {
		return "<unencodable policy: " + err.Error() + ">"
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func principalJSON(p map[string][]string) any {
	if len(p) == 0 {
		return nil
	}
	if all, ok := p[PrincipalAll]; ok && len(p) == 1 && len(all) == 1 && all[0] == "*" {
		return "*"
	}
	return p
}
