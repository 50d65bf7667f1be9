/*
 * What each process of posternd may do once it has locked itself down.
 * No sandboxed role may open a file, create or accept a socket, connect,
 * exec, fork, trace or signal: those calls are in no table, so they kill
 * the process.  The one exception is the session server's clone, with
 * the single set of flags that forks a session.
 *
 * The listener has no table: it starts the delivery command, which
 * inherits any filter and any no_new_privs flag, and the command (postern
 * itself, possibly installed setgid) needs its full authority.  The
 * listener never reads a byte of SMTP; it parses only framed messages.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/seccomp.h>

#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>

#include "log.h"
#include "posternd.h"
#include "sandbox.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Every table below adds to sandbox_common (lib/libpostern/sandbox.c). */

/*
 * Speaks SMTP and TLS with the client it was handed and writes the message
 * into the file the listener handed it.
 */
#define SESSION_RULES							\
	SB_ALLOW(sendto),						\
	SB_ALLOW(recvfrom),						\
	SB_ALLOW(shutdown),						\
	SB_ALLOW(getsockopt),						\
	SB_ALLOW(getpeername),						\
	SB_ALLOW(getsockname),						\
	SB_ALLOW(lseek)

static const struct sb_rule session[] = {
	SESSION_RULES,
};

/*
 * The session server.  A session runs under this filter and its own, so
 * this one is the session's plus what forking a session takes: clone with
 * exactly the flags session_server.c passes (no shared memory, no new
 * namespace), putting the connection's descriptors in place, and the
 * calls a new session makes to tie itself to the listener (it dies with
 * it) and to load its own filter.  Nothing here opens a
 * file, creates a socket, changes a user or runs a program.
 */
static const struct sb_rule server[] = {
	SESSION_RULES,
	SB_ARGEQ(clone, 0, ~0ULL, CLONE_PARENT),
	SB_ALLOW(dup2),
	SB_ALLOW(dup3),
	SB_ALLOW(close_range),
	SB_ARGEQ(prctl, 0, ~0ULL, PR_SET_NO_NEW_PRIVS),
	SB_ARGEQ(prctl, 0, ~0ULL, PR_SET_DUMPABLE),
	SB_ARGEQ(prctl, 0, ~0ULL, PR_SET_PDEATHSIG),
	SB_ALLOW(getppid),
	SB_ARGEQ(prlimit64, 1, ~0ULL, RLIMIT_CORE),
	SB_ARGEQ(seccomp, 0, ~0ULL, SECCOMP_SET_MODE_FILTER),
};

/* Compares credentials and waits out the failure delay. */
static const struct sb_rule auth[] = {
	SB_ALLOW(nanosleep),
	SB_ALLOW(clock_nanosleep),
};

/*
 * The session server compiles the sessions' filter once, before its own
 * goes on; each session it forks then only hands it to the kernel.
 */
static struct sb_prog	*session_prog;

void
sandbox_prepare(enum role r)
{
	if (r != ROLE_SESSION)
		fatalx("no prepared sandbox for role %s", role_name(r));
	session_prog = sandbox_filter_build(role_name(r), sandbox_common,
	    sandbox_ncommon, session, NITEMS(session));
}

void
sandbox_lockdown(enum role r)
{
	const char	*name = role_name(r);

	sandbox_harden();
	switch (r) {
	case ROLE_SERVER:
		sandbox_filter(name, sandbox_common, sandbox_ncommon, server,
		    NITEMS(server));
		break;
	case ROLE_SESSION:
		if (session_prog != NULL)
			sandbox_filter_load(name, session_prog);
		else
			sandbox_filter(name, sandbox_common, sandbox_ncommon,
			    session, NITEMS(session));
		break;
	case ROLE_AUTH:
		sandbox_filter(name, sandbox_common, sandbox_ncommon, auth,
		    NITEMS(auth));
		break;
	default:
		fatalx("no sandbox for role %s", name);
	}
}
