#include <sys/types.h>
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "base64.h"
#include "rfc5322.h"

/* Longest encoded-word written, so that "From: " plus one fits in 78. */
#define EW_MAXLEN	66

struct dbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

struct outbuf {
	int			 fd;
	char			*buf;
	size_t			 len;
	size_t			 cap;
	int			 bol;		/* at the start of a line */
	uint64_t		 bytes;
	uint64_t		 eols;
	struct rfc5322_msg	*msg;
};

static int
seterr(struct rfc5322_msg *m, int ex, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(m->errstr, sizeof(m->errstr), fmt, ap);
	va_end(ap);
	return ex;
}

static int
dbuf_add(struct dbuf *b, const char *p, size_t n)
{
	char	*s;
	size_t	 ncap;

	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 128;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((s = realloc(b->s, ncap)) == NULL)
			return -1;
		b->s = s;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

void
rfc5322_init(struct rfc5322_msg *m, int fd)
{
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	m->bufsize = RFC5322_BUFSIZE;
	m->maxheader = RFC5322_MAXHEADER;
	TAILQ_INIT(&m->fields);
}

void
rfc5322_clear(struct rfc5322_msg *m)
{
	struct rfc5322_field	*f;

	while ((f = TAILQ_FIRST(&m->fields)) != NULL) {
		TAILQ_REMOVE(&m->fields, f, entry);
		free(f->name);
		free(f->text);
		free(f->value);
		free(f);
	}
	free(m->rest);
	rfc5322_init(m, m->fd);
}

/* A field name is printable ASCII up to the colon; obsolete WSP allowed. */
static int
field_add(struct rfc5322_msg *m, struct dbuf *text)
{
	struct rfc5322_field	*f;
	size_t			 i, j, k;

	if (m->nfields >= RFC5322_MAXFIELDS)
		return seterr(m, EX_DATAERR,
		    "message header has more than %d fields",
		    RFC5322_MAXFIELDS);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
	f->text = text->s;
	f->textlen = text->len;
	memset(text, 0, sizeof(*text));
	TAILQ_INSERT_TAIL(&m->fields, f, entry);
	m->nfields++;

	for (i = 0; i < f->textlen && f->text[i] > ' ' && f->text[i] < 0x7f &&
	    f->text[i] != ':'; i++)
		;
	for (j = i; j < f->textlen && (f->text[j] == ' ' ||
	    f->text[j] == '\t'); j++)
		;
	if (i == 0 || j == f->textlen || f->text[j] != ':')
		return EX_OK;
	if ((f->name = strndup(f->text, i)) == NULL ||
	    (f->value = malloc(f->textlen - j)) == NULL)
		return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
	for (k = 0, j++; j < f->textlen; j++)
		if (f->text[j] != '\r' && f->text[j] != '\n')
			f->value[k++] = f->text[j];
	f->value[k] = '\0';
	return EX_OK;
}

static int
line_end(struct rfc5322_msg *m, struct dbuf *line, struct dbuf *field,
    int *done)
{
	int	 ex;

	if (line->len > 0 && (line->s[0] == ' ' || line->s[0] == '\t') &&
	    field->len > 0) {
		if (field->len + line->len + 2 > RFC5322_MAXFIELD)
			return seterr(m, EX_DATAERR,
			    "message header field longer than %d bytes",
			    RFC5322_MAXFIELD);
	} else if (field->len > 0 && (ex = field_add(m, field)) != EX_OK)
		return ex;
	if (line->len == 0) {
		m->separator = 1;
		*done = 1;
		return EX_OK;
	}
	m->hdrsize += line->len + 2;
	if (dbuf_add(field, line->s, line->len) == -1 ||
	    dbuf_add(field, "\r\n", 2) == -1)
		return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
	line->len = 0;
	return EX_OK;
}

static int
field_is(const struct rfc5322_field *f, const char *name)
{
	return f->name != NULL && strcasecmp(f->name, name) == 0;
}

/* Mark the first block of Resent- fields and note what the header has. */
static int
scan_fields(struct rfc5322_msg *m)
{
	struct rfc5322_field	*f;
	struct addr_list	 l;
	int			 block = -1;

	TAILQ_FOREACH(f, &m->fields, entry) {
		if (f->name != NULL && strncasecmp(f->name, "Resent-", 7) == 0) {
			if (block == -1)
				block = 0;
			if (block == 0)
				f->resent = 1;
		} else if (block == 0)
			block = 1;
		if (field_is(f, "Date"))
			m->has_date = 1;
		else if (field_is(f, "Message-ID"))
			m->has_msgid = 1;
		else if (field_is(f, "To"))
			m->has_to = 1;
		else if (field_is(f, "Cc"))
			m->has_cc = 1;
		else if (field_is(f, "From") && !m->has_from) {
			/* An empty From: counts as missing, as in msmtp. */
			addr_list_init(&l);
			if (addr_parse_list(&l, f->value, strlen(f->value)) == -1)
				return seterr(m, EX_OSERR, "%s",
				    strerror(ENOMEM));
			m->has_from = !TAILQ_EMPTY(&l);
			addr_list_free(&l);
		}
	}
	m->has_resent = block >= 0;
	return EX_OK;
}

static ssize_t
read_some(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	for (;;) {
		if ((n = read(fd, buf, len)) != -1)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
}

int
rfc5322_read_header(struct rfc5322_msg *m)
{
	struct dbuf	 line = { NULL, 0, 0 }, field = { NULL, 0, 0 };
	char		*buf;
	ssize_t		 n;
	size_t		 i = 0;
	int		 ex = EX_OK, done = 0;
	char		 c;

	if ((buf = malloc(m->bufsize)) == NULL)
		return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
	while (!done) {
		if ((n = read_some(m->fd, buf, m->bufsize)) == -1) {
			ex = seterr(m, EX_IOERR, "cannot read message: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0) {
			m->eof = 1;
			break;
		}
		for (i = 0; i < (size_t)n && !done; i++) {
			c = buf[i];
			if (c == '\0') {
				ex = seterr(m, EX_DATAERR,
				    "message contains a NUL byte");
				goto out;
			}
			/*
			 * In the header only LF ends a line, with or without
			 * a CR before it.  A bare CR is dropped, as msmtp
			 * does: were it a line end, "Subject: x<CR>Bcc: y"
			 * would become a header the sender never wrote.
			 */
			if (c == '\r') {
				m->skip_lf = 1;
				continue;
			}
			m->skip_lf = 0;
			if (c == '\n') {
				if ((ex = line_end(m, &line, &field, &done)) !=
				    EX_OK)
					goto out;
				continue;
			}
			if (line.len + 3 > RFC5322_MAXFIELD) {
				ex = seterr(m, EX_DATAERR,
				    "message header field longer than %d bytes",
				    RFC5322_MAXFIELD);
				goto out;
			}
			if (m->hdrsize + line.len + 3 > m->maxheader) {
				ex = seterr(m, EX_DATAERR,
				    "message header longer than %zu bytes",
				    m->maxheader);
				goto out;
			}
			if (dbuf_add(&line, &c, 1) == -1) {
				ex = seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
				goto out;
			}
		}
	}
	if (done && i < (size_t)n) {
		/* The buffer becomes the start of the body. */
		memmove(buf, buf + i, n - i);
		m->rest = buf;
		m->restlen = n - i;
		buf = NULL;
	} else if (!done) {
		/* No empty line: everything was header, as msmtp sees it. */
		if (line.len > 0 &&
		    (ex = line_end(m, &line, &field, &done)) != EX_OK)
			goto out;
		if (field.len > 0 && (ex = field_add(m, &field)) != EX_OK)
			goto out;
	}
	ex = scan_fields(m);
out:
	free(buf);
	free(line.s);
	free(field.s);
	return ex;
}

struct rfc5322_field *
rfc5322_find(struct rfc5322_msg *m, const char *name)
{
	struct rfc5322_field	*f;

	TAILQ_FOREACH(f, &m->fields, entry)
		if (field_is(f, name))
			return f;
	return NULL;
}

/*
 * The first address of the first From: field, or of a Resent-From: of the
 * first Resent- block if that comes earlier (msmtp 1.8.26 and later).
 * Fields without an address are skipped.
 */
int
rfc5322_envelope_from(struct rfc5322_msg *m, char **fromp)
{
	struct rfc5322_field	*f;
	struct addr_list	 l;

	*fromp = NULL;
	TAILQ_FOREACH(f, &m->fields, entry) {
		if (!field_is(f, "From") &&
		    !(f->resent && field_is(f, "Resent-From")))
			continue;
		addr_list_init(&l);
		if (addr_parse_list(&l, f->value, strlen(f->value)) == -1) {
			addr_list_free(&l);
			return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
		}
		if (TAILQ_EMPTY(&l))
			continue;
		*fromp = strdup(TAILQ_FIRST(&l)->spec);
		addr_list_free(&l);
		if (*fromp == NULL)
			return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
		return EX_OK;
	}
	return EX_OK;
}

/*
 * To, Cc and Bcc; but if the header has a Resent- block, only the
 * Resent-To, Resent-Cc and Resent-Bcc fields of the first such block.
 */
int
rfc5322_recipients(struct rfc5322_msg *m, struct addr_list *l)
{
	struct rfc5322_field	*f;
	const char		*name;

	TAILQ_FOREACH(f, &m->fields, entry) {
		if (f->name == NULL)
			continue;
		name = f->name;
		if (m->has_resent) {
			if (!f->resent)
				continue;
			name += 7;
		}
		if (strcasecmp(name, "To") != 0 && strcasecmp(name, "Cc") != 0 &&
		    strcasecmp(name, "Bcc") != 0)
			continue;
		if (addr_parse_list(l, f->value, strlen(f->value)) == -1)
			return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
	}
	return EX_OK;
}

int
rfc5322_format_date(char *buf, size_t len, time_t t, long gmtoff)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	time_t			 lt;
	long			 off;
	int			 r;

	/* No locale and no zone files: the reader runs sandboxed. */
	lt = t + gmtoff;
	if (gmtime_r(&lt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	off = (gmtoff < 0 ? -gmtoff : gmtoff) / 60;
	r = snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, gmtoff < 0 ? '-' : '+',
	    off / 60 % 100, off % 60);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return 0;
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_dot_atom(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
		if (s[i] != '.' && !is_atext(s[i]))
			return 0;
	}
	return 1;
}

/*
 * msmtp 1.8.23's form <hex.envelope-from>, or <hex.local@host> when the
 * envelope-from has no domain; an address that would not make a valid
 * msg-id gives <hex@host>.
 */
int
rfc5322_msgid(char *buf, size_t len, const unsigned char *rnd,
    const char *from, const char *host)
{
	char		 hex[33];
	const char	*at;
	size_t		 i;
	int		 r;

	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	if (host == NULL || !is_dot_atom(host, strlen(host)))
		host = "localhost";
	if (from == NULL)
		from = "";
	at = strchr(from, '@');
	if (at != NULL && is_dot_atom(from, at - from) &&
	    is_dot_atom(at + 1, strlen(at + 1)))
		r = snprintf(buf, len, "<%s.%s>", hex, from);
	else if (at == NULL && is_dot_atom(from, strlen(from)))
		r = snprintf(buf, len, "<%s.%s@%s>", hex, from, host);
	else
		r = snprintf(buf, len, "<%s@%s>", hex, host);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return 0;
}

/*
 * A display name that cannot break the From: syntax or start a new field:
 * atoms as they are, other printable ASCII as a quoted-string, anything
 * else (8-bit, control characters, CR, LF) as RFC 2047 B encoded-words,
 * folded between words.  Returns NULL for an empty name or on ENOMEM.
 */
char *
rfc5322_display_name(const char *name, const char *charset)
{
	struct dbuf		 b = { NULL, 0, 0 };
	const unsigned char	*p = (const unsigned char *)name;
	char			 ew[EW_MAXLEN + 1];
	size_t			 i, n, len, max;
	ssize_t			 r;
	int			 plain = 1, ascii = 1, err = 0, utf8;

	if (name == NULL || (len = strlen(name)) == 0)
		return NULL;
	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			ascii = 0;
		else if (p[i] != ' ' && !is_atext(p[i]))
			plain = 0;
	}
	if (p[0] == ' ' || p[len - 1] == ' ' || strstr(name, "  ") != NULL)
		plain = 0;
	if (ascii && plain) {
		dbuf_add(&b, name, len);
		return b.s;
	}
	if (ascii) {
		err |= dbuf_add(&b, "\"", 1);
		for (i = 0; i < len; i++) {
			if (p[i] == '"' || p[i] == '\\')
				err |= dbuf_add(&b, "\\", 1);
			err |= dbuf_add(&b, name + i, 1);
		}
		err |= dbuf_add(&b, "\"", 1);
		if (err) {
			free(b.s);
			return NULL;
		}
		return b.s;
	}

	if (charset == NULL || *charset == '\0' || strlen(charset) > 40)
		charset = "utf-8";
	for (i = 0; charset[i] != '\0'; i++) {
		if (!isalnum((unsigned char)charset[i]) &&
		    strchr("-_.:", charset[i]) == NULL) {
			charset = "utf-8";
			break;
		}
	}
	utf8 = strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0;
	/* Bytes per word: the base64 room after "=?cs?B?" and "?=". */
	max = (EW_MAXLEN - 7 - strlen(charset)) / 4 * 3;
	for (i = 0; i < len && !err; i += n) {
		n = len - i;
		if (n > max) {
			n = max;
			/* Never split a UTF-8 sequence between two words. */
			while (utf8 && n > 1 && (p[i + n] & 0xc0) == 0x80)
				n--;
		}
		if (i > 0)
			err |= dbuf_add(&b, "\r\n ", 3);
		err |= dbuf_add(&b, "=?", 2);
		err |= dbuf_add(&b, charset, strlen(charset));
		err |= dbuf_add(&b, "?B?", 3);
		if ((r = base64_encode(ew, sizeof(ew), p + i, n)) == -1)
			err = 1;
		else
			err |= dbuf_add(&b, ew, r);
		err |= dbuf_add(&b, "?=", 2);
	}
	if (err) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static int
out_flush(struct outbuf *o)
{
	struct pollfd	 pfd;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < o->len) {
		if ((n = write(o->fd, o->buf + off, o->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = o->fd;
				pfd.events = POLLOUT;
				if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
					break;
				continue;
			}
			break;
		}
		off += n;
	}
	if (off < o->len)
		return seterr(o->msg, EX_IOERR, "cannot write message: %s",
		    strerror(errno));
	o->len = 0;
	return EX_OK;
}

static int
out_add(struct outbuf *o, const char *p, size_t n)
{
	size_t	 k;
	int	 ex;

	o->bytes += n;
	while (n > 0) {
		if (o->len == o->cap && (ex = out_flush(o)) != EX_OK)
			return ex;
		k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
	return EX_OK;
}

static int
out_eol(struct outbuf *o)
{
	o->eols++;
	o->bol = 1;
	return out_add(o, "\r\n", 2);
}

/* Turn LF, CR and CRLF into CRLF; a NUL byte stops everything. */
static int
body_chunk(struct outbuf *o, const char *p, size_t n)
{
	struct rfc5322_msg	*m = o->msg;
	size_t			 i = 0, j;
	int			 ex;

	while (i < n) {
		for (j = i; j < n && p[j] != '\r' && p[j] != '\n' &&
		    p[j] != '\0'; j++)
			;
		if (j > i) {
			if ((ex = out_add(o, p + i, j - i)) != EX_OK)
				return ex;
			m->skip_lf = 0;
			o->bol = 0;
			i = j;
			continue;
		}
		if (p[i] == '\0')
			return seterr(m, EX_DATAERR,
			    "message contains a NUL byte");
		if (p[i] == '\n' && m->skip_lf)
			m->skip_lf = 0;
		else {
			m->skip_lf = p[i] == '\r';
			if ((ex = out_eol(o)) != EX_OK)
				return ex;
		}
		i++;
	}
	return EX_OK;
}

static int
dropped(const struct rfc5322_msg *m, const struct rfc5322_field *f,
    const struct rfc5322_opts *opts)
{
	if (opts->remove_bcc && (field_is(f, "Bcc") ||
	    field_is(f, "Resent-Bcc")))
		return 1;
	if (opts->undisclosed && (field_is(f, "To") || field_is(f, "Cc") ||
	    field_is(f, "Bcc")))
		return 1;
	if (opts->set_from == RFC5322_SET_ON && field_is(f, "From"))
		return 1;
	/* A From without an address is replaced, as msmtp does. */
	if (opts->set_from == RFC5322_SET_AUTO && !m->has_from &&
	    field_is(f, "From"))
		return 1;
	return 0;
}

/* The fields msmtp prepends, in its order: From, To, Date, Message-ID. */
static int
write_added(struct outbuf *o, const struct rfc5322_opts *opts)
{
	struct rfc5322_msg	*m = o->msg;
	const char		*from;
	char			*name;
	unsigned char		 rnd[16];
	char			 v[512];
	size_t			 k;
	int			 ex;

	from = opts->envelope_from != NULL ? opts->envelope_from : "";
	if (!addr_valid_envelope(from))
		return seterr(m, EX_DATAERR, "invalid envelope-from address");
	/* A trace field goes above everything, the mail's own included. */
	if (opts->trace != NULL) {
		for (k = 0; opts->trace[k] != '\0'; k++)
			if (iscntrl((unsigned char)opts->trace[k]))
				return seterr(m, EX_SOFTWARE, "invalid trace");
		if ((ex = out_add(o, opts->trace, k)) != EX_OK ||
		    (ex = out_eol(o)) != EX_OK)
			return ex;
	}
	if (opts->set_from == RFC5322_SET_ON ||
	    (opts->set_from == RFC5322_SET_AUTO && !m->has_from)) {
		name = NULL;
		if (opts->full_name != NULL && *opts->full_name != '\0' &&
		    (name = rfc5322_display_name(opts->full_name,
		    opts->charset)) == NULL)
			return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
		if ((ex = out_add(o, "From: ", 6)) == EX_OK && name != NULL &&
		    (ex = out_add(o, name, strlen(name))) == EX_OK)
			ex = out_add(o, " <", 2);
		if (ex == EX_OK)
			ex = out_add(o, from, strlen(from));
		if (ex == EX_OK && name != NULL)
			ex = out_add(o, ">", 1);
		free(name);
		if (ex != EX_OK || (ex = out_eol(o)) != EX_OK)
			return ex;
	}
	if (opts->undisclosed) {
		if ((ex = out_add(o, "To: undisclosed-recipients:;", 28)) !=
		    EX_OK || (ex = out_eol(o)) != EX_OK)
			return ex;
	}
	if (opts->set_date != RFC5322_SET_OFF && !m->has_date) {
		if (rfc5322_format_date(v, sizeof(v), opts->date,
		    opts->gmtoff) == -1)
			return seterr(m, EX_SOFTWARE, "cannot format the date");
		if ((ex = out_add(o, "Date: ", 6)) != EX_OK ||
		    (ex = out_add(o, v, strlen(v))) != EX_OK ||
		    (ex = out_eol(o)) != EX_OK)
			return ex;
	}
	if (opts->set_msgid != RFC5322_SET_OFF && !m->has_msgid) {
		if (opts->msgid_random != NULL)
			memcpy(rnd, opts->msgid_random, sizeof(rnd));
		else
			arc4random_buf(rnd, sizeof(rnd));
		if (rfc5322_msgid(v, sizeof(v), rnd, from,
		    opts->msgid_host) == -1)
			return seterr(m, EX_SOFTWARE,
			    "cannot make a Message-ID");
		if ((ex = out_add(o, "Message-ID: ", 12)) != EX_OK ||
		    (ex = out_add(o, v, strlen(v))) != EX_OK ||
		    (ex = out_eol(o)) != EX_OK)
			return ex;
	}
	return EX_OK;
}

int
rfc5322_write(struct rfc5322_msg *m, const struct rfc5322_opts *opts,
    int fd, struct rfc5322_stats *st)
{
	struct outbuf		 o;
	struct rfc5322_field	*f;
	char			*buf = NULL;
	size_t			 k;
	ssize_t			 n;
	int			 ex;

	memset(&o, 0, sizeof(o));
	o.fd = fd;
	o.msg = m;
	o.cap = m->bufsize;
	if ((o.buf = malloc(o.cap)) == NULL)
		return seterr(m, EX_OSERR, "%s", strerror(ENOMEM));

	if ((ex = write_added(&o, opts)) != EX_OK)
		goto out;
	TAILQ_FOREACH(f, &m->fields, entry) {
		if (dropped(m, f, opts))
			continue;
		if ((ex = out_add(&o, f->text, f->textlen)) != EX_OK)
			goto out;
		/* Field text holds CRLF line ends only, each after a line. */
		for (k = 0; k < f->textlen; k++)
			if (f->text[k] == '\n')
				o.eols++;
	}
	if (m->separator && (ex = out_eol(&o)) != EX_OK)
		goto out;

	o.bol = 1;
	if (m->restlen > 0 &&
	    (ex = body_chunk(&o, m->rest, m->restlen)) != EX_OK)
		goto out;
	if (!m->eof) {
		if ((buf = malloc(m->bufsize)) == NULL) {
			ex = seterr(m, EX_OSERR, "%s", strerror(ENOMEM));
			goto out;
		}
		while ((n = read_some(m->fd, buf, m->bufsize)) > 0)
			if ((ex = body_chunk(&o, buf, n)) != EX_OK)
				goto out;
		if (n == -1) {
			ex = seterr(m, EX_IOERR, "cannot read message: %s",
			    strerror(errno));
			goto out;
		}
		m->eof = 1;
	}
	/* msmtp ends a last line that lacks its line end. */
	if (!o.bol && (ex = out_eol(&o)) != EX_OK)
		goto out;
	ex = out_flush(&o);
out:
	if (st != NULL) {
		st->bytes = o.bytes;
		st->mailsize = o.bytes - o.eols;
	}
	free(buf);
	free(o.buf);
	return ex;
}
