// Package sandbox owns the isolation of function code: it starts ONE untrusted process (an
// aws-lambda-go bootstrap, or node/python running a runtime shim) with the strongest isolation
// the host offers, supervises it, and guarantees that when it is killed or its main process
// exits, nothing it started survives. Pooling, reuse and the Lambda runtime protocol belong to
// the caller.
//
// A binary that uses the package must call [MaybeRunInit] first thing in main (and TestMain):
// [Start] re-executes /proc/self/exe as the sandbox's init, which sets the sandbox up as root
// (Go cannot run code between fork and exec) and then execs the target in place, so the pid
// [Process.Pid] returns is the function's own. The init receives its plan (including the
// environment, which may hold credentials) through an inherited pipe, never argv, and reports a
// failure through a close-on-exec status pipe: EOF on it means the exec succeeded, so Start
// only returns once it knows. A missing or non-executable Path yields an error wrapping
// [ErrExecFailed] (the caller's Runtime.InvalidEntrypoint).
//
// In a cgo build the init is C (init_linux.c), run by an ELF constructor before the Go runtime
// starts: the re-executed binary never starts Go nor runs its package initialisers (~1 ms of CPU
// for an init instead of ~10–30 ms, docs/benchmarks.md), and it stays one binary. Without cgo
// (or without a C compiler, where Go turns cgo off) MaybeRunInit runs the same steps in Go
// (init_linux.go). Both follow the same plan (plan_linux.go) in the same order and report the
// same stages; the rest of this description holds for both.
//
// # Mechanisms
//
// Start uses whatever [Detect] finds (cached; the Notes list the details):
//
// Always (every host):
//   - The process runs as Spec.UID:Spec.GID with no supplementary groups and no capabilities
//     (verified before exec; Start refuses uid/gid 0), with PR_SET_NO_NEW_PRIVS (setuid binaries
//     and file capabilities grant nothing) and a parent-death signal (SIGKILL if the server dies).
//   - It leads its own process group; its environment is exactly Spec.Env; it inherits no file
//     descriptors but stdin (/dev/null), stdout and stderr (pipes), no ignored or blocked
//     signals, and umask 022.
//   - rlimits: RLIMIT_CORE 0, RLIMIT_NOFILE 1024 soft / 4096 hard (Lambda's soft limit),
//     RLIMIT_FSIZE = TmpSizeMB (per file).
//   - Kill and the end of the main process SIGKILL the process group (while the main pid is a
//     zombie, so the group id cannot have been reused), then what the mechanisms below reach.
//   - CPUs: with Spec.CPUs below the number of CPUs the server may use, the process is pinned
//     (sched_setaffinity) to that many of them, those the fewest live sandboxes use. Runtimes size
//     themselves by the affinity (Go's GOMAXPROCS, Python's os.sched_getaffinity), and a process
//     spinning on the CPU cannot take the whole machine. The process may widen its own mask again
//     (it is a placement, not a quota).
//
// Mount namespace (CLONE_NEWNS; needs root; otherwise Detect notes why it is missing):
//   - All mounts are made private, so nothing propagates to the host or to other sandboxes.
//   - The host file system is made read-only and nosuid, recursively (mount_setattr(2), Linux
//     5.12+; without it the host file system keeps its permissions).
//   - CodeDir is bound read-only (nosuid, nodev) at TaskRoot, each ExtraReadOnly directory at its
//     Sandbox path (mount points missing on the host are created there, mode 0755).
//   - /tmp, one of three:
//     TmpDevice (what the server uses): a file system of its own, sized by the caller (package
//     scratch: an ext4 image on a loop device), mounted nosuid, nodev, noatime. Its total is capped
//     (ENOSPC past it), it costs the function no memory, and it is mounted only inside the
//     sandbox. With TmpMount the server has already mounted it, detached; the init takes that
//     mount with pidfd_getfd(2) and attaches it with move_mount(2) (microseconds; mounting the
//     device, the fallback, costs one to several milliseconds).
//     TmpDir: a host directory bound read-write (the size is only enforced per file, by
//     RLIMIT_FSIZE). Neither: a private tmpfs of TmpSizeMB (strictly capped, but its pages are
//     charged to the memory limit). In every case /tmp is mode 0700 and owned by the sandbox's uid.
//   - /dev/shm: a private 64 MiB tmpfs.
//   - /proc: a private instance with hidepid=2, so the function sees only its own uid's
//     processes (not the server's command line, nor other functions).
//   - HideDirs: an empty read-only tmpfs over each (after the binds, so CodeDir and TmpDir may lie
//     inside, e.g., the server's data directory). Entries below /tmp need no mount: the private
//     /tmp already hides them.
//
// Without a mount namespace none of that happens: the process runs from CodeDir (TaskRoot is
// CodeDir), Path must be reachable on the host, /tmp is the host's and HideDirs are merely
// listed. [Mechanisms.Resolve] maps sandbox paths to the paths that apply (Start uses it for
// Path and the working directory; callers use it for paths in Args and Env), and the sandbox
// uid must be able to read CodeDir (the code store's 0711/0555 layout allows that).
//
// cgroups (v1 preferred when its memory hierarchy is mounted and writable, as on hosts with
// legacy or hybrid hierarchies; otherwise v2 if its root offers the memory controller and
// sub-cgroups can get it — not the case at the root of a container's cgroup namespace):
//   - Start creates <hierarchy>/<CgroupParent>/p<server pid>.<server start time>-<n> (v1: in the
//     memory, pids and freezer hierarchies that are mounted), sets memory.limit_in_bytes and
//     memory.memsw.limit_in_bytes (v1; the latter stops escaping into swap) or memory.max,
//     memory.swap.max=0 and memory.oom.group=1 (v2), and pids.max = MaxProcs, and moves the init
//     there before it reads its plan, so nothing of the function ever runs outside. A prestarted
//     init (prewarm_linux.go) is created in its own cgroup and joined while it waits — moving a
//     process costs milliseconds — so Start only writes its limits.
//   - Exit.OOMKilled comes from the oom_kill counter (v1 memory.oom_control, v2 memory.events);
//     PeakMemoryBytes from memory.max_usage_in_bytes (v1) or memory.peak (v2, Linux 5.19+).
//   - Killing: cgroup.kill (v2, Linux 5.14+), else SIGKILL every pid in cgroup.procs until it is
//     empty, escalating to freeze/kill/thaw rounds (v1 freezer or v2 cgroup.freeze) if processes
//     keep appearing; then the cgroups are removed. Processes cannot leave a cgroup, so this
//     reaches double-forked setsid daemons too. [CleanupStale] kills and removes what a server
//     that died left behind (thawing it if it died mid-freeze); call it when the server starts.
//   - MaxProcs and MemoryMB have lower bounds ([MinMaxProcs], [MinMemoryMB]) because the init runs
//     under them for a moment before exec (the Go init of a build without cgo needs that room).
//
// Without cgroups (rlimit fallback, e.g. in an unprivileged container):
//   - Memory: RLIMIT_DATA = MemoryMB (not RLIMIT_AS, which breaks Go and V8, as they reserve
//     address space they never use). Exceeding it makes allocations fail, usually crashing the
//     runtime; this is not reported as OOMKilled. PeakMemoryBytes is the main process's peak RSS.
//   - Processes: RLIMIT_NPROC = MaxProcs (also used when only the pids controller is missing).
//     The kernel counts every process of the real uid, so it is only a per-sandbox limit if
//     each environment gets a uid of its own, which the pool must guarantee.
//   - Killing: setsid() lets a process leave the process group, so after the group, every
//     process whose real or effective uid is the sandbox's is killed, repeatedly until none is
//     left (again relying on one uid per environment; skipped if the server itself runs as that
//     uid, in which case escaped daemons survive).
//
// Orphans (descendants whose parent died) are reparented to pid 1, which must reap them; if the
// server itself runs as pid 1 of a container, run it under a minimal init (docker --init, tini),
// or killed descendants stay zombies.
//
// Uids: each environment must run as a uid of its own (kill-by-uid, RLIMIT_NPROC and the peer
// check below rely on it). [LeaseUIDs] gives each server on a host a disjoint block of uids (a
// flock(2) per block in /run/sluice, dropped by the kernel when the server exits).
//
// Network: sandboxes share the host's network namespace, loopback included (functions reach the
// Sluice API and the outside world unchanged). What keeps one environment off another's Runtime
// API, whose paths carry no identity, is [PeerUID]: the listener asks the kernel (one exact
// NETLINK_INET_DIAG lookup, tens of microseconds, once per connection; runtimes keep theirs open)
// which uid owns the connecting socket, and refuses — resets — any but its environment's before
// reading a byte. This holds whenever sandboxes get uids of their own, which needs root; a server
// that is not root cannot drop functions to other uids, so it cannot run them at all. Not covered:
// servers a function itself listens on (loopback or not) are reachable by other functions, as on
// a shared host; the pid and IPC namespaces are not separated; CPU time is bounded only by the
// placement above (the caller enforces timeouts by calling Kill).
package sandbox
