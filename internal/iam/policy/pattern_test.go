package policy

import "testing"

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		fold, vars bool
		want       bool
	}{
		{"*", "", false, false, true},
		{"*", "anything:at/all", false, false, true},
		{"", "", false, false, true},
		{"", "a", false, false, false},
		{"abc", "abc", false, false, true},
		{"abc", "abcd", false, false, false},
		{"abc", "ab", false, false, false},
		{"a*c", "ac", false, false, true},
		{"a*c", "abbbc", false, false, true},
		{"a*c", "abbbcd", false, false, false},
		{"a**c", "abc", false, false, true},
		{"a?c", "abc", false, false, true},
		{"a?c", "ac", false, false, false},
		{"a?c", "abbc", false, false, false},
		{"?", "é", false, false, true}, // one character, not one byte
		{"*a*b*", "xxaxxbxx", false, false, true},
		{"*a*b", "xxbxxa", false, false, false},
		{"*aab", "aaaab", false, false, true}, // needs backtracking
		{"ABC", "abc", false, false, false},
		{"ABC", "abc", true, false, true},
		{"lambda:Update*", "LAMBDA:updatefunctioncode", true, false, true},
		{"K", "\u212a", true, false, true}, // Kelvin sign folds to K
		// Policy-variable escapes only under 2012-10-17.
		{"a${*}", "a*", false, true, true},
		{"a${*}", "ab", false, true, false},
		{"a${*}", "a${x}", false, false, true}, // 2008: '*' is a wildcard
		{"a${?}b", "a?b", false, true, true},
		{"a${?}b", "axb", false, true, false},
		{"${$}x", "$x", false, true, true},
		{"home/${aws:username}/*", "home/${aws:username}/f", false, true, true},
		{"home/${aws:username}/*", "home/alice/f", false, true, false},
		{"a${b", "a${b", false, true, true}, // unterminated: literal text
		{"a${*", "a${zz", false, true, true},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s, tc.fold, tc.vars); got != tc.want {
			t.Errorf("globMatch(%q, %q, fold=%v, vars=%v) = %v, want %v", tc.pattern, tc.s, tc.fold, tc.vars, got, tc.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	cases := []struct {
		in   string
		vars bool
		want string
	}{
		{"a${*}b${?}c${$}", true, "a*b?c$"},
		{"a${*}b", false, "a${*}b"},
		{"${aws:username}", true, "${aws:username}"},
		{"${", true, "${"},
	}
	for _, tc := range cases {
		if got := unescape(tc.in, tc.vars); got != tc.want {
			t.Errorf("unescape(%q, %v) = %q, want %q", tc.in, tc.vars, got, tc.want)
		}
	}
}
