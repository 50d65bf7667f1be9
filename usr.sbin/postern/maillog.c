/*
 * msmtp's log line, to a log file or syslog.  Only the parent writes it.
 * Text that came from the server or the message is escaped first: control
 * characters become '?', and so do single quotes inside quoted fields.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "maillog.h"

const char *
exitcode_name(int code)
{
	static const struct {
		int		 code;
		const char	*name;
	} names[] = {
		{ EX_OK, "EX_OK" }, { EX_USAGE, "EX_USAGE" },
		{ EX_DATAERR, "EX_DATAERR" }, { EX_NOINPUT, "EX_NOINPUT" },
		{ EX_NOUSER, "EX_NOUSER" }, { EX_NOHOST, "EX_NOHOST" },
		{ EX_UNAVAILABLE, "EX_UNAVAILABLE" },
		{ EX_SOFTWARE, "EX_SOFTWARE" }, { EX_OSERR, "EX_OSERR" },
		{ EX_OSFILE, "EX_OSFILE" }, { EX_CANTCREAT, "EX_CANTCREAT" },
		{ EX_IOERR, "EX_IOERR" }, { EX_TEMPFAIL, "EX_TEMPFAIL" },
		{ EX_PROTOCOL, "EX_PROTOCOL" }, { EX_NOPERM, "EX_NOPERM" },
		{ EX_CONFIG, "EX_CONFIG" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "EX_UNKNOWN";
}

struct out {
	char	*p;
	size_t	 left;
};

static void
put(struct out *o, const char *s, int quoted)
{
	unsigned char	 c;

	for (; *s != '\0' && o->left > 1; s++) {
		c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (quoted && c == '\''))
			c = '?';
		*o->p++ = (char)c;
		o->left--;
	}
	*o->p = '\0';
}

/* Multi-line replies are logged with a literal "\n" between lines. */
static void
put_reply(struct out *o, const char *s)
{
	char	 line[2];

	for (; *s != '\0' && o->left > 2; s++) {
		if (*s == '\n') {
			put(o, "\\n", 1);
			continue;
		}
		line[0] = *s;
		line[1] = '\0';
		put(o, line, 1);
	}
}

size_t
maillog_format(char *buf, size_t bufsz, const struct account *a,
    const struct maillog *l)
{
	struct out	 o = { buf, bufsz };
	char		 num[32];
	size_t		 i;

	if (bufsz == 0)
		return 0;
	*buf = '\0';
	if (a->socket != NULL) {
		put(&o, "socket=", 0);
		put(&o, a->socket, 0);
	} else {
		put(&o, "host=", 0);
		put(&o, a->host != NULL ? a->host : "", 0);
	}
	put(&o, a->tls ? " tls=on" : " tls=off", 0);
	put(&o, a->auth != NULL ? " auth=on" : " auth=off", 0);
	if (a->auth != NULL && a->user != NULL) {
		put(&o, " user=", 0);
		put(&o, a->user, 0);
	}
	if (l->localuser != NULL) {
		put(&o, " localuser=", 0);
		put(&o, l->localuser, 0);
		snprintf(num, sizeof(num), " localuid=%lu", l->localuid);
		put(&o, num, 0);
	}
	put(&o, " from=", 0);
	put(&o, l->from != NULL ? l->from : "", 0);
	put(&o, " recipients=", 0);
	for (i = 0; i < l->nrcpt; i++) {
		if (i > 0)
			put(&o, ",", 0);
		put(&o, l->rcpts[i], 0);
	}
	if (l->exitcode == EX_OK) {
		snprintf(num, sizeof(num), " mailsize=%llu",
		    (unsigned long long)l->mailsize);
		put(&o, num, 0);
	}
	if (l->smtpstatus != 0 && l->smtpmsg != NULL) {
		snprintf(num, sizeof(num), " smtpstatus=%d", l->smtpstatus);
		put(&o, num, 0);
		put(&o, " smtpmsg='", 0);
		put_reply(&o, l->smtpmsg);
		put(&o, "'", 0);
	}
	if (l->errmsg != NULL && *l->errmsg != '\0') {
		put(&o, " errormsg='", 0);
		put(&o, l->errmsg, 1);
		put(&o, "'", 0);
	}
	put(&o, " exitcode=", 0);
	put(&o, exitcode_name(l->exitcode), 0);
	return strlen(buf);
}

static int
facility(const char *name)
{
	static const struct {
		const char	*name;
		int		 fac;
	} f[] = {
		{ "LOG_USER", LOG_USER }, { "LOG_MAIL", LOG_MAIL },
		{ "LOG_LOCAL0", LOG_LOCAL0 }, { "LOG_LOCAL1", LOG_LOCAL1 },
		{ "LOG_LOCAL2", LOG_LOCAL2 }, { "LOG_LOCAL3", LOG_LOCAL3 },
		{ "LOG_LOCAL4", LOG_LOCAL4 }, { "LOG_LOCAL5", LOG_LOCAL5 },
		{ "LOG_LOCAL6", LOG_LOCAL6 }, { "LOG_LOCAL7", LOG_LOCAL7 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(name, f[i].name) == 0)
			return f[i].fac;
	return LOG_USER;
}

/* As msmtp: a write lock, retried for up to ten seconds. */
static int
lock_file(FILE *fp)
{
	struct flock	 fl;
	int		 i;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_END;
	for (i = 0; i < 100; i++) {
		if (fcntl(fileno(fp), F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN)
			return -1;
		usleep(100000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/*
 * Whatever the log line will need from outside the process, taken before
 * the parent locks itself down: the time zone, the connection to syslogd,
 * the log file.  A file that cannot be opened is reported with the line,
 * at the end, as msmtp does.
 */
static FILE	*logfp;
static int	 logerr;

void
maillog_open(const struct account *a)
{
	tzset();
	if (a->syslog != NULL)
		openlog("postern", LOG_NDELAY, facility(a->syslog));
	if (a->logfile == NULL || strcmp(a->logfile, "-") == 0 ||
	    logfp != NULL)
		return;
	if ((logfp = fopen(a->logfile, "a")) == NULL)
		logerr = errno;
}

int
maillog_fd(void)
{
	return logfp != NULL ? fileno(logfp) : -1;
}

void
maillog_write(const struct account *a, const struct maillog *l)
{
	char		 line[8192], stamp[256];
	const char	*fmt;
	struct tm	 tm;
	time_t		 now;
	FILE		*fp;

	maillog_format(line, sizeof(line), a, l);
	if (a->syslog != NULL) {
		openlog("postern", LOG_NDELAY, facility(a->syslog));
		syslog(l->exitcode == EX_OK ? LOG_INFO : LOG_ERR, "%s", line);
		closelog();
	}
	if (a->logfile == NULL)
		return;
	now = time(NULL);
	fmt = a->logfile_time_format != NULL ? a->logfile_time_format :
	    "%b %d %H:%M:%S";
	/* The format is the user's logfile_time_format, as in msmtp. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), fmt, &tm) == 0)
		stamp[0] = '\0';
#pragma GCC diagnostic pop
	if (strcmp(a->logfile, "-") == 0) {
		printf("%s %s\n", stamp, line);
		fflush(stdout);
		return;
	}
	if (logfp == NULL && logerr == 0)
		maillog_open(a);
	fp = logfp;
	logfp = NULL;
	if (fp == NULL || lock_file(fp) == -1) {
		if (fp == NULL)
			errno = logerr;
		log_warn("cannot log to %s", a->logfile);
		log_warnx("log info was: %s", line);
		if (fp != NULL)
			fclose(fp);
		return;
	}
	fprintf(fp, "%s %s\n", stamp, line);
	if (fclose(fp) == EOF) {
		log_warn("cannot log to %s", a->logfile);
		log_warnx("log info was: %s", line);
	}
}
