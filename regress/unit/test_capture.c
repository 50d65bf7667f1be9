/*
 * capture_run(): the time limit holds for everything the command starts.
 * This process is a subreaper, so a grandchild that outlives the command
 * becomes our child and is seen here.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "tap.h"

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Our living children, reaping the dead; with kill, they are killed. */
static int
leftovers(int killthem)
{
	char		 path[300], buf[512], *p;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	long		 ppid;
	int		 n = 0, st;

	while (waitpid(-1, &st, WNOHANG) > 0)
		;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 &&
		    ppid == (long)getpid() && p[2] != 'Z') {
			n++;
			if (killthem)
				kill((pid_t)atol(de->d_name), SIGKILL);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * Leftovers, allowing a killed grandchild time to die (5 s at most); those
 * still alive then are counted and killed.
 */
static int
leftovers_after_death(void)
{
	double	 end = now() + 5;
	int	 n;

	while ((n = leftovers(0)) > 0 && now() < end) {
		struct timespec	 ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (n > 0)
		(void)leftovers(1);
	return n;
}

static int
run(const char *cmd, int timeout, struct capture *c, double *took)
{
	char	*argv[] = { (char *)(uintptr_t)"sh", (char *)(uintptr_t)"-c",
		    (char *)(uintptr_t)cmd, NULL };
	double	 t0 = now();
	int	 rc;

	rc = capture_run(c, "/bin/sh", argv, CAPTURE_QUIET, timeout, 64);
	*took = now() - t0;
	return rc;
}

int
main(void)
{
	struct capture	 c;
	double		 took;
	int		 rc;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}

	rc = run("echo pw", 10, &c, &took);
	ok(rc == 0 && c.out != NULL && strcmp(c.out, "pw\n") == 0 &&
	    WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0,
	    "a command's output is captured");
	if (rc == 0)
		freezero(c.out, 65);

	rc = run("sleep 1000; echo never", 1, &c, &took);
	ok(rc == CAPTURE_ETIMEOUT && took < 10, "a command past its time "
	    "limit is killed (%.1f s for a 1 s limit)", took);
	ok(leftovers_after_death() == 0, "and nothing it started outlives it");

	rc = run("echo pw; exec >&-; sleep 30", 1, &c, &took);
	ok(rc == CAPTURE_ETIMEOUT && took < 10, "closing its output early "
	    "buys a command no time (%.1f s for a 1 s limit)", took);
	ok(leftovers_after_death() == 0, "and nothing it started outlives it");

	rc = run("sleep 1000 >/dev/null & echo pw", 10, &c, &took);
	ok(rc == 0 && c.out != NULL && strcmp(c.out, "pw\n") == 0,
	    "a command that leaves a program behind still gives its output");
	if (rc == 0)
		freezero(c.out, 65);
	ok(leftovers_after_death() == 0, "the program left behind is ended "
	    "with it");
	return tap_done();
}
