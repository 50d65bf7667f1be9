/*
 * The SMTP state machine of a session (RFC 5321, with PIPELINING, SIZE,
 * 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS and AUTH PLAIN/LOGIN).
 *
 * Lines end with CRLF and nothing else.  A bare CR or LF in a command
 * ends the session; in a message it makes the whole message refused, and
 * only CRLF "." CRLF ends DATA, so no line-ending trick can smuggle a
 * second transaction past a server behind the delivery command.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "log.h"
#include "posternd.h"
#include "session.h"

#define MAX_ERRORS	20	/* bad commands before we hang up */

struct smtp {
	struct conn		*c;
	const struct sconf	*cf;
	int64_t			 session_deadline;
	char			 helo[256];
	int			 helo_seen;
	int			 esmtp;
	int			 authed;
	unsigned int		 auth_failures;
	unsigned int		 errors;
	int			 in_mail;
	char			 from[MAILBOX_MAX + 1];
	char			**rcpts;
	size_t			 nrcpt;
	int			 quit;
	char			 line[CMD_LINE_MAX + 1];
};

static void
arm(struct smtp *s)
{
	int64_t	 d = now_ms() + (int64_t)s->cf->timeout * 1000;

	s->c->deadline = d < s->session_deadline ? d : s->session_deadline;
}

static void
txn_reset(struct smtp *s)
{
	size_t	 i;

	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpt = 0;
	s->in_mail = 0;
	s->from[0] = '\0';
}

/*
 * The next command line from the buffer, without its CRLF.  1 with a line,
 * 0 when more input is needed, -1 on a bare CR or LF, -2 when too long.
 */
int
smtp_next_line(struct conn *c, char *buf, size_t bufsz)
{
	const unsigned char	*p = c->ibuf + c->ioff;
	size_t			 avail = c->ilen - c->ioff, i;

	for (i = 0; i < avail; i++) {
		if (p[i] == '\n')
			return -1;
		if (p[i] != '\r')
			continue;
		if (i + 1 == avail)
			break;
		if (p[i + 1] != '\n')
			return -1;
		/* The limit counts the CRLF. */
		if (i + 2 > CMD_LINE_MAX || i >= bufsz)
			return -2;
		memcpy(buf, p, i);
		buf[i] = '\0';
		c->ioff += i + 2;
		/* A NUL would hide the rest of the line from every check. */
		if (memchr(p, '\0', i) != NULL)
			buf[0] = '\0';
		return 1;
	}
	/* Even ending in the CR that is already here, it is too long. */
	return avail >= CMD_LINE_MAX ? -2 : 0;
}

/* 1 with a line in s->line, 0 when the client left, -1 when we hang up. */
static int
get_line(struct smtp *s)
{
	struct conn	*c = s->c;
	int		 r;

	for (;;) {
		switch (smtp_next_line(c, s->line, sizeof(s->line))) {
		case 1:
			return 1;
		case -1:
			conn_reply(c, "500 5.5.2 Bare CR or LF in command, "
			    "closing connection");
			session_log(LOG_ERR, "bare CR or LF in command, "
			    "closing connection");
			(void)conn_flush(c);
			return -1;
		case -2:
			conn_reply(c, "500 5.5.2 Line too long, closing "
			    "connection");
			session_log(LOG_ERR, "command line too long, closing "
			    "connection");
			(void)conn_flush(c);
			return -1;
		}
		if ((r = conn_flush(c)) == 1)
			r = conn_fill(c);
		switch (r) {
		case 1:
			continue;
		case CONN_EOF:
			session_log(LOG_INFO, "client closed the connection");
			return 0;
		case CONN_RESET:
			session_log(LOG_INFO, "client reset the connection");
			return 0;
		case CONN_TIMEOUT:
			conn_reply(c, "421 4.4.2 %s Timeout, closing "
			    "connection", s->cf->domain);
			session_log(LOG_ERR, "timeout, closing connection");
			(void)conn_flush(c);
			return -1;
		default:
			return -1;
		}
	}
}

static const char *
helo_for_header(const struct smtp *s)
{
	size_t	 n = strlen(s->helo);

	if (rfc5321_domain(s->helo, n) || rfc5321_literal(s->helo, n))
		return s->helo;
	return "invalid";
}

static void
cmd_helo(struct smtp *s, const char *arg, int esmtp)
{
	struct conn	*c = s->c;
	const char	*ext[8];
	char		 size[32];
	size_t		 n = 0, i;
	uint32_t	 f = s->cf->flags;

	if (*arg == '\0') {
		conn_reply(c, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		s->errors++;
		return;
	}
	txn_reset(s);
	log_sanitize(s->helo, sizeof(s->helo), arg, strcspn(arg, " "));
	s->helo_seen = 1;
	s->esmtp = esmtp;
	if (!esmtp) {
		conn_reply(c, "250 %s", s->cf->domain);
		return;
	}
	ext[n++] = "PIPELINING";
	if (s->cf->max_message_size > 0) {
		snprintf(size, sizeof(size), "SIZE %llu",
		    (unsigned long long)s->cf->max_message_size);
		ext[n++] = size;
	} else
		ext[n++] = "SIZE";
	ext[n++] = "8BITMIME";
	ext[n++] = "ENHANCEDSTATUSCODES";
	if ((f & SF_TLS) && !(f & SF_TLS_IMPLICIT) && c->tls == NULL)
		ext[n++] = "STARTTLS";
	if ((f & SF_AUTH) && !s->authed &&
	    (c->tls != NULL || !(f & SF_TLS)))
		ext[n++] = "AUTH PLAIN LOGIN";
	conn_reply(c, "250-%s", s->cf->domain);
	for (i = 0; i < n; i++)
		conn_reply(c, "250%c%s", i + 1 == n ? ' ' : '-', ext[i]);
}

/* "KEYWORD[=value]" per RFC 5321 esmtp-param; splits in place. */
static int
param_split(char *p, char **val)
{
	size_t	 i;

	*val = NULL;
	if (!isalnum((unsigned char)p[0]))
		return -1;
	for (i = 1; p[i] != '\0' && p[i] != '='; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-')
			return -1;
	if (p[i] == '=') {
		p[i] = '\0';
		*val = p + i + 1;
		if (**val == '\0')
			return -1;
		for (i = 0; (*val)[i] != '\0'; i++)
			if ((unsigned char)(*val)[i] < 33 ||
			    (*val)[i] == '=' || (*val)[i] == 127)
				return -1;
	}
	return 0;
}

/* The text after "FROM:" or "TO:": the path, optionally after spaces. */
static const char *
path_start(const char *arg, const char *prefix)
{
	size_t	 n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

static void
cmd_mail(struct smtp *s, const char *arg)
{
	struct conn	*c = s->c;
	const char	*p, *rest, *errstr;
	char		 params[CMD_LINE_MAX + 1], *tok, *val, *q;
	long long	 size;

	if (!s->helo_seen) {
		conn_reply(c, "503 5.5.1 Send EHLO or HELO first");
		s->errors++;
		return;
	}
	if ((s->cf->flags & SF_AUTH) && !s->authed) {
		conn_reply(c, "530 5.7.0 Authentication required");
		s->errors++;
		return;
	}
	if (s->in_mail) {
		conn_reply(c, "503 5.5.1 Nested MAIL command");
		s->errors++;
		return;
	}
	if ((p = path_start(arg, "FROM:")) == NULL ||
	    rfc5321_path(p, PATH_NULLOK | PATH_LOCALOK, s->from,
	    sizeof(s->from), &rest) == -1 ||
	    (*rest != '\0' && *rest != ' ')) {
		conn_reply(c, "501 5.1.7 Syntax: MAIL FROM:<address>");
		s->errors++;
		return;
	}
	/* It becomes the argument of -f: it may not look like an option. */
	if (s->from[0] == '-') {
		conn_reply(c, "553 5.1.7 Sender address may not begin "
		    "with '-'");
		s->errors++;
		return;
	}
	strlcpy(params, rest, sizeof(params));
	for (q = params; (tok = strsep(&q, " ")) != NULL;) {
		if (*tok == '\0')
			continue;
		if (param_split(tok, &val) == -1) {
			conn_reply(c, "501 5.5.4 Syntax error in parameters");
			s->errors++;
			return;
		}
		if (strcasecmp(tok, "SIZE") == 0 && val != NULL) {
			size = strtonum(val, 0, LLONG_MAX, &errstr);
			if (errstr != NULL) {
				conn_reply(c, "501 5.5.4 Invalid SIZE");
				s->errors++;
				return;
			}
			if (s->cf->max_message_size > 0 &&
			    (unsigned long long)size >
			    s->cf->max_message_size) {
				conn_reply(c, "552 5.3.4 Message size exceeds "
				    "fixed limit");
				return;
			}
		} else if (strcasecmp(tok, "BODY") == 0 && val != NULL) {
			if (strcasecmp(val, "7BIT") != 0 &&
			    strcasecmp(val, "8BITMIME") != 0) {
				conn_reply(c, "501 5.5.4 Invalid BODY");
				s->errors++;
				return;
			}
		} else if (strcasecmp(tok, "SMTPUTF8") == 0 && val == NULL) {
			;
		} else if (strcasecmp(tok, "AUTH") == 0 && val != NULL) {
			;	/* RFC 4954 5: a trusted server may ignore it */
		} else {
			conn_reply(c, "555 5.5.4 Unsupported parameter %s",
			    tok);
			s->errors++;
			return;
		}
	}
	s->in_mail = 1;
	conn_reply(c, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct smtp *s, const char *arg)
{
	struct conn	*c = s->c;
	const char	*p, *rest;
	char		 addr[MAILBOX_MAX + 1], **nr;

	if (!s->in_mail) {
		conn_reply(c, "503 5.5.1 Need MAIL before RCPT");
		s->errors++;
		return;
	}
	if ((p = path_start(arg, "TO:")) == NULL ||
	    rfc5321_path(p, PATH_LOCALOK, addr, sizeof(addr), &rest) == -1 ||
	    (*rest != '\0' && *rest != ' ')) {
		conn_reply(c, "501 5.1.3 Syntax: RCPT TO:<address>");
		s->errors++;
		return;
	}
	while (*rest == ' ')
		rest++;
	if (*rest != '\0') {
		conn_reply(c, "555 5.5.4 Unsupported parameter");
		s->errors++;
		return;
	}
	if (addr[0] == '-' && !(s->cf->flags & SF_DASH_RCPT)) {
		conn_reply(c, "553 5.1.3 Recipient address may not begin "
		    "with '-'");
		return;
	}
	if (s->nrcpt >= s->cf->max_recipients) {
		conn_reply(c, "452 4.5.3 Too many recipients");
		return;
	}
	if ((nr = reallocarray(s->rcpts, s->nrcpt + 1, sizeof(*nr))) == NULL ||
	    (nr[s->nrcpt] = strdup(addr)) == NULL)
		fatal("recipient");
	s->rcpts = nr;
	s->nrcpt++;
	conn_reply(c, "250 2.1.5 Ok");
}

void
wflush(struct wbuf *w)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < w->len && !w->failed) {
		if ((n = write(w->fd, w->buf + off, w->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			w->failed = 1;
			break;
		}
		off += (size_t)n;
	}
	w->len = 0;
}

void
wput(struct wbuf *w, const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 k;

	while (n > 0) {
		if (w->len == sizeof(w->buf))
			wflush(w);
		k = sizeof(w->buf) - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, b, k);
		w->len += k;
		b += k;
		n -= k;
	}
}

/*
 * Our trace header.  Every part of it is either ours or checked against
 * the RFC 5321 grammar, so it is one header whatever the client sent.
 */
static void
received(struct smtp *s, struct wbuf *w)
{
	char		 date[64], hdr[1024], peer[80];
	const char	*nl = (s->cf->flags & SF_CRLF) ? "\r\n" : "\n";
	time_t		 t = time(NULL);
	struct tm	 tm;
	int		 n;

	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (s->cf->peer[0] != '\0' &&
	    rfc5321_literal(peer, (size_t)snprintf(peer, sizeof(peer), "[%s]",
	    s->cf->peer)))
		;
	else
		strlcpy(peer, "unknown", sizeof(peer));
	n = snprintf(hdr, sizeof(hdr), "Received: from %s (%s)%s"
	    "\tby %s (posternd) with %s%s%s;%s\t%s%s",
	    helo_for_header(s), peer, nl, s->cf->domain,
	    s->esmtp ? "ESMTP" : "SMTP", s->c->tls != NULL ? "S" : "",
	    s->authed ? "A" : "", nl, date, nl);
	if (n > 0 && (size_t)n < sizeof(hdr))
		wput(w, hdr, (size_t)n);
}

void
data_init(struct data *d, uint64_t max, size_t maxline, int crlf)
{
	memset(d, 0, sizeof(*d));
	d->st = D_BOL;
	d->max = max;
	d->maxline = maxline;
	d->crlf = crlf;
}

/*
 * Take the message from what the client sent (c->ibuf) up to CRLF "."
 * CRLF, dot-unstuffed, into w.  1 at the end of the data (d->flags says
 * what was wrong with it, d->size how big it is), 0 when all the input is
 * used and more is needed.
 */
int
data_parse(struct data *d, struct conn *c, struct wbuf *w)
{
	unsigned char	 ch;

#define EMIT(x) do {							\
	unsigned char	 e_ = (x);					\
	d->size++;							\
	if (d->max > 0 && d->size > d->max)				\
		d->flags |= DATA_TOOBIG;				\
	if (++d->linelen + 2 > d->maxline)				\
		d->flags |= DATA_TOOLONG;				\
	if (d->flags == 0) {						\
		if (w->len == sizeof(w->buf))				\
			wflush(w);					\
		w->buf[w->len++] = e_;					\
	}								\
} while (0)

	while (c->ioff < c->ilen) {
		ch = c->ibuf[c->ioff++];
		switch (d->st) {
		case D_BOL:
			if (ch == '.') {
				d->st = D_DOT;
				break;
			}
			/* FALLTHROUGH */
		case D_LINE:
			if (ch == '\r')
				d->st = D_CR;
			else if (ch == '\n') {
				d->flags |= DATA_BARE;
				d->st = D_LINE;
			} else {
				EMIT(ch);
				d->st = D_LINE;
			}
			break;
		case D_CR:
			if (ch == '\n') {
				/* Line ends count: a message of empty lines
				 * is as big as its bytes. */
				d->size += 2;
				if (d->max > 0 && d->size > d->max)
					d->flags |= DATA_TOOBIG;
				if (d->flags == 0)
					wput(w, d->crlf ? "\r\n" : "\n",
					    d->crlf ? 2 : 1);
				d->linelen = 0;
				d->st = D_BOL;
			} else if (ch == '\r')
				d->flags |= DATA_BARE;
			else {
				d->flags |= DATA_BARE;
				EMIT(ch);
				d->st = D_LINE;
			}
			break;
		case D_DOT:
			if (ch == '\r')
				d->st = D_DOTCR;
			else if (ch == '\n') {
				d->flags |= DATA_BARE;
				d->st = D_LINE;
			} else {
				EMIT(ch);
				d->st = D_LINE;
			}
			break;
		case D_DOTCR:
			if (ch == '\n') {
				wflush(w);
				if (w->failed)
					d->flags |= DATA_WRITE;
				return 1;
			}
			d->flags |= DATA_BARE;
			if (ch == '\r')
				d->st = D_CR;
			else {
				EMIT(ch);
				d->st = D_LINE;
			}
			break;
		}
	}
	if (w->failed)
		d->flags |= DATA_WRITE;
	return 0;
#undef EMIT
}

/*
 * Read the message into the file.  Returns 1 at the end of the data with
 * *flags saying what was wrong with it, 0 when the client left, -1 on a
 * timeout or error.
 */
static int
read_data(struct smtp *s, struct wbuf *w, uint64_t *sizep, int *flags)
{
	struct conn	*c = s->c;
	struct data	 d;
	int		 r;

	data_init(&d, s->cf->max_message_size, s->cf->max_line_length,
	    (s->cf->flags & SF_CRLF) != 0);
	while (data_parse(&d, c, w) == 0) {
		arm(s);
		/* The 354 leaves when we first wait for the client. */
		if (c->olen > 0 && (r = conn_flush(c)) != 1)
			return r == CONN_RESET ? 0 : -1;
		if ((r = conn_fill(c)) != 1)
			return r == CONN_EOF || r == CONN_RESET ? 0 : -1;
	}
	*sizep = d.size;
	*flags = d.flags;
	return 1;
}

static void
cmd_data(struct smtp *s, const char *arg)
{
	struct conn	*c = s->c;
	/*
	 * In bss, not from malloc: the server's heap, shared with the
	 * session until written, is left alone (each page malloc writes
	 * to is copied), and the pages the message goes through are fresh.
	 */
	static struct wbuf	 wb;
	struct wbuf		*w = &wb;
	struct result	 res;
	uint64_t	 size = 0;
	int		 r, flags;

	if (*arg != '\0') {
		conn_reply(c, "501 5.5.4 Syntax: DATA");
		s->errors++;
		return;
	}
	if (!s->in_mail) {
		conn_reply(c, "503 5.5.1 Need MAIL command");
		s->errors++;
		return;
	}
	if (s->nrcpt == 0) {
		conn_reply(c, "554 5.5.1 No valid recipients");
		s->errors++;
		return;
	}
	conn_reply(c, "354 End data with <CR><LF>.<CR><LF>");
	w->fd = session_data_fd();
	w->len = 0;
	w->failed = 0;
	received(s, w);
	r = read_data(s, w, &size, &flags);
	close(w->fd);
	if (r != 1) {
		/* Nothing half-received is ever delivered. */
		session_data_abort();
		if (r == 0)
			session_log(LOG_ERR, "client %s during DATA, "
			    "nothing delivered", c->reset ? "reset the "
			    "connection" : "left");
		else {
			conn_reply(c, "421 4.4.2 %s Timeout, closing "
			    "connection", s->cf->domain);
			session_log(LOG_ERR, "timeout or error during DATA, "
			    "nothing delivered");
		}
		s->quit = 1;
		return;
	}
	if (flags != 0) {
		session_data_abort();
		if (flags & DATA_BARE) {
			conn_reply(c, "554 5.6.0 Message refused: bare CR or "
			    "LF; lines must end with CRLF");
			session_log(LOG_ERR, "message refused: bare CR or LF");
		} else if (flags & DATA_TOOBIG) {
			conn_reply(c, "552 5.3.4 Message size exceeds fixed "
			    "limit");
			session_log(LOG_ERR, "message refused: too big");
		} else if (flags & DATA_TOOLONG) {
			conn_reply(c, "554 5.6.0 Message refused: line longer "
			    "than %u bytes", s->cf->max_line_length);
			session_log(LOG_ERR, "message refused: line too long");
		} else {
			conn_reply(c, "451 4.3.0 Cannot store the message");
			session_log(LOG_ERR, "cannot write the message");
		}
		txn_reset(s);
		return;
	}
	session_deliver(s->from, s->rcpts, s->nrcpt, size, &res);
	conn_reply(c, "%d %s", res.code, res.text);
	txn_reset(s);
}

/* One base64 line of an AUTH exchange: initial response or continuation. */
static int
auth_line(struct smtp *s, const char *ir, const char *prompt,
    unsigned char *out, size_t outsz, size_t *outlen)
{
	struct conn	*c = s->c;
	const char	*b64 = ir;
	ssize_t		 n;
	int		 r;

	if (b64 == NULL) {
		conn_reply(c, "334 %s", prompt);
		arm(s);
		if ((r = get_line(s)) != 1) {
			s->quit = 1;
			return -1;
		}
		b64 = s->line;
	}
	if (strcmp(b64, "*") == 0) {
		conn_reply(c, "501 5.7.0 Authentication cancelled");
		return -1;
	}
	if (strcmp(b64, "=") == 0) {
		*outlen = 0;
		return 0;
	}
	if ((n = base64_decode(out, outsz, b64, strlen(b64))) < 0) {
		conn_reply(c, "501 5.5.2 Invalid base64 data");
		s->errors++;
		return -1;
	}
	*outlen = (size_t)n;
	return 0;
}

static void
cmd_auth(struct smtp *s, char *arg)
{
	struct conn	*c = s->c;
	unsigned char	 buf[CMD_LINE_MAX], pass[CMD_LINE_MAX];
	unsigned char	*z, *u, *p, *e;
	size_t		 len, zl = 0, ul = 0, pl = 0;
	char		*mech, *ir;
	uint32_t	 f = s->cf->flags;
	int		 ok;

	if (!(f & SF_AUTH)) {
		conn_reply(c, "502 5.5.1 AUTH not available");
		s->errors++;
		return;
	}
	if (!s->helo_seen || !s->esmtp) {
		conn_reply(c, "503 5.5.1 Send EHLO first");
		s->errors++;
		return;
	}
	if ((f & SF_TLS) && c->tls == NULL) {
		conn_reply(c, "530 5.7.0 Must issue a STARTTLS command first");
		s->errors++;
		return;
	}
	if (s->authed) {
		conn_reply(c, "503 5.5.1 Already authenticated");
		s->errors++;
		return;
	}
	if (s->in_mail) {
		conn_reply(c, "503 5.5.1 AUTH not allowed during a mail "
		    "transaction");
		s->errors++;
		return;
	}
	mech = strsep(&arg, " ");
	ir = arg;
	if (ir != NULL && (*ir == '\0' || strchr(ir, ' ') != NULL)) {
		conn_reply(c, "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]");
		s->errors++;
		return;
	}
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (auth_line(s, ir, "", buf, sizeof(buf), &len) == -1)
			goto out;
		/* authzid NUL authcid NUL passwd */
		z = buf;
		if ((e = memchr(z, '\0', len)) == NULL)
			goto malformed;
		zl = (size_t)(e - z);
		u = e + 1;
		if ((e = memchr(u, '\0', len - zl - 1)) == NULL)
			goto malformed;
		ul = (size_t)(e - u);
		p = e + 1;
		pl = len - zl - ul - 2;
		if (memchr(p, '\0', pl) != NULL || ul == 0)
			goto malformed;
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (auth_line(s, ir, "VXNlcm5hbWU6", buf, sizeof(buf),
		    &ul) == -1)
			goto out;
		if (auth_line(s, NULL, "UGFzc3dvcmQ6", pass, sizeof(pass),
		    &pl) == -1)
			goto out;
		z = buf;
		u = buf;
		p = pass;
		if (ul == 0 || memchr(u, '\0', ul) != NULL ||
		    memchr(p, '\0', pl) != NULL)
			goto malformed;
	} else {
		conn_reply(c, "504 5.5.4 Unrecognized authentication type");
		s->errors++;
		return;
	}
	/* Nothing the client pipelined past AUTH is read before the answer. */
	if ((ok = session_auth(z, zl, u, ul, p, pl)) == 1) {
		s->authed = 1;
		conn_reply(c, "235 2.7.0 Authentication successful");
		session_log(LOG_INFO, "authenticated");
	} else {
		s->auth_failures++;
		session_log(LOG_ERR, "authentication failed (%u of %u)",
		    s->auth_failures, s->cf->max_auth_failures);
		if (s->auth_failures >= s->cf->max_auth_failures) {
			conn_reply(c, "421 4.7.0 %s Too many authentication "
			    "failures, closing connection", s->cf->domain);
			s->quit = 1;
		} else
			conn_reply(c, "535 5.7.8 Authentication credentials "
			    "invalid");
	}
	goto out;
malformed:
	conn_reply(c, "501 5.5.2 Malformed authentication data");
	s->errors++;
out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(s->line, sizeof(s->line));
}

static void
cmd_starttls(struct smtp *s, const char *arg)
{
	struct conn	*c = s->c;
	uint32_t	 f = s->cf->flags;

	if (!(f & SF_TLS) || (f & SF_TLS_IMPLICIT) || c->tls != NULL) {
		conn_reply(c, "502 5.5.1 STARTTLS not available");
		s->errors++;
		return;
	}
	if (*arg != '\0') {
		conn_reply(c, "501 5.5.4 Syntax: STARTTLS");
		s->errors++;
		return;
	}
	conn_reply(c, "220 2.0.0 Ready to start TLS");
	if (conn_flush(c) != 1) {
		s->quit = 1;
		return;
	}
	/* Whatever came with STARTTLS in the clear is not to be believed. */
	c->ioff = c->ilen = 0;
	if (conn_starttls(c) == -1) {
		s->quit = 1;
		return;
	}
	txn_reset(s);
	s->helo_seen = 0;
	s->esmtp = 0;
	s->authed = 0;
}

void
smtp_session(struct conn *c, const struct sconf *cf)
{
	/*
	 * One per process, in zeroed static memory: a forked session pays a
	 * page fault only for the pages it touches.
	 */
	static struct smtp	 smtp;
	struct smtp		*s = &smtp;
	char			*verb, *arg;
	int			 r;

	s->c = c;
	s->cf = cf;
	/* Nothing of an earlier session in this process carries over. */
	txn_reset(s);
	s->helo[0] = '\0';
	s->helo_seen = s->esmtp = s->authed = s->quit = 0;
	s->auth_failures = s->errors = 0;
	s->session_deadline = now_ms() + (int64_t)cf->session_timeout * 1000;
	arm(s);
	session_log(LOG_INFO, "starting SMTP session");
	if ((cf->flags & SF_TLS_IMPLICIT) && conn_starttls(c) == -1)
		return;
	conn_reply(c, "220 %s ESMTP posternd", cf->domain);

	while (!s->quit) {
		if (s->errors >= MAX_ERRORS) {
			conn_reply(c, "421 4.7.0 %s Too many errors, closing "
			    "connection", cf->domain);
			session_log(LOG_ERR, "too many errors");
			break;
		}
		arm(s);
		if ((r = get_line(s)) != 1)
			return;
		arg = s->line;
		verb = strsep(&arg, " ");
		if (arg == NULL)
			arg = verb + strlen(verb);
		if (strcasecmp(verb, "EHLO") == 0)
			cmd_helo(s, arg, 1);
		else if (strcasecmp(verb, "HELO") == 0)
			cmd_helo(s, arg, 0);
		else if (strcasecmp(verb, "MAIL") == 0)
			cmd_mail(s, arg);
		else if (strcasecmp(verb, "RCPT") == 0)
			cmd_rcpt(s, arg);
		else if (strcasecmp(verb, "DATA") == 0)
			cmd_data(s, arg);
		else if (strcasecmp(verb, "AUTH") == 0)
			cmd_auth(s, arg);
		else if (strcasecmp(verb, "STARTTLS") == 0)
			cmd_starttls(s, arg);
		else if (strcasecmp(verb, "RSET") == 0) {
			txn_reset(s);
			conn_reply(c, "250 2.0.0 Ok");
		} else if (strcasecmp(verb, "NOOP") == 0)
			conn_reply(c, "250 2.0.0 Ok");
		else if (strcasecmp(verb, "QUIT") == 0) {
			conn_reply(c, "221 2.0.0 Bye");
			session_log(LOG_INFO, "client ended session");
			s->quit = 1;
		} else if (strcasecmp(verb, "VRFY") == 0 ||
		    strcasecmp(verb, "EXPN") == 0 ||
		    strcasecmp(verb, "HELP") == 0 ||
		    strcasecmp(verb, "ETRN") == 0 ||
		    strcasecmp(verb, "BDAT") == 0 ||
		    strcasecmp(verb, "TURN") == 0) {
			conn_reply(c, "502 5.5.1 Command not implemented");
			s->errors++;
		} else {
			conn_reply(c, "500 5.5.2 Command not recognized");
			s->errors++;
		}
	}
	(void)conn_flush(c);
	txn_reset(s);
}
