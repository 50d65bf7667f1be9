/*
 * ceiling - how many messages per second any server can deliver on this
 * machine when it runs a delivery command for each one, whatever the
 * server itself costs.  bench/posternd.sh prints it beside the servers'
 * rates, so that a ratio between them can be read against what the
 * machine allows.
 *
 * usage: ceiling [-c] -j jobs -n messages -s size -- command [arg ...]
 *
 * Runs the command n times, with a message of size bytes on its standard
 * input (a memory file, as posternd hands it), spread over jobs processes
 * that each start one command after the other and wait for it.  With -c
 * each message also costs what a server with one sandboxed process per
 * connection pays at the least: a fork whose child loads a seccomp filter
 * of 40 rules and exits.  Prints one line on standard output:
 *   "ceiling rate=R messages=N failed=F"
 * R in messages per second of wall time; F commands that did not exit 0.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NRULES	40

extern char	**environ;

static double
now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(2, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
number(const char *s, long max)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < 1 || n > max)
		errx(2, "bad number: %s", s);
	return n;
}

/* A child that sandboxes itself, as a session does, and ends. */
static void
sandboxed_child(void)
{
	struct sock_filter	 f[NRULES + 2];
	struct sock_fprog	 prog;
	pid_t			 pid;
	int			 i, status;

	f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < NRULES; i++)
		f[i + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, 100000 + i, 0, 0);
	f[NRULES + 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	prog.len = NRULES + 2;
	prog.filter = f;
	if ((pid = fork()) == -1)
		err(2, "fork");
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ==
		    -1)
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		err(2, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(2, "the sandboxed child failed");
}

/* One job: count commands, each fed from a fresh memory file. */
static int
job(long count, const char *msg, size_t size, int conn, char *argv[])
{
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	long				 i;
	int				 fd, rc, status, failed = 0;

	for (i = 0; i < count; i++) {
		if (conn)
			sandboxed_child();
		if ((fd = memfd_create("message", MFD_CLOEXEC)) == -1)
			err(2, "memfd_create");
		if (write(fd, msg, size) != (ssize_t)size ||
		    lseek(fd, 0, SEEK_SET) == -1)
			err(2, "memory file");
		/* posix_spawn: glibc's cheapest way (a vfork) to start one. */
		if ((rc = posix_spawn_file_actions_init(&fa)) != 0 ||
		    (rc = posix_spawn_file_actions_adddup2(&fa, fd,
		    STDIN_FILENO)) != 0 ||
		    (rc = posix_spawn(&pid, argv[0], &fa, NULL, argv,
		    environ)) != 0) {
			errno = rc;
			err(2, "cannot start %s", argv[0]);
		}
		posix_spawn_file_actions_destroy(&fa);
		close(fd);
		if (waitpid(pid, &status, 0) == -1)
			err(2, "waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed > 255 ? 255 : failed;
}

int
main(int argc, char *argv[])
{
	char	*msg;
	double	 t0, t1;
	long	 jobs = 0, n = 0, size = 0, i;
	pid_t	 pid;
	int	 ch, conn = 0, status, failed = 0;

	while ((ch = getopt(argc, argv, "cj:n:s:")) != -1) {
		switch (ch) {
		case 'c':
			conn = 1;
			break;
		case 'j':
			jobs = number(optarg, 64);
			break;
		case 'n':
			n = number(optarg, 10000000);
			break;
		case 's':
			size = number(optarg, 64L * 1024 * 1024);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || jobs == 0 || n == 0 || size == 0)
		goto usage;

	/* Lines of 78 characters and CRLF, as a message on the wire. */
	if ((msg = malloc(size)) == NULL)
		err(2, "malloc");
	for (i = 0; i < size; i++)
		msg[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' : 'x';

	t0 = now();
	for (i = 0; i < jobs; i++) {
		if ((pid = fork()) == -1)
			err(2, "fork");
		if (pid == 0)
			_exit(job(n / jobs + (i < n % jobs), msg, size, conn,
			    argv));
	}
	for (i = 0; i < jobs; i++) {
		if (wait(&status) == -1)
			err(2, "wait");
		if (!WIFEXITED(status))
			errx(2, "a job died");
		failed += WEXITSTATUS(status);
	}
	t1 = now();
	printf("ceiling rate=%.0f messages=%ld failed=%d\n", n / (t1 - t0), n,
	    failed);
	return failed != 0;
usage:
	fprintf(stderr, "usage: ceiling [-c] -j jobs -n messages -s size -- "
	    "command [arg ...]\n");
	return 2;
}
