#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "roleexec.h"
#include "roles.h"
#include "sysmode.h"

#ifndef PATH_POSTERN
#define PATH_POSTERN	"/usr/local/sbin/postern"
#endif

/*
 * Each child role's executable, opened once: indexed by enum role, and
 * the network role's second executable, without TLS, after them.
 */
#define EXE_NETWORK_PLAIN	(ROLE_NETWORK + 1)
static int	 exefd[EXE_NETWORK_PLAIN + 1] = { -1, -1, -1, -1, -1 };
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
 * Open the executable of a role and check it (roleexec_open) and, when
 * this program was started setgid, that it is setgid to the same group,
 * so that the child is born as protected from the user as the parent was
 * (see sysmode.h).
 */
static int
open_role(const char *name, uid_t owner)
{
	struct stat	 st;
	char		 exe[64];
	int		 fd;

	snprintf(exe, sizeof(exe), "postern-%s", name);
	fd = roleexec_open(postern_libexec, exe, owner, &st);
	if (sysmode_active() && (!(st.st_mode & S_ISGID) ||
	    st.st_gid != sysmode_group()))
		fatalx("%s/%s: must be setgid to the group of this program",
		    postern_libexec, exe);
	return fd;
}

/*
 * Children are fresh images of the role executables, found through a
 * path fixed when building (never argv[0] or $PATH): open them once,
 * before anything else can change what the names point to.
 */
void
proc_init(void)
{
	uid_t	 owner = roleexec_owner(PATH_POSTERN);

	exefd[ROLE_READER] = open_role(role_name(ROLE_READER), owner);
	exefd[ROLE_SECRETS] = open_role(role_name(ROLE_SECRETS), owner);
	exefd[ROLE_NETWORK] = open_role(role_name(ROLE_NETWORK), owner);
	exefd[EXE_NETWORK_PLAIN] = open_role("network-plain", owner);
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

/* Close every descriptor from fd up, without allocating (see below). */
static void
close_from(int fd)
{
#ifdef __linux__
	if (close_range((unsigned int)fd, ~0U, 0) == -1)
		_exit(EX_OSERR);
#else
	closefrom(fd);
#endif
}

/*
 * Start a child in a role.  It gets its channel to the parent as FD_PARENT,
 * and optionally the body pipe as FD_BODY and the channel to its sibling as
 * FD_PEER; nothing else crosses the exec.  The descriptors passed in are
 * closed in the parent, except the parent's end of the channel.
 *
 * vfork: the child execs at once, so copying the parent's page tables (and
 * the parent's copy-on-write faults after a fork) would be spent for
 * nothing.  Until it execs, the child shares the parent's memory and
 * changes none of it: it only makes system calls (no stdio, no malloc;
 * its signal dispositions are its own) and leaves by exec or _exit.
 */
static void
spawn(struct child *c, enum role role, int exe_index, int body, int peer,
    char *const *envp)
{
	int	 sp[2];
	char	*argv[2];
	pid_t	 pid;

	if (role == ROLE_PARENT || exefd[exe_index] == -1)
		fatalx("no executable for the %s role", role_name(role));

	if ((role != ROLE_SECRETS || sysmode_channel(sp) == -1) &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	fflush(NULL);
	argv[0] = (char *)(uintptr_t)log_progname();
	argv[1] = NULL;
	if ((pid = vfork()) == -1)
		fatal("vfork");
	if (pid == 0) {
		int chan = lift(sp[1]), b = lift(body), p = lift(peer);
		int exe = lift(exefd[exe_index]);

		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (dup2(chan, FD_PARENT) == -1 ||
		    (b != -1 && dup2(b, FD_BODY) == -1) ||
		    (p != -1 && dup2(p, FD_PEER) == -1) ||
		    dup2(exe, FD_EXE) == -1 ||
		    fcntl(FD_EXE, F_SETFD, FD_CLOEXEC) == -1)
			_exit(EX_OSERR);
		close_from(FD_EXE + 1);
		/* Only the reader may see the message on stdin. */
		if (role != ROLE_READER) {
			int null = open("/dev/null", O_RDONLY);

			if (null == -1 || dup2(null, STDIN_FILENO) == -1)
				_exit(EX_OSERR);
			close(null);
		}
		fexecve(FD_EXE, argv, envp);
		_exit(EX_OSERR);
	}
	close(sp[1]);
	if (body != -1)
		close(body);
	if (peer != -1)
		close(peer);
	/* Field by field: zeroing the channel's buffer touches its pages. */
	c->role = role;
	c->pid = pid;
	c->reaped = 0;
	c->status = 0;
	ipc_init(&c->ipc, sp[0]);
}

void
proc_spawn(struct child *c, enum role role, int body, int peer,
    char *const *envp)
{
	if (role == ROLE_NETWORK)
		fatalx("the network process is started by proc_spawn_network");
	spawn(c, role, role, body, peer, envp);
}

/*
 * The network process, with TLS or without: postern-network-plain, for an
 * account with tls off, never maps libtls and libcrypto.
 */
void
proc_spawn_network(struct child *c, int tls, int body, int peer)
{
	spawn(c, ROLE_NETWORK, tls ? ROLE_NETWORK : EXE_NETWORK_PLAIN, body,
	    peer, (char *[]){ NULL });
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
