#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "roles.h"
#include "sysmode.h"

#ifndef PATH_POSTERN
#define PATH_POSTERN	"/usr/local/sbin/postern"
#endif

static int	 exefd = -1;
static int	 sigchld[2] = { -1, -1 };

/* A child's death wakes the parent's poll(): the write end of a pipe. */
static void
on_sigchld(int sig)
{
	int	 saved = errno;
	ssize_t	 n;

	/* A full pipe already holds a wake-up: nothing is lost. */
	n = write(sigchld[1], "", 1);
	(void)n;
	errno = saved;
}

int
proc_sigchld_fd(void)
{
	return sigchld[0];
}

/*
 * Children are fresh images of this very file, never of argv[0] or $PATH:
 * open it once, before anything else can change what the name points to.
 */
void
proc_init(void)
{
	int	 fd;

	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1 &&
	    (fd = open(PATH_POSTERN, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("cannot open own executable");
	/* Out of the way of the descriptors children are given. */
	if ((exefd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("fcntl");
	close(fd);
	if (pipe2(sigchld, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe");
	if (signal(SIGCHLD, on_sigchld) == SIG_ERR)
		fatal("signal");
}

/*
 * The parent's bounds start with what any parent holds: its wake-up pipe
 * and its standard output and error.
 */
void
parent_bounds_init(struct parent_bounds *b)
{
	size_t	 i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < PARENT_MAXFD; i++)
		b->rfd[i] = b->wfd[i] = -1;
	b->rfd[0] = sigchld[0];
	b->wfd[0] = sigchld[1];
	b->wfd[1] = STDOUT_FILENO;
	b->wfd[2] = STDERR_FILENO;
	b->lockfd = -1;
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

int
proc_role(const char *name, enum role *r)
{
	if (strcmp(name, "reader") == 0)
		*r = ROLE_READER;
	else if (strcmp(name, "secrets") == 0)
		*r = ROLE_SECRETS;
	else if (strcmp(name, "network") == 0)
		*r = ROLE_NETWORK;
	else
		return -1;
	return 0;
}

static int
lift(int fd)
{
	int	 nfd;

	if (fd == -1)
		return -1;
	if ((nfd = fcntl(fd, F_DUPFD, 20)) == -1)
		_exit(EX_OSERR);
	return nfd;
}

/*
 * Start a child in a role.  It gets its channel to the parent as FD_PARENT,
 * and optionally the body pipe as FD_BODY and the channel to its sibling as
 * FD_PEER; nothing else crosses the exec.  The descriptors passed in are
 * closed in the parent, except the parent's end of the channel.
 */
void
proc_spawn(struct child *c, enum role role, int body, int peer,
    char *const *envp)
{
	int	 sp[2];
	char	*argv[4];
	pid_t	 pid;

	if ((role != ROLE_SECRETS || sysmode_channel(sp) == -1) &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	fflush(NULL);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		int chan = lift(sp[1]), b = lift(body), p = lift(peer);
		int exe = lift(exefd);

		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (dup2(chan, FD_PARENT) == -1 ||
		    (b != -1 && dup2(b, FD_BODY) == -1) ||
		    (p != -1 && dup2(p, FD_PEER) == -1) ||
		    dup2(exe, FD_EXE) == -1 ||
		    fcntl(FD_EXE, F_SETFD, FD_CLOEXEC) == -1)
			_exit(EX_OSERR);
		closefrom(FD_EXE + 1);
		/* Only the reader may see the message on stdin. */
		if (role != ROLE_READER) {
			int null = open("/dev/null", O_RDONLY);

			if (null == -1 || dup2(null, STDIN_FILENO) == -1)
				_exit(EX_OSERR);
			close(null);
		}
		argv[0] = (char *)(uintptr_t)log_progname();
		argv[1] = (char *)(uintptr_t)ROLE_FLAG;
		argv[2] = (char *)(uintptr_t)role_name(role);
		argv[3] = NULL;
		fexecve(FD_EXE, argv, envp);
		_exit(EX_OSERR);
	}
	close(sp[1]);
	if (body != -1)
		close(body);
	if (peer != -1)
		close(peer);
	memset(c, 0, sizeof(*c));
	c->role = role;
	c->pid = pid;
	ipc_init(&c->ipc, sp[0]);
}

/* Reap a child if it has exited.  Returns 1 once it has been reaped. */
int
proc_reap(struct child *c)
{
	pid_t	 r;

	if (c->reaped)
		return 1;
	if (c->pid <= 0)
		return 0;
	while ((r = waitpid(c->pid, &c->status, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r != c->pid)
		return 0;
	c->reaped = 1;
	return 1;
}

/* A child that ended other than by exiting 0 after it reported. */
int
proc_failed(const struct child *c)
{
	return c->reaped && !(WIFEXITED(c->status) &&
	    WEXITSTATUS(c->status) == 0);
}

/*
 * Wait for a child.  Returns 0 when it exited 0, or a sysexits code and a
 * message that names the role: a child killed by SIGSYS broke its sandbox.
 */
int
proc_wait(struct child *c, char *msg, size_t msgsz)
{
	int	 status;
	pid_t	 r;

	if (!c->reaped) {
		if (c->pid <= 0)
			return EX_OK;
		while ((r = waitpid(c->pid, &c->status, 0)) == -1 &&
		    errno == EINTR)
			;
		if (r == -1) {
			snprintf(msg, msgsz, "%s process: %s",
			    role_name(c->role), strerror(errno));
			return EX_OSERR;
		}
		c->reaped = 1;
	}
	status = c->status;
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGSYS)
			snprintf(msg, msgsz, "%s process killed by its "
			    "sandbox (signal %d, forbidden system call)",
			    role_name(c->role), WTERMSIG(status));
		else
			snprintf(msg, msgsz, "%s process killed by signal %d",
			    role_name(c->role), WTERMSIG(status));
		return EX_SOFTWARE;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(msg, msgsz, "%s process exited with status %d",
		    role_name(c->role), WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	return EX_OK;
}
