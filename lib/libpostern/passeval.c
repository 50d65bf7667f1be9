#include <sys/types.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "passeval.h"

/*
 * Run cmd with sh -c for at most timeout seconds and return its output
 * (at most max bytes), freezero it with max + 1 bytes; NULL with err set
 * when it cannot be had.  stderr stays the caller's, so gpg can ask for
 * a passphrase.  Without PASSEVAL_FIRSTLINE (msmtp): no output at all or
 * a NUL in it is an error, and one trailing line end is dropped.  With
 * it (msmtpd): what comes after the first line is left unread.  A shell
 * that cannot be started is fatal.
 */
char *
password_eval(const char *cmd, int flags, int timeout, size_t max, char *err,
    size_t errsz)
{
	char		*argv[] = { (char *)(uintptr_t)"sh",
			    (char *)(uintptr_t)"-c", (char *)(uintptr_t)cmd,
			    NULL };
	struct capture	 c;
	int		 rc;

	rc = capture_run(&c, "/bin/sh", argv, (flags & PASSEVAL_FIRSTLINE) ?
	    CAPTURE_TRUNCATE : 0, timeout, max);
	if (rc == CAPTURE_ESTART)
		fatal("%s", c.err);
	if (flags & PASSEVAL_FIRSTLINE) {
		if (rc == CAPTURE_ETIMEOUT) {
			snprintf(err, errsz, "passwordeval: timed out");
			return NULL;
		}
		if (rc != 0 || !WIFEXITED(c.status) ||
		    WEXITSTATUS(c.status) != 0) {
			snprintf(err, errsz, "cannot read output of '%s'", cmd);
			if (rc == 0)
				freezero(c.out, max + 1);
			return NULL;
		}
		c.out[strcspn(c.out, "\r\n")] = '\0';
		return c.out;
	}
	if (rc != 0) {
		snprintf(err, errsz, "cannot read output of '%s': %s", cmd,
		    c.err);
		return NULL;
	}
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 ||
	    c.len == 0 || memchr(c.out, '\0', c.len) != NULL) {
		snprintf(err, errsz, "cannot read output of '%s'", cmd);
		freezero(c.out, max + 1);
		return NULL;
	}
	if (c.out[c.len - 1] == '\n')
		c.out[--c.len] = '\0';
	if (c.len > 0 && c.out[c.len - 1] == '\r')
		c.out[--c.len] = '\0';
	return c.out;
}
