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

/* Every table below adds to sandbox_common (lib/libpostern/sandbox.c). */

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
