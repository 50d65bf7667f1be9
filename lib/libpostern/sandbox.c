#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
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
 * table and adds its own.
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
 * The steps every child takes before its first untrusted byte: no privilege
 * can be gained through exec, no core file or ptrace attach can expose its
 * memory.
 */
void
sandbox_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

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

void
sandbox_closefrom(int lowfd)
{
	closefrom(lowfd);
}

static void
add_rules(scmp_filter_ctx ctx, const char *role, const struct sb_rule *r,
    size_t n)
{
	size_t		 i;
	uint32_t	 act;
	int		 rc;

	for (i = 0; i < n; i++) {
		if (r[i].nr < 0)	/* not a call on this architecture */
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
	add_rules(ctx, role, common, ncommon);
	add_rules(ctx, role, own, nown);
#ifdef SB_SANITIZER
	add_rules(ctx, role, sandbox_sanitizer, sandbox_nsanitizer);
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
	add_rules(ctx, role, common, ncommon);
	add_rules(ctx, role, own, nown);
#ifdef SB_SANITIZER
	add_rules(ctx, role, sandbox_sanitizer, sandbox_nsanitizer);
#endif
	if ((rc = seccomp_load(ctx)) < 0) {
		errno = -rc;
		fatal("%s: seccomp_load", role);
	}
	seccomp_release(ctx);
}
#endif /* __linux__ */
