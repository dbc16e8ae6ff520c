package runtimes

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Runtime families.
const (
	FamilyProvided = "provided"
	FamilyNode     = "nodejs"
	FamilyPython   = "python"
)

// Where the shims live below the directory WriteShims writes (and Sluice mounts in the sandbox).
const (
	NodeShim   = "node/index.js"
	PythonShim = "python/bootstrap.py"
)

// Runtime describes how Sluice starts a runtime identifier.
type Runtime struct {
	Name   string // the Lambda runtime identifier, e.g. "nodejs20.x"
	Family string // FamilyProvided, FamilyNode or FamilyPython

	// Command returns argv (argv[0] an absolute path inside the sandbox) to start the runtime, given where the
	// shims are mounted (e.g. "/opt/sluice-runtime") and the task root. For "provided" it is
	// taskRoot+"/bootstrap"; for nodejs and python, argv[0] is the interpreter recorded by the last
	// FindInterpreters call (or found with no overrides on first use). Use CommandFor to pass the interpreters
	// explicitly.
	Command func(shimDir, taskRoot string) []string
}

var table = func() map[string]Runtime {
	m := map[string]Runtime{}
	add := func(name, family string) {
		rt := Runtime{Name: name, Family: family}
		rt.Command = func(shimDir, taskRoot string) []string {
			argv, _ := rt.CommandFor(defaultInterpreters(), shimDir, taskRoot)
			return argv
		}
		m[name] = rt
	}
	for _, n := range []string{"provided", "provided.al2", "provided.al2023"} {
		add(n, FamilyProvided)
	}
	for _, v := range []int{18, 20, 22, 24} {
		add(fmt.Sprintf("nodejs%d.x", v), FamilyNode)
	}
	for minor := 9; minor <= 14; minor++ {
		add(fmt.Sprintf("python3.%d", minor), FamilyPython)
	}
	return m
}()

// Lookup returns how to start the Lambda runtime identifier runtime (exact, case-sensitive, as AWS spells it):
// provided, provided.al2, provided.al2023, nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x and python3.9 to
// python3.14.
func Lookup(runtime string) (Runtime, bool) {
	rt, ok := table[runtime]
	return rt, ok
}

// Names returns every runtime identifier Lookup knows, sorted.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CommandFor returns argv to start r with the given interpreters: for provided runtimes
// [taskRoot/bootstrap]; for nodejs [in.Node, shimDir/node/index.js]; for python
// [in.Python, -s, -u, shimDir/python/bootstrap.py]. It fails if the family's interpreter is empty or not
// absolute.
func (r Runtime) CommandFor(in Interpreters, shimDir, taskRoot string) ([]string, error) {
	switch r.Family {
	case FamilyProvided:
		return []string{path.Join(taskRoot, "bootstrap")}, nil
	case FamilyNode:
		if !path.IsAbs(in.Node) {
			return []string{"node", path.Join(shimDir, NodeShim)}, fmt.Errorf("runtime %s: no usable node interpreter was found", r.Name)
		}
		return []string{in.Node, path.Join(shimDir, NodeShim)}, nil
	case FamilyPython:
		if !path.IsAbs(in.Python) {
			return []string{"python3", "-s", "-u", path.Join(shimDir, PythonShim)}, fmt.Errorf("runtime %s: no usable python3 interpreter was found", r.Name)
		}
		return []string{in.Python, "-s", "-u", path.Join(shimDir, PythonShim)}, nil
	}
	return nil, fmt.Errorf("runtime %q: unknown family %q", r.Name, r.Family)
}

// Env returns the variables AWS's execution environment defines for r that are not specific to a function
// or an invocation, as "KEY=value" strings, sorted by key:
//
//	all        LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR (shimDir/node, shimDir/python, or shimDir for provided),
//	           LANG=en_US.UTF-8, TZ=:UTC, PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin
//	provided   LD_LIBRARY_PATH=<taskRoot>/lib:/opt/lib
//	nodejs     AWS_EXECUTION_ENV=AWS_Lambda_nodejsNN.x,
//	           NODE_PATH=/opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:<taskRoot>
//	python     AWS_EXECUTION_ENV=AWS_Lambda_python3.N
//
// The caller adds the function's own variables (AWS_LAMBDA_FUNCTION_NAME, _HANDLER, AWS_LAMBDA_RUNTIME_API,
// credentials, AWS_ENDPOINT_URL, the user's variables, ...). Sluice decides precedence; AWS lets the user's
// variables override none of the reserved ones. PYTHONPATH is not set: that is where Sluice can add a
// site-packages directory providing boto3 (see the package documentation).
func (r Runtime) Env(shimDir, taskRoot string) []string {
	env := map[string]string{
		"LAMBDA_TASK_ROOT": taskRoot,
		"LANG":             "en_US.UTF-8",
		"TZ":               ":UTC",
		"PATH":             "/usr/local/bin:/usr/bin:/bin:/opt/bin",
	}
	switch r.Family {
	case FamilyProvided:
		env["LAMBDA_RUNTIME_DIR"] = shimDir
		env["LD_LIBRARY_PATH"] = path.Join(taskRoot, "lib") + ":/opt/lib"
	case FamilyNode:
		env["LAMBDA_RUNTIME_DIR"] = path.Join(shimDir, path.Dir(NodeShim))
		env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + r.Name
		major := strings.TrimSuffix(strings.TrimPrefix(r.Name, "nodejs"), ".x")
		env["NODE_PATH"] = "/opt/nodejs/node" + major + "/node_modules:/opt/nodejs/node_modules:" + taskRoot
	case FamilyPython:
		env["LAMBDA_RUNTIME_DIR"] = path.Join(shimDir, path.Dir(PythonShim))
		env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + r.Name
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
