#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include <fcntl.h>

#include "log.h"
#include "sandbox.h"

#ifdef SB_SANITIZER
#include <sanitizer/lsan_interface.h>
#endif

/*
 * What the C library needs to run at all, and the descriptors a process
 * was given: every sandboxed role of postern and posternd starts from this
 * table and adds its own.  This is policy, granted to every role: a call
 * only one role needs belongs in that role's table, not here.
 */
const struct sb_rule sandbox_common[] = {
	SB_ALLOW(read),
	SB_ALLOW(write),
	SB_ALLOW(readv),
	SB_ALLOW(writev),
	SB_ALLOW(close),
	SB_ALLOW(exit),
	SB_ALLOW(exit_group),
	SB_ALLOW(brk),
	SB_ARGEQ(mmap, 2, PROT_EXEC, 0),
	SB_ARGEQ(mprotect, 2, PROT_EXEC, 0),
	SB_ALLOW(munmap),
	SB_ALLOW(mremap),
	SB_ALLOW(madvise),
	SB_ALLOW(futex),
	SB_ALLOW(rt_sigreturn),
	SB_ALLOW(rt_sigprocmask),
	SB_ALLOW(restart_syscall),
	SB_ALLOW(clock_gettime),
	SB_ALLOW(gettimeofday),
	SB_ALLOW(getpid),
	SB_ALLOW(getrandom),
	SB_ALLOW(poll),
	SB_ALLOW(ppoll),
	/*
	 * stdio asks about its descriptors before buffering; a refusal only
	 * costs it a default buffer size, and newfstatat also takes a path.
	 */
	SB_FAIL(fstat, EACCES),
	SB_FAIL(newfstatat, EACCES),
	SB_ALLOW(lseek),
	SB_ALLOW(sendmsg),		/* the ipc channels */
	SB_ALLOW(recvmsg),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFD),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFD),
};
const size_t sandbox_ncommon = sizeof(sandbox_common) /
    sizeof(sandbox_common[0]);

#ifdef SB_SANITIZER
/*
 * Only in the sanitizer build: what the ASan and UBSan runtimes call on
 * their own, to report an error and to exit.  The leak check runs once
 * before lockdown (sandbox_harden()), as it needs to trace the process.
 */
const struct sb_rule sandbox_sanitizer[] = {
	SB_ALLOW(sigaltstack),
	SB_ALLOW(sched_yield),
	SB_ALLOW(gettid),
	SB_ALLOW(tgkill),
	SB_ALLOW(rt_sigaction),
	SB_ALLOW(getrlimit),
	SB_ALLOW(prlimit64),
	SB_FAIL(sched_getaffinity, EACCES),
};
const size_t sandbox_nsanitizer = sizeof(sandbox_sanitizer) /
    sizeof(sandbox_sanitizer[0]);
#endif

/*
 * The descriptor limit, for sandbox_closefrom's loop: read once, by
 * sandbox_harden() at the latest, before any filter would refuse it.
 */
static rlim_t	 fd_limit;

static void
fd_limit_read(void)
{
	static int	 done;
	struct rlimit	 rl;

	if (done)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fd_limit = rl.rlim_cur;
	done = 1;
}

/*
 * The steps every child takes before its first untrusted byte: no privilege
 * can be gained through exec, no core file or ptrace attach can expose its
 * memory.
 */
void
sandbox_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	fd_limit_read();
	sandbox_leak_check();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
}

/*
 * The sanitizer build's leak check, once per process and early: its tracer
 * thread reads /proc (gone after a chroot) and attaches to the process
 * (refused once it is not dumpable, killed under the filter).  Later
 * calls and the check at exit do nothing.  A normal build has no check.
 */
void
sandbox_leak_check(void)
{
#ifdef SB_SANITIZER
	__lsan_do_leak_check();
#endif
}

/*
 * closefrom() that works under a filter: close_range, and where it fails
 * (a kernel before 5.9, a container's filter that refuses it) a close of
 * each number below the descriptor limit, never the C library's fallback,
 * which opens /proc/self/fd (no filter here allows it; glibc then aborts).
 */
void
sandbox_closefrom(int lowfd)
{
	rlim_t	 fd;

	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) == 0)
		return;
	fd_limit_read();
	for (fd = (rlim_t)lowfd; fd < fd_limit && fd < INT_MAX; fd++)
		(void)close((int)fd);
}

/* A rule of a role's own table without argument replaces the common one. */
static int
replaced(int nr, const struct sb_rule *own, size_t nown)
{
	size_t	 i;

	for (i = 0; i < nown; i++)
		if (own[i].nr == nr && own[i].arg == SB_NOARG)
			return 1;
	return 0;
}

static void
add_rules(scmp_filter_ctx ctx, const char *role, const struct sb_rule *r,
    size_t n, const struct sb_rule *own, size_t nown)
{
	size_t		 i;
	uint32_t	 act;
	int		 rc;

	for (i = 0; i < n; i++) {
		if (r[i].nr < 0)	/* not a call on this architecture */
			continue;
		if (own != NULL && replaced(r[i].nr, own, nown))
			continue;
		act = r[i].fail ? SCMP_ACT_ERRNO((uint32_t)r[i].fail) :
		    SCMP_ACT_ALLOW;
		if (r[i].arg == SB_NOARG)
			rc = seccomp_rule_add(ctx, act, r[i].nr, 0);
		else
			rc = seccomp_rule_add(ctx, act, r[i].nr, 1,
			    SCMP_CMP((unsigned int)r[i].arg,
			    SCMP_CMP_MASKED_EQ, r[i].mask, r[i].value));
		if (rc < 0) {
			errno = -rc;
			fatal("%s: seccomp rule %zu", role, i);
		}
	}
}

/*
 * Load an allow-list made of a table shared by every role and the role's
 * own.  Anything else kills the whole process, so a compromised role dies
 * on its first step out of line rather than getting an error to probe with.
 */
struct sb_prog {
	struct sock_fprog	 fprog;
};

/*
 * What seccomp_load() would hand the kernel, taken from libseccomp once:
 * the program it exports is the one it loads, and with its default
 * attributes it loads it with no flags.
 */
struct sb_prog *
sandbox_filter_build(const char *role, const struct sb_rule *common,
    size_t ncommon, const struct sb_rule *own, size_t nown)
{
	struct sb_prog	*p;
	scmp_filter_ctx	 ctx;
	unsigned char	*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd[2], rc;
	/* The kernel's limit (BPF_MAXINSNS); a pipe holds that much. */
	const size_t	 max = 4096 * sizeof(struct sock_filter);

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init failed", role);
	add_rules(ctx, role, common, ncommon, own, nown);
	add_rules(ctx, role, own, nown, NULL, 0);
#ifdef SB_SANITIZER
	add_rules(ctx, role, sandbox_sanitizer, sandbox_nsanitizer, NULL, 0);
#endif
	if ((p = calloc(1, sizeof(*p))) == NULL || (buf = malloc(max)) == NULL)
		fatal("%s: malloc", role);
	if (pipe2(fd, O_CLOEXEC) == -1)
		fatal("%s: pipe", role);
	if ((rc = seccomp_export_bpf(ctx, fd[1])) < 0) {
		errno = -rc;
		fatal("%s: seccomp_export_bpf", role);
	}
	close(fd[1]);
	while ((n = read(fd[0], buf + len, max - len)) > 0)
		len += (size_t)n;
	if (n == -1)
		fatal("%s: read", role);
	close(fd[0]);
	seccomp_release(ctx);
	if (len == 0 || len == max || len % sizeof(struct sock_filter) != 0)
		fatalx("%s: unexpected filter of %zu bytes", role, len);
	p->fprog.len = (unsigned short)(len / sizeof(struct sock_filter));
	p->fprog.filter = (struct sock_filter *)(void *)buf;
	return p;
}

void
sandbox_filter_load(const char *role, const struct sb_prog *p)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->fprog) == -1)
		fatal("%s: seccomp", role);
}

void
sandbox_filter(const char *role, const struct sb_rule *common, size_t ncommon,
    const struct sb_rule *own, size_t nown)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init failed", role);
	add_rules(ctx, role, common, ncommon, own, nown);
	add_rules(ctx, role, own, nown, NULL, 0);
#ifdef SB_SANITIZER
	add_rules(ctx, role, sandbox_sanitizer, sandbox_nsanitizer, NULL, 0);
#endif
	if ((rc = seccomp_load(ctx)) < 0) {
		errno = -rc;
		fatal("%s: seccomp_load", role);
	}
	seccomp_release(ctx);
}

/*
 * Landlock: from now on only the paths given may be opened, and only for
 * reading (a directory: what lies beneath it).  Returns 0 when in force,
 * -1 when the kernel has no Landlock; any other failure is fatal.  Call
 * after sandbox_harden(), which sets no_new_privs.
 */
int
sandbox_landlock(const char *role, const char *const *paths)
{
	struct landlock_ruleset_attr	 ra;
	struct landlock_path_beneath_attr pb;
	struct stat			 st;
	long				 abi;
	int				 rfd, fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return -1;
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) == -1)
		fatal("%s: landlock_create_ruleset", role);
	for (; *paths != NULL; paths++) {
		/* What does not exist cannot be opened anyway. */
		if ((fd = open(*paths, O_PATH | O_CLOEXEC)) == -1)
			continue;
		if (fstat(fd, &st) == -1)
			fatal("%s: fstat %s", role, *paths);
		memset(&pb, 0, sizeof(pb));
		pb.parent_fd = fd;
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
		if (S_ISDIR(st.st_mode))
			pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
		if (syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1)
			fatal("%s: landlock_add_rule %s", role, *paths);
		close(fd);
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1)
		fatal("%s: landlock_restrict_self", role);
	close(rfd);
	return 0;
}
#endif /* __linux__ */
