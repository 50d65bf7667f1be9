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
 * Who may own a role executable: root, or whoever owns this program (a
 * build tree, which runs its roles from where they were built).  A role
 * is trusted exactly as much as the program that starts it.
 */
static uid_t
trusted_owner(void)
{
	struct stat	 st;

	if (stat("/proc/self/exe", &st) == -1 &&
	    stat(PATH_POSTERND, &st) == -1)
		return 0;
	return st.st_uid;
}

/*
 * Open the executable of a role and check it: a regular file that only
 * its owner may change, and that owner trusted.
 */
static int
open_role(enum role r, uid_t owner)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 fd, nfd;

	if (snprintf(path, sizeof(path), "%s/%s", posternd_libexec,
	    role_exe(r)) >= (int)sizeof(path))
		fatalx("%s/%s: path too long", posternd_libexec, role_exe(r));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		fatal("cannot open %s", path);
	if (fstat(fd, &st) == -1)
		fatal("%s", path);
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != owner) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("%s: must be a regular file of root (or of this "
		    "program's owner) that no one else may write", path);
	/* Out of the way of the descriptors children are given. */
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("fcntl");
	close(fd);
	return nfd;
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
	uid_t	 owner = trusted_owner();

	exefd[ROLE_SERVER] = open_role(ROLE_SERVER, owner);
	if (auth)
		exefd[ROLE_AUTH] = open_role(ROLE_AUTH, owner);
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
