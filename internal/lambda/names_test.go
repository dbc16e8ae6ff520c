package lambda

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

var acct = Account{Region: "us-east-1", ID: "000000000000"}

func TestParseFunctionName(t *testing.T) {
	cases := []struct {
		in       string
		wantName string
		wantQual string
		wantCode string
		wantMsg  string
	}{
		{in: "orders", wantName: "orders"},
		{in: "orders:live", wantName: "orders", wantQual: "live"},
		{in: "orders:42", wantName: "orders", wantQual: "42"},
		{in: "orders:$LATEST", wantName: "orders", wantQual: "$LATEST"},
		{in: "000000000000:function:orders", wantName: "orders"},
		{in: "000000000000:function:orders:live", wantName: "orders", wantQual: "live"},
		{in: "arn:aws:lambda:us-east-1:000000000000:function:orders", wantName: "orders"},
		{in: "arn:aws:lambda:us-east-1:000000000000:function:orders:7", wantName: "orders", wantQual: "7"},
		{in: "arn:aws:lambda:us-west-2:000000000000:function:orders", wantCode: fault.ResourceNotFound,
			wantMsg: "Functions from 'us-west-2' are not reachable in this region ('us-east-1')"},
		{in: "arn:aws:lambda:us-east-1:111111111111:function:orders", wantCode: fault.ResourceNotFound,
			wantMsg: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders"},
		{in: "bad name", wantCode: fault.Validation},
		{in: "", wantCode: fault.Validation},
		{in: strings.Repeat("a", 141), wantCode: fault.Validation},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			ref, err := acct.ParseFunctionName("functionName", c.in, 140)
			if c.wantCode != "" {
				f, ok := fault.As(err)
				if !ok || f.Code != c.wantCode {
					t.Fatalf("err = %v, want %s", err, c.wantCode)
				}
				if c.wantMsg != "" && f.Message != c.wantMsg {
					t.Fatalf("message = %q, want %q", f.Message, c.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.Name != c.wantName || ref.Qualifier != c.wantQual {
				t.Fatalf("got %+v, want %s / %s", ref, c.wantName, c.wantQual)
			}
		})
	}
}

func TestWithQualifier(t *testing.T) {
	cases := []struct {
		ref      Ref
		param    string
		want     string
		wantCode string
	}{
		{Ref{Name: "f"}, "", "", ""},
		{Ref{Name: "f"}, "live", "live", ""},
		{Ref{Name: "f", Qualifier: "live"}, "", "live", ""},
		{Ref{Name: "f", Qualifier: "live"}, "live", "live", ""},
		{Ref{Name: "f", Qualifier: "live"}, "1", "", fault.InvalidParameterValue},
		{Ref{Name: "f"}, "bad qualifier!", "", fault.Validation},
	}
	for _, c := range cases {
		got, err := c.ref.WithQualifier(c.param)
		if c.wantCode != "" {
			if !fault.Is(err, c.wantCode) {
				t.Errorf("%+v + %q: err = %v, want %s", c.ref, c.param, err, c.wantCode)
			}
			continue
		}
		if err != nil || got.Qualifier != c.want {
			t.Errorf("%+v + %q = %+v, %v; want qualifier %q", c.ref, c.param, got, err, c.want)
		}
	}
}

func TestNamesAndVersions(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func(string) error
		in   string
		ok   bool
	}{
		{"function", ValidNewFunctionName, "orders-v2_x", true},
		{"function", ValidNewFunctionName, strings.Repeat("a", 64), true},
		{"function", ValidNewFunctionName, strings.Repeat("a", 65), false},
		{"function", ValidNewFunctionName, "has.dot", false},
		{"alias", ValidAliasName, "live", true},
		{"alias", ValidAliasName, "2024-01-02", true},
		{"alias", ValidAliasName, "2024", false},
		{"alias", ValidAliasName, "", false},
		{"alias", ValidAliasName, strings.Repeat("a", 129), false},
		{"version", func(s string) error { return ValidVersion("functionVersion", s) }, "$LATEST", true},
		{"version", func(s string) error { return ValidVersion("functionVersion", s) }, "12", true},
		{"version", func(s string) error { return ValidVersion("functionVersion", s) }, "live", false},
	} {
		if err := c.fn(c.in); (err == nil) != c.ok {
			t.Errorf("%s %q: err = %v, want ok=%v", c.name, c.in, err, c.ok)
		}
	}
}

func TestVersionKeySortsNumerically(t *testing.T) {
	if !(VersionKey(9) < VersionKey(10) && VersionKey(10) < VersionKey(100)) {
		t.Fatal("version keys must sort numerically")
	}
}

// FuzzParseFunctionNameFastPath checks that names taken by the fast path parse as the pattern parses them.
func FuzzParseFunctionNameFastPath(f *testing.F) {
	for _, s := range []string{"bench", "my-fn_1", "a.b", "function", "us-east-1", "123456789012", "arn", "", "x:y", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainFunctionName(s) {
			return
		}
		m := functionNamePattern.FindStringSubmatch(s)
		if m == nil || m[4] != s || m[2] != "" || m[3] != "" || m[5] != "" {
			t.Fatalf("%q: the pattern gives %q, the fast path the whole name", s, m)
		}
	})
}

func TestParseFunctionNameFastPath(t *testing.T) {
	a := Account{ID: "123456789012", Region: "us-east-1"}
	for _, s := range []string{"bench", "my-fn_1.v2", "function", "us-east-1", "123456789012"} {
		ref, err := a.ParseFunctionName("functionName", s, 140)
		if err != nil || ref != (Ref{Name: s}) {
			t.Errorf("%q: %+v, %v", s, ref, err)
		}
	}
	for _, q := range []string{"live", "$LATEST", "12", "a-b_c$"} {
		if !plainQualifier(q) || !qualifierPattern.MatchString(q) {
			t.Errorf("qualifier %q: fast path %v, pattern %v", q, plainQualifier(q), qualifierPattern.MatchString(q))
		}
	}
	for _, q := range []string{"", "$LATEST.PUBLISHED", "a.b", "a b"} {
		if plainQualifier(q) {
			t.Errorf("qualifier %q taken by the fast path", q)
		}
	}
	for _, s := range []string{"bench:live", "function:bench", "123456789012:function:bench", "bad name", "bench/x"} {
		if plainFunctionName(s) {
			t.Errorf("%q taken for a plain name", s)
		}
	}
}

// BenchmarkParseFunctionName compares the invoke path's usual case, a plain name, through the pattern (before the
// fast path) and through ParseFunctionName now.
func BenchmarkParseFunctionName(b *testing.B) {
	a := Account{ID: "123456789012", Region: "us-east-1"}
	b.Run("pattern", func(b *testing.B) {
		for b.Loop() {
			functionNamePattern.FindStringSubmatch("bench-function")
		}
	})
	b.Run("ParseFunctionName", func(b *testing.B) {
		for b.Loop() {
			a.ParseFunctionName("functionName", "bench-function", 140)
		}
	})
}
