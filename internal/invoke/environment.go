package invoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/runtimeapi"
	"github.com/sluice-dev/sluice/internal/runtimes"
	"github.com/sluice-dev/sluice/internal/sandbox"
	"github.com/sluice-dev/sluice/internal/scratch"
)

// initTimeout bounds a runtime's initialisation, as Lambda's 10 s init phase does.
const initTimeout = 10 * time.Second

// environment is one execution environment: one sandboxed process, one Runtime API endpoint, one invocation at a
// time.
type environment struct {
	id        string
	pool      *pool
	api       *runtimeapi.Server
	proc      process
	startErr  error // the runtime could not be started (e.g. no bootstrap): every invocation fails with it
	uid       uint32
	vol       *scratch.Volume // the device behind /tmp, or nil
	tmpDir    string          // the host directory behind /tmp (no mount namespace), or ""
	out       *outputSink
	logStream string
	initType  string
	// provisioned environments are kept warm for a provisioned-concurrency configuration (guarded by pool.mu).
	provisioned bool

	spawned      time.Time
	peakRead     time.Time // when peakBytes was read (one invocation at a time: no lock needed)
	peakBytes    uint64
	initialized  bool
	initDuration time.Duration
	lastUsed     time.Time
}

// stream name as Lambda forms it: date, [version], environment id.
func logStreamName(version, id string, now time.Time) string {
	return now.UTC().Format("2006/01/02") + "/[" + version + "]" + id
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// launch starts the environment's process. A runtime that cannot even be started is not an error here: the
// environment records it and reports it on its first invocation, as Lambda does.
func (s *Service) launch(ctx context.Context, p *pool, initType string) (*environment, error) {
	t := p.target
	codeDir, err := s.codeDirOf(ctx, t)
	if err != nil {
		return nil, err
	}
	uid, err := s.uids.get()
	if err != nil {
		return nil, err
	}
	id := randomID()
	now := p.now()
	e := &environment{id: id, pool: p, uid: uid, out: &outputSink{}, initType: initType,
		logStream: logStreamName(t.version, id, now), spawned: now}
	if e.api, err = runtimeapi.Listen(s.admitOnly(e)); err != nil {
		s.uids.put(uid)
		return nil, err
	}
	s.envs.add(e)
	go e.api.Serve()

	rt, ok := runtimes.Lookup(t.config.Runtime)
	if !ok {
		e.startErr = fmt.Errorf("Runtime.InvalidRuntime: the runtime %s is not supported by Sluice", t.config.Runtime)
		return e, nil
	}
	spec := sandbox.Spec{
		CodeDir:       codeDir,
		ExtraReadOnly: []sandbox.Mount{{Host: s.shimDir, Sandbox: shimMount}},
		UID:           uid, GID: uid,
		MemoryMB:  t.config.MemorySize,
		CPUs:      lambda.VCPUs(t.config.MemorySize),
		TmpSizeMB: t.config.EphemeralStorage,
		HideDirs:  []string{s.opts.DataDir},
		Stdout:    e.out, Stderr: e.out,
	}
	mech := s.sandboxes.Detect()
	// /tmp: a volume of its own, bounded in total and costing no memory; without volumes, a tmpfs of the same size
	// (bounded, but charged to the function's memory); without a mount namespace, a host directory (per-file limit).
	switch {
	case s.opts.Scratch != nil:
		vol, err := s.opts.Scratch.Take(ctx, t.config.EphemeralStorage)
		if err != nil {
			e.destroy(s)
			return nil, err
		}
		e.vol = vol
		spec.TmpDevice, spec.TmpFSType, spec.TmpMount = vol.Device, scratch.FSType, vol.Mount
	case !mech.MountNamespace:
		e.tmpDir = filepath.Join(s.opts.DataDir, "tmp", id)
		spec.TmpDir = e.tmpDir
	}
	taskRoot := mech.TaskRoot(spec)
	shimDir := mech.Resolve(spec, shimMount)
	argv, err := rt.CommandFor(s.interpreters, shimDir, taskRoot)
	if err != nil {
		e.startErr = fmt.Errorf("Runtime.InvalidRuntime: %v", err)
		return e, nil
	}
	spec.Path, spec.Args = argv[0], argv[1:]
	spec.Env = s.environ(t, e, rt, shimDir, taskRoot)
	proc, err := s.sandboxes.Start(ctx, spec)
	switch {
	case errors.Is(err, sandbox.ErrExecFailed) && rt.Family == runtimes.FamilyProvided:
		e.startErr = fmt.Errorf("Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): [%s/bootstrap /opt/bootstrap]", taskRootFor(taskRoot))
	case errors.Is(err, sandbox.ErrExecFailed):
		e.startErr = fmt.Errorf("Runtime.InvalidEntrypoint: %v", errors.Unwrap(err))
	case err != nil:
		e.destroy(s)
		return nil, err
	}
	e.proc = proc
	return e, nil
}

func taskRootFor(p string) string { return p }

// codeDirOf is the target's extracted package. The catalog resolved it when it made the target, unless this node
// had not extracted the package then (in a cluster, the function was settled by another node): then the Source
// extracts it now, fetching it from a peer if need be — only cold starts get here, never a warm invocation.
func (s *Service) codeDirOf(ctx context.Context, t *target) (string, error) {
	if t.codeDir != "" {
		return t.codeDir, nil
	}
	dir, err := s.opts.Source.EnsureCode(ctx, t.config.CodeSha256)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		s.log.Warn("function code unavailable on this node", "function", t.function, "version", t.version,
			"codeSha256", t.config.CodeSha256, "err", err)
		return "", fault.New("ResourceNotReadyException",
			"The code of function %s could not be brought to this node yet; retry shortly.", t.function)
	}
	return dir, nil
}

// environ builds the function process's environment (reference §4).
func (s *Service) environ(t *target, e *environment, rt runtimes.Runtime, shimDir, taskRoot string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + e.api.Addr(),
		"_HANDLER=" + t.config.Handler,
		"AWS_LAMBDA_FUNCTION_NAME=" + t.function,
		"AWS_LAMBDA_FUNCTION_VERSION=" + t.version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(t.config.MemorySize),
		"AWS_LAMBDA_INITIALIZATION_TYPE=" + e.initType,
		"AWS_LAMBDA_LOG_GROUP_NAME=" + t.config.LogGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + e.logStream,
		"AWS_REGION=" + s.opts.Account.Region,
		"AWS_DEFAULT_REGION=" + s.opts.Account.Region,
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"AWS_ENDPOINT_URL=" + s.opts.Endpoint,
		"HOME=/tmp",
	}
	if s.opts.CABundle != "" {
		env = append(env, "AWS_CA_BUNDLE="+s.opts.CABundle, "NODE_EXTRA_CA_CERTS="+s.opts.CABundle)
	}
	env = append(env, rt.Env(shimDir, taskRoot)...)
	if s.opts.PythonPath != "" && rt.Family == runtimes.FamilyPython {
		env = append(env, "PYTHONPATH="+s.opts.PythonPath)
	}
	if s.opts.Credentials != nil {
		env = append(env, s.opts.Credentials(t.config.Role, t.function)...)
	}
	for k, v := range t.config.Environment {
		env = append(env, k+"="+v)
	}
	return env
}

// awaitInit waits until the runtime asks for its first event, reports an init error, dies, or takes longer than
// timeout.
func (e *environment) awaitInit(timeout time.Duration) error {
	if e.startErr != nil {
		return e.startErr
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-e.api.Ready():
		e.initialized = true
		e.initDuration = e.pool.now().Sub(e.spawned)
		return nil
	case <-e.api.InitFailed():
		return errInitFailed
	case <-e.proc.Done():
		return errExited
	case <-timer.C:
		return errInitTimeout
	}
}

var (
	errInitFailed  = errors.New("init error reported")
	errExited      = errors.New("runtime exited")
	errInitTimeout = errors.New("init timed out")
)

// destroy kills the process and releases everything the environment holds.
func (e *environment) destroy(s *Service) {
	if e.proc != nil {
		e.proc.Kill()
		e.proc.Wait()
	}
	e.api.Close()
	if e.tmpDir != "" {
		removeAll(e.tmpDir)
	}
	if e.vol != nil {
		e.vol.Release()
	}
	s.envs.remove(e)
	s.uids.put(e.uid)
}

// removeAll deletes a tree a function wrote, even read-only directories it left behind.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// exitDescription renders how the runtime ended the way Lambda words it ("exit status 1", "signal: killed").
func exitDescription(x sandbox.Exit) string {
	if x.Signal != "" {
		return "signal: " + x.Signal
	}
	return "exit status " + strconv.Itoa(x.Code)
}
