#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "iowait.h"
#include "log.h"

/*
 * Wait until pid has exited or deadline (CLOCK_MONOTONIC ms) has passed:
 * 0 or -1.  It is not reaped yet, so its process group cannot have gone
 * and its number cannot have been reused.  A pidfd makes the wait one
 * poll; where there is none, the status is looked at every 20 ms.
 */
static int
exited_by(pid_t pid, int64_t deadline)
{
	struct pollfd	 pfd;
	siginfo_t	 si;
	int64_t		 left;
	int		 fd = -1, r;

#ifdef SYS_pidfd_open
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		memset(&si, 0, sizeof(si));
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if ((r == 0 && si.si_pid == pid) || (r == -1 && errno != EINTR))
			break;
		if ((left = deadline - now_ms()) <= 0) {
			if (fd != -1)
				close(fd);
			return -1;
		}
		if (fd == -1 && left > 20)
			left = 20;
		(void)poll(fd != -1 ? &pfd : NULL, fd != -1 ? 1 : 0,
		    (int)left);
	}
	if (fd != -1)
		close(fd);
	return 0;
}

/* Whatever is left of the program's group goes with it; then reap it. */
static void
end_group(pid_t pid, int *statusp)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, statusp, 0) == -1 && errno == EINTR)
		;
}

/*
 * The program and whatever it started run in a process group of their
 * own, so that one kill reaches them all.  When ours is the terminal's
 * foreground group, theirs becomes it while they run (a passphrase prompt
 * reads the terminal) and ours again afterwards.
 */
static int
tty_foreground(void)
{
	int	 fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (tcgetpgrp(fd) != getpgrp()) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
tty_give(int tty, pid_t pgrp)
{
	struct sigaction	 sa, old;

	if (tty == -1)
		return;
	/* A background group may only take the terminal with this ignored. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTTOU, &sa, &old);
	(void)tcsetpgrp(tty, pgrp);
	sigaction(SIGTTOU, &old, NULL);
}

int
capture_run(struct capture *c, const char *path, char *const argv[],
    int flags, int timeout, size_t max)
{
	int		 p[2], fd, rc, saved, tty;
	pid_t		 pid;
	ssize_t		 n;
	struct pollfd	 pfd;
	int64_t		 deadline = now_ms() + (int64_t)timeout * 1000;

	c->len = 0;
	c->status = 0;
	c->err[0] = '\0';
	if ((c->out = malloc(max + 1)) == NULL)
		fatal("malloc");
	if (pipe2(p, O_CLOEXEC) == -1) {
		saved = errno;
		snprintf(c->err, sizeof(c->err), "pipe");
		goto nostart;
	}
	tty = tty_foreground();
	if ((pid = fork()) == -1) {
		saved = errno;
		snprintf(c->err, sizeof(c->err), "fork");
		close(p[0]);
		close(p[1]);
		if (tty != -1)
			close(tty);
		goto nostart;
	}
	if (pid == 0) {
		if (setpgid(0, 0) == -1)
			_exit(EXIT_NOEXEC);
		tty_give(tty, getpid());
		if ((fd = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1 ||
		    ((flags & CAPTURE_QUIET) &&
		    dup2(fd, STDERR_FILENO) == -1))
			_exit(EXIT_NOEXEC);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		execv(path, argv);
		_exit(EXIT_NOEXEC);
	}
	close(p[1]);
	/* Both sides set the group: kill(-pid) works from here on. */
	(void)setpgid(pid, pid);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(c->err, sizeof(c->err),
			    "timed out after %d seconds", timeout);
			rc = CAPTURE_ETIMEOUT;
			goto fail;
		}
		n = read(p[0], c->out + c->len, max - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
			rc = CAPTURE_EREAD;
			goto fail;
		}
		if (n == 0)
			break;
		c->len += (size_t)n;
		if (c->len == max) {
			if (flags & CAPTURE_TRUNCATE)
				break;
			snprintf(c->err, sizeof(c->err), "more than %zu bytes",
			    max);
			rc = CAPTURE_EREAD;
			goto fail;
		}
	}
	close(p[0]);
	/* Closing its output early buys no time. */
	if (exited_by(pid, deadline) == -1) {
		snprintf(c->err, sizeof(c->err), "timed out after %d seconds",
		    timeout);
		rc = CAPTURE_ETIMEOUT;
		kill(pid, SIGKILL);
		goto ended;
	}
	end_group(pid, &c->status);
	tty_give(tty, getpgrp());
	if (tty != -1)
		close(tty);
	c->out[c->len] = '\0';
	return 0;
fail:
	close(p[0]);
	kill(pid, SIGKILL);
ended:
	end_group(pid, &c->status);
	tty_give(tty, getpgrp());
	if (tty != -1)
		close(tty);
	freezero(c->out, max + 1);
	c->out = NULL;
	c->len = 0;
	return rc;
nostart:
	freezero(c->out, max + 1);
	c->out = NULL;
	errno = saved;
	return CAPTURE_ESTART;
}
