// Package archtest checks that Sluice's dependencies point inward (docs/architecture.md, "Dependencies point
// inward"): it walks the module's imports with `go list` and fails on any import the layer table forbids.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sluice-dev/sluice/"

// layer is a package's place in the dependency order.
type layer string

const (
	domain  layer = "domain"  // pure rules: no I/O, no store, no HTTP server
	infra   layer = "infra"   // mechanisms with no AWS domain of their own: storage, sandboxing, signing, packaging
	service layer = "service" // use cases and engines over domain and infra
	client  layer = "client"  // the `sluice deploy` engine: an AWS API client, knows no server-side package
	edge    layer = "edge"    // wire protocols over services
	cli     layer = "cli"     // cobra commands and terminal rendering
	wiring  layer = "wiring"  // assembles everything: the server, main, benchmarks, end-to-end tests
)

// layers places every package of the module, by import path relative to the module; the longest matching prefix
// wins (a prefix ending in "/" matches the packages below it). A package with no entry fails the test, so a new
// package must be placed before it can be imported.
var layers = map[string]layer{
	"internal/fault":                           domain,
	"internal/lambda":                          domain,
	"internal/codedeploy":                      domain,
	"internal/metricmath":                      domain,
	"internal/iam/policy":                      domain,
	"internal/cfn":                             domain,
	"internal/sam":                             domain,
	"internal/s3":                              domain,
	"internal/ssm":                             domain,
	"internal/sns":                             domain,
	"internal/store":                           infra,
	"internal/store/":                          infra,
	"internal/codestore":                       infra,
	"internal/codestore/replica":               infra,
	"internal/blobstore":                       infra,
	"internal/blobstore/replica":               infra,
	"internal/cluster":                         infra,
	"internal/cluster/replicate":               infra,
	"internal/durable":                         infra,
	"internal/cluster/replicate/replicatetest": infra,
	"internal/reconcile":                       infra,
	"internal/sigv4":                           infra,
	"internal/tlsca":                           infra,
	"internal/certfile":                        infra,
	"internal/oidc":                            infra,
	"internal/oidc/":                           infra,
	"internal/awsraw":                          infra,
	"internal/sdkhttp":                         infra,
	"internal/pack":                            infra,
	"internal/sandbox":                         infra,
	"internal/scratch":                         infra,
	"internal/runtimes":                        infra,
	"internal/runtimeapi":                      infra,
	"internal/auth":                            service,
	"internal/controlplane":                    service,
	"internal/invoke":                          service,
	"internal/asyncq":                          service,
	"internal/logstore":                        service,
	"internal/metrics":                         service,
	"internal/alarms":                          service,
	"internal/iam":                             service,
	"internal/codedeploy/controller":           service,
	"internal/stack":                           service,
	"internal/s3/buckets":                      service,
	"internal/cloudformation":                  service,
	"internal/parameterstore":                  service,
	"internal/sns/topics":                      service,
	"internal/console":                         service,
	"internal/stackdeploy":                     client,
	"internal/api/":                            edge,
	"internal/prom":                            edge,
	"internal/cli":                             cli,
	"internal/cli/":                            cli,
	"internal/server":                          wiring,
	"internal/archtest":                        wiring,
	"cmd/":                                     wiring,
	"bench/":                                   wiring,
	"test/":                                    wiring,
}

// rule forbids a layer's packages to import another layer's.
type rule struct {
	from, to layer
	why      string
}

// rules are the forbidden edges. Everything else is allowed, and within a layer anything goes (Go itself forbids
// cycles).
var rules = []rule{
	{domain, infra, "domain is pure: it imports no mechanism"},
	{domain, service, "domain imports no service"},
	{domain, client, "domain imports no client"},
	{domain, edge, "domain imports no edge (edge → domain → edge)"},
	{domain, cli, "domain imports no cli"},
	{domain, wiring, "domain imports no wiring"},
	{infra, service, "infra imports no service"},
	{infra, client, "infra imports no client"},
	{infra, edge, "infra imports no edge"},
	{infra, cli, "infra imports no cli"},
	{infra, wiring, "infra imports no wiring"},
	{service, client, "services import no client"},
	{service, edge, "services import no edge: an edge converts wire → domain, not the other way (edge → domain → edge)"},
	{service, cli, "services import no cli"},
	{service, wiring, "services import no wiring"},
	{client, edge, "the deploy engine is an API client: it imports no server edge"},
	{client, cli, "the deploy engine reports through an observer; cli renders (no domain → cli)"},
	{client, wiring, "the deploy engine imports no wiring"},
	{edge, client, "edges import no client"},
	{edge, cli, "edges import no cli"},
	{edge, wiring, "edges import no wiring"},
	{cli, edge, "cli is a client of the wire protocols: it imports no server edge"},
}

// forbiddenStd lists standard packages a layer may not import.
var forbiddenStd = map[layer][]string{
	domain: {"net/http", "os/exec"},
}

func layerOf(pkg string) (layer, bool) {
	rel, ok := strings.CutPrefix(pkg, module)
	if !ok {
		return "", false
	}
	best, bestLen := layer(""), -1
	for prefix, l := range layers {
		match := rel == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(rel, prefix)
		if match && len(prefix) > bestLen {
			best, bestLen = l, len(prefix)
		}
	}
	return best, bestLen >= 0
}

// imports lists each package of the module with its direct, non-test imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if len(m) == 0 {
		t.Fatal("go list listed no packages")
	}
	return m
}

func TestDependenciesPointInward(t *testing.T) {
	for pkg, imps := range imports(t) {
		from, ok := layerOf(pkg)
		if !ok {
			t.Errorf("%s has no layer: add it to the layers table in imports_test.go", pkg)
			continue
		}
		for _, imp := range imps {
			if slices.Contains(forbiddenStd[from], imp) {
				t.Errorf("%s (%s) imports %s: %s packages do not import %s", pkg, from, imp, from, imp)
			}
			to, ok := layerOf(imp)
			if !ok {
				continue // standard library or a third-party module
			}
			for _, r := range rules {
				if r.from == from && r.to == to {
					t.Errorf("%s (%s) imports %s (%s): %s", pkg, from, imp, to, r.why)
				}
			}
		}
	}
}

// TestTable keeps the tables honest: every rule names known layers.
func TestTable(t *testing.T) {
	known := map[layer]bool{domain: true, infra: true, service: true, client: true, edge: true, cli: true, wiring: true}
	for _, r := range rules {
		if !known[r.from] || !known[r.to] {
			t.Errorf("rule %v names an unknown layer", r)
		}
	}
}

// TestLayerOf checks the longest prefix wins and an unplaced package is reported.
func TestLayerOf(t *testing.T) {
	for _, tc := range []struct {
		pkg  string
		want layer
		ok   bool
	}{
		{module + "internal/iam", service, true},
		{module + "internal/iam/policy", domain, true},
		{module + "internal/store/bolt", infra, true},
		{module + "internal/cli/progress", cli, true},
		{module + "internal/api/codedeployapi", edge, true},
		{module + "internal/codedeploy/controller", service, true},
		{module + "internal/stackdeploy", client, true},
		{module + "cmd/sluice", wiring, true},
		{module + "internal/unplaced", "", false},
		{"net/http", "", false},
	} {
		if got, ok := layerOf(tc.pkg); got != tc.want || ok != tc.ok {
			t.Errorf("layerOf(%s) = %q, %v; want %q, %v", tc.pkg, got, ok, tc.want, tc.ok)
		}
	}
}
