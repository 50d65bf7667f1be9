#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"

static void
reap(pid_t pid, int *statusp)
{
	while (waitpid(pid, statusp, 0) == -1 && errno == EINTR)
		;
}

int
capture_run(struct capture *c, const char *path, char *const argv[],
    int flags, int timeout, size_t max)
{
	int		 p[2], fd, rc, saved;
	pid_t		 pid;
	ssize_t		 n;
	struct pollfd	 pfd;
	time_t		 deadline = time(NULL) + timeout;

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
	if ((pid = fork()) == -1) {
		saved = errno;
		snprintf(c->err, sizeof(c->err), "fork");
		close(p[0]);
		close(p[1]);
		goto nostart;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1 ||
		    ((flags & CAPTURE_QUIET) &&
		    dup2(fd, STDERR_FILENO) == -1))
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		execv(path, argv);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		int left = (int)(deadline - time(NULL));

		if (left <= 0 || poll(&pfd, 1, left * 1000) == 0) {
			kill(pid, SIGKILL);
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
			kill(pid, SIGKILL);
			rc = CAPTURE_EREAD;
			goto fail;
		}
		if (n == 0)
			break;
		c->len += (size_t)n;
		if (c->len == max) {
			if (flags & CAPTURE_TRUNCATE)
				break;
			kill(pid, SIGKILL);
			snprintf(c->err, sizeof(c->err), "more than %zu bytes",
			    max);
			rc = CAPTURE_EREAD;
			goto fail;
		}
	}
	close(p[0]);
	reap(pid, &c->status);
	c->out[c->len] = '\0';
	return 0;
fail:
	close(p[0]);
	reap(pid, &c->status);
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
