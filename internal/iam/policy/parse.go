package policy

import (
	"maps"
	"slices"
	"strings"
)

// Parse validates doc as a policy of the given kind and returns it parsed.
// Every error is a *MalformedError whose Message is the text IAM puts in its
// MalformedPolicyDocument error; the first problem found is reported.
func Parse(doc string, kind Kind) (*Document, error) {
	if kind != Identity && kind != Trust && kind != Resource {
		return nil, malformedf("unknown policy kind %d", int(kind))
	}
	v, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(jsonObject)
	if !ok {
		return nil, syntaxError()
	}
	d := &Document{Kind: kind}
	var raw any
	for _, m := range top {
		switch m.key {
		case "Version":
			s, ok := m.value.(string)
			if !ok || s != Version2012 && s != Version2008 {
				return nil, syntaxError()
			}
			d.Version = s
		case "Id":
			s, ok := m.value.(string)
			if !ok {
				return nil, syntaxError()
			}
			d.ID = s
		case "Statement":
			raw = m.value
		default:
			return nil, malformed("Unknown field " + m.key)
		}
	}
	var list []any
	switch s := raw.(type) {
	case jsonObject:
		list = []any{s}
	case []any:
		list = s
	}
	if len(list) == 0 { // absent, empty, or not an object or list
		return nil, syntaxError()
	}
	sids := map[string]bool{}
	for _, e := range list {
		obj, ok := e.(jsonObject)
		if !ok {
			return nil, syntaxError()
		}
		st, err := parseStatement(obj, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed(msgSidUnique)
			}
			sids[st.Sid] = true
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

func parseStatement(obj jsonObject, kind Kind) (Statement, error) {
	var st Statement
	has := map[string]bool{}
	for _, m := range obj {
		var ok bool
		switch m.key {
		case "Sid":
			st.Sid, ok = m.value.(string)
		case "Effect":
			st.Effect, ok = m.value.(string)
		case "Principal":
			st.Principal, ok = parsePrincipal(m.value)
		case "NotPrincipal":
			st.NotPrincipal, ok = parsePrincipal(m.value)
		case "Action":
			st.Action, ok = stringList(m.value)
		case "NotAction":
			st.NotAction, ok = stringList(m.value)
		case "Resource":
			st.Resource, ok = stringList(m.value)
		case "NotResource":
			st.NotResource, ok = stringList(m.value)
		case "Condition":
			st.Condition, ok = parseConditionBlock(m.value)
		default:
			return st, malformed("Unknown field " + m.key)
		}
		if !ok {
			return st, syntaxError()
		}
		has[m.key] = true
	}
	if has["Action"] && has["NotAction"] || has["Resource"] && has["NotResource"] ||
		has["Principal"] && has["NotPrincipal"] {
		return st, syntaxError()
	}
	if !has["Effect"] {
		return st, malformed(msgMissingEffect)
	}
	if st.Effect != EffectAllow && st.Effect != EffectDeny {
		return st, malformed("Invalid effect: " + st.Effect)
	}
	hasPrincipal := has["Principal"] || has["NotPrincipal"]
	switch kind {
	case Identity:
		if hasPrincipal {
			return st, malformed(msgNoPrincipal)
		}
	case Trust:
		for _, f := range []string{"Resource", "NotResource"} {
			if has[f] {
				return st, malformed("Has prohibited field " + f)
			}
		}
		fallthrough
	case Resource:
		if !hasPrincipal {
			return st, malformed(msgMissingPrincipal)
		}
		if has["NotPrincipal"] && st.Effect == EffectAllow {
			return st, malformed(msgNotPrincipalAllow)
		}
	}
	if kind != Resource && !validSid(st.Sid) {
		return st, malformed(msgSidCharset)
	}
	for _, c := range st.Condition {
		if err := checkCondition(c); err != nil {
			return st, err
		}
	}
	if len(st.Action) == 0 && len(st.NotAction) == 0 {
		return st, malformed(msgNoActions)
	}
	if kind != Trust && len(st.Resource) == 0 && len(st.NotResource) == 0 {
		return st, malformed(msgNoResources)
	}
	for _, r := range slices.Concat(st.Resource, st.NotResource) {
		if err := checkResource(r); err != nil {
			return st, err
		}
	}
	for _, a := range slices.Concat(st.Action, st.NotAction) {
		if err := checkAction(a); err != nil {
			return st, err
		}
	}
	if kind == Trust {
		for _, a := range st.Action {
			if !isTrustAction(a) {
				return st, malformed(msgTrustActions)
			}
		}
	}
	if kind != Identity {
		for _, p := range []map[string][]string{st.Principal, st.NotPrincipal} {
			if err := checkPrincipal(p); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

func validSid(sid string) bool {
	for _, c := range []byte(sid) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// parsePrincipal accepts "*" or an object mapping principal types to a
// non-empty string or list of strings. The values are checked later, by
// checkPrincipal, once the statement is known to belong in a trust policy.
func parsePrincipal(v any) (map[string][]string, bool) {
	switch t := v.(type) {
	case string:
		if t == "*" {
			return map[string][]string{PrincipalAll: {"*"}}, true
		}
	case jsonObject:
		if len(t) == 0 {
			return nil, false
		}
		p := make(map[string][]string, len(t))
		for _, m := range t {
			values, ok := stringList(m.value)
			if !ok || len(values) == 0 || m.key == PrincipalAll {
				return nil, false
			}
			p[m.key] = values
		}
		return p, true
	}
	return nil, false
}

// parseConditionBlock flattens {"Operator": {"key": value-or-list}} into
// Conditions in document order. Values may be strings, numbers or booleans.
func parseConditionBlock(v any) ([]Condition, bool) {
	block, ok := v.(jsonObject)
	if !ok {
		return nil, false
	}
	var out []Condition
	for _, op := range block {
		keys, ok := op.value.(jsonObject)
		if !ok {
			return nil, false
		}
		for _, k := range keys {
			c := Condition{Operator: op.key, Key: k.key, Values: []string{}}
			items, isList := k.value.([]any)
			if !isList {
				items = []any{k.value}
			}
			for _, item := range items {
				s, ok := scalarText(item)
				if !ok {
					return nil, false
				}
				c.Values = append(c.Values, s)
			}
			out = append(out, c)
		}
	}
	return out, true
}

func checkCondition(c Condition) error {
	op, ok := parseOperator(c.Operator)
	if !ok {
		return malformed("Invalid Condition type : " + c.Operator)
	}
	if strings.IndexByte(c.Key, ':') <= 0 {
		return malformed(msgVendorPrefix)
	}
	if op.kind == kindDate {
		for _, v := range c.Values {
			if _, ok := parseDate(v); !ok {
				return malformed(msgLegacyParsing)
			}
		}
	}
	return nil
}

// checkAction enforces IAM's "vendor:action" shape; "*" alone is allowed.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, _, ok := strings.Cut(a, ":")
	if !ok {
		return malformed(msgVendorPrefix)
	}
	if strings.Count(a, ":") > 1 {
		return malformed(msgOneColon)
	}
	if vendor == "*" {
		return nil
	}
	valid := vendor != ""
	for _, c := range []byte(vendor) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
			valid = false
		}
	}
	if !valid {
		return malformedf("Vendor %s is not valid", vendor)
	}
	return nil
}

// checkResource accepts "*" or anything shaped "arn:partition:service:...".
func checkResource(r string) error {
	if r == "*" {
		return nil
	}
	parts := strings.SplitN(r, ":", 4)
	if len(parts) < 4 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return malformedf("Resource %s must be in ARN format or \"*\".", r)
	}
	return nil
}

// trustActions are the actions a role's trust policy decides on.
var trustActions = []string{
	"sts:AssumeRole",
	"sts:AssumeRoleWithSAML",
	"sts:AssumeRoleWithWebIdentity",
	"sts:TagSession",
	"sts:SetSourceIdentity",
	"sts:SetContext",
}

func isTrustAction(a string) bool {
	p := compilePattern(a, false)
	for _, t := range trustActions {
		if p.match(t, true) {
			return true
		}
	}
	return false
}

// checkPrincipal checks the form of a trust or resource policy's principal
// values.
func checkPrincipal(p map[string][]string) error {
	for _, typ := range slices.Sorted(maps.Keys(p)) {
		for _, v := range p[typ] {
			var ok bool
			switch typ {
			case PrincipalAll:
				ok = v == "*"
			case PrincipalAWS:
				ok = v == "*" || isAccountID(v) || isAWSPrincipalARN(v)
			case PrincipalFederated, PrincipalService:
				ok = v != "" && !strings.ContainsAny(v, "*?")
			}
			if !ok {
				return malformedf("Invalid principal in policy: %q:%q", typ, v)
			}
		}
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isAWSPrincipalARN accepts the IAM and STS ARNs that may name an AWS
// principal: an account root, a user or role (with path), an assumed-role
// session or a federated user. Wildcards are not allowed in principals.
func isAWSPrincipalARN(s string) bool {
	if strings.ContainsAny(s, "*?") {
		return false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[3] != "" || !isAccountID(parts[4]) {
		return false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" {
			return true
		}
		for _, prefix := range []string{"user/", "role/"} {
			if name, ok := strings.CutPrefix(res, prefix); ok {
				return name != "" && !strings.HasSuffix(name, "/")
			}
		}
	case "sts":
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, session, ok := strings.Cut(rest, "/")
			return ok && role != "" && session != ""
		}
		if name, ok := strings.CutPrefix(res, "federated-user/"); ok {
			return name != ""
		}
	}
	return false
}
