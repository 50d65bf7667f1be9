#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "smtp_client.h"
#include "tap.h"
#include "tls_client.h"

/*
 * A scripted server on a socketpair.  Steps: "S<text>" sends text, "C<line>"
 * expects one command line, "D" reads mail data up to the lone dot,
 * "P<n>" sleeps n seconds, "X" hangs up.  After the script everything the client still
 * sends is captured until it closes.
 */
static char	 capture[1 << 20];
static size_t	 capturelen;
static int	 server_ok;
static char	 transcript[1 << 16];

struct body {
	const char	*data;
	size_t		 len, off;
	size_t		 chunk;
	int		 commit;
	int		 committed;
};

struct lmtp_seen {
	int	 n;
	int	 codes[8];
};

static struct body	 body;
static struct lmtp_seen	 lmtp;

static ssize_t
cb_body_read(void *ctx, void *buf, size_t len)
{
	struct body	*b = ctx;
	size_t		 n = b->len - b->off;

	if (n > len)
		n = len;
	if (b->chunk > 0 && n > b->chunk)
		n = b->chunk;
	memcpy(buf, b->data + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static int
cb_body_commit(void *ctx, struct smtp_result *res)
{
	struct body	*b = ctx;

	b->committed++;
	if (b->commit)
		return 0;
	res->exitcode = EX_IOERR;
	strlcpy(res->errmsg, "reader died", sizeof(res->errmsg));
	return 1;
}

static int
cb_auth_start(void *ctx, const char *offered, int tls, const unsigned char *cb,
    size_t cblen, char *mech, size_t mechsz, char **initial,
    struct smtp_result *res)
{
	if (mech[0] == '\0') {
		if (!tls) {
			res->exitcode = EX_UNAVAILABLE;
			strlcpy(res->errmsg, "cannot use a secure "
			    "authentication method", sizeof(res->errmsg));
			return 1;
		}
		strlcpy(mech, "PLAIN", mechsz);
	}
	if (strcmp(mech, "PLAIN") == 0)
		*initial = strdup("AGJvYgBzM2NyZXQ=");
	else
		*initial = NULL;
	return 0;
}

static int
cb_auth_step(void *ctx, const char *challenge, char **response,
    struct smtp_result *res)
{
	if (strcmp(challenge, "VXNlcm5hbWU6") == 0)
		*response = strdup("Ym9i");
	else
		*response = strdup("czNjcmV0");
	return 0;
}

static int
cb_auth_done(void *ctx, int code, const char *text, struct smtp_result *res)
{
	return 0;
}

static void
cb_rcpt_status(void *ctx, size_t i, const char *rcpt, int code,
    const char *text)
{
	if (lmtp.n < 8)
		lmtp.codes[lmtp.n++] = code;
}

static struct smtp_callbacks callbacks = {
	&body, cb_auth_start, cb_auth_step, cb_auth_done, cb_body_read,
	cb_body_commit, cb_rcpt_status, NULL, NULL
};

static void
set_body(const char *text)
{
	memset(&body, 0, sizeof(body));
	body.data = text;
	body.len = strlen(text);
	body.commit = 1;
	memset(&lmtp, 0, sizeof(lmtp));
}

/* Pipelining between transactions: another mail follows, outcomes seen. */
static struct {
	int	 more;
	int	 calls;
	int	 rv;
	int	 code;
	char	 msg[64];
} held;

static int
cb_more(void *ctx)
{
	(void)ctx;
	return held.more;
}

static void
cb_dot_done(void *ctx, int rv, const struct smtp_result *res)
{
	(void)ctx;
	held.calls++;
	held.rv = rv;
	held.code = res->exitcode;
	strlcpy(held.msg, res->smtpmsg, sizeof(held.msg));
}

static void
default_params(struct smtp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->protocol = SMTP_PROTO_SMTP;
	p->domain = "localhost";
	p->tls = SMTP_TLS_OFF;
	p->auth = SMTP_AUTH_OFF;
	p->timeout = 5;
	p->debug_fd = -1;
}

static int
srv_getline(int fd, int cap, char *buf, size_t *blen, char *line, size_t sz)
{
	char	*nl;
	ssize_t	 n;
	size_t	 len;

	for (;;) {
		if ((nl = memchr(buf, '\n', *blen)) != NULL) {
			len = (size_t)(nl - buf) + 1;
			if (len >= sz)
				len = sz - 1;
			memcpy(line, buf, len);
			line[len] = '\0';
			memmove(buf, nl + 1, *blen - (size_t)(nl - buf) - 1);
			*blen -= (size_t)(nl - buf) + 1;
			return 0;
		}
		if ((n = read(fd, buf + *blen, 8192)) <= 0)
			return -1;
		if (write(cap, buf + *blen, (size_t)n) != n)
			return -1;
		*blen += (size_t)n;
	}
}

static void
server(int fd, int cap, const char **script)
{
	static char	 buf[1 << 20], line[1 << 16];
	size_t		 blen = 0, n;
	ssize_t		 r;
	int		 bad = 0;

	for (; *script != NULL; script++) {
		const char *st = *script;

		switch (st[0]) {
		case 'S':
			n = strlen(st + 1);
			if (write(fd, st + 1, n) != (ssize_t)n)
				bad = 1;
			break;
		case 'C':
			if (srv_getline(fd, cap, buf, &blen, line,
			    sizeof(line)) == -1) {
				fprintf(stderr, "server: EOF, expected %s\n",
				    st + 1);
				_exit(1);
			}
			line[strcspn(line, "\r\n")] = '\0';
			if (strcmp(line, st + 1) != 0) {
				fprintf(stderr, "server: expected '%s', got "
				    "'%s'\n", st + 1, line);
				bad = 1;
			}
			break;
		case 'D':
			do {
				if (srv_getline(fd, cap, buf, &blen, line,
				    sizeof(line)) == -1)
					_exit(1);
			} while (strcmp(line, ".\r\n") != 0);
			break;
		case 'P':
			sleep((unsigned)atoi(st + 1));
			break;
		case 'X':
			close(fd);
			_exit(bad);
		}
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (write(cap, buf, (size_t)r) != r)
			break;
	_exit(bad);
}

/* Run fn against the scripted server; capture holds what it received. */
static pid_t
start_server(const char **script, int *cfd, int *capfd)
{
	char	 path[] = "/tmp/smtpcap.XXXXXX";
	int	 sv[2];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    (*capfd = mkstemp(path)) == -1)
		abort();
	unlink(path);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		server(sv[1], *capfd, script);
	}
	close(sv[1]);
	*cfd = sv[0];
	return pid;
}

static void
finish_server(pid_t pid, int capfd)
{
	int	 status;
	ssize_t	 n;

	waitpid(pid, &status, 0);
	server_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	lseek(capfd, 0, SEEK_SET);
	n = read(capfd, capture, sizeof(capture) - 1);
	capturelen = n > 0 ? (size_t)n : 0;
	capture[capturelen] = '\0';
	close(capfd);
}

static int
captured(const char *s)
{
	return strstr(capture, s) != NULL;
}

/* One whole session: open, one transaction (if rcpts), close. */
static int
session(const char **script, const struct smtp_params *p,
    struct tls_client *tc, const char *from, char *const *rcpts, size_t n,
    struct smtp_result *res, int quit_on_success)
{
	struct smtp	*s;
	pid_t		 pid;
	int		 fd, capfd, rv = -1;

	pid = start_server(script, &fd, &capfd);
	if ((s = smtp_open(fd, p, tc, &callbacks, res)) != NULL) {
		rv = n > 0 ? smtp_transaction(s, from, rcpts, n, res) : 0;
		smtp_close(s, rv == 0 && quit_on_success);
	}
	finish_server(pid, capfd);
	return rv;
}

static char	 r_r[] = "r@example.net", r_a[] = "a@example.net",
		 r_b[] = "b@example.net", r_c[] = "c@example.net";
static char	*one[] = { r_r };
static char	*three[] = { r_a, r_b, r_c };

static void
test_plain(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	int			 rv;

	{
		const char *sc[] = {
			"S220 fake ESMTP\r\n", "CEHLO localhost",
			"S250-localhost\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
			"CMAIL FROM:<alice@example.org>",
			"CRCPT TO:<a@example.net>", "CRCPT TO:<b@example.net>",
			"CRCPT TO:<c@example.net>", "CDATA",
			"S250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
			"D", "S250 queued as 1\r\n", "CQUIT", "S221 bye\r\n",
			NULL };
		default_params(&p);
		set_body("Subject: hi\r\n\r\nbody\r\n");
		rv = session(sc, &p, NULL, "alice@example.org", three, 3,
		    &res, 1);
		ok(rv == 0 && res.exitcode == 0, "pipelined send succeeds");
		ok(server_ok, "pipelined: commands arrive before any reply");
		ok(res.smtpstatus == 250 &&
		    strcmp(res.smtpmsg, "250 queued as 1") == 0,
		    "final reply attached to the result");
		ok(res.mailsize == 18, "mailsize counts CRLF as one (%zu)",
		    res.mailsize);
		ok(captured("\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
		    "body, final dot and QUIT on the wire");
		ok(body.committed == 1, "body_commit called once");
	}
	{
		const char *sc[] = {
			"S220 fake\r\n", "CEHLO localhost", "S250 localhost\r\n",
			"CMAIL FROM:<alice@example.org>", "S250 ok\r\n",
			"CRCPT TO:<r@example.net>", "S250 ok\r\n",
			"CDATA", "S354 go\r\n", "D", "S250 queued\r\n",
			"CQUIT", "S221 bye\r\n", NULL };
		default_params(&p);
		set_body("a\r\n");
		rv = session(sc, &p, NULL, "alice@example.org", one, 1, &res,
		    1);
		ok(rv == 0 && server_ok, "lock-step send without PIPELINING");
	}
	{
		const char *sc[] = {
			"S220 fake\r\n", "CEHLO localhost", "S502 no\r\n",
			"CHELO localhost", "S250 hi\r\n",
			"CMAIL FROM:<>", "S250 ok\r\n",
			"CRCPT TO:<r@example.net>", "S250 ok\r\n",
			"CDATA", "S354 go\r\n", "D", "S250 queued\r\n", NULL };
		default_params(&p);
		set_body("a\r\n");
		rv = session(sc, &p, NULL, "<>", one, 1, &res, 0);
		ok(rv == 0 && server_ok, "HELO fallback, null sender");
		ok(!captured("QUIT"), "no QUIT when the caller does not ask");
	}
}

struct failcase {
	const char	*name;
	const char	*greet;
	const char	*ehlo;
	const char	*helo;
	const char	*mail;
	const char	*rcpt;
	const char	*data;
	const char	*final;
	int		 exitcode;
	const char	*errmsg;
	int		 status;
	int		 hangup;	/* server closes after its last line */
};

static const struct failcase failcases[] = {
	{ "greeting 554", "554 go away\r\n", NULL, NULL, NULL, NULL, NULL,
	    NULL, EX_PROTOCOL, "cannot get initial OK message from server",
	    554, 0 },
	{ "greeting 421", "421 busy\r\n", NULL, NULL, NULL, NULL, NULL, NULL,
	    EX_TEMPFAIL, "cannot get initial OK message from server", 421, 0 },
	{ "EHLO and HELO 5xx", "220 x\r\n", "500 no\r\n", "501 no\r\n", NULL,
	    NULL, NULL, NULL, EX_PROTOCOL,
	    "SMTP server does not accept EHLO or HELO commands", 501, 0 },
	{ "HELO 4xx", "220 x\r\n", "500 no\r\n", "421 later\r\n", NULL, NULL,
	    NULL, NULL, EX_TEMPFAIL,
	    "SMTP server does not accept EHLO or HELO commands", 421, 0 },
	{ "MAIL 5xx", "220 x\r\n", "250 x\r\n", NULL, "553 no\r\n", NULL,
	    NULL, NULL, EX_DATAERR, "envelope from address f@example.org not "
	    "accepted by the server", 553, 0 },
	{ "MAIL 4xx", "220 x\r\n", "250 x\r\n", NULL, "451 later\r\n", NULL,
	    NULL, NULL, EX_TEMPFAIL, "envelope from address f@example.org not "
	    "accepted by the server", 451, 0 },
	{ "RCPT 5xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "550 5.1.1 no such user\r\n", NULL, NULL, EX_DATAERR,
	    "recipient address r@example.net not accepted by the server", 550, 0 },
	{ "RCPT 4xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "452 full\r\n", NULL, NULL, EX_TEMPFAIL,
	    "recipient address r@example.net not accepted by the server", 452, 0 },
	{ "DATA 5xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "251 fwd\r\n", "554 no\r\n", NULL, EX_DATAERR,
	    "the server does not accept mail data", 554, 0 },
	{ "DATA 4xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "250 ok\r\n", "451 later\r\n", NULL, EX_TEMPFAIL,
	    "the server does not accept mail data", 451, 0 },
	{ "final 5xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "250 ok\r\n", "354 go\r\n", "554 5.7.1 spam\r\n", EX_UNAVAILABLE,
	    "the server did not accept the mail", 554, 0 },
	{ "final 4xx", "220 x\r\n", "250 x\r\n", NULL, "250 ok\r\n",
	    "250 ok\r\n", "354 go\r\n", "452 4.3.1 full\r\n", EX_TEMPFAIL,
	    "the server did not accept the mail", 452, 0 },
	{ "garbage greeting", "hello there\r\n", NULL, NULL, NULL, NULL, NULL,
	    NULL, EX_PROTOCOL, "the server sent an invalid reply", 0, 0 },
	{ "mixed codes", "220 x\r\n", "250-x\r\n550 y\r\n", NULL, NULL, NULL,
	    NULL, NULL, EX_PROTOCOL, "the server sent an invalid reply", 0, 0 },
	{ "closed at greeting", "", NULL, NULL, NULL, NULL, NULL, NULL,
	    EX_PROTOCOL, "the server sent an empty reply", 0, 1 },
	{ "EOF mid reply", "220-x\r\n", NULL, NULL, NULL, NULL, NULL, NULL,
	    EX_PROTOCOL, "the server sent an invalid reply", 0, 1 },
};

static void
test_failures(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	const struct failcase	*fc;
	const char		*sc[24];
	size_t			 i, n;
	int			 rv;

	for (i = 0; i < sizeof(failcases) / sizeof(failcases[0]); i++) {
		fc = &failcases[i];
		n = 0;
		sc[n++] = fc->greet[0] ? "S" : "P0";
		if (fc->greet[0]) {
			static char g[64][64];

			snprintf(g[i], sizeof(g[i]), "S%s", fc->greet);
			sc[n - 1] = g[i];
		}
		if (fc->ehlo != NULL) {
			static char e[64][64], h[64][64], m[64][64], r[64][64],
			    d[64][64], f[64][64];

			sc[n++] = "CEHLO localhost";
			snprintf(e[i], 64, "S%s", fc->ehlo);
			sc[n++] = e[i];
			if (fc->helo != NULL) {
				sc[n++] = "CHELO localhost";
				snprintf(h[i], 64, "S%s", fc->helo);
				sc[n++] = h[i];
			}
			if (fc->mail != NULL) {
				sc[n++] = "CMAIL FROM:<f@example.org>";
				snprintf(m[i], 64, "S%s", fc->mail);
				sc[n++] = m[i];
			}
			if (fc->rcpt != NULL) {
				sc[n++] = "CRCPT TO:<r@example.net>";
				snprintf(r[i], 64, "S%s", fc->rcpt);
				sc[n++] = r[i];
			}
			if (fc->data != NULL) {
				sc[n++] = "CDATA";
				snprintf(d[i], 64, "S%s", fc->data);
				sc[n++] = d[i];
			}
			if (fc->final != NULL) {
				sc[n++] = "D";
				snprintf(f[i], 64, "S%s", fc->final);
				sc[n++] = f[i];
			}
		}
		if (fc->hangup)
			sc[n++] = "X";
		sc[n] = NULL;
		default_params(&p);
		set_body("x\r\n");
		rv = session(sc, &p, NULL, "f@example.org", one, 1, &res, 1);
		ok(rv == -1 && res.exitcode == fc->exitcode,
		    "%s: exit %d (got %d)", fc->name, fc->exitcode,
		    res.exitcode);
		ok(strcmp(res.errmsg, fc->errmsg) == 0, "%s: message '%s'",
		    fc->name, res.errmsg);
		ok(res.smtpstatus == fc->status, "%s: smtpstatus %d",
		    fc->name, res.smtpstatus);
		ok(server_ok && !captured("QUIT"), "%s: no QUIT after the error",
		    fc->name);
	}
}

static void
test_reply_limits(void)
{
	static char		 longline[2100], many[60 * 8 + 16];
	struct smtp_params	 p;
	struct smtp_result	 res;
	int			 i;

	memset(longline, 'x', sizeof(longline) - 3);
	memcpy(longline, "S220 ", 5);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	{
		const char *sc[] = { longline, NULL };

		default_params(&p);
		session(sc, &p, NULL, "f@x", one, 1, &res, 0);
		ok(res.exitcode == EX_PROTOCOL && strcmp(res.errmsg,
		    "the server sent an invalid reply") == 0,
		    "a 2 KB reply line is rejected");
	}
	strlcpy(many, "S", sizeof(many));
	for (i = 0; i < 55; i++)
		strlcat(many, "220-xx\r\n", sizeof(many));
	strlcat(many, "220 x\r\n", sizeof(many));
	{
		const char *sc[] = { many, NULL };

		default_params(&p);
		session(sc, &p, NULL, "f@x", one, 1, &res, 0);
		ok(res.exitcode == EX_PROTOCOL && strncmp(res.errmsg,
		    "Rejecting server reply that is longer than 50 lines", 51)
		    == 0, "a 56-line reply is rejected");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250-SIZE 99999999999999999999999\r\n"
		    "250-AUTH=PLAIN LOGIN\r\n250-dsn\r\n250 ETRNX\r\n", NULL };
		struct smtp *s;
		pid_t pid;
		int fd, capfd;

		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		ok(s != NULL, "odd EHLO capabilities accepted");
		if (s != NULL) {
			const struct smtp_caps *c = smtp_capabilities(s);

			ok(!(c->flags & SMTP_CAP_SIZE), "overflowing SIZE "
			    "ignored");
			ok((c->flags & SMTP_CAP_AUTH) &&
			    strcmp(c->auth, "PLAIN LOGIN") == 0,
			    "old AUTH= form parsed");
			ok((c->flags & SMTP_CAP_DSN) &&
			    !(c->flags & SMTP_CAP_ETRN),
			    "keywords case-insensitive and whole");
			smtp_close(s, 0);
		}
		finish_server(pid, capfd);
	}
}

static void
test_data(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	const char		*sc[] = { "S220 x\r\n", "CEHLO localhost",
	    "S250-x\r\n250 PIPELINING\r\n", "CMAIL FROM:<f@x>",
	    "CRCPT TO:<r@example.net>", "CDATA",
	    "S250 ok\r\n250 ok\r\n354 go\r\n", "D", "S250 ok\r\n", NULL };
	static char		 big[300000];
	size_t			 i;

	default_params(&p);
	set_body(".\r\n..x\r\n.foo\r\nmid.dle\r\n.\r\nlast");
	body.chunk = 3;
	session(sc, &p, NULL, "f@x", one, 1, &res, 0);
	ok(res.exitcode == 0, "dot-stuffing session succeeds");
	ok(captured("DATA\r\n..\r\n...x\r\n..foo\r\nmid.dle\r\n..\r\nlast\r\n"
	    ".\r\n"), "leading dots doubled across read boundaries, final "
	    "CRLF added");
	ok(res.mailsize == 25, "mailsize excludes stuffing (%zu)",
	    res.mailsize);

	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = i % 100 == 99 ? '\n' : (i % 100 == 98 ? '\r' : 'a');
	set_body(big);
	session(sc, &p, NULL, "f@x", one, 1, &res, 0);
	ok(res.exitcode == 0 && server_ok, "300 KB body sent");
	ok(res.mailsize == sizeof(big) - 1 - (sizeof(big) - 1) / 100,
	    "300 KB mailsize");
	{
		const char *sc2[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
		    "CMAIL FROM:<f@x>", "CRCPT TO:<r@example.net>", "CDATA",
		    "S250 ok\r\n250 ok\r\n354 go\r\n", NULL };

		set_body(big);
		session(sc2, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && strstr(res.errmsg,
		    "limit of 100 bytes") != NULL, "SIZE limit stops the send "
		    "(%d: %s)", res.exitcode, res.errmsg);
		ok(!captured("\r\n.\r\n") && !captured("QUIT"),
		    "no final dot after the SIZE abort");
	}
	{
		set_body("Subject: x\r\n\r\nbody\r\n");
		body.commit = 0;
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_IOERR && body.committed == 1,
		    "refused commit aborts");
		ok(captured("body\r\n") && !captured("\r\n.\r\n") &&
		    !captured("QUIT"), "no final dot without the commit");
	}
}

static void
test_dsn_lmtp(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;

	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 DSN\r\n",
		    "CMAIL FROM:<f@x> RET=HDRS", "S250 ok\r\n",
		    "CRCPT TO:<r@example.net> NOTIFY=FAILURE,DELAY",
		    "S250 ok\r\n", "CDATA", "S354 go\r\n", "D",
		    "S250 ok\r\n", NULL };

		default_params(&p);
		p.dsn_notify = "FAILURE,DELAY";
		p.dsn_return = "HDRS";
		set_body("x\r\n");
		session(sc, &p, NULL, "f@x", one, 1, &res, 0);
		ok(res.exitcode == 0 && server_ok, "DSN parameters sent");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n", "CQUIT", "S221 bye\r\n",
		    NULL };

		default_params(&p);
		p.dsn_notify = "NEVER";
		session(sc, &p, NULL, "f@x", one, 1, &res, 0);
		ok(res.exitcode == EX_UNAVAILABLE && strcmp(res.errmsg,
		    "the server does not support DSN") == 0 && server_ok,
		    "DSN not offered: 69 after QUIT");
		ok(!captured("MAIL"), "no MAIL without DSN support");
	}
	{
		const char *sc[] = { "S220 lmtp\r\n", "CLHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n", "CMAIL FROM:<f@x>",
		    "CRCPT TO:<a@example.net>", "CRCPT TO:<b@example.net>",
		    "CRCPT TO:<c@example.net>", "CDATA",
		    "S250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", "D",
		    "S250 a done\r\n452 b over quota\r\n250 c done\r\n", NULL };

		default_params(&p);
		p.protocol = SMTP_PROTO_LMTP;
		set_body("x\r\n");
		session(sc, &p, NULL, "f@x", three, 3, &res, 1);
		ok(res.exitcode == EX_TEMPFAIL && res.rcpt_failed == 1,
		    "LMTP: one recipient deferred -> 75");
		ok(strcmp(res.errmsg,
		    "delivery to one or more recipients failed") == 0 &&
		    res.smtpstatus == 452, "LMTP: msmtp's message, first "
		    "failing reply attached");
		ok(lmtp.n == 3 && lmtp.codes[0] == 250 && lmtp.codes[1] == 452
		    && lmtp.codes[2] == 250, "LMTP: per-recipient callback");
	}
	{
		const char *sc[] = { "S220 lmtp\r\n", "CLHLO localhost",
		    "S250 x\r\n", "CMAIL FROM:<f@x>", "S250 ok\r\n",
		    "CRCPT TO:<a@example.net>", "S250 ok\r\n",
		    "CRCPT TO:<b@example.net>", "S250 ok\r\n",
		    "CRCPT TO:<c@example.net>", "S250 ok\r\n", "CDATA",
		    "S354 go\r\n", "D",
		    "S250 a\r\n550 b unknown\r\n452 c later\r\n", NULL };

		default_params(&p);
		p.protocol = SMTP_PROTO_LMTP;
		set_body("x\r\n");
		session(sc, &p, NULL, "f@x", three, 3, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && res.rcpt_failed == 2,
		    "LMTP: a permanent refusal -> 69");
	}
	{
		const char *sc[] = { "S220 lmtp\r\n", "CLHLO localhost",
		    "S500 no\r\n", NULL };

		default_params(&p);
		p.protocol = SMTP_PROTO_LMTP;
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_PROTOCOL && strcmp(res.errmsg,
		    "command LHLO failed") == 0 && !captured("HELO"),
		    "LMTP: no HELO fallback");
	}
}

static struct tls_client *
insecure_tls(void)
{
	struct tls_client_params	 tp;
	char				 err[256];
	int				 ex;

	memset(&tp, 0, sizeof(tp));
	tp.certcheck = 0;
	tp.servername = "localhost";
	return tls_client_init(&tp, err, sizeof(err), &ex);
}

static void
test_starttls_plain(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	struct tls_client	*tc = insecure_tls();

	ok(tc != NULL, "TLS context without CA when certcheck is off");
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
		    "CSTARTTLS",
		    "S220 go ahead\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n",
		    NULL };

		default_params(&p);
		p.tls = SMTP_TLS_STARTTLS;
		session(sc, &p, tc, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_PROTOCOL && strcmp(res.errmsg,
		    "command STARTTLS failed") == 0,
		    "STARTTLS response injection aborts with 76");
		ok(capturelen > 0 && strcmp(capture + capturelen - 10,
		    "STARTTLS\r\n") == 0,
		    "nothing sent after STARTTLS (no handshake)");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 AUTH PLAIN LOGIN\r\n", "CQUIT",
		    "S221 bye\r\n", NULL };

		default_params(&p);
		p.tls = SMTP_TLS_STARTTLS;
		p.auth = SMTP_AUTH_MECH;
		p.auth_mech = "PLAIN";
		session(sc, &p, tc, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && strcmp(res.errmsg,
		    "the server does not support TLS via the STARTTLS command")
		    == 0, "STARTTLS stripped: 69");
		ok(server_ok && !captured("AUTH") && !captured("MAIL"),
		    "STARTTLS stripped: QUIT only, no AUTH or MAIL");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 STARTTLS\r\n", "CSTARTTLS",
		    "S454 TLS not available\r\n", NULL };

		default_params(&p);
		p.tls = SMTP_TLS_STARTTLS;
		session(sc, &p, tc, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_TEMPFAIL && strcmp(res.errmsg,
		    "command STARTTLS failed") == 0 && !captured("MAIL"),
		    "STARTTLS 454: 75, no clear-text fallback");
	}
	tls_client_free(tc);
}

static void
test_auth(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res;
	int			 dbg[2];
	ssize_t			 n;

	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 AUTH LOGIN PLAIN\r\n",
		    "CAUTH PLAIN AGJvYgBzM2NyZXQ=", "S235 ok\r\n",
		    "CMAIL FROM:<f@x>", "S250 ok\r\n",
		    "CRCPT TO:<r@example.net>", "S250 ok\r\n", "CDATA",
		    "S354 go\r\n", "D", "S250 ok\r\n", "CQUIT", "S221 bye\r\n",
		    NULL };

		if (pipe(dbg) == -1)
			abort();
		default_params(&p);
		p.auth = SMTP_AUTH_MECH;
		p.auth_mech = "PLAIN";
		p.debug_fd = dbg[1];
		set_body("x\r\n");
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		close(dbg[1]);
		n = read(dbg[0], transcript, sizeof(transcript) - 1);
		transcript[n > 0 ? n : 0] = '\0';
		close(dbg[0]);
		ok(res.exitcode == 0 && server_ok, "AUTH PLAIN with initial "
		    "response");
		ok(strstr(transcript, "--> AUTH PLAIN (credentials hidden)\r\n")
		    != NULL && strstr(transcript, "AGJvYgBzM2NyZXQ") == NULL,
		    "transcript hides the PLAIN response");
		ok(strncmp(transcript, "<-- 220 x\r\n--> EHLO localhost\r\n",
		    31) == 0 && strstr(transcript, "--> x\r\n--> .\r\n<-- 250 ok"
		    "\r\n--> QUIT\r\n<-- 221 bye\r\n") != NULL,
		    "transcript in msmtp's layout");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 AUTH LOGIN PLAIN\r\n", "CAUTH LOGIN",
		    "S334 VXNlcm5hbWU6\r\n", "CYm9i", "S334 UGFzc3dvcmQ6\r\n",
		    "CczNjcmV0", "S535 5.7.8 bad credentials\r\n", NULL };

		if (pipe(dbg) == -1)
			abort();
		default_params(&p);
		p.auth = SMTP_AUTH_MECH;
		p.auth_mech = "LOGIN";
		p.debug_fd = dbg[1];
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		close(dbg[1]);
		n = read(dbg[0], transcript, sizeof(transcript) - 1);
		transcript[n > 0 ? n : 0] = '\0';
		close(dbg[0]);
		ok(res.exitcode == EX_NOPERM && strcmp(res.errmsg,
		    "authentication failed (method LOGIN)") == 0 &&
		    res.smtpstatus == 535, "535 -> 77, msmtp's message");
		ok(server_ok && strstr(transcript, "czNjcmV0") == NULL &&
		    strstr(transcript, "--> (credentials hidden)\r\n") != NULL,
		    "LOGIN steps hidden in the transcript");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 AUTH PLAIN\r\n",
		    "CAUTH PLAIN AGJvYgBzM2NyZXQ=",
		    "S454 4.7.0 try later\r\n", NULL };

		default_params(&p);
		p.auth = SMTP_AUTH_AUTO;
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && strcmp(res.errmsg,
		    "cannot use a secure authentication method") == 0 &&
		    !captured("AUTH"), "auth on without TLS: callback refuses, "
		    "nothing sent");
		p.auth = SMTP_AUTH_MECH;
		p.auth_mech = "PLAIN";
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_TEMPFAIL, "AUTH 454 -> 75");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250 x\r\n", "CQUIT", "S221 bye\r\n", NULL };

		default_params(&p);
		p.auth = SMTP_AUTH_AUTO;
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && strcmp(res.errmsg,
		    "the server does not support authentication") == 0 &&
		    server_ok, "no AUTH offered: 69 after QUIT");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250 AUTH LOGIN\r\n", "CQUIT", "S221 bye\r\n", NULL };

		default_params(&p);
		p.auth = SMTP_AUTH_MECH;
		p.auth_mech = "PLAIN";
		session(sc, &p, NULL, "f@x", one, 1, &res, 1);
		ok(res.exitcode == EX_UNAVAILABLE && strcmp(res.errmsg,
		    "the server does not support authentication") == 0 &&
		    server_ok, "AUTH on the first EHLO line is the server's "
		    "name, not a capability");
	}
}

static void
test_session_misc(void)
{
	struct smtp_params	 p;
	struct smtp_result	 res, res2;
	struct smtp		*s;
	struct timespec		 t0, t1;
	pid_t			 pid;
	int			 fd, capfd, rv, rv2;
	double			 el;

	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "P2", NULL };

		default_params(&p);
		p.timeout = 1;
		pid = start_server(sc, &fd, &capfd);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		finish_server(pid, capfd);
		el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		ok(res.exitcode == EX_IOERR && strcmp(res.errmsg,
		    "network read error: the operation timed out") == 0,
		    "stalled server: msmtp's timeout message, 74");
		ok(el >= 0.9 && el < 2.5, "timeout after about 1 s (%.2f)", el);
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n",
		    "CMAIL FROM:<f@x>", "CRCPT TO:<r@example.net>", "CDATA",
		    "S250 ok\r\n250 ok\r\n354 go\r\n", "D", "S250 first\r\n",
		    "CRSET", "CMAIL FROM:<g@x>", "CRCPT TO:<a@example.net>",
		    "CRCPT TO:<b@example.net>", "CDATA",
		    "S250 reset\r\n250 ok\r\n250 ok\r\n550 no b\r\n554 no "
		    "valid recipients\r\n",
		    "CRSET", "CMAIL FROM:<h@x>", "CRCPT TO:<r@example.net>",
		    "CDATA", "S250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		    "D", "S250 third\r\n", "CQUIT", "S221 bye\r\n", NULL };

		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		set_body("one\r\n");
		rv = smtp_transaction(s, "f@x", one, 1, &res);
		set_body("two\r\n");
		rv2 = smtp_transaction(s, "g@x", three, 2, &res2);
		ok(rv == 0 && strcmp(res.smtpmsg, "250 first") == 0,
		    "first of several transactions");
		ok(rv2 == -1 && res2.exitcode == EX_DATAERR && strcmp(
		    res2.errmsg, "recipient address b@example.net not "
		    "accepted by the server") == 0, "second: refused "
		    "recipient reported, not the DATA reply");
		ok(smtp_usable(s), "connection still in step after a "
		    "pipelined refusal without 354");
		set_body("three\r\n");
		rv = smtp_transaction(s, "h@x", one, 1, &res);
		ok(rv == 0 && strcmp(res.smtpmsg, "250 third") == 0,
		    "third transaction after RSET");
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(server_ok, "RSET pipelined before each later MAIL");
	}
	{
		/*
		 * The dot held back: it reaches the server with the next
		 * RSET, MAIL, RCPT and DATA, which arrive before its reply;
		 * a 451 to it is the first mail's outcome only.
		 */
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n",
		    "CMAIL FROM:<f@x>", "CRCPT TO:<r@example.net>", "CDATA",
		    "S250 ok\r\n250 ok\r\n354 go\r\n", "D",
		    "CRSET", "CMAIL FROM:<g@x>", "CRCPT TO:<r@example.net>",
		    "CDATA", "S451 not now\r\n250 reset\r\n250 ok\r\n"
		    "250 ok\r\n354 go\r\n", "D", "S250 second\r\n",
		    "CQUIT", "S221 bye\r\n", NULL };
		struct smtp_callbacks cbh = callbacks;

		cbh.more = cb_more;
		cbh.dot_done = cb_dot_done;
		memset(&held, 0, sizeof(held));
		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &cbh, &res);
		set_body("one\r\n");
		held.more = 1;
		rv = smtp_transaction(s, "f@x", one, 1, &res);
		ok(rv == 1 && held.calls == 0, "held dot: the transaction "
		    "returns 1, no outcome yet");
		set_body("two\r\n");
		held.more = 0;
		rv2 = smtp_transaction(s, "g@x", one, 1, &res2);
		ok(held.calls == 1 && held.rv == -1 &&
		    held.code == EX_TEMPFAIL &&
		    strcmp(held.msg, "451 not now") == 0,
		    "held dot: its 451 reported as the first mail's outcome");
		ok(rv2 == 0 && strcmp(res2.smtpmsg, "250 second") == 0 &&
		    smtp_usable(s), "the second mail, pipelined after it, "
		    "taken");
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(server_ok && held.calls == 1, "dot, RSET, MAIL, RCPT, DATA "
		    "sent before the dot's reply");
	}
	{
		/* A held dot is answered before QUIT. */
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n",
		    "CMAIL FROM:<f@x>", "CRCPT TO:<r@example.net>", "CDATA",
		    "S250 ok\r\n250 ok\r\n354 go\r\n", "D",
		    "S250 first\r\n", "CQUIT", "S221 bye\r\n", NULL };
		struct smtp_callbacks cbh = callbacks;

		cbh.more = cb_more;
		cbh.dot_done = cb_dot_done;
		memset(&held, 0, sizeof(held));
		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &cbh, &res);
		set_body("one\r\n");
		held.more = 1;
		rv = smtp_transaction(s, "f@x", one, 1, &res);
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(rv == 1 && held.calls == 1 && held.rv == 0 &&
		    held.code == EX_OK && strcmp(held.msg, "250 first") == 0 &&
		    server_ok, "held dot with nothing after it: read at "
		    "close, before QUIT");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250-x\r\n250 PIPELINING\r\n", "CMAIL FROM:<f@x>",
		    "CRCPT TO:<a@example.net>", "CRCPT TO:<b@example.net>",
		    "CDATA", "S250 ok\r\n550 no\r\n250 ok\r\n354 go\r\n", NULL };

		default_params(&p);
		set_body("secret body\r\n");
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		rv = smtp_transaction(s, "f@x", three, 2, &res);
		ok(rv == -1 && res.exitcode == EX_DATAERR && !smtp_usable(s),
		    "refused RCPT after 354: connection unusable");
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(!captured("secret") && !captured("\r\n.\r\n") &&
		    !captured("QUIT"), "no data, dot or QUIT after 354");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250 x\r\n", NULL };
		static char inj[] = "r@x>\r\nRCPT TO:<v@y";
		char *bad[] = { inj };

		default_params(&p);
		session(sc, &p, NULL, "f@x", bad, 1, &res, 0);
		ok(res.exitcode == EX_DATAERR && !captured("MAIL") &&
		    !captured("v@y"), "CRLF in an address: 65, nothing sent");
	}
	{
		const char *sc[] = { "S220-mx.example ESMTP\r\n220 hello\r\n",
		    "CEHLO localhost", "S250-mx\r\n250-SIZE 35882577\r\n"
		    "250-PIPELINING\r\n250-ETRN\r\n250-DSN\r\n250-STARTTLS\r\n"
		    "250 AUTH PLAIN SCRAM-SHA-256\r\n", "CETRN @example.org",
		    "S250 queuing started\r\n", "CQUIT", "S221 bye\r\n",
		    NULL };
		char text[4096];

		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		smtp_serverinfo_format(s, text, sizeof(text));
		ok(strcmp(text, "    mx.example ESMTP\n    hello\n"
		    "Capabilities:\n"
		    "    SIZE 35882577:\n"
		    "        Maximum message size is 35882577 bytes = 34.22 MiB\n"
		    "    PIPELINING:\n"
		    "        Support for command grouping for faster "
		    "transmission\n"
		    "    ETRN:\n"
		    "        Support for RMQS (Remote Message Queue Starting)\n"
		    "    DSN:\n"
		    "        Support for Delivery Status Notifications\n"
		    "    STARTTLS:\n"
		    "        Support for TLS encryption via the STARTTLS "
		    "command\n"
		    "    AUTH:\n"
		    "        Supported authentication methods:\n"
		    "        PLAIN SCRAM-SHA-256 \n"
		    "This server might advertise more or other capabilities "
		    "when TLS is active.\n") == 0, "serverinfo text");
		rv = smtp_etrn(s, "@example.org", &res);
		ok(rv == 0 && res.smtpstatus == 250, "ETRN accepted");
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(server_ok, "ETRN then QUIT");
	}
	{
		const char *sc[] = { "S220 x\r\n", "CEHLO localhost",
		    "S250 x\r\n", "CQUIT", "S221 bye\r\n", NULL };

		default_params(&p);
		pid = start_server(sc, &fd, &capfd);
		s = smtp_open(fd, &p, NULL, &callbacks, &res);
		rv = smtp_etrn(s, "@example.org", &res);
		ok(rv == -1 && res.exitcode == EX_UNAVAILABLE && strcmp(
		    res.errmsg, "the server does not support Remote Message "
		    "Queue Starting") == 0, "ETRN not offered: 69");
		smtp_close(s, 1);
		finish_server(pid, capfd);
		ok(server_ok, "QUIT once when ETRN is missing");
	}
}

/* TLS against a Python server, with certificates made for this run. */
static char	 tmpdir[] = "/tmp/postern-tls.XXXXXX";
static char	 pyscript[256];

static const char *pysrc =
"import socket, ssl, sys\n"
"mode, cert, key, logf, extra = sys.argv[1:6]\n"
"ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(1)\n"
"print(ls.getsockname()[1], flush=True)\n"
"ls.settimeout(20)\n"
"c, _ = ls.accept()\n"
"c.settimeout(20)\n"
"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
"ctx.load_cert_chain(cert, key)\n"
"if extra == 'weak':\n"
"    ctx.maximum_version = ssl.TLSVersion.TLSv1_2\n"
"    ctx.set_ciphers('ECDHE-ECDSA-AES128-SHA')\n"
"log = open(logf, 'w')\n"
"f = c.makefile('rb')\n"
"tls = False\n"
"def send(s):\n"
"    c.sendall(s.encode())\n"
"try:\n"
"    if mode == 'implicit':\n"
"        c = ctx.wrap_socket(c, server_side=True); f = c.makefile('rb'); tls = True\n"
"    send('220 tls test\\r\\n')\n"
"    while True:\n"
"        line = f.readline()\n"
"        if not line: break\n"
"        log.write(('TLS ' if tls else 'CLR ') + line.decode('latin1')); log.flush()\n"
"        cmd = line.strip().upper()\n"
"        if cmd.startswith(b'EHLO'):\n"
"            send('250-test\\r\\n' + ('' if tls else '250-STARTTLS\\r\\n') + '250 AUTH PLAIN\\r\\n')\n"
"        elif cmd == b'STARTTLS':\n"
"            send('220 go ahead\\r\\n')\n"
"            c = ctx.wrap_socket(c, server_side=True); f = c.makefile('rb'); tls = True\n"
"        elif cmd.startswith(b'AUTH'): send('235 ok\\r\\n')\n"
"        elif cmd.startswith(b'MAIL') or cmd.startswith(b'RCPT'): send('250 ok\\r\\n')\n"
"        elif cmd == b'DATA':\n"
"            send('354 go\\r\\n')\n"
"            while True:\n"
"                l = f.readline()\n"
"                if not l or l == b'.\\r\\n': break\n"
"            send('250 queued over tls\\r\\n')\n"
"        elif cmd == b'QUIT':\n"
"            send('221 bye\\r\\n'); break\n"
"        else: send('500 what\\r\\n')\n"
"except Exception as e:\n"
"    log.write('EXC %s\\n' % e)\n";

static int
sh(const char *fmt, ...)
{
	char	 cmd[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *
slurp(const char *name, size_t *len)
{
	char	 path[512];
	FILE	*f;
	char	*buf;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int
make_certs(void)
{
	FILE	*f;
	char	 path[512];

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(pyscript, sizeof(pyscript), "%s/server.py", tmpdir);
	if ((f = fopen(pyscript, "w")) == NULL)
		return -1;
	fputs(pysrc, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca.cnf", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "[ca]\ndefault_ca = d\n[d]\ndir = %s\n"
	    "database = %s/index.txt\nnew_certs_dir = %s\n"
	    "serial = %s/serial\ndefault_md = sha256\npolicy = p\n"
	    "copy_extensions = copy\n[p]\ncommonName = supplied\n", tmpdir,
	    tmpdir, tmpdir, tmpdir);
	fclose(f);
	return sh("cd %s && (touch index.txt && echo 1000 > serial && "
	    "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
	    "openssl req -x509 $K -keyout ca.key -out ca.pem -days 30 "
	    "-subj '/CN=Postern Test CA' && "
	    "openssl req -x509 $K -keyout ca2.key -out ca2.pem -days 30 "
	    "-subj '/CN=Other CA' && "
	    "openssl req $K -keyout good.key -out good.csr "
	    "-subj '/O=Test Org/CN=localhost' "
	    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 && "
	    "openssl x509 -req -in good.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out good.pem -days 10 -copy_extensions copy && "
	    "openssl req $K -keyout wrong.key -out wrong.csr "
	    "-subj '/CN=mail.example.org' "
	    "-addext subjectAltName=DNS:mail.example.org && "
	    "openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out wrong.pem -days 10 -copy_extensions copy && "
	    "openssl req $K -keyout old.key -out old.csr -subj '/CN=localhost' "
	    "-addext subjectAltName=DNS:localhost && "
	    "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
	    "-in old.csr -out old.pem -startdate 20200101000000Z "
	    "-enddate 20200201000000Z && "
	    "openssl req -x509 $K -keyout self.key -out self.pem -days 10 "
	    "-subj '/CN=localhost' -addext subjectAltName=DNS:localhost"
	    ") >/dev/null 2>&1", tmpdir);
}

struct tlsrun {
	const char	*cert;		/* server certificate base name */
	const char	*mode;		/* starttls, implicit */
	const char	*extra;
	const char	*ca;		/* CA file name or NULL */
	int		 certcheck;
	const char	*fingerprint;
	const char	*priorities;
	const char	*servername;
	int		 sandbox;	/* forbid open() after init */
};

static int	 tls_exit;
static char	 tls_err[SMTP_ERR_MAX];
static char	 tls_log[8192];
static struct tls_peer_info tls_info;
static int	 tls_info_ok;
static int	 tls_test_fd = -1;

static void
tls_run(const struct tlsrun *r)
{
	struct tls_client_params	 tp;
	struct tls_client		*tc;
	struct smtp_params		 p;
	struct smtp_result		 res;
	struct smtp			*s;
	struct sockaddr_in		 sin;
	char				 cmd[1024], port[32], *ca = NULL, *logs;
	FILE				*srv;
	size_t				 calen = 0, len;
	int				 fd, ex, status, pfd[2];
	pid_t				 pid;

	tls_exit = -1;
	tls_err[0] = tls_log[0] = '\0';
	tls_info_ok = 0;
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s/%s.pem "
	    "%s/%s.key %s/server.log %s", pyscript, r->mode, tmpdir, r->cert,
	    tmpdir, r->cert, tmpdir, r->extra ? r->extra : "-");
	if ((srv = popen(cmd, "r")) == NULL ||
	    fgets(port, sizeof(port), srv) == NULL)
		return;
	if (r->ca != NULL)
		ca = slurp(r->ca, &calen);
	if (pipe(pfd) == -1)
		abort();
	if ((pid = fork()) == 0) {
		struct {
			int	 exitcode;
			int	 info_ok;
			char	 err[SMTP_ERR_MAX];
			struct tls_peer_info info;
		} out;

		memset(&out, 0, sizeof(out));
		memset(&tp, 0, sizeof(tp));
		tp.ca_pem = ca;
		tp.ca_len = calen;
		tp.certcheck = r->certcheck;
		tp.fingerprint = r->fingerprint;
		tp.priorities = r->priorities;
		tp.servername = r->servername ? r->servername : "localhost";
		if ((tc = tls_client_init(&tp, out.err, sizeof(out.err),
		    &ex)) == NULL) {
			out.exitcode = ex;
			goto done;
		}
		if (r->sandbox) {
			scmp_filter_ctx sc = seccomp_init(SCMP_ACT_ALLOW);

			seccomp_rule_add(sc, SCMP_ACT_KILL_PROCESS,
			    SCMP_SYS(openat), 0);
			seccomp_rule_add(sc, SCMP_ACT_KILL_PROCESS,
			    SCMP_SYS(open), 0);
			seccomp_rule_add(sc, SCMP_ACT_KILL_PROCESS,
			    SCMP_SYS(socket), 0);
			if (seccomp_load(sc) != 0)
				_exit(99);
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)atoi(port));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* Made by the caller: the sandbox below forbids socket(). */
		fd = tls_test_fd;
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(98);
		default_params(&p);
		p.tls = strcmp(r->mode, "implicit") == 0 ? SMTP_TLS_IMPLICIT :
		    SMTP_TLS_STARTTLS;
		p.auth = SMTP_AUTH_AUTO;
		set_body("over tls\r\n");
		if ((s = smtp_open(fd, &p, tc, &callbacks, &res)) != NULL) {
			if (smtp_tls_info(s) != NULL) {
				out.info = *smtp_tls_info(s);
				out.info_ok = 1;
			}
			if (smtp_transaction(s, "f@x", one, 1, &res) == 0)
				smtp_close(s, 1);
			else
				smtp_close(s, 0);
		}
		out.exitcode = res.exitcode;
		strlcpy(out.err, res.errmsg, sizeof(out.err));
 done:
		if (write(pfd[1], &out, sizeof(out)) != sizeof(out))
			_exit(97);
		_exit(0);
	}
	close(pfd[1]);
	close(tls_test_fd);	/* the client's alone now: its close is EOF */
	tls_test_fd = -1;
	{
		struct {
			int	 exitcode;
			int	 info_ok;
			char	 err[SMTP_ERR_MAX];
			struct tls_peer_info info;
		} out;
		ssize_t n = 0, m;

		while ((size_t)n < sizeof(out) && (m = read(pfd[0],
		    (char *)&out + n, sizeof(out) - (size_t)n)) > 0)
			n += m;
		close(pfd[0]);
		waitpid(pid, &status, 0);
		if ((size_t)n == sizeof(out) && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			tls_exit = out.exitcode;
			strlcpy(tls_err, out.err, sizeof(tls_err));
			tls_info = out.info;
			tls_info_ok = out.info_ok;
		} else
			snprintf(tls_err, sizeof(tls_err), "client died: "
			    "status %d", status);
	}
	/* Release a server still waiting for a client that never came. */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)atoi(port));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		(void)connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
	}
	pclose(srv);
	if ((logs = slurp("server.log", &len)) != NULL) {
		strlcpy(tls_log, logs, sizeof(tls_log));
		free(logs);
	}
	free(ca);
}

static void
run(struct tlsrun *r)
{
	tls_test_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	tls_run(r);
}

static char *
fingerprint(const char *cert, const char *alg)
{
	static char	 fp[256];
	char		 cmd[512], *eq;
	FILE		*f;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.pem -noout "
	    "-fingerprint -%s", tmpdir, cert, alg);
	fp[0] = '\0';
	if ((f = popen(cmd, "r")) == NULL)
		return fp;
	if (fgets(fp, sizeof(fp), f) == NULL)
		fp[0] = '\0';
	pclose(f);
	fp[strcspn(fp, "\n")] = '\0';
	if ((eq = strchr(fp, '=')) != NULL)
		memmove(fp, eq + 1, strlen(eq));
	return fp;
}

static void
test_tls(void)
{
	struct tlsrun	 r;
	char		 pin[256], text[4096];

	if (access("/usr/bin/python3", X_OK) == -1 || make_certs() != 0) {
		ok(1, "# SKIP no python3 or openssl for TLS tests");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.cert = "good"; r.mode = "starttls"; r.ca = "ca.pem"; r.certcheck = 1;
	run(&r);
	ok(tls_exit == 0, "STARTTLS with a CA-signed certificate (%s)",
	    tls_err);
	ok(strstr(tls_log, "CLR STARTTLS") && strstr(tls_log,
	    "TLS EHLO localhost") && strstr(tls_log, "TLS AUTH PLAIN") &&
	    !strstr(tls_log, "CLR AUTH") && !strstr(tls_log, "CLR MAIL"),
	    "EHLO again over TLS; AUTH and MAIL only over TLS");
	/* msmtp 1.8.23 (GnuTLS) prints names in the certificate's order. */
	ok(tls_info_ok && strcmp(tls_info.subject, "O=Test Org,CN=localhost")
	    == 0 && strcmp(tls_info.issuer, "CN=Postern Test CA") == 0,
	    "certificate subject and issuer in msmtp's form (%s)",
	    tls_info.subject);
	if (tls_info_ok) {
		tls_peer_info_format(&tls_info, text, sizeof(text));
		ok(strncmp(text, "TLS session parameters:\n    (TLS1.", 34) == 0
		    && strstr(text, "TLS certificate information:\n    "
		    "Subject:\n        O=Test Org,CN=localhost\n") != NULL &&
		    strstr(text, "        SHA256: ") != NULL,
		    "TLS information block in msmtp's layout");
	} else
		ok(0, "TLS information block in msmtp's layout");

	r.mode = "implicit";
	run(&r);
	ok(tls_exit == 0 && strstr(tls_log, "TLS EHLO") &&
	    !strstr(tls_log, "CLR "), "implicit TLS (%s)", tls_err);

	r.sandbox = 1;
	run(&r);
	ok(tls_exit == 0, "handshake after init opens no file (seccomp "
	    "kills open/openat) (%s)", tls_err);
	r.sandbox = 0;

	r.mode = "starttls"; r.ca = "ca2.pem";
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE && strncmp(tls_err, "TLS certificate "
	    "verification failed: ", 37) == 0 && !strstr(tls_log, "MAIL"),
	    "unknown CA: 69 (%s)", tls_err);
	r.mode = "implicit";
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE && !strstr(tls_log, "EHLO"),
	    "unknown CA, implicit TLS: 69 before EHLO");

	r.mode = "starttls"; r.ca = "ca.pem"; r.cert = "wrong";
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE && strstr(tls_err, "localhost") &&
	    !strstr(tls_log, "MAIL"), "wrong host name: 69 (%s)", tls_err);
	r.servername = "mail.example.org";
	run(&r);
	ok(tls_exit == 0, "tls_host_override to the certificate's name (%s)",
	    tls_err);
	r.servername = NULL;

	r.cert = "old";
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE && strstr(tls_err, "expired"),
	    "expired certificate: 69 (%s)", tls_err);

	r.cert = "self";
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE, "self-signed with certcheck: 69 (%s)",
	    tls_err);
	r.certcheck = 0; r.ca = NULL;
	run(&r);
	ok(tls_exit == 0, "self-signed with certcheck off (%s)", tls_err);

	r.certcheck = 1;
	strlcpy(pin, fingerprint("self", "sha256"), sizeof(pin));
	r.fingerprint = pin;
	run(&r);
	ok(tls_exit == 0, "SHA-256 fingerprint pin without a CA (%s)",
	    tls_err);
	strlcpy(pin, fingerprint("self", "sha1"), sizeof(pin));
	run(&r);
	ok(tls_exit == 0, "SHA-1 fingerprint pin (%s)", tls_err);
	strlcpy(pin, fingerprint("good", "sha256"), sizeof(pin));
	run(&r);
	ok(tls_exit == EX_UNAVAILABLE && strcmp(tls_err, "TLS certificate "
	    "verification failed: the certificate fingerprint does not match")
	    == 0 && !strstr(tls_log, "TLS EHLO"),
	    "wrong fingerprint: 69 before EHLO");
	r.fingerprint = "12:34";
	run(&r);
	ok(tls_exit == EX_CONFIG, "malformed fingerprint refused");
	r.fingerprint = NULL;

	r.cert = "good"; r.ca = "ca.pem"; r.extra = "weak";
	run(&r);
	ok(tls_exit == EX_PROTOCOL && strncmp(tls_err, "TLS handshake failed",
	    20) == 0, "server with only AES128-SHA refused (%s)", tls_err);
	r.priorities = "NORMAL:-VERS-TLS1.3:+VERS-TLS1.2";
	run(&r);
	ok(tls_exit == EX_PROTOCOL, "GnuTLS-style priorities keep the floor");
	r.priorities = "ciphers=compat";
	run(&r);
	ok(tls_exit == 0, "explicit ciphers= opens the floor (%s)", tls_err);
	r.priorities = "BOGUS";
	run(&r);
	ok(tls_exit == EX_SOFTWARE && strncmp(tls_err, "cannot set priorities "
	    "for TLS session", 37) == 0, "unknown priority: 70");
	r.priorities = NULL; r.extra = NULL;

	r.ca = NULL;
	run(&r);
	ok(tls_exit == EX_CONFIG, "certcheck without CA or pin refused");

	sh("rm -rf %s", tmpdir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_plain();
	test_failures();
	test_reply_limits();
	test_data();
	test_dsn_lmtp();
	test_starttls_plain();
	test_auth();
	test_session_misc();
	test_tls();
	return tap_done();
}
