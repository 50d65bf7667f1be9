/*
 * What each process of postern may do once it has locked itself down.
 * None of them may open a file, create a socket, connect, exec, fork or
 * trace: those calls are absent from every table, so they kill the process.
 */
#ifdef __linux__
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <seccomp.h>

#include "log.h"
#include "roles.h"
#include "sandbox.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* What the C library needs to run at all, and the descriptors it was given. */
static const struct sb_rule common[] = {
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

/* Answers the network process; the secret is already in memory. */
static const struct sb_rule secrets[] = {
	SB_ALLOW(getuid),
};

/* Speaks SMTP and TLS on the socket it was handed. */
static const struct sb_rule network[] = {
	SB_ALLOW(sendto),
	SB_ALLOW(recvfrom),
	SB_ALLOW(shutdown),
	SB_ALLOW(getsockopt),
	SB_ALLOW(getpeername),
	SB_ALLOW(getsockname),
	SB_ALLOW(nanosleep),
	SB_ALLOW(clock_nanosleep),
};

void
sandbox_lockdown(enum role r)
{
	const char	*name = role_name(r);

	sandbox_harden();
	switch (r) {
	case ROLE_READER:
		/* Reads stdin, writes the body pipe: the common set. */
		sandbox_filter(name, common, NITEMS(common), NULL, 0);
		break;
	case ROLE_SECRETS:
		sandbox_filter(name, common, NITEMS(common), secrets,
		    NITEMS(secrets));
		break;
	case ROLE_NETWORK:
		sandbox_filter(name, common, NITEMS(common), network,
		    NITEMS(network));
		break;
	default:
		fatalx("no sandbox for role %s", name);
	}
}
#endif /* __linux__ */
