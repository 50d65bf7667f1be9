/*
 * What each process of posternd may do once it has locked itself down.
 * No sandboxed role may open a file, create or accept a socket, connect,
 * exec, fork, trace or signal: those calls are in no table, so they kill
 * the process.
 *
 * The listener has no table: it starts the delivery command, which
 * inherits any filter and any no_new_privs flag, and the command (postern
 * itself, possibly installed setgid) needs its full authority.  The
 * listener never reads a byte of SMTP; it parses only framed messages.
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stddef.h>
#include <seccomp.h>

#include "log.h"
#include "posternd.h"
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
	SB_ALLOW(fstat),
	SB_ALLOW(newfstatat),
	SB_ALLOW(sendmsg),		/* the ipc channels */
	SB_ALLOW(recvmsg),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFL),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_GETFD),
	SB_ARGEQ(fcntl, 1, ~0ULL, F_SETFD),
};

/*
 * Speaks SMTP and TLS with the client it was handed and writes the message
 * into the file the listener handed it.
 */
static const struct sb_rule session[] = {
	SB_ALLOW(sendto),
	SB_ALLOW(recvfrom),
	SB_ALLOW(shutdown),
	SB_ALLOW(getsockopt),
	SB_ALLOW(getpeername),
	SB_ALLOW(getsockname),
	SB_ALLOW(lseek),
};

/* Compares credentials and waits out the failure delay. */
static const struct sb_rule auth[] = {
	SB_ALLOW(nanosleep),
	SB_ALLOW(clock_nanosleep),
};

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_LISTENER:
		return "listener";
	case ROLE_SESSION:
		return "session";
	case ROLE_AUTH:
		return "auth";
	}
	return "unknown";
}

void
sandbox_lockdown(enum role r)
{
	const char	*name = role_name(r);

	sandbox_harden();
	switch (r) {
	case ROLE_SESSION:
		sandbox_filter(name, common, NITEMS(common), session,
		    NITEMS(session));
		break;
	case ROLE_AUTH:
		sandbox_filter(name, common, NITEMS(common), auth,
		    NITEMS(auth));
		break;
	default:
		fatalx("no sandbox for role %s", name);
	}
}
