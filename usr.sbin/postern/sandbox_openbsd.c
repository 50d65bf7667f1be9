/*
 * What each process of postern may do once it has locked itself down, on
 * OpenBSD: the same points as sandbox_linux.c, with pledge(2) and
 * unveil(2).  No child may see any file, create a socket, exec or fork.
 */
#ifdef __OpenBSD__
#include <sys/resource.h>

#include <errno.h>
#include <unistd.h>

#include "log.h"
#include "roles.h"

void
sandbox_lockdown(enum role r)
{
	struct rlimit	 rl = { 0, 0 };
	const char	*promises;

	switch (r) {
	case ROLE_READER:	/* stdin, the body pipe, the parent channel */
	case ROLE_SECRETS:	/* the channel to the network process */
	case ROLE_NETWORK:	/* the connected socket it was handed */
		promises = "stdio";
		break;
	default:
		fatalx("no sandbox for role %s", role_name(r));
	}
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	if (unveil("/", "") == -1 || unveil(NULL, NULL) == -1)
		fatal("%s: unveil", role_name(r));
	if (pledge(promises, "") == -1)
		fatal("%s: pledge", role_name(r));
}

/* GSSAPI: the Kerberos files, read-only, and nothing else. */
void
sandbox_lockdown_gssapi(const char *const *readable)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	for (; *readable != NULL; readable++)
		if (unveil(*readable, "r") == -1 && errno != ENOENT)
			fatal("secrets: unveil %s", *readable);
	if (unveil(NULL, NULL) == -1)
		fatal("secrets: unveil");
	if (pledge("stdio rpath flock", "") == -1)
		fatal("secrets: pledge");
}

/*
 * The parent once the socket is handed over: its channels, wait and kill
 * for its children, sendsyslog(2) (in "stdio"), and the log file's lock.
 * pledge(2) cannot name the children: "proc" lets it signal its own
 * process group too.  NB: a single send only; a caller that must open
 * files or start children afterwards must not call it.
 */
void
parent_lockdown(const struct parent_bounds *b)
{
	const char	*promises = b->lockfd >= 0 ? "stdio proc flock" :
	    "stdio proc";

	if (unveil("/", "") == -1 || unveil(NULL, NULL) == -1)
		fatal("parent: unveil");
	if (pledge(promises, "") == -1)
		fatal("parent: pledge");
}
#endif /* __OpenBSD__ */
