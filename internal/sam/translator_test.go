package sam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The cross-check: every fixture in testdata/ is transformed by Transform and by aws-sam-translator
// (testdata/translate.py) and the two templates are compared, resource by resource, after normalising what
// legitimately differs:
//
//   - the 10 characters ending a Version's logical ID (this package's hash is its own) are replaced by "#",
//     everywhere the ID appears;
//   - a local CodeUri, which Transform keeps as a string Code and translate.py has to replace by
//     s3://sluice-local-code/<path>, is compared as {S3Bucket: sluice-local-code, S3Key: <path>};
//   - Tags lists are sorted by key (Transform sorts them, the translator keeps the template's order);
//   - Fn::Or lists of generated conditions are sorted (the translator takes them from a Python set).
//
// Fixtures are testdata/<name>.json with optional parameter values in testdata/<name>.params.json; outputs of
// the translator kept for reference are testdata/<name>.translated.json.

const localCodeBucket = "sluice-local-code"

// requireTranslator returns the python3 to run translate.py with. Without aws-sam-translator the test fails
// when the CI environment variable is set and is skipped otherwise.
func requireTranslator(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err == nil {
		var out []byte
		out, err = exec.Command(python, "-c", "import samtranslator").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("aws-sam-translator is required in CI (pip install aws-sam-translator): %v", err)
		}
		t.Skipf("aws-sam-translator not available: %v", err)
	}
	return python
}

// fixtures lists the SAM templates of testdata/.
func fixtures(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".translated.json") && !strings.HasSuffix(p, ".params.json") {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures in testdata/")
	}
	return out
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// paramsFile returns the fixture's parameter file, or "" when it has none.
func paramsFile(fixture string) string {
	p := strings.TrimSuffix(fixture, ".json") + ".params.json"
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// pseudoParameters are the values the translator resolves from its session (translate.py runs in us-east-1).
var pseudoParameters = map[string]any{"AWS::Region": "us-east-1", "AWS::Partition": "aws"}

func transformFixture(t *testing.T, fixture string) map[string]any {
	t.Helper()
	opts := Options{Parameters: map[string]any{}}
	for k, v := range pseudoParameters {
		opts.Parameters[k] = v
	}
	if p := paramsFile(fixture); p != "" {
		for k, v := range readJSON(t, p) {
			opts.Parameters[k] = v
		}
	}
	got, err := Transform(readJSON(t, fixture), opts)
	if err != nil {
		t.Fatalf("Transform: %v", err)
	}
	return got
}

func translate(t *testing.T, python, fixture string) map[string]any {
	t.Helper()
	args := []string{filepath.Join("testdata", "translate.py"), fixture}
	if p := paramsFile(fixture); p != "" {
		args = append(args, p)
	}
	cmd := exec.Command(python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("translate.py %s: %v: %s", fixture, err, stderr.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("translate.py output: %v", err)
	}
	return m
}

func TestTranslatorCrossCheck(t *testing.T) {
	python := requireTranslator(t)
	for _, fixture := range fixtures(t) {
		t.Run(strings.TrimSuffix(filepath.Base(fixture), ".json"), func(t *testing.T) {
			t.Parallel()
			got := normalize(t, transformFixture(t, fixture), true)
			want := normalize(t, translate(t, python, fixture), false)
			compareTemplates(t, got, want)
		})
	}
}

// TestTranslatedReferences compares Transform with the translator outputs kept in testdata/<name>.translated.json
// (the seed template, function URLs), so that those fixtures are checked where aws-sam-translator is not installed.
func TestTranslatedReferences(t *testing.T) {
	for _, name := range []string{"seed", "urls"} {
		t.Run(name, func(t *testing.T) {
			got := normalize(t, transformFixture(t, filepath.Join("testdata", name+".json")), true)
			want := normalize(t, readJSON(t, filepath.Join("testdata", name+".translated.json")), false)
			compareTemplates(t, got, want)
		})
	}
}

// compareTemplates checks, with a readable message for each, what the brief of this package names — the set of
// logical IDs, each Type, the alias UpdatePolicy keys, the deployment group's DeploymentConfigName,
// AlarmConfiguration and AutoRollbackConfiguration, the roles' trust principals — and then every resource,
// condition and output in full.
func compareTemplates(t *testing.T, got, want map[string]any) {
	t.Helper()
	gotRes, wantRes := got["Resources"].(map[string]any), want["Resources"].(map[string]any)
	if g, w := sortedKeys(gotRes), sortedKeys(wantRes); !reflect.DeepEqual(g, w) {
		t.Fatalf("logical IDs:\n got %v\nwant %v", g, w)
	}
	for _, id := range sortedKeys(wantRes) {
		g, w := gotRes[id].(map[string]any), wantRes[id].(map[string]any)
		if g["Type"] != w["Type"] {
			t.Errorf("%s: Type %v, want %v", id, g["Type"], w["Type"])
			continue
		}
		gp, _ := g["Properties"].(map[string]any)
		wp, _ := w["Properties"].(map[string]any)
		switch w["Type"] {
		case "AWS::Lambda::Alias":
			if gk, wk := updatePolicyKeys(g), updatePolicyKeys(w); !reflect.DeepEqual(gk, wk) {
				t.Errorf("%s: UpdatePolicy keys %v, want %v", id, gk, wk)
			}
		case "AWS::CodeDeploy::DeploymentGroup":
			for _, k := range []string{"DeploymentConfigName", "AlarmConfiguration", "AutoRollbackConfiguration"} {
				if !reflect.DeepEqual(gp[k], wp[k]) {
					t.Errorf("%s: %s\n got %s\nwant %s", id, k, jsonString(gp[k]), jsonString(wp[k]))
				}
			}
		case "AWS::IAM::Role":
			if gt, wt := trustPrincipals(gp), trustPrincipals(wp); !reflect.DeepEqual(gt, wt) {
				t.Errorf("%s: trust principals %v, want %v", id, gt, wt)
			}
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s differs:\n got %s\nwant %s", id, jsonString(g), jsonString(w))
		}
	}
	for _, section := range []string{"Conditions", "Outputs", "Parameters", "Mappings", "Metadata", "Description"} {
		if !reflect.DeepEqual(got[section], want[section]) {
			t.Errorf("%s differ:\n got %s\nwant %s", section, jsonString(got[section]), jsonString(want[section]))
		}
	}
	for _, section := range []string{"Transform", "Globals"} {
		if _, ok := got[section]; ok {
			t.Errorf("output still has %s", section)
		}
	}
}

func updatePolicyKeys(res map[string]any) []string {
	up, _ := res["UpdatePolicy"].(map[string]any)
	u, _ := up["CodeDeployLambdaAliasUpdate"].(map[string]any)
	return sortedKeys(u)
}

func trustPrincipals(props map[string]any) []string {
	var out []string
	doc, _ := props["AssumeRolePolicyDocument"].(map[string]any)
	statements, _ := doc["Statement"].([]any)
	for _, s := range statements {
		sm, _ := s.(map[string]any)
		p, _ := sm["Principal"].(map[string]any)
		switch svc := p["Service"].(type) {
		case string:
			out = append(out, svc)
		case []any:
			for _, e := range svc {
				out = append(out, fmt.Sprint(e))
			}
		}
	}
	sort.Strings(out)
	return out
}

func jsonString(v any) string {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// normalize applies the normalisations listed at the top of this file. local tells whether tpl comes from
// Transform (whose local Code strings become the translate.py placeholder).
func normalize(t *testing.T, tpl map[string]any, local bool) map[string]any {
	t.Helper()
	// Round-trip through JSON so that both sides have encoding/json's types.
	b, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	resources, _ := out["Resources"].(map[string]any)
	renames := map[string]string{}
	for id, r := range resources {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::Lambda::Version":
			fnRef, _ := props["FunctionName"].(map[string]any)
			fn, _ := fnRef["Ref"].(string)
			if fn != "" && strings.HasPrefix(id, fn+"Version") {
				renames[id] = fn + "Version#"
			}
		case "AWS::Lambda::Function":
			if s, ok := props["Code"].(string); ok && local {
				props["Code"] = map[string]any{"S3Bucket": localCodeBucket, "S3Key": s}
			}
		}
	}
	for old, renamed := range renames {
		resources[renamed] = resources[old]
		delete(resources, old)
	}
	out = renameIDs(out, renames).(map[string]any)
	sortTags(out)
	if conds, ok := out["Conditions"].(map[string]any); ok {
		for name, c := range conds {
			if !strings.HasPrefix(name, "ServerlessCodeDeployCondition") {
				continue
			}
			if or, ok := c.(map[string]any)["Fn::Or"].([]any); ok {
				sort.Slice(or, func(i, j int) bool { return jsonString(or[i]) < jsonString(or[j]) })
			}
		}
	}
	return out
}

var subRef = regexp.MustCompile(`\$\{([^}.!]+)`)

// renameIDs replaces logical IDs in Refs, GetAtts, DependsOn lists and ${...} of Subs.
func renameIDs(v any, renames map[string]string) any {
	if len(renames) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = renameIDs(e, renames)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = renameIDs(e, renames)
		}
		return x
	case string:
		if r, ok := renames[x]; ok {
			return r
		}
		return subRef.ReplaceAllStringFunc(x, func(m string) string {
			if r, ok := renames[m[2:]]; ok {
				return "${" + r
			}
			return m
		})
	default:
		return v
	}
}

// sortTags sorts every Tags list of {Key, Value} maps by key.
func sortTags(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if tags, ok := e.([]any); ok && k == "Tags" {
				sort.SliceStable(tags, func(i, j int) bool {
					a, _ := tags[i].(map[string]any)
					b, _ := tags[j].(map[string]any)
					return fmt.Sprint(a["Key"]) < fmt.Sprint(b["Key"])
				})
			}
			sortTags(e)
		}
	case []any:
		for _, e := range x {
			sortTags(e)
		}
	}
}
