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
#include <stdint.h>
#include <seccomp.h>

#include "log.h"
#include "roles.h"
#include "sandbox.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Every table below adds to sandbox_common (lib/libpostern/sandbox.c). */

/* Answers the network process; the secret is already in memory. */
static const struct sb_rule secrets[] = {
	SB_ALLOW(getuid),
};

/*
 * The secrets process when the account names GSSAPI.  Every step of MIT
 * krb5's GSS-API makes a fresh Kerberos context: it reads the Kerberos
 * configuration again, the GSS mechanism list, and the credential cache
 * (under a read lock).  So: open read-only, stat, directory listings and
 * read locks, and Landlock limits the paths to those
 * (sandbox_lockdown_gssapi()).  No write, no socket, no exec.
 */
static const struct sb_rule secrets_gssapi[] = {
	SB_ALLOW(getuid),
	SB_ALLOW(geteuid),
	SB_ALLOW(getgid),
	SB_ALLOW(getegid),
	SB_ALLOW(access),
	SB_ALLOW(faccessat),
	SB_ALLOW(faccessat2),
	SB_ALLOW(fstat),
	SB_ALLOW(newfstatat),
	SB_ALLOW(statx),
	SB_ALLOW(getdents64),
	/* O_TMPFILE includes O_DIRECTORY, which opendir() needs. */
	SB_ARGEQ(openat, 2, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
	    (O_TMPFILE & ~O_DIRECTORY), O_RDONLY),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_OFD_SETLKW),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_OFD_SETLK),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETLKW),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETLK),
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

/*
 * Only the files in readable may be opened, and only for reading; where
 * the kernel has no Landlock, the table alone limits it to reading.
 */
void
sandbox_lockdown_gssapi(const char *const *readable)
{
	sandbox_harden();
	(void)sandbox_landlock("secrets", readable);
	sandbox_filter("secrets", sandbox_common, sandbox_ncommon,
	    secrets_gssapi, NITEMS(secrets_gssapi));
}

/*
 * The parent once the socket is handed over: it polls its channels, reads
 * the children's reports, waits for them, kills them when one fails, and
 * writes the log line.  It does not start from sandbox_common: read and
 * write are limited to its own descriptors (parent_lockdown() adds them),
 * and sendto only to the socket's own peer, for syslog.
 */
static const struct sb_rule parent[] = {
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
	SB_ALLOW(nanosleep),		/* waiting for the log file's lock */
	SB_ALLOW(clock_nanosleep),
	SB_ALLOW(getpid),
	SB_ALLOW(getuid),		/* the system mode's log line */
	SB_ALLOW(getrandom),
	SB_ALLOW(poll),
	SB_ALLOW(ppoll),
	SB_ALLOW(wait4),
	SB_ALLOW(lseek),
	SB_FAIL(fstat, EACCES),
	SB_FAIL(newfstatat, EACCES),
	SB_ALLOW(sendmsg),		/* the channels to the children */
	SB_ALLOW(recvmsg),
	SB_ARGEQ(sendto, 4, ~0ULL, 0),	/* syslog, on its connected socket */
	/* syslog reconnects when syslogd went away: let it find it cannot. */
	SB_FAIL(socket, EACCES),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFD),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFD),
};

/*
 * NB: this is the lockdown of a single send.  A caller that must still
 * open, rename, sync or lock files afterwards, connect again or start
 * more children (a queue run) must not call it, or must extend the table
 * first: every child started after it inherits the filter.
 */
void
parent_lockdown(const struct parent_bounds *b)
{
	struct sb_rule	 own[3 + 3 * PARENT_MAXFD + 1];
	size_t		 i, n = 0;

	for (i = 0; i < 3; i++)
		if (b->child[i] > 0)	/* never 0 or -1: a group, or all */
			own[n++] = (struct sb_rule)SB_ARGEQ(kill, 0, ~0ULL,
			    (uint64_t)b->child[i]);
	for (i = 0; i < PARENT_MAXFD; i++) {
		if (b->rfd[i] >= 0)
			own[n++] = (struct sb_rule)SB_ARGEQ(read, 0, ~0ULL,
			    (uint64_t)b->rfd[i]);
		if (b->wfd[i] >= 0) {
			own[n++] = (struct sb_rule)SB_ARGEQ(write, 0, ~0ULL,
			    (uint64_t)b->wfd[i]);
			own[n++] = (struct sb_rule)SB_ARGEQ(writev, 0, ~0ULL,
			    (uint64_t)b->wfd[i]);
		}
	}
	if (b->lockfd >= 0)
		own[n++] = (struct sb_rule)SB_ARGEQ(fcntl, 1, ~0ULL, F_SETLK);
	sandbox_harden();
	sandbox_filter("parent", parent, NITEMS(parent), own, n);
}

void
sandbox_lockdown(enum role r)
{
	const char	*name = role_name(r);

	sandbox_harden();
	switch (r) {
	case ROLE_READER:
		/* Reads stdin, writes the body pipe: the common set. */
		sandbox_filter(name, sandbox_common, sandbox_ncommon, NULL, 0);
		break;
	case ROLE_SECRETS:
		sandbox_filter(name, sandbox_common, sandbox_ncommon, secrets,
		    NITEMS(secrets));
		break;
	case ROLE_NETWORK:
		sandbox_filter(name, sandbox_common, sandbox_ncommon, network,
		    NITEMS(network));
		break;
	default:
		fatalx("no sandbox for role %s", name);
	}
}
#endif /* __linux__ */
