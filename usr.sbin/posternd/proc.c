/*
 * The listener's half of posternd's processes: the role executables it
 * starts, opened once at start-up, and how it starts one.  The roles
 * themselves live in session_server.c (which forks the sessions) and
 * auth.c, each behind its own executable (main_session.c, main_auth.c).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "log.h"
#include "posternd.h"
#include "roleexec.h"

#ifndef PATH_POSTERND
#define PATH_POSTERND	"/usr/local/sbin/posternd"
#endif

/* Each child role's executable, opened once: indexed by enum role. */
static int	 exefd[ROLE_AUTH + 1] = { -1, -1, -1, -1 };

static const char *
role_exe(enum role r)
{
	switch (r) {
	case ROLE_SERVER:
		return "posternd-session";
	case ROLE_AUTH:
		return "posternd-auth";
	default:
		fatalx("no executable for the %s role", role_name(r));
	}
}

/*
 * Children are fresh images of the role executables, found through a
 * path fixed when building (never argv[0] or $PATH): open them once,
 * before anything else can change what the names point to.  The auth
 * process only runs with --auth.
 */
void
proc_init(int auth)
{
	struct stat	 st;
	uid_t		 owner = roleexec_owner(PATH_POSTERND);

	exefd[ROLE_SERVER] = roleexec_open(posternd_libexec,
	    role_exe(ROLE_SERVER), owner, &st);
	if (auth)
		exefd[ROLE_AUTH] = roleexec_open(posternd_libexec,
		    role_exe(ROLE_AUTH), owner, &st);
}

/*
 * A child role is a fresh image of its executable (opened by proc_init)
 * with only its channel to the listener as FD_PARENT, and stdin and
 * stdout on devnull unless keepstdio.  posix_spawn (a vfork underneath)
 * rather than fork: the listener's pages are not made copy-on-write
 * twice for every child.
 */
pid_t
proc_spawn(enum role role, int chan, int devnull, int keepstdio)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[4], *envp[2], tz[256], exe[64];
	const char			*t;
	pid_t				 pid;
	int				 rc;

	if (role > ROLE_AUTH || exefd[role] == -1)
		fatalx("no executable for the %s role", role_name(role));
	/* The child resolves it: our descriptor, not its own (closed by then). */
	snprintf(exe, sizeof(exe), "/proc/%ld/fd/%d", (long)getpid(),
	    exefd[role]);
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
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDIN_FILENO);
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa,
		    FD_PARENT + 1);
	if (rc == 0)
		rc = command_spawn(&pid, exe, &fa, 0, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}
