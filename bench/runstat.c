/*
 * runstat - run a command, report its wall time and peak memory.
 *
 * usage: runstat [-t] [-i file] -- command [arg ...]
 *
 * Prints one line on stderr when the command has finished:
 *   "runstat status=S wall_us=W cpu_us=C maxrss_kb=M"
 * status is the exit status (128+signal if killed), wall_us the elapsed
 * monotonic time from fork to reaping, cpu_us the user and system time of
 * the command and of every descendant it reaped, maxrss_kb the wait4() ru_maxrss of
 * the command: the peak resident set of the largest single process of its
 * tree (the kernel folds the peaks of reaped descendants into it).
 *
 * -t  also trace the tree with ptrace (fork, vfork, clone, exec and exit
 *     events only, no system call tracing) and print, for every process, its peak
 *     resident set read from /proc/PID/status (VmHWM) when it exits:
 *       "runstat proc pid=P ppid=Q hwm_kb=H comm=NAME argv=..."
 *     NAME is the kernel's name of the process: its executable's file name.
 *     This slows process creation a little: use it for memory, not timing.
 * -i file  standard input of the command (default: inherited)
 */
#include <sys/types.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXSEEN	4096

static pid_t seen[MAXSEEN];
static int nseen;

static long long
cpu_us(const struct rusage *ru)
{
	return (long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) *
	    1000000 + ru->ru_utime.tv_usec + ru->ru_stime.tv_usec;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
was_seen(pid_t pid)
{
	int i;

	for (i = 0; i < nseen; i++)
		if (seen[i] == pid)
			return 1;
	if (nseen < MAXSEEN)
		seen[nseen++] = pid;
	return 0;
}

/* At the exit event the process still has its memory: report its peak. */
static void
report_exit(pid_t pid)
{
	char path[64], line[256], argv[200], comm[32] = "?";
	long hwm = -1, tgid = -1, ppid = -1;
	FILE *f;
	size_t n, i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0)
			hwm = atol(line + 6);
		else if (strncmp(line, "Tgid:", 5) == 0)
			tgid = atol(line + 5);
		else if (strncmp(line, "PPid:", 5) == 0)
			ppid = atol(line + 5);
		else if (sscanf(line, "Name: %31s", comm) == 1)
			continue;
	}
	fclose(f);
	if (tgid != pid)	/* a thread: its process reports the peak */
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = 0;
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(argv, 1, sizeof(argv) - 1, f);
		fclose(f);
	}
	for (i = 0; i + 1 < n; i++)
		if (argv[i] == '\0')
			argv[i] = ' ';
	argv[n] = '\0';
	fprintf(stderr, "runstat proc pid=%d ppid=%ld hwm_kb=%ld comm=%s "
	    "argv=%s\n", (int)pid, ppid, hwm, comm, argv);
}

int
main(int argc, char *argv[])
{
	struct rusage ru;
	const char *in = NULL;
	long long t0, t1 = 0;
	int ch, trace = 0, st, status = -1, fd, sig, ev;
	pid_t child, pid;
	long maxrss = 0;
	long long cpu = 0;

	while ((ch = getopt(argc, argv, "ti:")) != -1) {
		switch (ch) {
		case 't':
			trace = 1;
			break;
		case 'i':
			in = optarg;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
usage:
		fprintf(stderr, "usage: runstat [-t] [-i file] -- command ...\n");
		return 64;
	}
	t0 = now_us();
	if ((child = fork()) == -1) {
		perror("fork");
		return 71;
	}
	if (child == 0) {
		if (in != NULL) {
			if ((fd = open(in, O_RDONLY)) == -1) {
				perror(in);
				_exit(66);
			}
			dup2(fd, 0);
			close(fd);
		}
		if (trace) {
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
			raise(SIGSTOP);
		}
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (!trace) {
		if (wait4(child, &st, 0, &ru) == -1) {
			perror("wait4");
			return 71;
		}
		t1 = now_us();
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		maxrss = ru.ru_maxrss;
		cpu = cpu_us(&ru);
		goto done;
	}

	/* the child stops itself before exec */
	if (waitpid(child, &st, 0) == -1 || !WIFSTOPPED(st)) {
		fprintf(stderr, "runstat: child did not stop\n");
		return 71;
	}
	was_seen(child);
	ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)(long)(PTRACE_O_TRACEFORK |
	    PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT |
	    PTRACE_O_TRACEEXEC |
	    PTRACE_O_EXITKILL));
	ptrace(PTRACE_CONT, child, NULL, NULL);
	for (;;) {
		pid = wait4(-1, &st, __WALL, &ru);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: every tracee is gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (pid == child) {
				t1 = now_us();
				status = WIFEXITED(st) ? WEXITSTATUS(st) :
				    128 + WTERMSIG(st);
				maxrss = ru.ru_maxrss;
				cpu = cpu_us(&ru);
			}
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = (unsigned)st >> 16;
		if (ev == PTRACE_EVENT_EXIT)
			report_exit(pid);
		if (ev != 0) {
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		/* the first stop of a new tracee is its SIGSTOP: swallow it */
		if (sig == SIGSTOP && !was_seen(pid)) {
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		/* any other signal: deliver it */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	if (status == -1) {
		fprintf(stderr, "runstat: lost the child\n");
		return 71;
	}
done:
	fprintf(stderr, "runstat status=%d wall_us=%lld cpu_us=%lld "
	    "maxrss_kb=%ld\n", status, t1 - t0, cpu, maxrss);
	return status;
}
