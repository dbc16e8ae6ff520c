package policy

import (
	"testing"
	"time"
)

func TestConditionHolds(t *testing.T) {
	const key = "k:key"
	// absent is a nil request value list: the key is not in the context.
	var absent []string
	cases := []struct {
		name     string
		operator string
		policy   []string
		request  []string
		want     bool
	}{
		// String operators.
		{"StringEquals match", "StringEquals", []string{"a"}, []string{"a"}, true},
		{"StringEquals is case-sensitive", "StringEquals", []string{"a"}, []string{"A"}, false},
		{"StringEquals star is literal", "StringEquals", []string{"a*"}, []string{"ab"}, false},
		{"StringEquals policy values OR", "StringEquals", []string{"a", "b"}, []string{"b"}, true},
		{"StringEquals any request value", "StringEquals", []string{"a"}, []string{"x", "a"}, true},
		{"StringEquals absent", "StringEquals", []string{"a"}, absent, false},
		{"StringEquals empty value list is absent", "StringEquals", []string{"a"}, []string{}, false},
		{"StringEquals no policy values", "StringEquals", []string{}, []string{"a"}, false},
		{"StringEquals escape", "StringEquals", []string{"a${*}"}, []string{"a*"}, true},
		{"StringNotEquals differs", "StringNotEquals", []string{"a"}, []string{"b"}, true},
		{"StringNotEquals equal", "StringNotEquals", []string{"a"}, []string{"a"}, false},
		{"StringNotEquals none of policy values", "StringNotEquals", []string{"a", "b"}, []string{"c"}, true},
		{"StringNotEquals one of policy values", "StringNotEquals", []string{"a", "b"}, []string{"b"}, false},
		{"StringNotEquals one request value matches", "StringNotEquals", []string{"a"}, []string{"x", "a"}, false},
		{"StringNotEquals absent", "StringNotEquals", []string{"a"}, absent, true},
		{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", []string{"Main"}, []string{"mAIN"}, true},
		{"StringNotEqualsIgnoreCase same", "StringNotEqualsIgnoreCase", []string{"Main"}, []string{"mAIN"}, false},
		{"StringNotEqualsIgnoreCase differs", "StringNotEqualsIgnoreCase", []string{"Main"}, []string{"dev"}, true},
		{"StringLike star", "StringLike", []string{"repo:o/r:*"}, []string{"repo:o/r:ref:refs/heads/x"}, true},
		{"StringLike question", "StringLike", []string{"v?"}, []string{"v1"}, true},
		{"StringLike is case-sensitive", "StringLike", []string{"repo:O/R:*"}, []string{"repo:o/r:x"}, false},
		{"StringLike escape", "StringLike", []string{"a${*}"}, []string{"ab"}, false},
		{"StringNotLike", "StringNotLike", []string{"repo:o/r:*"}, []string{"repo:o/x:y"}, true},
		{"StringNotLike matching", "StringNotLike", []string{"repo:o/r:*"}, []string{"repo:o/r:y"}, false},

		// Numeric.
		{"NumericEquals", "NumericEquals", []string{"10"}, []string{"10.0"}, true},
		{"NumericEquals exponent", "NumericEquals", []string{"2.5e1"}, []string{"25"}, true},
		{"NumericNotEquals", "NumericNotEquals", []string{"10"}, []string{"11"}, true},
		{"NumericNotEquals equal", "NumericNotEquals", []string{"10"}, []string{"10"}, false},
		{"NumericLessThan", "NumericLessThan", []string{"10"}, []string{"9"}, true},
		{"NumericLessThan equal", "NumericLessThan", []string{"10"}, []string{"10"}, false},
		{"NumericLessThanEquals", "NumericLessThanEquals", []string{"10"}, []string{"10"}, true},
		{"NumericGreaterThan", "NumericGreaterThan", []string{"10"}, []string{"-11"}, false},
		{"NumericGreaterThanEquals", "NumericGreaterThanEquals", []string{"-1.5"}, []string{"-1.5"}, true},
		{"Numeric request not a number", "NumericLessThan", []string{"10"}, []string{"five"}, false},
		{"Numeric NaN refused", "NumericEquals", []string{"NaN"}, []string{"NaN"}, false},
		{"Numeric Inf refused", "NumericLessThan", []string{"Inf"}, []string{"1"}, false},
		{"Numeric hex refused", "NumericEquals", []string{"0x10"}, []string{"16"}, false},

		// Date.
		{"DateLessThan ISO", "DateLessThan", []string{"2020-01-01T00:00:00Z"}, []string{"2019-12-31T23:59:59Z"}, true},
		{"DateLessThan equal", "DateLessThan", []string{"2020-01-01T00:00:00Z"}, []string{"2020-01-01T00:00:00Z"}, false},
		{"DateLessThanEquals", "DateLessThanEquals", []string{"2020-01-01T00:00:00Z"}, []string{"2020-01-01T00:00:00Z"}, true},
		{"DateGreaterThan epoch vs ISO", "DateGreaterThan", []string{"1577836800"}, []string{"2020-01-01T00:00:01Z"}, true},
		{"DateEquals offset", "DateEquals", []string{"2020-01-01T01:00:00+01:00"}, []string{"2020-01-01T00:00:00Z"}, true},
		{"DateEquals date only is midnight UTC", "DateEquals", []string{"2020-01-01"}, []string{"1577836800"}, true},
		{"DateEquals fractional seconds", "DateEquals", []string{"2020-01-01T00:00:00.000Z"}, []string{"2020-01-01T00:00:00Z"}, true},
		{"DateNotEquals", "DateNotEquals", []string{"2020-01-01"}, []string{"2020-01-02"}, true},
		{"DateGreaterThanEquals lower-case t z", "DateGreaterThanEquals", []string{"2020-01-01t00:00:00z"}, []string{"2020-01-01T00:00:00Z"}, true},
		{"Date request garbage", "DateGreaterThan", []string{"2020-01-01"}, []string{"soon"}, false},

		// Bool.
		{"Bool true", "Bool", []string{"true"}, []string{"true"}, true},
		{"Bool case-insensitive", "Bool", []string{"TRUE"}, []string{"true"}, true},
		{"Bool mismatch", "Bool", []string{"true"}, []string{"false"}, false},
		{"Bool absent", "Bool", []string{"false"}, absent, false},
		{"BoolIfExists absent", "BoolIfExists", []string{"false"}, absent, true},
		{"Bool garbage", "Bool", []string{"yes"}, []string{"yes"}, false},

		// IP.
		{"IpAddress v4 in range", "IpAddress", []string{"203.0.113.0/24"}, []string{"203.0.113.7"}, true},
		{"IpAddress v4 out of range", "IpAddress", []string{"203.0.113.0/24"}, []string{"203.0.114.7"}, false},
		{"IpAddress bare address", "IpAddress", []string{"203.0.113.7"}, []string{"203.0.113.7"}, true},
		{"IpAddress non-canonical CIDR", "IpAddress", []string{"203.0.113.9/24"}, []string{"203.0.113.200"}, true},
		{"IpAddress v4-mapped request", "IpAddress", []string{"10.0.0.0/8"}, []string{"::ffff:10.1.2.3"}, true},
		{"IpAddress v6", "IpAddress", []string{"2001:db8::/32"}, []string{"2001:db8::1"}, true},
		{"IpAddress family mismatch", "IpAddress", []string{"2001:db8::/32"}, []string{"10.0.0.1"}, false},
		{"IpAddress garbage request", "IpAddress", []string{"10.0.0.0/8"}, []string{"localhost"}, false},
		{"NotIpAddress outside", "NotIpAddress", []string{"10.0.0.0/8", "192.168.0.0/16"}, []string{"203.0.113.1"}, true},
		{"NotIpAddress inside", "NotIpAddress", []string{"10.0.0.0/8", "192.168.0.0/16"}, []string{"192.168.1.1"}, false},

		// ARN.
		{"ArnEquals exact", "ArnEquals", []string{"arn:aws:lambda:us-east-1:123456789012:function:f"},
			[]string{"arn:aws:lambda:us-east-1:123456789012:function:f"}, true},
		{"ArnLike region wildcard", "ArnLike", []string{"arn:aws:lambda:*:123456789012:function:f"},
			[]string{"arn:aws:lambda:eu-west-1:123456789012:function:f"}, true},
		{"ArnEquals takes wildcards too", "ArnEquals", []string{"arn:aws:lambda:*:123456789012:function:*"},
			[]string{"arn:aws:lambda:eu-west-1:123456789012:function:f:live"}, true},
		{"ArnLike star does not span components", "ArnLike", []string{"arn:aws:lambda:*:function:f"},
			[]string{"arn:aws:lambda:us-east-1:123456789012:function:f"}, false},
		{"ArnLike is case-sensitive", "ArnLike", []string{"arn:aws:iam::123456789012:role/Deploy"},
			[]string{"arn:aws:iam::123456789012:role/deploy"}, false},
		{"ArnLike request not an ARN", "ArnLike", []string{"arn:aws:iam::*:role/x"}, []string{"role/x"}, false},
		{"ArnLike short policy value", "ArnLike", []string{"*"}, []string{"arn:aws:iam::123456789012:role/x"}, true},
		{"ArnNotEquals different", "ArnNotEquals", []string{"arn:aws:iam::123456789012:role/a"},
			[]string{"arn:aws:iam::123456789012:role/b"}, true},
		{"ArnNotLike matching", "ArnNotLike", []string{"arn:aws:iam::123456789012:role/*"},
			[]string{"arn:aws:iam::123456789012:role/b"}, false},

		// Null.
		{"Null true absent", "Null", []string{"true"}, absent, true},
		{"Null true present", "Null", []string{"true"}, []string{"x"}, false},
		{"Null false present", "Null", []string{"false"}, []string{"x"}, true},
		{"Null false absent", "Null", []string{"false"}, absent, false},
		{"Null JSON bool text", "Null", []string{"TRUE"}, absent, true},
		{"Null garbage", "Null", []string{"maybe"}, absent, false},

		// IfExists.
		{"StringEqualsIfExists absent", "StringEqualsIfExists", []string{"a"}, absent, true},
		{"StringEqualsIfExists present mismatch", "StringEqualsIfExists", []string{"a"}, []string{"b"}, false},
		{"StringNotLikeIfExists present matching", "StringNotLikeIfExists", []string{"a*"}, []string{"ab"}, false},

		// Set qualifiers.
		{"ForAnyValue one matches", "ForAnyValue:StringEquals", []string{"a", "b"}, []string{"x", "b"}, true},
		{"ForAnyValue none matches", "ForAnyValue:StringEquals", []string{"a", "b"}, []string{"x", "y"}, false},
		{"ForAnyValue absent", "ForAnyValue:StringEquals", []string{"a"}, absent, false},
		{"ForAnyValue absent negated", "ForAnyValue:StringNotEquals", []string{"a"}, absent, false},
		{"ForAnyValue negated one differs", "ForAnyValue:StringNotEquals", []string{"a"}, []string{"a", "b"}, true},
		{"ForAnyValue negated all equal", "ForAnyValue:StringNotEquals", []string{"a"}, []string{"a", "a"}, false},
		{"ForAnyValue IfExists absent", "ForAnyValue:StringEqualsIfExists", []string{"a"}, absent, true},
		{"ForAllValues subset", "ForAllValues:StringEquals", []string{"a", "b", "c"}, []string{"a", "c"}, true},
		{"ForAllValues not subset", "ForAllValues:StringEquals", []string{"a", "b"}, []string{"a", "z"}, false},
		{"ForAllValues absent", "ForAllValues:StringEquals", []string{"a"}, absent, true},
		{"ForAllValues empty list is absent", "ForAllValues:StringEquals", []string{"a"}, []string{}, true},
		{"ForAllValues negated none listed", "ForAllValues:StringNotEquals", []string{"a"}, []string{"b", "c"}, true},
		{"ForAllValues negated one listed", "ForAllValues:StringNotEquals", []string{"a"}, []string{"b", "a"}, false},
		{"ForAllValues StringLike", "ForAllValues:StringLike", []string{"env-*"}, []string{"env-a", "env-b"}, true},
		{"ForAllValues:Null", "ForAllValues:Null", []string{"true"}, absent, true},

		// Operators Parse refuses never hold.
		{"unknown operator", "StringEqualz", []string{"a"}, []string{"a"}, false},
		{"NullIfExists", "NullIfExists", []string{"true"}, absent, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := Context{}
			if tc.request != nil {
				ctx[key] = tc.request
			}
			for _, vars := range []bool{false, true} {
				if tc.name == "StringEquals escape" && !vars {
					continue // escapes exist only under 2012-10-17
				}
				c := Condition{Operator: tc.operator, Key: key, Values: tc.policy}
				if got := c.holds(foldContext(ctx), vars); got != tc.want {
					t.Fatalf("%s %q against %q (vars=%v) = %v, want %v", tc.operator, tc.policy, tc.request, vars, got, tc.want)
				}
			}
		})
	}
}

func TestConditionKeyCaseInsensitive(t *testing.T) {
	cases := []struct {
		policyKey, requestKey string
	}{
		{"aws:SourceIp", "aws:sourceip"},
		{"token.actions.githubusercontent.com:sub", "Token.Actions.GitHubUserContent.com:SUB"},
		{"AWS:PrincipalTag/Team", "aws:principaltag/team"},
	}
	for _, tc := range cases {
		c := Condition{Operator: "StringEquals", Key: tc.policyKey, Values: []string{"v"}}
		if !c.holds(foldContext(Context{tc.requestKey: {"v"}}), true) {
			t.Errorf("key %q did not find request key %q", tc.policyKey, tc.requestKey)
		}
	}
	// Keys that differ only in case pool their values.
	c := Condition{Operator: "ForAllValues:StringEquals", Key: "k:x", Values: []string{"a"}}
	if c.holds(foldContext(Context{"k:x": {"a"}, "K:X": {"b"}}), true) {
		t.Error("values of case-variant keys must be pooled")
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2020-01-02T03:04:05Z", utc(2020, 1, 2, 3, 4, 5), true},
		{"2020-01-02T03:04:05.123456789Z", utc(2020, 1, 2, 3, 4, 5).Add(123456789), true},
		{"2020-01-02T03:04:05+02:00", utc(2020, 1, 2, 1, 4, 5), true},
		{"2020-01-02T03:04:05-0130", utc(2020, 1, 2, 4, 34, 5), true},
		{"2020-01-02T03:04:05", utc(2020, 1, 2, 3, 4, 5), true},
		{"2020-01-02T03:04Z", utc(2020, 1, 2, 3, 4, 0), true},
		{"2020-01-02T03", utc(2020, 1, 2, 3, 0, 0), true},
		{"2020-01-02", utc(2020, 1, 2, 0, 0, 0), true},
		{"2020-01", utc(2020, 1, 1, 0, 0, 0), true},
		{"0", time.Unix(0, 0).UTC(), true},
		{"1577836800", utc(2020, 1, 1, 0, 0, 0), true},
		{"", time.Time{}, false},
		{"2020-02-30", time.Time{}, false},
		{"2020-01-02T24:00:00Z", time.Time{}, false},
		{"1.5", time.Time{}, false},
		{"-1", time.Time{}, false},
		{"1234567890123456789", time.Time{}, false},
		{"now", time.Time{}, false},
	}
	for _, tc := range cases {
		got, ok := parseDate(tc.in)
		if ok != tc.ok || ok && !got.Equal(tc.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
