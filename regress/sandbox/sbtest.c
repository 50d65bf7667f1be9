/*
 * Locks a child down in each role of postern with the real policy tables
 * and makes it try what its role must never do (attempt.c).  The parent's
 * table is tried too, as it is after the socket is handed over: it may
 * kill and wait for its own children and write its own descriptors, and
 * nothing else.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "attempt.h"
#include "proto.h"
#include "roles.h"
#include "sandbox.h"

static int	 n, failed;

/* A parent locked down with one child of its own, which it may kill. */
static pid_t
parent_locked(void)
{
	struct parent_bounds	 b;
	pid_t			 kid, me = getpid();

	if ((kid = fork()) == -1)
		_exit(4);
	if (kid == 0) {
		/* Gone with its parent, whatever kills that one. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != me)
			_exit(4);
		pause();
		_exit(0);
	}
	parent_bounds_init(&b);
	b.child[0] = kid;
	parent_lockdown(&b);
	return kid;
}

static void
judge(pid_t pid, const char *what, int want_status, const char *desc)
{
	int	 status, good;

	waitpid(pid, &status, 0);
	good = WIFEXITED(status) && WEXITSTATUS(status) == want_status;
	printf("%sok %d - parent: %s %s\n", good ? "" : "not ", ++n, what,
	    desc);
	if (!good)
		printf("# status 0x%x\n", status);
	failed += !good;
}

static void
parent_role(void)
{
	static const char *what[] = {
		"control", "open", "openat", "socketpair", "connect", "accept",
		"execve", "ptrace", "fork", "clone-parent", "kill",
		"memfd_create", "setresuid", "chroot", "mprotect-exec"
	};
	size_t	 j;
	pid_t	 pid, kid;
	int	 status, s;

	for (j = 0; j < sizeof(what) / sizeof(what[0]); j++) {
		if ((pid = attempt_fork()) == -1)
			_exit(1);
		if (pid == 0) {
			parent_locked();
			attempt(what[j]);
		}
		failed += !attempt_judge(pid, ++n, "parent", what[j]);
	}

	/* Writing a descriptor it was not given. */
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		parent_locked();
		if (write(STDIN_FILENO, "", 0) == -1)
			_exit(3);
		_exit(3);
	}
	failed += !attempt_judge(pid, ++n, "parent", "write to stdin");

	/* Its own children: it may kill them and wait for them. */
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		kid = parent_locked();
		if (kill(kid, SIGKILL) == -1 || waitpid(kid, &status, 0) !=
		    kid || !WIFSIGNALED(status))
			_exit(2);
		_exit(0);
	}
	judge(pid, "kill and wait4 of its own child", 0, "runs within the rules");

	/* syslog may try to reconnect: socket() fails, it is not fatal. */
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		parent_locked();
		s = socket(AF_UNIX, SOCK_DGRAM, 0);
		_exit(s == -1 && errno == EACCES ? 0 : 2);
	}
	judge(pid, "socket", 0, "fails with EACCES");
}

/*
 * The secrets process when GSSAPI is named: it may read the paths it was
 * given (Landlock) and nothing else, and may not write, connect or exec.
 */
static void
gssapi_role(void)
{
	static const char *what[] = {
		"control", "socket", "socketpair", "connect", "execve",
		"ptrace", "fork", "mprotect-exec", "memfd_create"
	};
	const char	*readable[] = { "/etc/hostname", "/usr/lib", NULL };
	DIR		*d;
	size_t		 j;
	pid_t		 pid;
	int		 fd, status, good;

	for (j = 0; j < sizeof(what) / sizeof(what[0]); j++) {
		if ((pid = attempt_fork()) == -1)
			_exit(1);
		if (pid == 0) {
			sandbox_lockdown_gssapi(readable);
			attempt(what[j]);
		}
		failed += !attempt_judge(pid, ++n, "secrets (gssapi)",
		    what[j]);
	}

	/* Opening for writing, even a file it may read. */
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		sandbox_lockdown_gssapi(readable);
		(void)open("/etc/hostname", O_WRONLY);
		_exit(3);
	}
	failed += !attempt_judge(pid, ++n, "secrets (gssapi)",
	    "open for writing");

	/* Reading what it was given: a file, and a directory listed. */
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		sandbox_lockdown_gssapi(readable);
		if ((fd = open("/etc/hostname", O_RDONLY)) == -1)
			_exit(2);
		close(fd);
		if ((d = opendir("/usr/lib")) == NULL || readdir(d) == NULL)
			_exit(3);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	printf("%sok %d - secrets (gssapi): reads a file and lists a directory "
	    "it was given\n", good ? "" : "not ", ++n);
	if (!good)
		printf("# status 0x%x\n", status);
	failed += !good;

	/* With Landlock, nothing else. */
	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION) < 1) {
		printf("ok %d - secrets (gssapi): Landlock # SKIP the kernel "
		    "has no Landlock\n", ++n);
		return;
	}
	if ((pid = attempt_fork()) == -1)
		_exit(1);
	if (pid == 0) {
		sandbox_lockdown_gssapi(readable);
		if (open("/etc/passwd", O_RDONLY) != -1)
			_exit(4);
		_exit(errno == EACCES ? 0 : 5);
	}
	waitpid(pid, &status, 0);
	good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	printf("%sok %d - secrets (gssapi): Landlock refuses any other file\n",
	    good ? "" : "not ", ++n);
	if (!good)
		printf("# status 0x%x\n", status);
	failed += !good;
}

int
main(void)
{
	static const enum role roles[] = {
		ROLE_READER, ROLE_SECRETS, ROLE_NETWORK
	};
	static const char *what[] = {
		"control", "open", "openat", "socket", "socketpair", "connect",
		"execve", "ptrace", "fork", "mprotect-exec",
#ifndef SB_SANITIZER
		/* Only the sanitizer build lets its runtime call these. */
		"sigaltstack",
#endif
	};
	size_t		 i, j;
	pid_t		 pid;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		for (j = 0; j < sizeof(what) / sizeof(what[0]); j++) {
			if ((pid = attempt_fork()) == -1)
				return 1;
			if (pid == 0) {
				sandbox_lockdown(roles[i]);
				attempt(what[j]);
			}
			failed += !attempt_judge(pid, ++n,
			    role_name(roles[i]), what[j]);
		}
	}
	gssapi_role();
	parent_role();
	printf("1..%d\n", n);
	return failed != 0;
}
