#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "iowait.h"
#include "log.h"
#include "reply.h"
#include "smtp_client.h"
#include "tls_client.h"

#define SMTP_RBUF_SIZE	4096
#define SMTP_WBUF_SIZE	(64 * 1024)
#define SMTP_AUTH_STEPS	16	/* challenges before we call it a loop */

struct smtp {
	int			 fd;
	struct tls		*tls;
	struct tls_client	*tc;
	const struct smtp_callbacks *cb;
	int			 protocol;
	int			 tlsmode;
	int			 authmode;
	char			*domain;
	char			*auth_mech;
	char			*dsn_notify;
	char			*dsn_return;
	int			 timeout;
	int			 debug_fd;

	struct smtp_caps	 caps;
	char			*greeting;
	int			 tls_active;
	struct tls_peer_info	 tlsinfo;
	unsigned char		 cbind[TLS_CBIND_MAX];
	size_t			 cbindlen;

	int			 broken;	/* out of step with the server */
	int			 closing;	/* the server said 421 */
	int			 quit_sent;
	size_t			 ntrans;
	int			 dot_held;	/* a dot whose reply is unread */
	size_t			 held_size;

	char			 rbuf[SMTP_RBUF_SIZE];
	size_t			 rpos, rlen;
	char			*wbuf;
	size_t			 wlen;
	char			*ibuf;
	struct reply		 reply;
};

static void	 res_error(struct smtp_result *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 cmd_queue(struct smtp *, struct smtp_result *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
res_clear(struct smtp_result *res)
{
	res->exitcode = EX_OK;
	res->smtpstatus = 0;
	res->smtpmsg[0] = '\0';
	res->errmsg[0] = '\0';
	res->mailsize = 0;
	res->rcpt_failed = 0;
}

static void
res_error(struct smtp_result *res, int ex, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
	va_end(ap);
	res->exitcode = ex;
}

/* Attach the current reply to the result, each line sanitised. */
static void
res_reply(struct smtp *s, struct smtp_result *res)
{
	const char	*l;
	size_t		 i, len, o = 0;

	res->smtpstatus = s->reply.code;
	res->smtpmsg[0] = '\0';
	for (i = 0; i < s->reply.nlines; i++) {
		if ((l = reply_line(&s->reply, i, &len)) == NULL)
			break;
		if (i > 0 && o + 1 < sizeof(res->smtpmsg))
			res->smtpmsg[o++] = '\n';
		if (o + 1 >= sizeof(res->smtpmsg))
			break;
		log_sanitize(res->smtpmsg + o, sizeof(res->smtpmsg) - o, l, len);
		o += strlen(res->smtpmsg + o);
	}
	res->smtpmsg[o] = '\0';
}

/* The one deliberate difference from msmtp: a 4xx reply is temporary. */
static int
reply_exit(int code, int otherwise)
{
	return code >= 400 && code <= 499 ? EX_TEMPFAIL : otherwise;
}

static void
dbg_write(struct smtp *s, const char *p, size_t len)
{
	ssize_t	 n;

	while (s->debug_fd != -1 && len > 0) {
		if ((n = write(s->debug_fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			s->debug_fd = -1;	/* a dead transcript ends it */
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* A received line: the server's text is sanitised before it is shown. */
static void
dbg_recv(struct smtp *s, const char *line, size_t len)
{
	char	 buf[REPLY_LINE_MAX + 8];

	if (s->debug_fd == -1)
		return;
	memcpy(buf, "<-- ", 4);
	if (len > REPLY_LINE_MAX)
		len = REPLY_LINE_MAX;
	log_sanitize(buf + 4, sizeof(buf) - 4, line, len);
	strlcat(buf, "\r\n", sizeof(buf));
	dbg_write(s, buf, strlen(buf));
}

static int
io_wait_error(struct smtp *s, struct smtp_result *res, const char *what)
{
	s->broken = 1;
	res_error(res, EX_IOERR, "network %s error: %s", what,
	    errno == ETIMEDOUT ? "the operation timed out" : strerror(errno));
	return -1;
}

/* Wait until the socket is ready for events, at most the timeout. */
static int
wait_fd(struct smtp *s, int events)
{
	return iowait(s->fd, events, iowait_deadline(s->timeout)) == 1 ? 0 :
	    -1;
}

/* Read what is available, waiting at most the timeout.  0 at EOF. */
static ssize_t
io_read(struct smtp *s, void *buf, size_t len, struct smtp_result *res)
{
	ssize_t	 n;

	for (;;) {
		if (s->tls != NULL) {
			n = tls_client_read(s->tls, buf, len);
			if (n == TLS_CLIENT_WANT_POLLIN ||
			    n == TLS_CLIENT_WANT_POLLOUT) {
				if (wait_fd(s, n == TLS_CLIENT_WANT_POLLIN ?
				    POLLIN : POLLOUT) == -1)
					return io_wait_error(s, res, "read");
				continue;
			}
			if (n == -1) {
				s->broken = 1;
				res_error(res, EX_IOERR,
				    "cannot read from TLS connection: %s",
				    tls_client_error(s->tls));
			}
			return n;
		}
		if ((n = read(s->fd, buf, len)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(s, POLLIN) == -1)
				return io_wait_error(s, res, "read");
			continue;
		}
		s->broken = 1;
		res_error(res, EX_IOERR, "network read error: %s",
		    strerror(errno));
		return -1;
	}
}

static int
io_write(struct smtp *s, const char *p, size_t len, struct smtp_result *res)
{
	ssize_t	 n;

	if (s->closing)
		return -1;	/* keep the 421 as the outcome */
	while (len > 0) {
		if (s->tls != NULL) {
			n = tls_client_write(s->tls, p, len);
			if (n == TLS_CLIENT_WANT_POLLIN ||
			    n == TLS_CLIENT_WANT_POLLOUT) {
				if (wait_fd(s, n == TLS_CLIENT_WANT_POLLIN ?
				    POLLIN : POLLOUT) == -1)
					return io_wait_error(s, res, "write");
				continue;
			}
			if (n == -1) {
				s->broken = 1;
				res_error(res, EX_IOERR,
				    "cannot write to TLS connection: %s",
				    tls_client_error(s->tls));
				return -1;
			}
		} else if ((n = write(s->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_fd(s, POLLOUT) == -1)
					return io_wait_error(s, res, "write");
				continue;
			}
			s->broken = 1;
			res_error(res, EX_IOERR, "network write error: %s",
			    strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
wbuf_flush(struct smtp *s, struct smtp_result *res)
{
	int	 rv;

	if (s->wlen == 0)
		return 0;
	rv = io_write(s, s->wbuf, s->wlen, res);
	explicit_bzero(s->wbuf, s->wlen);	/* may have held a response */
	s->wlen = 0;
	return rv;
}

static int
wbuf_add(struct smtp *s, const char *p, size_t len, struct smtp_result *res)
{
	if (s->wlen + len > SMTP_WBUF_SIZE && wbuf_flush(s, res) == -1)
		return -1;
	if (len > SMTP_WBUF_SIZE)
		return io_write(s, p, len, res);
	memcpy(s->wbuf + s->wlen, p, len);
	s->wlen += len;
	return 0;
}

/*
 * Queue one command line.  shown replaces it in the transcript when it
 * carries credentials.  A line break inside would start a second command,
 * so it is refused whatever the caller checked before.
 */
static int
cmd_queue(struct smtp *s, struct smtp_result *res, const char *shown,
    const char *fmt, ...)
{
	char	 line[SMTP_CMD_MAX + 3];
	va_list	 ap;
	int	 n, rv;

	va_start(ap, fmt);
	n = vsnprintf(line, SMTP_CMD_MAX + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > SMTP_CMD_MAX) {
		explicit_bzero(line, sizeof(line));
		res_error(res, EX_SOFTWARE, "Cannot send command because it "
		    "is longer than %d characters.", SMTP_CMD_MAX);
		return -1;
	}
	if (strcspn(line, "\r\n") != (size_t)n) {
		explicit_bzero(line, sizeof(line));
		res_error(res, EX_DATAERR,
		    "refusing to send a command that contains a line break");
		return -1;
	}
	if (s->debug_fd != -1) {
		dbg_write(s, "--> ", 4);
		if (shown != NULL)
			dbg_write(s, shown, strlen(shown));
		else
			dbg_write(s, line, (size_t)n);
		dbg_write(s, "\r\n", 2);
	}
	memcpy(line + n, "\r\n", 2);
	rv = wbuf_add(s, line, (size_t)n + 2, res);
	explicit_bzero(line, sizeof(line));
	return rv;
}

/* Next line of input without its line end; 1 at EOF. */
static int
read_line(struct smtp *s, char **line, size_t *len, struct smtp_result *res)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		nl = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);
		if (nl != NULL) {
			*line = s->rbuf + s->rpos;
			*len = (size_t)(nl - *line);
			s->rpos = (size_t)(nl - s->rbuf) + 1;
			if (*len > 0 && (*line)[*len - 1] == '\r')
				(*len)--;
			return 0;
		}
		if (s->rlen - s->rpos > REPLY_LINE_MAX + 1) {
			s->broken = 1;
			res_error(res, EX_PROTOCOL, "%s",
			    reply_strerror(REPLY_ELONG));
			return -1;
		}
		memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
		n = io_read(s, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen,
		    res);
		if (n == -1)
			return -1;
		if (n == 0)
			return 1;
		s->rlen += (size_t)n;
	}
}

static int
read_reply(struct smtp *s, struct smtp_result *res)
{
	char	*line;
	size_t	 len;
	int	 rv;

	/*
	 * After a 421 the server has closed (RFC 5321 3.8): the 421 stays
	 * the outcome, whatever a later read would say.
	 */
	if (s->closing)
		return -1;
	reply_init(&s->reply);
	for (;;) {
		if ((rv = read_line(s, &line, &len, res)) == -1)
			return -1;
		if (rv == 1) {
			s->broken = 1;
			res_error(res, EX_PROTOCOL, "%s", reply_strerror(
			    s->reply.nlines == 0 && s->rpos == s->rlen ?
			    REPLY_EEMPTY : REPLY_EINVALID));
			return -1;
		}
		dbg_recv(s, line, len);
		switch (reply_add_line(&s->reply, line, len)) {
		case REPLY_DONE:
			if (s->reply.code == 421) {
				s->closing = 1;
				s->broken = 1;
				res_reply(s, res);
				res_error(res, EX_TEMPFAIL,
				    "the server closed the connection");
			}
			return 0;
		case REPLY_MORE:
			break;
		default:
			s->broken = 1;
			res_error(res, EX_PROTOCOL, "%s",
			    reply_strerror(s->reply.error));
			return -1;
		}
	}
}

static int
command(struct smtp *s, struct smtp_result *res, const char *cmd)
{
	if (cmd_queue(s, res, NULL, "%s", cmd) == -1 ||
	    wbuf_flush(s, res) == -1)
		return -1;
	return read_reply(s, res);
}

/* QUIT and its reply, whatever they say: the outcome is already known. */
static void
quit(struct smtp *s)
{
	struct smtp_result	*tmp;

	if (s->broken || s->quit_sent)
		return;
	s->quit_sent = 1;
	if ((tmp = malloc(sizeof(*tmp))) != NULL) {
		(void)command(s, tmp, "QUIT");
		free(tmp);
	}
	s->broken = 1;	/* nothing may follow QUIT */
}

/* Is keyword kw (upper case) at the start of cap, whole? */
static const char *
cap_match(const char *cap, const char *kw)
{
	size_t	 n = strlen(kw);

	if (strncmp(cap, kw, n) != 0)
		return NULL;
	if (cap[n] == '\0' || cap[n] == ' ')
		return cap + n;
	return NULL;
}

static void
caps_add_mechs(struct smtp_caps *caps, const char *p)
{
	char	 mech[64];
	size_t	 n, len;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		/* SASL names: up to 20 of A-Z 0-9 - _ (RFC 4422 3.1). */
		if (n > 0 && n <= 20 && strspn(p,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") >= n) {
			memcpy(mech, p, n);
			mech[n] = '\0';
			len = strlen(caps->auth);
			if (len + n + 2 < sizeof(caps->auth)) {
				if (len > 0)
					caps->auth[len++] = ' ';
				memcpy(caps->auth + len, mech, n + 1);
			}
		}
		p += n;
	}
}

static void
caps_parse(struct smtp *s)
{
	char			 up[REPLY_LINE_MAX + 1];
	const char		*l, *rest;
	char			*end;
	size_t			 i, j, len;
	unsigned long long	 size;

	memset(&s->caps, 0, sizeof(s->caps));
	/* The first line is the server's name, not a capability. */
	for (i = 1; i < s->reply.nlines; i++) {
		if ((l = reply_line(&s->reply, i, &len)) == NULL || len < 4)
			continue;
		for (j = 4; j < len; j++)
			up[j - 4] = (char)toupper((unsigned char)l[j]);
		up[len - 4] = '\0';
		if (cap_match(up, "PIPELINING"))
			s->caps.flags |= SMTP_CAP_PIPELINING;
		else if (cap_match(up, "8BITMIME"))
			s->caps.flags |= SMTP_CAP_8BITMIME;
		else if (cap_match(up, "DSN"))
			s->caps.flags |= SMTP_CAP_DSN;
		else if (cap_match(up, "STARTTLS"))
			s->caps.flags |= SMTP_CAP_STARTTLS;
		else if (cap_match(up, "ETRN"))
			s->caps.flags |= SMTP_CAP_ETRN;
		else if (cap_match(up, "SMTPUTF8"))
			s->caps.flags |= SMTP_CAP_SMTPUTF8;
		else if (cap_match(up, "ENHANCEDSTATUSCODES"))
			s->caps.flags |= SMTP_CAP_ENHANCEDSTATUSCODES;
		else if ((rest = cap_match(up, "SIZE")) != NULL) {
			while (*rest == ' ')
				rest++;
			if (*rest == '\0') {
				s->caps.flags |= SMTP_CAP_SIZE |
				    SMTP_CAP_SIZE_BARE;
				s->caps.size = 0;
				continue;
			}
			/* An unparsable or absurd limit is ignored. */
			if (!isdigit((unsigned char)*rest))
				continue;
			errno = 0;
			size = strtoull(rest, &end, 10);
			if (errno == ERANGE || (*end != '\0' && *end != ' '))
				continue;
			s->caps.flags |= SMTP_CAP_SIZE;
			s->caps.size = size;
		} else if ((rest = cap_match(up, "AUTH")) != NULL ||
		    (strncmp(up, "AUTH=", 5) == 0 && (rest = up + 5))) {
			s->caps.flags |= SMTP_CAP_AUTH;
			caps_add_mechs(&s->caps, rest);
		}
	}
}

/* EHLO (HELO if refused) or LHLO; capabilities start from nothing. */
static int
hello(struct smtp *s, struct smtp_result *res)
{
	char	 cmd[SMTP_CMD_MAX + 1];

	memset(&s->caps, 0, sizeof(s->caps));
	snprintf(cmd, sizeof(cmd), "%s %s",
	    s->protocol == SMTP_PROTO_LMTP ? "LHLO" : "EHLO", s->domain);
	if (command(s, res, cmd) == -1)
		return -1;
	if (s->reply.code == 250) {
		caps_parse(s);
		return 0;
	}
	/* After a 421 the connection is closed: no HELO. */
	if (s->protocol == SMTP_PROTO_LMTP || s->closing) {
		res_reply(s, res);
		res_error(res, reply_exit(s->reply.code, EX_PROTOCOL),
		    "command %s failed", s->protocol == SMTP_PROTO_LMTP ?
		    "LHLO" : "EHLO");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "HELO %s", s->domain);
	if (command(s, res, cmd) == -1)
		return -1;
	if (s->reply.code == 250)
		return 0;
	res_reply(s, res);
	res_error(res, reply_exit(s->reply.code, EX_PROTOCOL),
	    "SMTP server does not accept EHLO or HELO commands");
	return -1;
}

static int
start_tls(struct smtp *s, struct smtp_result *res)
{
	char	*info;
	size_t	 len;

	if (s->tc == NULL) {
		s->broken = 1;
		res_error(res, EX_SOFTWARE, "cannot initialize TLS session: "
		    "no TLS context");
		return -1;
	}
	s->tls = tls_client_start(s->tc, s->fd, s->timeout, &s->tlsinfo,
	    s->cbind, &s->cbindlen, res->errmsg, sizeof(res->errmsg),
	    &res->exitcode);
	if (s->tls == NULL) {
		s->broken = 1;
		return -1;
	}
	s->tls_active = 1;
	if (s->debug_fd != -1 && (info = malloc(4096)) != NULL) {
		len = tls_peer_info_format(&s->tlsinfo, info, 4096);
		dbg_write(s, info, len < 4096 ? len : 4095);
		free(info);
	}
	return 0;
}

/* Bytes after the 220 to STARTTLS came before TLS: an injection. */
static int
pending_input(struct smtp *s)
{
	char	 c;

	if (s->rpos != s->rlen)
		return 1;
	return recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/*
 * Is a reply already waiting where none may be (before the final dot)?
 * Under TLS a record that holds no data (a session ticket) is not one.
 */
static int
reply_waiting(struct smtp *s)
{
	ssize_t	 n;

	if (s->tls == NULL)
		return pending_input(s);
	if (s->rpos != s->rlen)
		return 1;
	s->rpos = s->rlen = 0;
	n = tls_client_read(s->tls, s->rbuf, sizeof(s->rbuf));
	if (n <= 0)
		return 0;	/* nothing yet, or what the next read reports */
	s->rlen = (size_t)n;
	return 1;
}

static int
starttls(struct smtp *s, struct smtp_result *res)
{
	if (!(s->caps.flags & SMTP_CAP_STARTTLS)) {
		quit(s);
		res_error(res, EX_UNAVAILABLE,
		    "the server does not support TLS via the STARTTLS command");
		return -1;
	}
	if (command(s, res, "STARTTLS") == -1)
		return -1;
	if (s->reply.code != 220) {
		res_reply(s, res);
		res_error(res, reply_exit(s->reply.code, EX_PROTOCOL),
		    "command STARTTLS failed");
		s->broken = 1;
		return -1;
	}
	if (pending_input(s)) {
		res_reply(s, res);
		res_error(res, EX_PROTOCOL, "command STARTTLS failed");
		s->broken = 1;
		return -1;
	}
	if (start_tls(s, res) == -1)
		return -1;
	return hello(s, res);
}

static int
mech_offered(const struct smtp *s, const char *mech)
{
	const char	*p = s->caps.auth;
	size_t		 n = strlen(mech);

	while (n > 0 && (p = strstr(p, mech)) != NULL) {
		if ((p == s->caps.auth || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

static void
wipe_string(char **sp)
{
	if (*sp != NULL)
		freezero(*sp, strlen(*sp) + 1);
	*sp = NULL;
}

/* Text after "DDD " or "DDD-" of the first reply line. */
static void
reply_text(const struct smtp *s, char *buf, size_t bufsz)
{
	const char	*l;
	size_t		 len;

	buf[0] = '\0';
	if ((l = reply_line(&s->reply, 0, &len)) == NULL || len < 4)
		return;
	len -= 4;
	if (len >= bufsz)
		len = bufsz - 1;
	memcpy(buf, l + 4, len);
	buf[len] = '\0';
}

static int
authenticate(struct smtp *s, struct smtp_result *res)
{
	char		 mech[64], shown[128], text[REPLY_LINE_MAX + 1];
	char		*initial = NULL, *response = NULL;
	const struct smtp_callbacks *cb = s->cb;
	int		 step, rv;

	if (!(s->caps.flags & SMTP_CAP_AUTH)) {
		quit(s);
		res_error(res, EX_UNAVAILABLE,
		    "the server does not support authentication");
		return -1;
	}
	if (s->authmode == SMTP_AUTH_MECH && !mech_offered(s, s->auth_mech)) {
		quit(s);
		res_error(res, EX_UNAVAILABLE, "the server does not support "
		    "authentication method %s", s->auth_mech);
		return -1;
	}
	if (cb == NULL || cb->auth_start == NULL || cb->auth_step == NULL) {
		res_error(res, EX_SOFTWARE, "no authentication handler");
		return -1;
	}
	strlcpy(mech, s->authmode == SMTP_AUTH_MECH ? s->auth_mech : "",
	    sizeof(mech));
	if (cb->auth_start(cb->ctx, s->caps.auth, s->tls_active,
	    s->cbindlen > 0 ? s->cbind : NULL, s->cbindlen, mech,
	    sizeof(mech), &initial, res) != 0) {
		wipe_string(&initial);
		if (res->exitcode == EX_OK)
			res_error(res, EX_SOFTWARE, "authentication failed");
		return -1;
	}
	if (mech[0] == '\0' || !mech_offered(s, mech)) {
		wipe_string(&initial);
		quit(s);
		res_error(res, EX_UNAVAILABLE, "the server does not support "
		    "authentication method %s", mech);
		return -1;
	}
	snprintf(shown, sizeof(shown), "AUTH %s%s", mech,
	    initial != NULL ? " (credentials hidden)" : "");
	if (initial != NULL)
		rv = cmd_queue(s, res, shown, "AUTH %s %s", mech,
		    initial[0] != '\0' ? initial : "=");
	else
		rv = cmd_queue(s, res, shown, "AUTH %s", mech);
	wipe_string(&initial);
	if (rv == -1 || wbuf_flush(s, res) == -1)
		return -1;

	for (step = 0; step < SMTP_AUTH_STEPS; step++) {
		if (read_reply(s, res) == -1)
			return -1;
		reply_text(s, text, sizeof(text));
		if (s->reply.code != 334)
			break;
		if (cb->auth_step(cb->ctx, text, &response, res) != 0 ||
		    response == NULL) {
			wipe_string(&response);
			s->broken = 1;
			if (res->exitcode == EX_OK)
				res_error(res, EX_NOPERM,
				    "authentication failed (method %s)", mech);
			return -1;
		}
		rv = cmd_queue(s, res, "(credentials hidden)", "%s", response);
		wipe_string(&response);
		if (rv == -1 || wbuf_flush(s, res) == -1)
			return -1;
	}
	if (step == SMTP_AUTH_STEPS) {
		s->broken = 1;
		res_error(res, EX_PROTOCOL, "authentication failed (method %s)",
		    mech);
		return -1;
	}
	if (s->reply.code == 235) {
		if (cb->auth_done != NULL &&
		    cb->auth_done(cb->ctx, 235, text, res) != 0) {
			s->broken = 1;
			if (res->exitcode == EX_OK)
				res_error(res, EX_NOPERM,
				    "authentication failed (method %s)", mech);
			return -1;
		}
		return 0;
	}
	if (cb->auth_done != NULL)
		(void)cb->auth_done(cb->ctx, s->reply.code, text, res);
	res_reply(s, res);
	res_error(res, reply_exit(s->reply.code, EX_NOPERM),
	    "authentication failed (method %s)", mech);
	return -1;
}

static char *
xstrdup_or_null(const char *p)
{
	char	*q;

	if (p == NULL)
		return NULL;
	if ((q = strdup(p)) == NULL)
		fatal("strdup");
	return q;
}

static void
smtp_free(struct smtp *s)
{
	if (s->tls != NULL)
		tls_client_stop(s->tls, s->fd, s->timeout);
	if (s->fd != -1)
		close(s->fd);
	free(s->domain);
	free(s->auth_mech);
	free(s->dsn_notify);
	free(s->dsn_return);
	free(s->greeting);
	/*
	 * Each flush wipes what it sent: only what is still queued needs
	 * wiping, and the rest of the buffer need not be touched.
	 */
	if (s->wbuf != NULL) {
		explicit_bzero(s->wbuf, s->wlen);
		free(s->wbuf);
	}
	free(s->ibuf);
	explicit_bzero(s->rbuf, sizeof(s->rbuf));
	free(s);
}

/*
 * Start a session on the connected socket fd, which the engine owns from
 * now on (closed by smtp_close, or here on failure): implicit TLS,
 * greeting, EHLO (HELO) or LHLO, STARTTLS and EHLO again, the DSN check
 * and AUTH.  Returns NULL with res filled in on failure.
 */
struct smtp *
smtp_open(int fd, const struct smtp_params *p, struct tls_client *tc,
    const struct smtp_callbacks *cb, struct smtp_result *res)
{
	struct smtp	*s;
	int		 flags;

	res_clear(res);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->fd = fd;
	s->tc = tc;
	s->cb = cb;
	s->protocol = p->protocol;
	s->tlsmode = p->tls;
	s->authmode = p->auth;
	s->domain = xstrdup_or_null(p->domain != NULL ? p->domain :
	    "localhost");
	s->auth_mech = xstrdup_or_null(p->auth_mech);
	s->dsn_notify = xstrdup_or_null(p->dsn_notify);
	s->dsn_return = xstrdup_or_null(p->dsn_return);
	s->timeout = p->timeout;
	s->debug_fd = p->debug_fd;
	if ((s->wbuf = malloc(SMTP_WBUF_SIZE)) == NULL ||
	    (s->ibuf = malloc(SMTP_WBUF_SIZE)) == NULL)
		fatal("malloc");

	if (s->authmode == SMTP_AUTH_MECH && (s->auth_mech == NULL ||
	    s->auth_mech[0] == '\0')) {
		res_error(res, EX_SOFTWARE, "no authentication method given");
		goto fail;
	}
	/* Timeouts need a non-blocking socket: poll() is the only wait. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    (!(flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)) {
		res_error(res, EX_OSERR, "cannot set socket flags: %s",
		    strerror(errno));
		goto fail;
	}

	if (s->tlsmode == SMTP_TLS_IMPLICIT && start_tls(s, res) == -1)
		goto fail;
	if (read_reply(s, res) == -1)
		goto fail;
	if ((s->greeting = strdup(s->reply.text)) == NULL)
		fatal("strdup");
	if (s->reply.code != 220) {
		res_reply(s, res);
		res_error(res, reply_exit(s->reply.code, EX_PROTOCOL),
		    "cannot get initial OK message from server");
		goto fail;
	}
	if (hello(s, res) == -1)
		goto fail;
	if (s->tlsmode == SMTP_TLS_STARTTLS && starttls(s, res) == -1)
		goto fail;
	if ((s->dsn_notify != NULL || s->dsn_return != NULL) &&
	    !(s->caps.flags & SMTP_CAP_DSN)) {
		quit(s);
		res_error(res, EX_UNAVAILABLE, "the server does not support DSN");
		goto fail;
	}
	if (s->authmode != SMTP_AUTH_OFF && authenticate(s, res) == -1)
		goto fail;
	return s;
 fail:
	smtp_free(s);
	return NULL;
}

/* An address that would end the command line early never goes out. */
static int
check_address(const char *addr, struct smtp_result *res)
{
	char	 buf[256];

	if (strpbrk(addr, "\r\n") == NULL)
		return 0;
	log_sanitize(buf, sizeof(buf), addr, strlen(addr));
	res_error(res, EX_DATAERR, "invalid mail address %s", buf);
	return -1;
}

enum cmd_kind { CMD_RSET, CMD_MAIL, CMD_RCPT, CMD_DATA };

static int
queue_envelope_cmd(struct smtp *s, int kind, const char *from,
    const char *rcpt, struct smtp_result *res)
{
	switch (kind) {
	case CMD_RSET:
		return cmd_queue(s, res, NULL, "RSET");
	case CMD_MAIL:
		return cmd_queue(s, res, NULL, "MAIL FROM:<%s>%s%s", from,
		    s->dsn_return != NULL ? " RET=" : "",
		    s->dsn_return != NULL ? s->dsn_return : "");
	case CMD_RCPT:
		return cmd_queue(s, res, NULL, "RCPT TO:<%s>%s%s", rcpt,
		    s->dsn_notify != NULL ? " NOTIFY=" : "",
		    s->dsn_notify != NULL ? s->dsn_notify : "");
	default:
		return cmd_queue(s, res, NULL, "DATA");
	}
}

/* Check one envelope reply; on failure fill res and return -1. */
static int
check_envelope_reply(struct smtp *s, int kind, const char *from,
    const char *rcpt, struct smtp_result *res)
{
	char	 addr[512];
	int	 code = s->reply.code;

	switch (kind) {
	case CMD_RSET:
		if (code == 250)
			return 0;
		res_reply(s, res);
		res_error(res, reply_exit(code, EX_PROTOCOL),
		    "command RSET failed");
		return -1;
	case CMD_MAIL:
		if (code == 250)
			return 0;
		res_reply(s, res);
		log_sanitize(addr, sizeof(addr), from, strlen(from));
		res_error(res, reply_exit(code, EX_DATAERR),
		    "envelope from address %s not accepted by the server",
		    addr);
		return -1;
	case CMD_RCPT:
		if (code == 250 || code == 251)
			return 0;
		res_reply(s, res);
		log_sanitize(addr, sizeof(addr), rcpt, strlen(rcpt));
		res_error(res, reply_exit(code, EX_DATAERR),
		    "recipient address %s not accepted by the server", addr);
		return -1;
	default:
		if (code == 354)
			return 0;
		res_reply(s, res);
		res_error(res, reply_exit(code, EX_DATAERR),
		    "the server does not accept mail data");
		return -1;
	}
}

/*
 * The reply to a dot held back for pipelining: flush what is buffered,
 * read it and hand the outcome to dot_done().  Returns -1 when the session
 * broke, 0 otherwise, whatever the reply said.
 */
static int	final_replies(struct smtp *, char *const *, size_t,
		    struct smtp_result *);

static int
held_dot(struct smtp *s)
{
	const struct smtp_callbacks *cb = s->cb;
	struct smtp_result	*r;
	int			 rv = 0;

	if (!s->dot_held)
		return 0;
	s->dot_held = 0;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		s->broken = 1;
		return -1;
	}
	if (s->broken) {
		res_error(r, EX_IOERR, "the connection to the server is no "
		    "longer usable");
		rv = -1;
	} else if (wbuf_flush(s, r) == -1 || final_replies(s, NULL, 0,
	    r) == -1)
		rv = -1;
	else {
		r->exitcode = EX_OK;
		r->errmsg[0] = '\0';
		r->mailsize = s->held_size;
	}
	cb->dot_done(cb->ctx, rv, r);
	free(r);
	return s->broken ? -1 : 0;
}

/*
 * MAIL, RCPT and DATA, as groups of up to SMTP_PIPELINE_MAX commands when
 * the server pipelines, one by one otherwise.  All replies of a group are
 * read so that the session stays in step; the first refusal is reported.
 */
static int
envelope(struct smtp *s, const char *from, char *const *rcpts, size_t nrcpt,
    struct smtp_result *res)
{
	size_t	 first = s->ntrans > 0 ? 0 : 1;
	size_t	 ncmd = 1 + 1 + nrcpt + 1, i, j, end;
	int	 kind, failed = 0, data_started = 0;
	size_t	 group = (s->caps.flags & SMTP_CAP_PIPELINING) ?
		    SMTP_PIPELINE_MAX : 1;

#define KIND(j)	((j) == 0 ? CMD_RSET : (j) == 1 ? CMD_MAIL : \
		    (j) == ncmd - 1 ? CMD_DATA : CMD_RCPT)
#define RCPT(j)	(KIND(j) == CMD_RCPT ? rcpts[(j) - 2] : NULL)

	for (i = first; i < ncmd && !failed; i = end) {
		end = i + group < ncmd ? i + group : ncmd;
		for (j = i; j < end; j++)
			if (queue_envelope_cmd(s, KIND(j), from, RCPT(j),
			    res) == -1) {
				(void)held_dot(s);
				return -1;
			}
		if (wbuf_flush(s, res) == -1) {
			(void)held_dot(s);
			return -1;
		}
		/* A held dot's reply comes before those of this group. */
		if (held_dot(s) == -1) {
			res_error(res, EX_IOERR, "the connection to the "
			    "server is no longer usable");
			return -1;
		}
		for (j = i; j < end; j++) {
			kind = KIND(j);
			if (read_reply(s, res) == -1)
				return -1;
			if (kind == CMD_DATA && s->reply.code == 354)
				data_started = 1;
			if (!failed && check_envelope_reply(s, kind, from,
			    RCPT(j), res) == -1)
				failed = 1;
		}
	}
#undef KIND
#undef RCPT
	if (failed && data_started)
		s->broken = 1;	/* only closing ends DATA without a dot */
	return failed ? -1 : 0;
}

/*
 * Stream the body, dot-stuffed, in SMTP_WBUF_SIZE writes; stop before the
 * final dot if the server's SIZE limit is passed.  *mailsize counts as
 * msmtp's log does: each CRLF as one byte, stuffing dots not at all.
 */
static int
send_body(struct smtp *s, struct smtp_result *res, size_t *mailsize)
{
	const struct smtp_callbacks *cb = s->cb;
	unsigned long long	 total = 0, limit = 0;
	size_t			 crlfs = 0, seg;
	const char		*p, *end, *nl;
	ssize_t			 n;
	int			 bol = 1, prevcr = 0;

	if (s->caps.flags & SMTP_CAP_SIZE)
		limit = s->caps.size;
	for (;;) {
		n = cb->body_read(cb->ctx, s->ibuf, SMTP_WBUF_SIZE);
		if (n == -1) {
			s->broken = 1;
			res_error(res, EX_IOERR,
			    "cannot read the mail: input error");
			return -1;
		}
		if (n == 0)
			break;
		total += (unsigned long long)n;
		/*
		 * Same exit code as msmtp gets when the server refuses the
		 * finished mail with 552, without sending it all first.
		 */
		if (limit > 0 && total > limit) {
			s->broken = 1;
			res_error(res, EX_UNAVAILABLE, "the mail is larger "
			    "than the server's limit of %llu bytes", limit);
			return -1;
		}
		for (p = s->ibuf, end = s->ibuf + n; p < end; p += seg) {
			if (bol && *p == '.' && wbuf_add(s, ".", 1, res) == -1)
				return -1;
			nl = memchr(p, '\n', (size_t)(end - p));
			seg = nl != NULL ? (size_t)(nl - p) + 1 :
			    (size_t)(end - p);
			if (nl != NULL && (nl > p ? nl[-1] == '\r' : prevcr))
				crlfs++;
			if (s->debug_fd != -1) {
				if (bol)
					dbg_write(s, "--> ", 4);
				dbg_write(s, p, seg);
			}
			if (wbuf_add(s, p, seg, res) == -1)
				return -1;
			bol = nl != NULL;
			prevcr = p[seg - 1] == '\r';
		}
	}
	/* A last line without its line end gets one, as msmtp does. */
	if (!bol) {
		if (s->debug_fd != -1)
			dbg_write(s, "\r\n", 2);
		if (wbuf_add(s, "\r\n", 2, res) == -1)
			return -1;
	}
	if (wbuf_flush(s, res) == -1)
		return -1;
	*mailsize = (size_t)(total - crlfs);
	return 0;
}

static int
final_replies(struct smtp *s, char *const *rcpts, size_t nrcpt,
    struct smtp_result *res)
{
	const struct smtp_callbacks *cb = s->cb;
	char	 text[REPLY_LINE_MAX + 1];
	size_t	 i, failed = 0;
	int	 perm = 0;

	if (s->protocol != SMTP_PROTO_LMTP) {
		if (read_reply(s, res) == -1)
			return -1;
		res_reply(s, res);
		if (s->reply.code != 250) {
			res_error(res, reply_exit(s->reply.code,
			    EX_UNAVAILABLE), "the server did not accept the "
			    "mail");
			return -1;
		}
		return 0;
	}
	/* LMTP: one reply per accepted recipient, in RCPT order. */
	for (i = 0; i < nrcpt; i++) {
		if (read_reply(s, res) == -1)
			return -1;
		if (cb->rcpt_status != NULL) {
			reply_text(s, text, sizeof(text));
			cb->rcpt_status(cb->ctx, i, rcpts[i], s->reply.code,
			    text);
		}
		if (s->reply.code == 250) {
			if (failed == 0)
				res_reply(s, res);
			continue;
		}
		if (failed++ == 0)
			res_reply(s, res);
		if (s->reply.code < 400 || s->reply.code > 499)
			perm = 1;
	}
	if (failed > 0) {
		res->rcpt_failed = failed;
		res_error(res, perm ? EX_UNAVAILABLE : EX_TEMPFAIL,
		    "delivery to one or more recipients failed");
		return -1;
	}
	return 0;
}

/*
 * One mail: RSET first unless it is the first on this connection, the
 * envelope, the body from body_read(), and the final dot only after
 * body_commit() agreed.  from "" or "<>" is the null sender.  Returns 0 when
 * the server took the mail (for every recipient with LMTP), 1 when the dot
 * is held for the next transaction (see more() and dot_done()).  After a
 * failure smtp_usable() says whether another transaction may follow.
 */
int
smtp_transaction(struct smtp *s, const char *from, char *const *rcpts,
    size_t nrcpt, struct smtp_result *res)
{
	const struct smtp_callbacks *cb = s->cb;
	size_t	 i, mailsize = 0;

	res_clear(res);
	if (s->broken) {
		(void)held_dot(s);
		res_error(res, EX_SOFTWARE,
		    "the connection to the server is no longer usable");
		return -1;
	}
	if (nrcpt == 0) {
		(void)held_dot(s);
		res_error(res, EX_USAGE, "no recipients found");
		return -1;
	}
	if (cb == NULL || cb->body_read == NULL || cb->body_commit == NULL) {
		res_error(res, EX_SOFTWARE, "no message body handler");
		return -1;
	}
	if (strcmp(from, "<>") == 0)
		from = "";
	if (check_address(from, res) == -1) {
		(void)held_dot(s);
		return -1;
	}
	for (i = 0; i < nrcpt; i++)
		if (check_address(rcpts[i], res) == -1) {
			(void)held_dot(s);
			return -1;
		}

	if (envelope(s, from, rcpts, nrcpt, res) == -1) {
		s->ntrans++;
		return -1;
	}
	s->ntrans++;
	if (send_body(s, res, &mailsize) == -1)
		return -1;
	if (cb->body_commit(cb->ctx, res) != 0) {
		/* Close without the dot: the server discards the mail. */
		s->broken = 1;
		if (res->exitcode == EX_OK)
			res_error(res, EX_IOERR, "the mail was not read "
			    "completely");
		return -1;
	}
	/* Whatever came before the dot cannot be the answer to it. */
	if (reply_waiting(s)) {
		s->broken = 1;
		res_error(res, EX_PROTOCOL, "the server replied before the "
		    "end of the mail data");
		return -1;
	}
	if (cmd_queue(s, res, NULL, ".") == -1)
		return -1;
	if (s->protocol != SMTP_PROTO_LMTP &&
	    (s->caps.flags & SMTP_CAP_PIPELINING) && cb->more != NULL &&
	    cb->dot_done != NULL && cb->more(cb->ctx)) {
		s->dot_held = 1;
		s->held_size = mailsize;
		return 1;
	}
	if (wbuf_flush(s, res) == -1)
		return -1;
	if (final_replies(s, rcpts, nrcpt, res) == -1)
		return -1;
	res->exitcode = EX_OK;
	res->errmsg[0] = '\0';
	res->mailsize = mailsize;
	return 0;
}

/* Remote Message Queue Starting (RFC 1985) for --rmqs. */
int
smtp_etrn(struct smtp *s, const char *arg, struct smtp_result *res)
{
	char	 cmd[SMTP_CMD_MAX + 1];
	int	 code;

	res_clear(res);
	if (s->broken) {
		res_error(res, EX_SOFTWARE,
		    "the connection to the server is no longer usable");
		return -1;
	}
	if (!(s->caps.flags & SMTP_CAP_ETRN)) {
		quit(s);
		res_error(res, EX_UNAVAILABLE, "the server does not support "
		    "Remote Message Queue Starting");
		return -1;
	}
	if (strpbrk(arg, "\r\n") != NULL) {
		res_error(res, EX_DATAERR,
		    "invalid argument for Remote Message Queue Starting");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "ETRN %s", arg);
	if (command(s, res, cmd) == -1)
		return -1;
	code = s->reply.code;
	res_reply(s, res);
	if (code >= 250 && code <= 253)
		return 0;
	if (code == 458 || code == 459)
		res_error(res, EX_TEMPFAIL,
		    "the server is unable to fulfill the request");
	else if (code == 500 || code == 501)
		res_error(res, EX_DATAERR,
		    "invalid argument for Remote Message Queue Starting");
	else
		res_error(res, reply_exit(code, EX_PROTOCOL),
		    "command ETRN failed");
	return -1;
}

/*
 * End the session: QUIT (and its reply) if asked and the session is in
 * step, close_notify under TLS, close the socket.  msmtp sends no QUIT
 * after an error; callers pass 0 then.
 */
void
smtp_close(struct smtp *s, int send_quit)
{
	if (s == NULL)
		return;
	/* A held dot is never left unanswered. */
	(void)held_dot(s);
	if (send_quit)
		quit(s);
	smtp_free(s);
}

int
smtp_usable(const struct smtp *s)
{
	return !s->broken;
}

const struct smtp_caps *
smtp_capabilities(const struct smtp *s)
{
	return &s->caps;
}

const struct tls_peer_info *
smtp_tls_info(const struct smtp *s)
{
	return s->tls_active ? &s->tlsinfo : NULL;
}

const char *
smtp_greeting(const struct smtp *s)
{
	return s->greeting;
}

static void
append(char *buf, size_t bufsz, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t bufsz, size_t *off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf + (*off < bufsz ? *off : bufsz),
	    *off < bufsz ? bufsz - *off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

/*
 * msmtp's --serverinfo text after its first line ("SMTP server at ..."),
 * which only the caller can write.  Returns the length it needed.
 */
size_t
smtp_serverinfo_format(const struct smtp *s, char *buf, size_t bufsz)
{
	char			 line[REPLY_LINE_MAX + 1];
	const char		*g, *nl;
	const struct smtp_caps	*c = &s->caps;
	size_t			 off = 0, len;
	/* msmtp 1.8.23's list and order of mechanisms, -PLUS added. */
	static const char	*mechs[] = { "PLAIN", "SCRAM-SHA-1",
				    "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
				    "SCRAM-SHA-256-PLUS", "EXTERNAL", "GSSAPI",
				    "CRAM-MD5", "DIGEST-MD5", "LOGIN", "NTLM",
				    "OAUTHBEARER", "XOAUTH2", NULL };
	int			 flags = c->flags, i;
	int			 shown = SMTP_CAP_SIZE | SMTP_CAP_PIPELINING |
				    SMTP_CAP_ETRN | SMTP_CAP_DSN |
				    SMTP_CAP_STARTTLS | SMTP_CAP_AUTH;

	if (bufsz > 0)
		buf[0] = '\0';
	for (g = s->greeting != NULL ? s->greeting : ""; *g != '\0';
	    g = *nl ? nl + 1 : nl) {
		if ((nl = strchr(g, '\n')) == NULL)
			nl = g + strlen(g);
		len = (size_t)(nl - g);
		if (len >= 4) {
			log_sanitize(line, sizeof(line), g + 4, len - 4);
			append(buf, bufsz, &off, "    %s\n", line);
		}
	}
	if (s->tls_active) {
		char	 info[4096];

		tls_peer_info_format(&s->tlsinfo, info, sizeof(info));
		append(buf, bufsz, &off, "%s", info);
	}
	/*
	 * As msmtp: a bare SIZE is no SIZE, and STARTTLS stays listed once
	 * it was used even though the second EHLO no longer offers it.
	 */
	if (flags & SMTP_CAP_SIZE_BARE)
		flags &= ~SMTP_CAP_SIZE;
	if (s->tls_active && s->tlsmode == SMTP_TLS_STARTTLS)
		flags |= SMTP_CAP_STARTTLS;
	if (!(flags & shown)) {
		append(buf, bufsz, &off, "No special capabilities.\n");
		return off;
	}
	append(buf, bufsz, &off, "Capabilities:\n");
	if (flags & SMTP_CAP_SIZE) {
		append(buf, bufsz, &off, "    SIZE %llu:\n        "
		    "Maximum message size is ", c->size);
		if (c->size == 0)
			append(buf, bufsz, &off, "unlimited\n");
		else if (c->size > 1024 * 1024)
			append(buf, bufsz, &off, "%llu bytes = %.2f MiB\n",
			    c->size, (double)c->size / (1024.0 * 1024.0));
		else if (c->size > 1024)
			append(buf, bufsz, &off, "%llu bytes = %.2f KiB\n",
			    c->size, (double)c->size / 1024.0);
		else
			append(buf, bufsz, &off, "%llu bytes\n", c->size);
	}
	if (flags & SMTP_CAP_PIPELINING)
		append(buf, bufsz, &off, "    PIPELINING:\n        Support "
		    "for command grouping for faster transmission\n");
	if (flags & SMTP_CAP_ETRN)
		append(buf, bufsz, &off, "    ETRN:\n        Support for "
		    "RMQS (Remote Message Queue Starting)\n");
	if (flags & SMTP_CAP_DSN)
		append(buf, bufsz, &off, "    DSN:\n        Support for "
		    "Delivery Status Notifications\n");
	if (flags & SMTP_CAP_STARTTLS)
		append(buf, bufsz, &off, "    STARTTLS:\n        Support "
		    "for TLS encryption via the STARTTLS command\n");
	if (flags & SMTP_CAP_AUTH) {
		append(buf, bufsz, &off, "    AUTH:\n        Supported "
		    "authentication methods:\n        ");
		for (i = 0; mechs[i] != NULL; i++)
			if (mech_offered(s, mechs[i]))
				append(buf, bufsz, &off, "%s ", mechs[i]);
		append(buf, bufsz, &off, "\n");
	}
	if ((flags & SMTP_CAP_STARTTLS) && !s->tls_active)
		append(buf, bufsz, &off, "This server might advertise more "
		    "or other capabilities when TLS is active.\n");
	return off;
}
