/*
 * The session process around smtp_session.c, for the posternd harnesses:
 * the client's bytes come from the fuzzer's input, replies are checked
 * and dropped, and each delivered message is compared with what the
 * input says it must be.  This file replaces session.c at link time.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posternd.h"
#include "proto.h"
#include "session.h"
#include "smtpd_io.h"

static const unsigned char *in_p;
static size_t	 in_len, in_off, in_chunk;
static struct conn *cur;
static int	 datafd = -1;
static size_t	 data_start;
static const struct sconf *cur_cf;
static int	 fake_tls;
size_t		 smtpd_delivered;

int64_t
now_ms(void)
{
	return 0;
}

/* How far the session has read: bytes fed minus what is still buffered. */
static size_t
consumed(void)
{
	return in_off - (cur->ilen - cur->ioff);
}

int
conn_fill(struct conn *c)
{
	size_t	 n;

	if (c->ioff > 0) {
		memmove(c->ibuf, c->ibuf + c->ioff, c->ilen - c->ioff);
		c->ilen -= c->ioff;
		c->ioff = 0;
	}
	if (c->ilen == sizeof(c->ibuf))
		return CONN_ERROR;
	if (in_off == in_len)
		return CONN_EOF;
	n = in_len - in_off;
	if (n > in_chunk)
		n = in_chunk;
	if (n > sizeof(c->ibuf) - c->ilen)
		n = sizeof(c->ibuf) - c->ilen;
	memcpy(c->ibuf + c->ilen, in_p + in_off, n);
	c->ilen += n;
	in_off += n;
	return 1;
}

/* Every reply line is "DDD" and ' ' or '-', printable, CRLF ended. */
int
conn_flush(struct conn *c)
{
	size_t	 i = 0, start;

	while (i < c->olen) {
		start = i;
		if (c->olen - i < 5 || c->obuf[i] < '2' ||
		    c->obuf[i] > '5' || (c->obuf[i + 3] != ' ' &&
		    c->obuf[i + 3] != '-'))
			abort();
		for (; i < c->olen && c->obuf[i] != '\r'; i++)
			if (c->obuf[i] == '\n' || c->obuf[i] < 0x20 ||
			    c->obuf[i] == 0x7f)
				abort();
		if (i + 1 >= c->olen || c->obuf[i + 1] != '\n')
			abort();
		i += 2;
		/* RFC 5321 4.5.3.1.5: 512 octets with the CRLF. */
		if (i - start > 512)
			abort();
	}
	c->olen = 0;
	return 1;
}

void
conn_reply(struct conn *c, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > sizeof(line) - 3)
		abort();
	line[n++] = '\r';
	line[n++] = '\n';
	if (c->olen + (size_t)n > sizeof(c->obuf))
		(void)conn_flush(c);
	memcpy(c->obuf + c->olen, line, (size_t)n);
	c->olen += (size_t)n;
}

int
conn_starttls(struct conn *c)
{
	c->tls = (struct tls *)&fake_tls;
	return 0;
}

void
session_log(int prio, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

int
session_data_fd(void)
{
	int	 fd;

	if (datafd != -1)
		abort();	/* the last message was neither given nor dropped */
	if ((datafd = memfd_create("data", 0)) == -1 ||
	    (fd = dup(datafd)) == -1)
		abort();
	data_start = consumed();
	return fd;
}

void
session_data_abort(void)
{
	if (datafd == -1)
		abort();
	close(datafd);
	datafd = -1;
}

/*
 * What the input says must be delivered: the lines after DATA up to the
 * first line that is a lone ".", each with one leading dot removed.
 */
static size_t
expect(const unsigned char *raw, size_t len, int crlf, unsigned char *out,
    int *ended)
{
	size_t	 i = 0, o = 0, e;

	*ended = 0;
	while (i < len) {
		for (e = i; e + 1 < len && !(raw[e] == '\r' &&
		    raw[e + 1] == '\n'); e++)
			;
		if (e + 1 >= len)
			abort();	/* delivered without a final CRLF */
		if (e - i == 1 && raw[i] == '.') {
			*ended = 1;
			if (e + 2 != len)
				abort();	/* read past the end of DATA */
			return o;
		}
		if (raw[i] == '.')
			i++;
		memcpy(out + o, raw + i, e - i);
		o += e - i;
		if (crlf)
			out[o++] = '\r';
		out[o++] = '\n';
		i = e + 2;
	}
	return o;
}

void
session_deliver(const char *from, char *const *rcpts, size_t n,
    uint64_t size, struct result *r)
{
	const unsigned char	*raw = in_p + data_start;
	size_t			 rawlen = consumed() - data_start, elen, i;
	unsigned char		*want, *got, *body;
	const int		 crlf = (cur_cf->flags & SF_CRLF) != 0;
	off_t			 glen;
	int			 ended, lines;

	if (datafd == -1 || n == 0 || n > cur_cf->max_recipients ||
	    *from == '\n')
		abort();
	for (i = 0; i < n; i++)
		if (strpbrk(rcpts[i], "\r\n") != NULL)
			abort();
	if ((want = malloc(rawlen + 1)) == NULL)
		abort();
	elen = expect(raw, rawlen, crlf, want, &ended);
	if (!ended)
		abort();
	if ((glen = lseek(datafd, 0, SEEK_END)) == -1 ||
	    (got = malloc((size_t)glen + 1)) == NULL ||
	    pread(datafd, got, (size_t)glen, 0) != glen)
		abort();
	/* Our Received: field is three lines. */
	for (body = got, lines = 0; lines < 3; body++) {
		if (body >= got + glen)
			abort();
		if (*body == '\n')
			lines++;
	}
	if ((size_t)(got + glen - body) != elen ||
	    memcmp(body, want, elen) != 0)
		abort();
	/* No bare CR or LF: nothing that another reader could end at. */
	for (i = 0; i < elen; i++) {
		if (body[i] == '\r' && (!crlf || i + 1 == elen ||
		    body[i + 1] != '\n'))
			abort();
		if (body[i] == '\n' && crlf && (i == 0 || body[i - 1] != '\r'))
			abort();
	}
	if (cur_cf->max_message_size > 0 && size > cur_cf->max_message_size)
		abort();
	free(want);
	free(got);
	close(datafd);
	datafd = -1;
	smtpd_delivered++;
	r->code = 250;
	strlcpy(r->text, "2.0.0 Ok: delivered", sizeof(r->text));
}

int
session_auth(const void *z, size_t zl, const void *u, size_t ul,
    const void *p, size_t pl)
{
	return pl == 6 && memcmp(p, "secret", 6) == 0;
}

void
smtpd_run(const struct sconf *cf, const unsigned char *data, size_t len,
    size_t chunk)
{
	static struct conn	 c;

	c.in = c.out = -1;
	c.tls = NULL;
	c.ioff = c.ilen = c.olen = 0;
	cur = &c;
	cur_cf = cf;
	in_p = data;
	in_len = len;
	in_off = 0;
	in_chunk = chunk == 0 ? 1 : chunk;
	smtp_session(&c, cf);
	if (datafd != -1)
		abort();
}
