/*
 * The SMTP reply parser as the client meets it: the input is everything
 * a server says.  First reply_add_line() alone on each line, then a whole
 * client session (EHLO, AUTH, MAIL, RCPT, DATA, QUIT) against it.  The
 * first byte chooses SMTP or LMTP and whether to authenticate.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reply.h"
#include "smtp_client.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	 mail[] = "Subject: x\r\n\r\n.body\r\n";
static size_t		 mailoff;

static int
a_start(void *ctx, const char *offered, int tls, const unsigned char *cb,
    size_t cblen, char *mech, size_t mechsz, char **initial,
    struct smtp_result *r)
{
	strlcpy(mech, "PLAIN", mechsz);
	if ((*initial = strdup("AHUAcA==")) == NULL)
		abort();
	return 0;
}

static int
a_step(void *ctx, const char *chal, char **resp, struct smtp_result *r)
{
	if ((*resp = strdup("")) == NULL)
		abort();
	return 0;
}

static int
a_done(void *ctx, int code, const char *text, struct smtp_result *r)
{
	return 0;
}

static ssize_t
b_read(void *ctx, void *buf, size_t len)
{
	size_t	 n = sizeof(mail) - 1 - mailoff;

	if (n > len)
		n = len;
	memcpy(buf, mail + mailoff, n);
	mailoff += n;
	return (ssize_t)n;
}

static int
b_commit(void *ctx, struct smtp_result *r)
{
	return 0;
}

static void
r_status(void *ctx, size_t i, const char *rcpt, int code, const char *text)
{
}

static void
lines(const uint8_t *data, size_t len)
{
	static struct reply	 r;
	const uint8_t		*nl;
	size_t			 n, i, l;
	const char		*p;

	reply_init(&r);
	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		l = n > 0 && data[n - 1] == '\r' ? n - 1 : n;
		switch (reply_add_line(&r, (const char *)data, l)) {
		case REPLY_DONE:
			if (r.code < 0 || r.code > 999 || r.len != strlen(r.text))
				abort();
			for (i = 0; i < r.nlines; i++)
				if ((p = reply_line(&r, i, &l)) == NULL ||
				    memchr(p, '\n', l) != NULL)
					abort();
			/* FALLTHROUGH */
		case REPLY_ERROR:
			reply_init(&r);
			break;
		}
		if (nl == NULL)
			break;
		data += n + 1;
		len -= n + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct smtp_callbacks cb = { NULL, a_start, a_step,
		a_done, b_read, b_commit, r_status };
	char *const		 rcpts[] = { "b@example.org", "c@example.org" };
	struct smtp_params	 p;
	struct smtp_result	 res;
	struct smtp		*s;
	int			 sv[2], sz = 1 << 20;

	if (len < 1 || len > 65536)
		return 0;
	lines(data + 1, len - 1);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (write(sv[1], data + 1, len - 1) != (ssize_t)(len - 1))
		abort();
	shutdown(sv[1], SHUT_WR);
	memset(&p, 0, sizeof(p));
	p.protocol = (data[0] & 1) ? SMTP_PROTO_LMTP : SMTP_PROTO_SMTP;
	p.domain = "client.example.org";
	p.tls = SMTP_TLS_OFF;
	p.auth = (data[0] & 2) ? SMTP_AUTH_AUTO : SMTP_AUTH_OFF;
	p.dsn_notify = (data[0] & 4) ? "SUCCESS,FAILURE" : NULL;
	p.dsn_return = (data[0] & 4) ? "HDRS" : NULL;
	p.timeout = 5;
	p.debug_fd = -1;
	mailoff = 0;
	memset(&res, 0, sizeof(res));
	if ((s = smtp_open(sv[0], &p, NULL, &cb, &res)) != NULL) {
		if (data[0] & 8)
			(void)smtp_etrn(s, "example.org", &res);
		else
			(void)smtp_transaction(s, "a@example.org", rcpts,
			    1 + ((data[0] >> 4) & 1), &res);
		smtp_close(s, 1);
	} else
		close(sv[0]);
	close(sv[1]);
	return 0;
}
