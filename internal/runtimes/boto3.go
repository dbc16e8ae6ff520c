package runtimes

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// boto3Checked memoizes Boto3Missing by interpreter and python path: importing boto3 takes a good part of a
// second, and a process (a test binary) may start many services on the same interpreter.
var boto3Checked sync.Map // [2]string{python, pythonPath} → boto3Answer

type boto3Answer struct {
	advice string
	ok     bool
}

// Boto3Missing says how to fix a Python interpreter whose functions cannot `import boto3` — most hooks and
// many functions do, and on AWS the runtime provides it, so its absence otherwise shows only when the first
// such function fails with Runtime.ImportModuleError. It imports boto3 as functions run: with the interpreter's
// -s (no user site-packages) and pythonPath as PYTHONPATH (Sluice's --python-path). ok is true when the import
// works, or when there is no interpreter to ask.
func Boto3Missing(python, pythonPath string) (advice string, ok bool) {
	if python == "" {
		return "", true
	}
	key := [2]string{python, pythonPath}
	if a, ok := boto3Checked.Load(key); ok {
		return a.(boto3Answer).advice, a.(boto3Answer).ok
	}
	advice, ok = boto3Import(python, pythonPath)
	boto3Checked.Store(key, boto3Answer{advice, ok})
	return advice, ok
}

func boto3Import(python, pythonPath string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-s", "-c", "import boto3")
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONPATH=" + pythonPath}
	if err := cmd.Run(); err == nil {
		return "", true
	}
	return fmt.Sprintf("%s cannot import boto3, so Python functions that use it (CodeDeploy hooks, most AWS calls) fail with "+
		"Runtime.ImportModuleError; install it for that interpreter (Debian/Ubuntu: apt-get install python3-boto3), "+
		"or point --python-path at a directory holding it (pip install --target DIR boto3), or choose another interpreter with --python PATH", python), false
}
