package policy

import (
	"cmp"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// operatorKind groups operators by the type of value they compare; Parse
// validates values only for dates, as IAM does.
type operatorKind int

const (
	kindString operatorKind = iota
	kindNumeric
	kindDate
	kindBool
	kindIP
	kindARN
	kindNull
)

// opSpec describes a base operator. match reports whether one request value
// matches one policy value under the operator's positive form; negated
// operators invert the per-value result (see Condition).
type opSpec struct {
	kind    operatorKind
	negated bool
	match   func(reqValue, policyValue string, vars bool) bool
}

var operators = map[string]opSpec{
	"StringEquals":              {kindString, false, stringEquals},
	"StringNotEquals":           {kindString, true, stringEquals},
	"StringEqualsIgnoreCase":    {kindString, false, stringEqualsFold},
	"StringNotEqualsIgnoreCase": {kindString, true, stringEqualsFold},
	"StringLike":                {kindString, false, stringLike},
	"StringNotLike":             {kindString, true, stringLike},

	"NumericEquals":            {kindNumeric, false, numeric(func(c int) bool { return c == 0 })},
	"NumericNotEquals":         {kindNumeric, true, numeric(func(c int) bool { return c == 0 })},
	"NumericLessThan":          {kindNumeric, false, numeric(func(c int) bool { return c < 0 })},
	"NumericLessThanEquals":    {kindNumeric, false, numeric(func(c int) bool { return c <= 0 })},
	"NumericGreaterThan":       {kindNumeric, false, numeric(func(c int) bool { return c > 0 })},
	"NumericGreaterThanEquals": {kindNumeric, false, numeric(func(c int) bool { return c >= 0 })},

	"DateEquals":            {kindDate, false, date(func(c int) bool { return c == 0 })},
	"DateNotEquals":         {kindDate, true, date(func(c int) bool { return c == 0 })},
	"DateLessThan":          {kindDate, false, date(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":    {kindDate, false, date(func(c int) bool { return c <= 0 })},
	"DateGreaterThan":       {kindDate, false, date(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals": {kindDate, false, date(func(c int) bool { return c >= 0 })},

	"Bool": {kindBool, false, boolEquals},

	"IpAddress":    {kindIP, false, ipInRange},
	"NotIpAddress": {kindIP, true, ipInRange},

	"ArnEquals":    {kindARN, false, arnLike},
	"ArnLike":      {kindARN, false, arnLike},
	"ArnNotEquals": {kindARN, true, arnLike},
	"ArnNotLike":   {kindARN, true, arnLike},
}

type setQualifier int

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// operator is a Condition's Operator taken apart.
type operator struct {
	opSpec
	set      setQualifier
	ifExists bool
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its set
// qualifier, base operator and IfExists suffix. Names are case-sensitive.
func parseOperator(s string) (operator, bool) {
	var op operator
	if rest, ok := strings.CutPrefix(s, "ForAnyValue:"); ok {
		op.set, s = setAnyValue, rest
	} else if rest, ok := strings.CutPrefix(s, "ForAllValues:"); ok {
		op.set, s = setAllValues, rest
	}
	if rest, ok := strings.CutSuffix(s, "IfExists"); ok {
		op.ifExists, s = true, rest
	}
	if s == "Null" {
		// "Is the key absent?" has no meaning when absence passes anyway.
		op.kind = kindNull
		return op, !op.ifExists
	}
	spec, ok := operators[s]
	if !ok {
		return op, false
	}
	op.opSpec = spec
	return op, true
}

// holds evaluates the condition against the request's condition keys. An
// operator Parse would refuse never holds.
func (c *Condition) holds(ctx foldedContext, vars bool) bool {
	op, ok := parseOperator(c.Operator)
	if !ok {
		return false
	}
	values := ctx[strings.ToLower(c.Key)]
	if op.kind == kindNull {
		for _, p := range c.Values {
			if want, ok := parseBool(p); ok && want == (len(values) == 0) {
				return true
			}
		}
		return false
	}
	if len(values) == 0 {
		switch {
		case op.ifExists:
			return true
		case op.set == setAnyValue:
			return false
		case op.set == setAllValues:
			return true
		}
		return op.negated
	}
	pass := func(v string) bool {
		for _, p := range c.Values {
			if op.match(v, p, vars) {
				return !op.negated
			}
		}
		return op.negated
	}
	// Without a set qualifier a positive operator behaves like ForAnyValue
	// and a negated one like ForAllValues: "no request value matches".
	all := op.set == setAllValues || op.set == setNone && op.negated
	for _, v := range values {
		if pass(v) != all {
			return !all
		}
	}
	return all
}

// foldedContext is a Context keyed by lower-cased condition key, because
// IAM condition key names are case-insensitive.
type foldedContext map[string][]string

func foldContext(c Context) foldedContext {
	out := make(foldedContext, len(c))
	for k, v := range c {
		lk := strings.ToLower(k)
		out[lk] = append(out[lk], v...)
	}
	return out
}

func stringEquals(v, p string, vars bool) bool { return v == unescape(p, vars) }

func stringEqualsFold(v, p string, vars bool) bool { return strings.EqualFold(v, unescape(p, vars)) }

func stringLike(v, p string, vars bool) bool { return globMatch(p, v, false, vars) }

func numeric(test func(int) bool) func(string, string, bool) bool {
	return func(v, p string, _ bool) bool {
		a, ok1 := parseNumber(v)
		b, ok2 := parseNumber(p)
		return ok1 && ok2 && test(cmp.Compare(a, b))
	}
}

func date(test func(int) bool) func(string, string, bool) bool {
	return func(v, p string, _ bool) bool {
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(p)
		return ok1 && ok2 && test(a.Compare(b))
	}
}

func boolEquals(v, p string, _ bool) bool {
	a, ok1 := parseBool(v)
	b, ok2 := parseBool(p)
	return ok1 && ok2 && a == b
}

// ipInRange reports whether the request address v lies in the policy CIDR p.
// A bare address in the policy means that single address.
func ipInRange(v, p string, _ bool) bool {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	var prefix netip.Prefix
	if strings.Contains(p, "/") {
		if prefix, err = netip.ParsePrefix(p); err != nil {
			return false
		}
		prefix = prefix.Masked()
	} else {
		a, err := netip.ParseAddr(p)
		if err != nil {
			return false
		}
		a = a.Unmap()
		prefix = netip.PrefixFrom(a, a.BitLen())
	}
	return prefix.Contains(addr)
}

// arnLike compares the six colon-separated ARN components separately, each
// as a wildcard pattern; the resource component keeps any further colons.
// A policy value with fewer components is compared as one pattern.
func arnLike(v, p string, vars bool) bool {
	pp := strings.SplitN(p, ":", 6)
	if len(pp) < 6 {
		return globMatch(p, v, false, vars)
	}
	vp := strings.SplitN(v, ":", 6)
	if len(vp) < 6 {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], vp[i], false, vars) {
			return false
		}
	}
	return true
}

func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseNumber accepts decimal numbers with an optional sign, fraction and
// exponent; strconv.ParseFloat alone would also take "Inf", "NaN" and hex.
func parseNumber(s string) (float64, bool) {
	i, digits := 0, 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// dateLayouts are the ISO 8601 forms IAM accepts, most precise first. Go
// accepts a fractional second after the seconds field without a layout
// element for it; a time without a zone is UTC.
var dateLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04Z07",
	"2006-01-02T15:04",
	"2006-01-02T15Z07:00",
	"2006-01-02T15",
	"2006-01-02",
	"2006-01",
}

// parseDate accepts an ISO 8601 date-time or whole epoch seconds. As in
// IAM, a value without '-' or 'T' is read as epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if !strings.ContainsAny(s, "-tT") {
		if s == "" || len(s) > 18 {
			return time.Time{}, false
		}
		for _, c := range []byte(s) {
			if !isDigit(c) {
				return time.Time{}, false
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return time.Unix(n, 0).UTC(), err == nil
	}
	s = strings.ToUpper(s) // IAM accepts 't' and 'z'
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
