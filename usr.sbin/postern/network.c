/*
 * The network process: speaks SMTP, LMTP, SOCKS5 and TLS on the socket the
 * parent connected, and nothing else.  It never opens a file or a socket:
 * the CA bundle and client certificate arrive as bytes, loaded into libtls
 * before the sandbox goes on.  The password stays in the secrets process,
 * which answers each AUTH step.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "iowait.h"
#include "ipc.h"
#include "log.h"
#include "network.h"
#include "proto.h"
#include "roles.h"
#include "smtp_client.h"
#include "tls_client.h"


struct net {
	struct ipc		 parent;
	struct ipc		 peer;
	int			 have_peer;
	int			 sock;
	struct smtp_params	 params;
	struct n_config		 conf;
	struct blob		 ca, crl, cert, key;
	char			*from;
	char			**rcpts;
	size_t			 nrcpt;
	int			 aborted;	/* the parent said no dot */
	int			 bodyfd;	/* the current body pipe */
	int			 verdict;	/* the parent's verdict came */
	struct smtp		*smtp;
	int			 batching;	/* in batch_loop() */
	/* Batch: the next transaction, sent by the parent after a verdict. */
	int			 have_next;
	char			*next_from;
	char			**next_rcpts;
	size_t			 next_nrcpt;
	int			 next_bodyfd;
};

static void
result_set(struct smtp_result *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int	recv_envelope(struct net *, char **, char ***, size_t *,
		    int *);

static void
result_set(struct smtp_result *res, int code, const char *fmt, ...)
{
	va_list	 ap;

	res->exitcode = code;
	va_start(ap, fmt);
	vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
	va_end(ap);
}

/* A chunk of a PEM file the parent read for us, at most PEM_MAX in all. */
static void
add_pem(struct blob *b, const struct ipc_msg *m)
{
	if (blob_add(b, m, PEM_MAX) == -1)
		fatalx("network: bad or too large certificate message");
}

static void
read_config(struct net *n)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		*s, **nr;
	int		 r, have_config = 0;

	for (;;) {
		if ((r = ipc_recv(&n->parent, &m)) == 0)
			exit(EX_OK);
		if (r == -1)
			fatal("network: receive");
		ipc_cur_init(&c, &m);
		switch (m.hdr.type) {
		case MSG_N_CONFIG:
			if (have_config++ || n_config_get(&m, &n->conf) == -1)
				fatalx("network: bad MSG_N_CONFIG");
			n->params.protocol = (int)n->conf.protocol;
			n->params.tls = (int)n->conf.tls;
			n->params.auth = (int)n->conf.auth;
			n->params.timeout = (int)n->conf.timeout;
			n->params.domain = n->conf.domain;
			n->params.auth_mech = n->conf.auth_mech;
			n->params.dsn_notify = n->conf.dsn_notify;
			n->params.dsn_return = n->conf.dsn_return;
			n->params.debug_fd = (n->conf.flags & N_DEBUG) ?
			    STDOUT_FILENO : -1;
			break;
		case MSG_N_CA:
			add_pem(&n->ca, &m);
			break;
		case MSG_N_CRL:
			add_pem(&n->crl, &m);
			break;
		case MSG_N_CERT:
			add_pem(&n->cert, &m);
			break;
		case MSG_N_KEY:
			add_pem(&n->key, &m);
			break;
		case MSG_N_FROM:
			if (n->from != NULL || ipc_cur_str(&c, &n->from) == -1 ||
			    n->from == NULL || ipc_cur_end(&c) == -1)
				fatalx("network: bad MSG_N_FROM");
			break;
		case MSG_N_RCPT:
			if (ipc_cur_str(&c, &s) == -1 || s == NULL ||
			    ipc_cur_end(&c) == -1)
				fatalx("network: bad MSG_N_RCPT");
			if ((nr = reallocarray(n->rcpts, n->nrcpt + 1,
			    sizeof(*nr))) == NULL)
				fatal("network: reallocarray");
			n->rcpts = nr;
			n->rcpts[n->nrcpt++] = s;
			break;
		case MSG_N_SOCKET:
			if (m.fd == -1 || m.datalen != 0 || !have_config)
				fatalx("network: bad MSG_N_SOCKET");
			n->sock = m.fd;
			return;
		default:
			fatalx("network: unexpected message %u", m.hdr.type);
		}
		if (m.fd != -1)
			fatalx("network: unexpected descriptor");
	}
}

/*
 * Read or write len bytes.  Returns 0, or -1 with errno set: ETIMEDOUT
 * when the timeout expired, 0 when the peer closed before len bytes came.
 */
static int
io_full(int fd, void *buf, size_t len, int writing, int timeout)
{
	unsigned char	*p = buf;
	ssize_t		 r;

	while (len > 0) {
		if (iowait(fd, writing ? POLLOUT : POLLIN,
		    iowait_deadline(timeout)) != 1)
			return -1;
		r = writing ? write(fd, p, len) : read(fd, p, len);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* A failed io_full() as msmtp reports it: EX_IOERR. */
static int
io_error(struct smtp_result *res, int writing)
{
	const char	*what = writing ? "write" : "read";

	if (errno == 0)
		result_set(res, EX_IOERR, "network %s error", what);
	else
		result_set(res, EX_IOERR, "network %s error: %s", what,
		    errno == ETIMEDOUT ? "the operation timed out" :
		    strerror(errno));
	return -1;
}

/*
 * SOCKS5 (RFC 1928) CONNECT without authentication, the name resolved by
 * the proxy, as msmtp does, with its messages: a refusal or a reply that
 * makes no sense is a "proxy failure" (EX_UNAVAILABLE), a failed read or
 * write a network error (EX_IOERR).
 */
static int
socks5(struct net *n, struct smtp_result *res)
{
	static const char *errs[] = {
		"succeeded", "general server failure",
		"connection not allowed", "network unreachable",
		"host unreachable", "connection refused",
		"time-to-live expired", "command not supported",
		"address type not supported"
	};
	unsigned char	 buf[512];
	size_t		 hl = strlen(n->conf.proxy_host), skip;
	int		 t = n->params.timeout;

	if (hl > 255) {
		result_set(res, EX_UNAVAILABLE, "proxy failure: host name "
		    "too long");
		return -1;
	}
	buf[0] = 5;
	buf[1] = 1;
	buf[2] = 0;
	if (io_full(n->sock, buf, 3, 1, t) == -1)
		return io_error(res, 1);
	if (io_full(n->sock, buf, 2, 0, t) == -1)
		return io_error(res, 0);
	if (buf[0] != 5 || buf[1] != 0)
		goto unexpected;
	buf[0] = 5;
	buf[1] = 1;
	buf[2] = 0;
	buf[3] = 3;
	buf[4] = (unsigned char)hl;
	memcpy(buf + 5, n->conf.proxy_host, hl);
	buf[5 + hl] = (unsigned char)(n->conf.proxy_port >> 8);
	buf[6 + hl] = (unsigned char)n->conf.proxy_port;
	if (io_full(n->sock, buf, 7 + hl, 1, t) == -1)
		return io_error(res, 1);
	if (io_full(n->sock, buf, 4, 0, t) == -1)
		return io_error(res, 0);
	if (buf[0] != 5)
		goto unexpected;
	if (buf[1] != 0) {
		result_set(res, EX_UNAVAILABLE, "proxy failure: %s",
		    buf[1] < sizeof(errs) / sizeof(errs[0]) ? errs[buf[1]] :
		    "unknown error");
		return -1;
	}
	switch (buf[3]) {
	case 1:
		skip = 4 + 2;
		break;
	case 4:
		skip = 16 + 2;
		break;
	case 3:
		if (io_full(n->sock, buf, 1, 0, t) == -1)
			return io_error(res, 0);
		skip = (size_t)buf[0] + 2;
		break;
	default:
		goto unexpected;
	}
	if (io_full(n->sock, buf, skip, 0, t) == -1)
		return io_error(res, 0);
	return 0;
unexpected:
	result_set(res, EX_UNAVAILABLE, "proxy failure: unexpected reply");
	return -1;
}

static int
peer_recv(struct net *n, struct ipc_msg *m, struct smtp_result *res)
{
	int	 r;

	if (!n->have_peer) {
		result_set(res, EX_SOFTWARE, "no secrets process");
		return -1;
	}
	if (ipc_flush(&n->peer) == -1 || (r = ipc_recv(&n->peer, m)) == -1)
		fatal("network: secrets channel");
	if (r == 0)
		fatalx("network: the secrets process went away");
	if (m->fd != -1)
		fatalx("network: unexpected descriptor");
	return 0;
}

static int
peer_fail(const struct ipc_msg *m, struct smtp_result *res)
{
	struct ipc_cur	 c;
	uint32_t	 code;

	ipc_cur_init(&c, m);
	if (ipc_cur_u32(&c, &code) == -1 ||
	    ipc_cur_strbuf(&c, res->errmsg, sizeof(res->errmsg)) == -1 ||
	    ipc_cur_end(&c) == -1 || code > 255)
		fatalx("network: bad MSG_AUTH_FAIL");
	res->exitcode = (int)code;
	return -1;
}

/*
 * One AUTH step: send a message to the secrets process and take its
 * answer, which must be of type want or an AUTH_FAIL.
 */
static int
peer_ask(struct net *n, uint32_t type, const struct ipc_buf *b, uint32_t want,
    struct ipc_msg *m, struct smtp_result *res)
{
	if (ipc_compose_buf(&n->peer, type, -1, b) == -1 ||
	    peer_recv(n, m, res) == -1)
		return -1;
	if (m->hdr.type == MSG_AUTH_FAIL)
		return peer_fail(m, res);
	if (m->hdr.type != want)
		fatalx("network: unexpected message %u", m->hdr.type);
	return 0;
}

static int
cb_auth_start(void *ctx, const char *offered, int tls_active,
    const unsigned char *cbind, size_t cbindlen, char *mech, size_t mechsz,
    char **initial, struct smtp_result *res)
{
	struct net	*n = ctx;
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;

	ipc_buf_init(&b);
	ipc_buf_str(&b, offered);
	ipc_buf_u32(&b, tls_active ? 1 : 0);
	ipc_buf_bytes(&b, cbind != NULL ? cbind : (const unsigned char *)"",
	    cbind != NULL ? cbindlen : 0);
	if (peer_ask(n, MSG_AUTH_START, &b, MSG_AUTH_MECH, &m, res) == -1)
		return -1;
	ipc_cur_init(&c, &m);
	if (ipc_cur_strbuf(&c, mech, mechsz) == -1 ||
	    ipc_cur_str(&c, initial) == -1 || ipc_cur_end(&c) == -1)
		fatalx("network: bad MSG_AUTH_MECH");
	return 0;
}

static int
cb_auth_step(void *ctx, const char *challenge, char **response,
    struct smtp_result *res)
{
	struct net	*n = ctx;
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;

	ipc_buf_init(&b);
	ipc_buf_str(&b, challenge);
	if (peer_ask(n, MSG_AUTH_CHALLENGE, &b, MSG_AUTH_RESPONSE, &m,
	    res) == -1)
		return -1;
	ipc_cur_init(&c, &m);
	if (ipc_cur_str(&c, response) == -1 || *response == NULL ||
	    ipc_cur_end(&c) == -1)
		fatalx("network: bad MSG_AUTH_RESPONSE");
	explicit_bzero(n->peer.rbuf, n->peer.rhigh);
	return 0;
}

static int
cb_auth_done(void *ctx, int code, const char *text, struct smtp_result *res)
{
	struct net	*n = ctx;
	struct ipc_buf	 b;
	struct ipc_msg	 m;

	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, text);
	if (peer_ask(n, MSG_AUTH_RESULT, &b, MSG_AUTH_OK, &m, res) == -1)
		return -1;
	if (m.datalen != 0)
		fatalx("network: bad MSG_AUTH_OK");
	return 0;
}

static ssize_t
cb_body_read(void *ctx, void *buf, size_t len)
{
	ssize_t	 r;

	struct net	*n = ctx;

	while ((r = read(n->bodyfd, buf, len)) == -1 && errno == EINTR)
		;
	return r;
}

/* Wait for the parent's word that the reader ended the message cleanly. */
static int
cb_body_commit(void *ctx, struct smtp_result *res)
{
	struct net	*n = ctx;
	struct ipc_msg	 m;
	int		 r;

	n->verdict = 1;
	if ((r = ipc_recv(&n->parent, &m)) == -1)
		fatal("network: receive");
	if (r == 0) {
		result_set(res, EX_SOFTWARE, "the parent process went away");
		return -1;
	}
	if (m.datalen != 0 || m.fd != -1)
		fatalx("network: bad body verdict");
	switch (m.hdr.type) {
	case MSG_N_BODY_OK:
		if (n->batching && !n->have_next)
			n->have_next = recv_envelope(n, &n->next_from,
			    &n->next_rcpts, &n->next_nrcpt, &n->next_bodyfd);
		return 0;
	case MSG_N_BODY_ABORT:
		n->aborted = 1;
		result_set(res, EX_DATAERR, "the mail could not be read");
		return -1;
	default:
		fatalx("network: unexpected message %u", m.hdr.type);
	}
}

/* LMTP: a recipient refused after the data, for the parent to report. */
static void
cb_rcpt_status(void *ctx, size_t i, const char *rcpt, int code,
    const char *text)
{
	struct net	*n = ctx;
	struct ipc_buf	 b;

	if (code >= 200 && code < 300)
		return;
	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)i);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, text);
	if (ipc_compose_buf(&n->parent, MSG_N_RCPT_STATUS, -1, &b) == -1 ||
	    ipc_flush(&n->parent) == -1)
		fatal("network: send");
}

static void
send_info(struct net *n, struct smtp *smtp)
{
	struct ipc_buf	 b;
	char		*text;
	size_t		 len;

	len = smtp_serverinfo_format(smtp, NULL, 0) + 1;
	if (len > IPC_MAXDATA - 8)
		len = IPC_MAXDATA - 8;
	if ((text = malloc(len)) == NULL)
		fatal("network: malloc");
	smtp_serverinfo_format(smtp, text, len);
	ipc_buf_init(&b);
	ipc_buf_str(&b, text);
	if (ipc_compose_buf(&n->parent, MSG_N_INFO, -1, &b) == -1 ||
	    ipc_flush(&n->parent) == -1)
		fatal("network: send");
	free(text);
}

static void
send_result(struct net *n, const struct smtp_result *res, uint32_t flags)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)res->exitcode);
	ipc_buf_u32(&b, (uint32_t)res->smtpstatus);
	ipc_buf_u32(&b, flags);
	ipc_buf_u64(&b, res->mailsize);
	ipc_buf_str(&b, res->smtpmsg);
	ipc_buf_str(&b, res->errmsg);
	if (ipc_compose_buf(&n->parent, MSG_N_RESULT, -1, &b) == -1 ||
	    ipc_flush(&n->parent) == -1)
		fatal("network: send");
}

static void
free_envelope(struct net *n)
{
	size_t	 i;

	free(n->from);
	n->from = NULL;
	for (i = 0; i < n->nrcpt; i++)
		free(n->rcpts[i]);
	free(n->rcpts);
	n->rcpts = NULL;
	n->nrcpt = 0;
}

/*
 * Batch: the next transaction's envelope and body pipe from the parent.
 * Returns 1, or 0 when the parent closed the channel (or shut its side).
 */
static int
recv_envelope(struct net *n, char **from, char ***rcpts, size_t *nrcpt,
    int *bodyfd)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		*str, **nr;
	int		 r;

	for (;;) {
		if ((r = ipc_recv(&n->parent, &m)) == -1)
			fatal("network: receive");
		if (r == 0)
			return 0;
		ipc_cur_init(&c, &m);
		switch (m.hdr.type) {
		case MSG_N_FROM:
			if (*from != NULL || m.fd != -1 ||
			    ipc_cur_str(&c, from) == -1 || *from == NULL ||
			    ipc_cur_end(&c) == -1)
				fatalx("network: bad MSG_N_FROM");
			break;
		case MSG_N_RCPT:
			if (m.fd != -1 || ipc_cur_str(&c, &str) == -1 ||
			    str == NULL || ipc_cur_end(&c) == -1)
				fatalx("network: bad MSG_N_RCPT");
			if ((nr = reallocarray(*rcpts, *nrcpt + 1,
			    sizeof(*nr))) == NULL)
				fatal("network: reallocarray");
			*rcpts = nr;
			(*rcpts)[(*nrcpt)++] = str;
			break;
		case MSG_N_BODY:
			if (m.fd == -1 || m.datalen != 0 || *from == NULL)
				fatalx("network: bad MSG_N_BODY");
			*bodyfd = m.fd;
			return 1;
		default:
			fatalx("network: unexpected message %u", m.hdr.type);
		}
	}
}

/* Pipelining between transactions: is the next one here already? */
static int
cb_more(void *ctx)
{
	struct net	*n = ctx;

	return n->have_next;
}

/* The reply to a held dot: that transaction's result, as batch_loop's. */
static void
cb_dot_done(void *ctx, int rv, const struct smtp_result *res)
{
	struct net	*n = ctx;

	(void)rv;	/* res->exitcode says it */
	send_result(n, res, NRES_DATA_SENT |
	    (smtp_usable(n->smtp) ? 0 : NRES_BROKEN));
}

/*
 * Queue flush: one transaction per entry, each with its own body pipe,
 * until the parent closes the channel.  Every transaction ends with
 * exactly one verdict from the parent and one result to it, whether or
 * not the body was read, so the two stay in step.  After a verdict that
 * lets the dot go, the parent sends the next entry's envelope at once (or
 * shuts its side of the channel when there is none): with PIPELINING the
 * dot then goes with the next RSET, MAIL, RCPT and DATA, and its result
 * reaches the parent before that transaction's.
 */
static __dead void
batch_loop(struct net *n, struct smtp *smtp)
{
	struct smtp_result	 res;
	struct ipc_msg		 m;
	uint32_t		 flags;
	int			 r, t;

	n->smtp = smtp;
	n->batching = 1;
	for (;;) {
		if (n->have_next) {
			n->from = n->next_from;
			n->rcpts = n->next_rcpts;
			n->nrcpt = n->next_nrcpt;
			n->bodyfd = n->next_bodyfd;
			n->next_from = NULL;
			n->next_rcpts = NULL;
			n->next_nrcpt = 0;
			n->next_bodyfd = -1;
			n->have_next = 0;
		} else if (recv_envelope(n, &n->from, &n->rcpts, &n->nrcpt,
		    &n->bodyfd) == 0)
			break;
		n->verdict = 0;
		n->aborted = 0;
		flags = 0;
		memset(&res, 0, sizeof(res));
		if ((t = smtp_transaction(smtp, n->from, n->rcpts, n->nrcpt,
		    &res)) == 0)
			flags |= NRES_DATA_SENT;
		/* The reader sees the pipe close and reports at once. */
		close(n->bodyfd);
		n->bodyfd = -1;
		if (!n->verdict) {
			if ((r = ipc_recv(&n->parent, &m)) == -1)
				fatal("network: receive");
			if (r == 0)
				break;
			if (m.fd != -1 || m.datalen != 0 ||
			    (m.hdr.type != MSG_N_BODY_OK &&
			    m.hdr.type != MSG_N_BODY_ABORT))
				fatalx("network: bad body verdict");
		}
		free_envelope(n);
		/* A held dot: its result goes with the next transaction. */
		if (t == 1)
			continue;
		if (n->aborted)
			flags |= NRES_ABORTED;
		if (!smtp_usable(smtp))
			flags |= NRES_BROKEN;
		send_result(n, &res, flags);
	}
	smtp_close(smtp, smtp_usable(smtp));
	exit(EX_OK);
}

static __dead void
batch(struct net *n, struct smtp *smtp)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	if (ipc_compose_buf(&n->parent, MSG_N_READY, -1, &b) == -1 ||
	    ipc_flush(&n->parent) == -1)
		fatal("network: send");
	batch_loop(n, smtp);
}

/*
 * After a live mail the server took, with N_KEEP: the result goes to the
 * parent with NRES_KEPT and the session stays open for the due queue
 * entries of the same account, as in a flush; closing the channel ends it
 * with QUIT.  The login is done: the secrets process is let go first.
 */
static __dead void
keep(struct net *n, struct smtp *smtp, struct smtp_result *res,
    uint32_t flags)
{
	if (n->have_peer) {
		ipc_clear(&n->peer);
		close(FD_PEER);
		n->have_peer = 0;
	}
	if (n->bodyfd != -1) {
		close(n->bodyfd);
		n->bodyfd = -1;
	}
	free_envelope(n);
	send_result(n, res, flags | NRES_KEPT);
	batch_loop(n, smtp);
}

int
network_main(void)
{
	/* Static, not on the stack: only the pages used are touched. */
	static struct net		 n;
	struct smtp_result		 res;
	struct smtp_callbacks		 cb;
	struct tls_client_params	 tp;
	struct tls_client		*tls = NULL;
	struct smtp			*smtp = NULL;
	uint32_t			 flags = 0;

	log_procname("network");
	signal(SIGPIPE, SIG_IGN);
	memset(&res, 0, sizeof(res));
	n.sock = -1;
	n.bodyfd = FD_BODY;
	n.next_bodyfd = -1;
	ipc_init(&n.parent, FD_PARENT);
	if ((n.have_peer = fcntl(FD_PEER, F_GETFD) != -1))
		ipc_init(&n.peer, FD_PEER);
	read_config(&n);

	if (n.params.tls != SMTP_TLS_OFF) {
		memset(&tp, 0, sizeof(tp));
		tp.ca_pem = (const char *)n.ca.data;
		tp.ca_len = n.ca.len;
		tp.crl_pem = (const char *)n.crl.data;
		tp.crl_len = n.crl.len;
		tp.cert_pem = (const char *)n.cert.data;
		tp.cert_len = n.cert.len;
		tp.key_pem = (const char *)n.key.data;
		tp.key_len = n.key.len;
		tp.certcheck = (n.conf.flags & N_TLS_CERTCHECK) != 0;
		tp.fingerprint = n.conf.fingerprint;
		tp.priorities = n.conf.priorities;
		tp.servername = n.conf.servername;
		tls = tls_client_init(&tp, res.errmsg, sizeof(res.errmsg),
		    &res.exitcode);
		blob_free(&n.key);
	}
	/* Time zone data is a file: load it while files may be opened. */
	tzset();
	sandbox_lockdown(ROLE_NETWORK);
	if (n.params.tls != SMTP_TLS_OFF && tls == NULL)
		goto done;

	cb.ctx = &n;
	cb.auth_start = cb_auth_start;
	cb.auth_step = cb_auth_step;
	cb.auth_done = cb_auth_done;
	cb.body_read = cb_body_read;
	cb.body_commit = cb_body_commit;
	cb.rcpt_status = cb_rcpt_status;
	cb.more = cb_more;
	cb.dot_done = cb_dot_done;

	if (n.conf.proxy_host != NULL && socks5(&n, &res) == -1)
		goto done;
	if ((smtp = smtp_open(n.sock, &n.params, tls, &cb, &res)) == NULL)
		goto done;
	switch (n.conf.mode) {
	case N_MODE_SEND:
		if (smtp_transaction(smtp, n.from, n.rcpts, n.nrcpt,
		    &res) == 0) {
			flags |= NRES_DATA_SENT;
			if ((n.conf.flags & N_KEEP) && !n.aborted &&
			    smtp_usable(smtp))
				keep(&n, smtp, &res, flags);
		}
		break;
	case N_MODE_SERVERINFO:
		send_info(&n, smtp);
		break;
	case N_MODE_RMQS:
		smtp_etrn(smtp, n.conf.etrn, &res);
		break;
	case N_MODE_BATCH:
		batch(&n, smtp);
		break;
	}
	smtp_close(smtp, smtp_usable(smtp));
done:
	if (n.aborted)
		flags |= NRES_ABORTED;
	send_result(&n, &res, flags);
	return EX_OK;
}
