//go:build linux && cgo

// The sandbox init in C: what init_linux.go's runInit and setupAndExec do, run from an ELF constructor, so that a
// re-execution of the binary as a sandbox init sets the sandbox up and execs the function before the Go runtime
// and the binary's package initialisers start (they cost a cold start ~10 ms of CPU; this, well under one). It
// follows the plan (plan_linux.go's wire format) step by step as the Go init does, with the same stages in its
// failure reports; every step that can fail reports and exits 127, so nothing of a half-made sandbox runs code.

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "init_linux.h"

// System calls newer than some C libraries' headers (the numbers are the same on every architecture).
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define SLUICE_CLOSE_RANGE_CLOEXEC (1U << 2)
#define SLUICE_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define SLUICE_AT_RECURSIVE 0x8000
#define SLUICE_MOUNT_ATTR_RDONLY 0x00000001
#define SLUICE_MOUNT_ATTR_NOSUID 0x00000002

struct sluice_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

struct sluice_mount {
	const char *source, *target, *fstype, *data;
	unsigned long flags, remount;
	int server_fd;
};

struct sluice_rlimit {
	const char *name;
	int resource;
	unsigned long long cur, max;
};

struct sluice_plan {
	const char *path, *dir;
	char **argv, **envv;
	int uid, gid, parent_pid;
	int mount_ns, read_only_root, tmp_fresh;
	const char **mkdirs;
	int n_mkdirs;
	struct sluice_mount *mounts;
	int n_mounts;
	struct sluice_rlimit *rlimits;
	int n_rlimits;
	unsigned long long data_limit;
	int *cpus;
	int n_cpus;
};

// json_string appends s to out (of size cap, at *n) as a JSON string body.
static void json_string(char *out, size_t cap, size_t *n, const char *s) {
	for (; *s && *n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[(*n)++] = '\\';
			out[(*n)++] = (char)c;
		} else if (c < 0x20) {
			*n += (size_t)snprintf(out + *n, cap - *n, "\\u%04x", c);
		} else {
			out[(*n)++] = (char)c;
		}
	}
}

// fail reports {"Stage":…,"Errno":…,"Msg":…} on the status pipe (initError reads it) and exits.
__attribute__((noreturn, format(printf, 3, 4))) static void fail(const char *stage, int errnum, const char *format, ...) {
	char msg[1024], out[4096];
	va_list ap;
	va_start(ap, format);
	vsnprintf(msg, sizeof msg, format, ap);
	va_end(ap);
	size_t n = 0;
	n += (size_t)snprintf(out, sizeof out, "{\"Stage\":\"%s\",\"Errno\":%d,\"Msg\":\"", stage, errnum);
	json_string(out, sizeof out, &n, msg);
	n += (size_t)snprintf(out + n, sizeof out - n, "\"}");
	ssize_t unused = write(SLUICE_STATUS_FD, out, n);
	(void)unused;
	_exit(127);
}

// plan_reader takes the NUL-terminated fields of the plan in order (the buffer ends with a NUL of its own).
struct plan_reader {
	char *p, *end;
};

static char *field(struct plan_reader *r) {
	if (r->p >= r->end) {
		fail("plan", 0, "plan: truncated");
	}
	char *s = r->p;
	r->p += strlen(s) + 1;
	if (r->p > r->end) { // the field ran into the terminator this init added: it had no NUL of its own
		fail("plan", 0, "plan: truncated");
	}
	return s;
}

static unsigned long long number(struct plan_reader *r, unsigned long long max) {
	const char *s = field(r);
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9') {
		fail("plan", 0, "plan: %.40s is not a number", s);
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != 0 || v > max) {
		fail("plan", 0, "plan: %.40s is out of range", s);
	}
	return v;
}

static int integer(struct plan_reader *r) { return (int)number(r, INT_MAX); }
static int flag(struct plan_reader *r) { return (int)number(r, 1); }
static int count(struct plan_reader *r) { return (int)number(r, SLUICE_MAX_PLAN_LIST); }

static void *alloc(size_t n, size_t size) {
	void *p = calloc(n + 1, size); // one more: argv and envv end with NULL
	if (p == NULL) {
		fail("plan", ENOMEM, "plan: out of memory");
	}
	return p;
}

static char **strings(struct plan_reader *r) {
	int n = count(r);
	char **l = alloc((size_t)n, sizeof *l);
	for (int i = 0; i < n; i++) {
		l[i] = field(r);
	}
	return l;
}

// read_plan reads the plan pipe to EOF and parses it (plan_linux.go's decodePlan, field for field).
static void read_plan(struct sluice_plan *p) {
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (buf == NULL) {
			fail("plan", ENOMEM, "plan: out of memory");
		}
		ssize_t got = read(SLUICE_PLAN_FD, buf + n, cap - n);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			fail("plan", errno, "read plan");
		}
		if (got == 0) {
			break;
		}
		n += (size_t)got;
		if (n > SLUICE_MAX_PLAN_BYTES) {
			fail("plan", 0, "plan: too large");
		}
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	close(SLUICE_PLAN_FD);
	buf[n] = 0;
	struct plan_reader r = {buf, buf + n};
	const char *magic = field(&r);
	if (strcmp(magic, SLUICE_PLAN_MAGIC) != 0) {
		fail("plan", 0, "plan: starts with \"%.40s\", not \"%s\"", magic, SLUICE_PLAN_MAGIC);
	}
	p->path = field(&r);
	p->argv = strings(&r);
	p->envv = strings(&r);
	p->dir = field(&r);
	p->uid = integer(&r);
	p->gid = integer(&r);
	p->parent_pid = integer(&r);
	p->mount_ns = flag(&r);
	p->n_mkdirs = count(&r);
	p->mkdirs = alloc((size_t)p->n_mkdirs, sizeof *p->mkdirs);
	for (int i = 0; i < p->n_mkdirs; i++) {
		p->mkdirs[i] = field(&r);
	}
	p->read_only_root = flag(&r);
	p->n_mounts = count(&r);
	p->mounts = alloc((size_t)p->n_mounts, sizeof *p->mounts);
	for (int i = 0; i < p->n_mounts; i++) {
		struct sluice_mount *m = &p->mounts[i];
		m->source = field(&r);
		m->target = field(&r);
		m->fstype = field(&r);
		m->data = field(&r);
		m->flags = (unsigned long)number(&r, ULONG_MAX);
		m->remount = (unsigned long)number(&r, ULONG_MAX);
		m->server_fd = integer(&r);
	}
	p->tmp_fresh = flag(&r);
	p->n_rlimits = count(&r);
	p->rlimits = alloc((size_t)p->n_rlimits, sizeof *p->rlimits);
	for (int i = 0; i < p->n_rlimits; i++) {
		struct sluice_rlimit *l = &p->rlimits[i];
		l->name = field(&r);
		l->resource = integer(&r);
		l->cur = number(&r, ULLONG_MAX);
		l->max = number(&r, ULLONG_MAX);
	}
	p->data_limit = number(&r, ULLONG_MAX);
	p->n_cpus = count(&r);
	p->cpus = alloc((size_t)p->n_cpus, sizeof *p->cpus);
	for (int i = 0; i < p->n_cpus; i++) {
		p->cpus[i] = integer(&r);
	}
	if (r.p != r.end) {
		fail("plan", 0, "plan: %ld bytes after its end", (long)(r.end - r.p));
	}
	if (p->argv[0] == NULL) {
		fail("plan", 0, "plan: empty argv");
	}
}

// mkdir_all is os.MkdirAll(path, 0755).
static void mkdir_all(const char *path) {
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fail("mount", ENOTDIR, "mkdir %s", path);
		}
		return;
	}
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof buf) {
		fail("mount", ENAMETOOLONG, "mkdir %.100s", path);
	}
	strcpy(buf, path);
	for (char *s = buf + 1;; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
				fail("mount", errno, "mkdir %s", buf);
			}
			*s = c;
			if (c == 0) {
				break;
			}
		}
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fail("mount", ENOTDIR, "mkdir %s", path);
	}
}

// attach_server_mount takes the detached mount the server holds as fd and attaches it at target (0 on success).
static int attach_server_mount(int server, int fd, const char *target) {
	int pidfd = (int)syscall(SYS_pidfd_open, server, 0);
	if (pidfd < 0) {
		return -1;
	}
	int mfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	if (mfd < 0) {
		return -1;
	}
	int err = (int)syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, SLUICE_MOVE_MOUNT_F_EMPTY_PATH);
	close(mfd);
	return err;
}

static void setup_mounts(const struct sluice_plan *p) {
	// Nothing mounted from here on may propagate back to the host (or other sandboxes).
	if (mount("", "/", "", MS_REC | MS_PRIVATE, "") != 0) {
		fail("mount", errno, "making mounts private");
	}
	for (int i = 0; i < p->n_mkdirs; i++) {
		mkdir_all(p->mkdirs[i]);
	}
	if (p->read_only_root) {
		struct sluice_mount_attr attr = {.attr_set = SLUICE_MOUNT_ATTR_RDONLY | SLUICE_MOUNT_ATTR_NOSUID};
		if (syscall(SYS_mount_setattr, AT_FDCWD, "/", SLUICE_AT_RECURSIVE, &attr, sizeof attr) != 0) {
			fail("mount", errno, "making / read-only");
		}
	}
	for (int i = 0; i < p->n_mounts; i++) {
		const struct sluice_mount *m = &p->mounts[i];
		if (m->server_fd > 0 && attach_server_mount(p->parent_pid, m->server_fd, m->target) == 0) {
			continue;
		}
		if (mount(m->source, m->target, m->fstype, m->flags, m->data) != 0) {
			fail("mount", errno, "mount %s on %s", m->source, m->target);
		}
		if (m->remount != 0 && mount("", m->target, "", m->remount, "") != 0) {
			fail("mount", errno, "remount %s", m->target);
		}
	}
	if (p->tmp_fresh) {
		if (rmdir("/tmp/lost+found") != 0 && errno != ENOENT) {
			fail("mount", errno, "/tmp/lost+found");
		}
		if (chown("/tmp", (uid_t)p->uid, (gid_t)p->gid) != 0) {
			fail("mount", errno, "chown /tmp");
		}
		if (chmod("/tmp", 0700) != 0) {
			fail("mount", errno, "chmod /tmp");
		}
	}
}

// cloexec_all marks every descriptor above stderr close-on-exec (the fallback for kernels before 5.11).
static void cloexec_all(void) {
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		fail("fds", errno, "open /proc/self/fd");
	}
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*e->d_name != 0 && *end == 0 && fd > 2 && fd != self) {
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		}
	}
	closedir(d);
}

// drop_privileges switches this (only) thread to uid/gid with no supplementary groups and verifies the result:
// a sandbox must never start with root credentials or capabilities.
static void drop_privileges(int uid, int gid) {
	if (uid <= 0 || gid <= 0) {
		fail("credentials", 0, "refusing uid %d gid %d", uid, gid);
	}
	// Only root can drop supplementary groups; a non-root server runs sandboxes as itself. The process has one
	// thread (the Go runtime has not started), so the C library's wrappers, which pick the right system call on
	// every architecture (the 32-bit id ones where ids once were 16-bit), change only its credentials.
	int was_root = geteuid() == 0;
	if (was_root && setgroups(0, NULL) != 0) {
		fail("credentials", errno, "setgroups");
	}
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) {
		fail("credentials", errno, "setresgid %d", gid);
	}
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) {
		fail("credentials", errno, "setresuid %d", uid);
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0) {
		fail("credentials", errno, "reading credentials");
	}
	if (r != (uid_t)uid || e != (uid_t)uid || s != (uid_t)uid || rg != (gid_t)gid || eg != (gid_t)gid || sg != (gid_t)gid) {
		fail("credentials", 0, "credentials are %d/%d/%d:%d/%d/%d after switching to %d:%d", (int)r, (int)e, (int)s,
		     (int)rg, (int)eg, (int)sg, uid, gid);
	}
	if (was_root) {
		int n = getgroups(0, NULL);
		if (n != 0) {
			fail("credentials", n < 0 ? errno : 0, "%d supplementary groups remain", n);
		}
	}
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) != 0) {
		fail("credentials", errno, "capget");
	}
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (data[i].effective != 0) {
			fail("credentials", 0, "effective capabilities remain (word %d: %#x)", i, data[i].effective);
		}
	}
}

static void setup_and_exec(const struct sluice_plan *p) {
	// Mount points created on the host must be traversable by the sandbox uid whatever the server's umask; the
	// function inherits this conventional umask too.
	umask(022);
	if (p->mount_ns) {
		setup_mounts(p);
	}
	// A prestarted init ran at a low priority (warmNice); the function runs at the normal one.
	setpriority(PRIO_PROCESS, 0, 0);
	for (int i = 0; i < p->n_rlimits; i++) {
		const struct sluice_rlimit *l = &p->rlimits[i];
		struct rlimit lim = {.rlim_cur = l->cur, .rlim_max = l->max};
		int err = setrlimit(l->resource, &lim);
		if (err != 0 && errno == EPERM) {
			// Not root (no CAP_SYS_RESOURCE): the hard limit can only be lowered.
			struct rlimit old;
			if (getrlimit(l->resource, &old) == 0) {
				lim.rlim_max = lim.rlim_max < old.rlim_max ? lim.rlim_max : old.rlim_max;
				lim.rlim_cur = lim.rlim_cur < old.rlim_max ? lim.rlim_cur : old.rlim_max;
				err = setrlimit(l->resource, &lim);
			}
		}
		if (err != 0) {
			fail("rlimit", errno, "setrlimit %s", l->name);
		}
	}
	// The affinity of the thread that calls execve is the target's: its runtime sizes itself by it.
	if (p->n_cpus > 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (int i = 0; i < p->n_cpus; i++) {
			if (p->cpus[i] >= CPU_SETSIZE) {
				fail("affinity", EINVAL, "sched_setaffinity: CPU %d", p->cpus[i]);
			}
			CPU_SET(p->cpus[i], &set);
		}
		if (sched_setaffinity(0, sizeof set, &set) != 0) {
			fail("affinity", errno, "sched_setaffinity");
		}
	}
	// Nothing but stdin/stdout/stderr may reach the target; in particular the status pipe must close on exec.
	if (syscall(SYS_close_range, 3, ~0U, SLUICE_CLOSE_RANGE_CLOEXEC) != 0) {
		cloexec_all();
	}
	drop_privileges(p->uid, p->gid);
	// After the uid change, so that access to the working directory is checked as the sandbox user.
	if (chdir(p->dir) != 0) {
		fail("chdir", errno, "chdir %s", p->dir);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fail("prctl", errno, "PR_SET_NO_NEW_PRIVS");
	}
	// The kernel clears the parent-death signal on a credential change: set it again, then make sure the server
	// did not die before that (we would have missed the signal).
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
		fail("prctl", errno, "PR_SET_PDEATHSIG");
	}
	if (getppid() != p->parent_pid) {
		fail("parent", 0, "server exited");
	}
	if (p->data_limit > 0) {
		struct rlimit data = {.rlim_cur = p->data_limit, .rlim_max = p->data_limit};
		if (setrlimit(RLIMIT_DATA, &data) != 0) {
			fail("rlimit", errno, "setrlimit RLIMIT_DATA");
		}
	}
	execve(p->path, p->argv, p->envv);
	fail("exec", errno, "exec %s", p->path);
}

// sluice_sandbox_init runs before the Go runtime starts, in every process of a binary that links the package: it
// acts only in a process Start started as a sandbox init, and then never returns.
__attribute__((constructor)) static void sluice_sandbox_init(void) {
	const char *role = getenv(SLUICE_INIT_ENV);
	if (role == NULL || strcmp(role, SLUICE_ROLE_INIT) != 0) {
		return; // not an init (or the probe, which the Go side runs)
	}
	// execve keeps ignored signals ignored and the signal mask: the function starts with every disposition at
	// its default and nothing blocked.
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP) {
			signal(sig, SIG_DFL);
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	// Tell the server this init is ready: only the plan is missing. Failures follow the marker on the same pipe.
	char marker = SLUICE_READY_MARKER;
	if (write(SLUICE_STATUS_FD, &marker, 1) != 1) {
		_exit(127); // the server is gone
	}
	struct sluice_plan plan;
	memset(&plan, 0, sizeof plan);
	read_plan(&plan);
	setup_and_exec(&plan);
}
