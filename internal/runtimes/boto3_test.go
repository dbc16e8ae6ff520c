package runtimes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoto3Missing asks a real python3 to import a boto3 that the test provides, or not, through PYTHONPATH
// (as --python-path would).
func TestBoto3Missing(t *testing.T) {
	in, _ := FindInterpreters("", "")
	if in.Python == "" {
		t.Skip("no python3 on this machine")
	}
	provided := t.TempDir()
	if err := os.MkdirAll(filepath.Join(provided, "boto3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(provided, "boto3", "__init__.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	// Whether the machine's python3 has boto3 of its own is not the test's to know: the refusal is seen with
	// an interpreter that cannot import anything.
	if _, ok := Boto3Missing(in.Python, provided); !ok {
		t.Errorf("boto3 on the python path: reported missing")
	}
	for _, tc := range []struct {
		name, python string
		ok           bool
	}{
		{name: "no interpreter", python: "", ok: true},
		{name: "an interpreter that fails", python: "/bin/false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			advice, ok := Boto3Missing(tc.python, empty)
			if ok != tc.ok {
				t.Fatalf("Boto3Missing(%q) ok = %v, want %v (%s)", tc.python, ok, tc.ok, advice)
			}
			if !ok {
				for _, want := range []string{tc.python + " cannot import boto3", "apt-get install python3-boto3", "--python-path", "--python PATH"} {
					if !strings.Contains(advice, want) {
						t.Errorf("advice %q does not say %q", advice, want)
					}
				}
			}
		})
	}
}
