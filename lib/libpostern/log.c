#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static char	 progname[64] = "postern";
static char	 procname[32];
static int	 verbose;

void
log_init(const char *argv0, int v)
{
	const char	*p;

	if (argv0 != NULL) {
		if ((p = strrchr(argv0, '/')) != NULL)
			argv0 = p + 1;
		if (*argv0 != '\0')
			strlcpy(progname, argv0, sizeof(progname));
	}
	verbose = v;
}

void
log_procname(const char *name)
{
	strlcpy(procname, name, sizeof(procname));
}

const char *
log_progname(void)
{
	return progname;
}

static void
vlog(const char *fmt, va_list ap, const char *suffix)
{
	char	 msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Whatever the message quotes, no control character reaches a tty. */
	log_scrub(msg, 1);
	if (procname[0] != '\0')
		fprintf(stderr, "%s: %s: %s%s%s\n", progname, procname, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", progname, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	fflush(stderr);
}

void
vlog_warnx(const char *fmt, va_list ap)
{
	vlog(fmt, ap, NULL);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(EX_SOFTWARE);
}

static int
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * How many bytes at s (n left) form the next character, and whether it is
 * one a terminal would act on: C0, DEL, a C1 control encoded in UTF-8, or
 * a raw byte 0x80 to 0x9f that is no part of a well-formed sequence (C1
 * itself on a terminal in 8-bit mode).  Other bytes, valid UTF-8 or not,
 * are shown as they are.
 */
static size_t
next_char(const unsigned char *s, size_t n, int *control)
{
	size_t	 k;

	if (s[0] < 0x80) {
		*control = is_control(s[0]);
		return 1;
	}
	if ((k = utf8_seqlen(s, n)) > 0) {
		*control = k == 2 && UTF8_IS_C1(s);
		return k;
	}
	*control = s[0] < 0xa0;
	return 1;
}

/* One '?' for each control character; never half a character. */
char *
log_sanitize(char *dst, size_t dstsz, const char *src, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 i, j, k;
	int			 ctl;

	if (dstsz == 0)
		return dst;
	for (i = 0, j = 0; i < len; i += k) {
		k = next_char(s + i, len - i, &ctl);
		if (j + (ctl ? 1 : k) >= dstsz)
			break;
		if (ctl)
			dst[j++] = '?';
		else {
			memcpy(dst + j, s + i, k);
			j += k;
		}
	}
	dst[j] = '\0';
	return dst;
}

void
log_scrub(char *s, int keep_nl)
{
	unsigned char	*p = (unsigned char *)s, *q = p;
	size_t		 len = strlen(s), i, k;
	int		 ctl;

	for (i = 0; i < len; i += k) {
		k = next_char(p + i, len - i, &ctl);
		if (ctl && !(keep_nl && p[i] == '\n'))
			*q++ = '?';
		else {
			memmove(q, p + i, k);
			q += k;
		}
	}
	*q = '\0';
}
