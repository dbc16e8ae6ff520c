package cfn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// yamlValue converts a YAML snippet the way Parse converts a template.
func yamlValue(t *testing.T, src string) any {
	t.Helper()
	root, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	v, err := (&converter{lines: map[string]int{}}).value(root, "")
	if err != nil {
		t.Fatalf("convert %q: %v", src, err)
	}
	return v
}

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tmpl
}

func mustEvaluator(t *testing.T, tmpl *Template, overrides map[string]string) *Evaluator {
	t.Helper()
	e, err := NewEvaluator(tmpl, testPseudo, overrides)
	if err != nil {
		t.Fatalf("NewEvaluator: %v", err)
	}
	return e
}

var testPseudo = Pseudo{
	Region:    "eu-west-1",
	AccountID: "123456789012",
	StackName: "orders",
	StackID:   "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/8f2c",
}

// fakeRefs answers "ref-<id>" and "arn-<id>.<attr>", a list for the attribute AZs, and an error for id Broken.
type fakeRefs struct{}

var errBroken = errors.New("resource Broken failed to create")

func (fakeRefs) Ref(id string) (any, error) {
	if id == "Broken" {
		return nil, errBroken
	}
	return "ref-" + id, nil
}

func (fakeRefs) GetAtt(id, attr string) (any, error) {
	if id == "Broken" {
		return nil, errBroken
	}
	if attr == "AZs" {
		return []string{"az1", "az2"}, nil
	}
	return fmt.Sprintf("arn-%s.%s", id, attr), nil
}

// checkErr fails unless err's text contains want, or err is nil and want is empty.
func checkErr(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is a %T, not an *Error", err, err)
		}
	}
	return err == nil
}
