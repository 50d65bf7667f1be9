/*
 * Run a program and collect what it writes on its standard output, as the
 * password sources of postern and the --auth passwordeval of posternd do.
 *
 * The program is exec'ed as path with argv: whether that is a program run
 * directly or a shell command ("/bin/sh", "sh", "-c", cmd) is the caller's
 * choice.  Its stdin is /dev/null, its stderr stays the caller's unless
 * CAPTURE_QUIET puts it on /dev/null too, SIGPIPE is back to the default
 * and no other descriptor is left open.  It runs in a process group of its
 * own (the terminal's foreground group while it runs, when ours was), and
 * has timeout seconds to finish its output and exit; then the whole group
 * is killed.  When it has exited, whatever is left in its group is killed
 * too, so nothing it started holds our stderr afterwards.  At most max
 * bytes are read: with
 * CAPTURE_TRUNCATE the rest is left unread and the exit status decides;
 * without it, output that reaches max bytes is an error and the program
 * is killed.
 *
 * On success the output is in out (len bytes, NUL terminated, in a buffer
 * of max + 1 bytes) and status is what waitpid(2) reported; the caller
 * judges the status.  The output may be a password: the caller wipes it
 * with freezero(out, max + 1), or hands it on with that duty.  On failure
 * the program has been reaped, out is NULL and err says why; for
 * CAPTURE_ESTART, err names the call that failed and errno is its error.
 */
#ifndef POSTERN_CAPTURE_H
#define POSTERN_CAPTURE_H

#include <stddef.h>

#define CAPTURE_QUIET		0x1	/* stderr on /dev/null */
#define CAPTURE_TRUNCATE	0x2	/* stop reading at max, do not fail */

#define CAPTURE_ESTART		-1	/* pipe or fork failed */
#define CAPTURE_ETIMEOUT	-2	/* killed at the time limit */
#define CAPTURE_EREAD		-3	/* read failed, or more than max */

/* The status of a child that could not exec its program, as sh(1) has it. */
#define EXIT_NOEXEC		127

struct capture {
	char	*out;
	size_t	 len;
	int	 status;
	char	 err[128];
};

int	capture_run(struct capture *, const char *, char *const [], int, int,
	    size_t);

#endif
