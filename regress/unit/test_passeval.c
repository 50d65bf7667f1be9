/* passwordeval as msmtp reads it, and as msmtpd (the first line) does. */
#include <stdlib.h>
#include <string.h>

#include "passeval.h"
#include "tap.h"

#define MAX	4096

static char	 err[256];

/* The password cmd gives in mode flags, or NULL; freed by the caller. */
static char *
eval(const char *cmd, int flags)
{
	err[0] = '\0';
	return password_eval(cmd, flags, 10, MAX, err, sizeof(err));
}

static int
is(const char *cmd, int flags, const char *want)
{
	char	*p = eval(cmd, flags);
	int	 r;

	r = p != NULL && strcmp(p, want) == 0;
	if (p != NULL)
		freezero(p, MAX + 1);
	return r;
}

int
main(void)
{
	char	*p;

	ok(is("echo secret", 0, "secret"), "msmtp: one line end dropped");
	ok(is("printf 'sec ret\\r\\n'", 0, "sec ret"), "msmtp: CRLF dropped");
	ok(is("printf 'a\\nb\\n'", 0, "a\nb"),
	    "msmtp: only the last line end goes");
	ok(eval("true", 0) == NULL && strstr(err, "cannot read output") !=
	    NULL, "msmtp: no output is an error");
	ok(eval("printf 'a\\000b'", 0) == NULL, "msmtp: a NUL is an error");
	ok(eval("echo x; exit 3", 0) == NULL, "msmtp: a failing command");
	ok(is("printf 'first\\nsecond\\n'", PASSEVAL_FIRSTLINE, "first"),
	    "msmtpd: the first line");
	ok(is("printf 'first\\r\\n'", PASSEVAL_FIRSTLINE, "first"),
	    "msmtpd: CRLF ends the line");
	ok(eval("echo x; exit 1", PASSEVAL_FIRSTLINE) == NULL &&
	    strstr(err, "cannot read output of 'echo x; exit 1'") != NULL,
	    "msmtpd: a failing command");
	p = eval("head -c 10000 /dev/zero | tr '\\0' a; exit 0",
	    PASSEVAL_FIRSTLINE);
	ok(p != NULL && strlen(p) == MAX,
	    "msmtpd: more output than the limit is cut, not refused");
	if (p != NULL)
		freezero(p, MAX + 1);
	return tap_done();
}
