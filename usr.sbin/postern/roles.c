/*
 * What every role executable shares, apart from proc.c (only the parent
 * starts processes): the names of the roles, and the tie to the parent.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <signal.h>
#include <unistd.h>

#include "log.h"
#include "roles.h"

/*
 * A child dies with its parent: a parent that is gone (killed by its own
 * sandbox, say) leaves no reader or network process waiting for a server
 * until its timeout.  Set after the exec, since a setgid exec clears it;
 * a parent that died before that is seen as a new parent.
 */
void
role_tie_to_parent(void)
{
#ifdef __linux__
	pid_t	 ppid = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (ppid == 1 || getppid() != ppid)
		fatalx("the parent is gone");
#endif
}

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_PARENT:
		return "parent";
	case ROLE_READER:
		return "reader";
	case ROLE_SECRETS:
		return "secrets";
	case ROLE_NETWORK:
		return "network";
	}
	return "unknown";
}
