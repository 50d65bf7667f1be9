/*
 * posternd's processes: what each role is called, which entry point runs
 * it, and how the listener starts one.  The roles themselves live in
 * listener.c, session_server.c (which forks the sessions) and auth.c.
 */
#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
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

/* The roles a child may be started in: not the listener, not a session. */
int
proc_role(const char *name, enum role *r)
{
	if (strcmp(name, role_name(ROLE_SERVER)) == 0)
		*r = ROLE_SERVER;
	else if (strcmp(name, role_name(ROLE_AUTH)) == 0)
		*r = ROLE_AUTH;
	else
		return -1;
	return 0;
}

/*
 * A child started by the listener: rolearg is its argv[2], which the
 * session server overwrites in each session it forks.
 */
int
proc_main(enum role r, char *rolearg)
{
	/* Started through /proc/PID/fd/N: name it for ps and top. */
	(void)prctl(PR_SET_NAME, "posternd", 0, 0, 0);
	log_init("posternd", 0);
	switch (r) {
	case ROLE_SERVER:
		return session_server_main(rolearg);
	case ROLE_AUTH:
		return auth_main();
	default:
		fatalx("no process runs role %s", role_name(r));
	}
}

/*
 * A child role is a fresh image of posternd (exefd, opened at start-up,
 * never found through argv[0] or $PATH) with only the descriptors given:
 * chan as FD_PARENT, in, out and authfd at their slots when not -1, and
 * stdin and stdout on devnull unless keepstdio.  posix_spawn (a vfork
 * underneath) rather than fork: the listener's pages are not made
 * copy-on-write twice for every message.
 */
pid_t
proc_spawn(int exefd, enum role role, int chan, int in, int out, int authfd,
    int devnull, int keepstdio)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[4], *envp[2], tz[256], exe[64];
	const char			*t;
	pid_t				 pid;
	int				 rc;

	/* The child resolves it: our descriptor, not its own (closed by then). */
	snprintf(exe, sizeof(exe), "/proc/%ld/fd/%d", (long)getpid(), exefd);
	argv[0] = (char *)(uintptr_t)"posternd";
	argv[1] = (char *)(uintptr_t)ROLE_FLAG;
	argv[2] = (char *)(uintptr_t)role_name(role);
	argv[3] = NULL;
	envp[0] = NULL;
	envp[1] = NULL;
	if ((t = getenv("TZ")) != NULL &&
	    snprintf(tz, sizeof(tz), "TZ=%s", t) < (int)sizeof(tz))
		envp[0] = tz;

	/* Every source descriptor is above FD_AUTH, so no dup2 clobbers one. */
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	rc = posix_spawn_file_actions_adddup2(&fa, chan, FD_PARENT);
	if (rc == 0 && in != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, in, FD_CLIENT_IN);
	if (rc == 0 && out != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, out, FD_CLIENT_OUT);
	if (rc == 0 && authfd != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, authfd, FD_AUTH);
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDIN_FILENO);
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, FD_AUTH + 1);
	if (rc == 0)
		rc = command_spawn(&pid, exe, &fa, 0, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}
