/*
 * What the role executables of posternd share (the listener's half, which
 * starts them, is proc.c): the names of the roles, and how a role
 * executable makes sure it was started by the listener and dies with it.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "posternd.h"

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_LISTENER:
		return "listener";
	case ROLE_SERVER:
		return "session-server";
	case ROLE_SESSION:
		return "session";
	case ROLE_AUTH:
		return "auth";
	}
	return "unknown";
}

/*
 * A child dies with the listener: one that is gone (killed, say) leaves
 * no session server forking sessions and no auth process holding the
 * credential.  Set again after every change of user, which clears it; a
 * listener that died before is seen as a new parent.
 */
void
role_tie_to_listener(void)
{
	pid_t	 ppid = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (ppid == 1 || getppid() != ppid)
		fatalx("the listener is gone");
}

/*
 * The start of a role executable: its argv must be the one the listener
 * gives (proc_spawn), and its channel a socket at FD_PARENT.  Started in
 * any other way it stops before reading a byte: it holds no privilege a
 * caller could borrow, but nothing it does makes sense but for the
 * listener.
 */
void
role_start(enum role r, int argc, char *argv[])
{
	struct stat	 st;

	/* Started through /proc/PID/fd/N: name it for ps and top. */
	(void)prctl(PR_SET_NAME, "posternd", 0, 0, 0);
	log_init("posternd", 0);
	if (argc != 3 || strcmp(argv[1], ROLE_FLAG) != 0 ||
	    strcmp(argv[2], role_name(r)) != 0)
		fatalx("the %s process is started by posternd alone",
		    role_name(r));
	if (fstat(FD_PARENT, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatalx("the %s process has no channel to the listener",
		    role_name(r));
	role_tie_to_listener();
}
