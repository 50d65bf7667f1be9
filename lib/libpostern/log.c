#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

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
	exit(70);	/* EX_SOFTWARE */
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(70);	/* EX_SOFTWARE */
}

static int
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

char *
log_sanitize(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t	 i, j;

	if (dstsz == 0)
		return dst;
	for (i = 0, j = 0; i < len && j + 1 < dstsz; i++)
		dst[j++] = is_control((unsigned char)src[i]) ? '?' : src[i];
	dst[j] = '\0';
	return dst;
}

void
log_scrub(char *s, int keep_nl)
{
	for (; *s != '\0'; s++)
		if (is_control((unsigned char)*s) && !(keep_nl && *s == '\n'))
			*s = '?';
}
