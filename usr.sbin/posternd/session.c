/*
 * The session process.  Its server (session_server.c) takes the
 * configuration every session shares from the listener once, builds the
 * TLS context, locks itself into the empty chroot as the unprivileged
 * user, and then forks one session per connection.  Before it reads a
 * byte from the client a session loads its own seccomp allow-list.  From
 * then on it can talk to its client, the listener and the auth process,
 * and write into the message file it is handed, nothing else.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>

#include "iowait.h"
#include "blob.h"
#include "ipc.h"
#include "log.h"
#include "posternd.h"
#include "sandbox.h"
#include "session.h"

/* A session holds one message in flight: this bounds its memory. */
#define SESSION_MEMORY	(256 * 1024 * 1024)

static struct ipc	 parent;
static struct ipc	 authc;
static struct tls	*tls_srv;
static struct sconf	 sconf;
static struct blob	 cert, key;	/* PEM, kept by the session server */
/*
 * Outgoing payloads are built here, not in a 64 KB frame on the stack:
 * the stack-clash probes would touch all sixteen of its pages, each one
 * a page fault in a freshly forked session.
 */
static struct ipc_buf	 msgbuf;
static int		 datafd = -1;
static int		 logging;

/* iowait's answer as a CONN_* code, 1 when ready. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	switch (iowait(fd, events, deadline)) {
	case 1:
		return 1;
	case 0:
		return CONN_TIMEOUT;
	default:
		return CONN_ERROR;
	}
}

/* Wait for what libtls asked for: TLS_WANT_POLLIN or TLS_WANT_POLLOUT. */
static int
wait_tls(struct conn *c, ssize_t want)
{
	return wait_fd(want == TLS_WANT_POLLIN ? c->in : c->out,
	    want == TLS_WANT_POLLIN ? POLLIN : POLLOUT, c->deadline);
}

/* Read what the client sent.  1: some bytes, or CONN_*. */
int
conn_fill(struct conn *c)
{
	ssize_t	 n;
	int	 r;

	if (c->ioff > 0) {
		memmove(c->ibuf, c->ibuf + c->ioff, c->ilen - c->ioff);
		c->ilen -= c->ioff;
		c->ioff = 0;
	}
	if (c->ilen == sizeof(c->ibuf))
		return CONN_ERROR;
	for (;;) {
		if (c->tls != NULL) {
			n = tls_read(c->tls, c->ibuf + c->ilen,
			    sizeof(c->ibuf) - c->ilen);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				if ((r = wait_tls(c, n)) != 1)
					return r;
				continue;
			}
			if (n == -1)
				return CONN_ERROR;
		} else {
			n = read(c->in, c->ibuf + c->ilen,
			    sizeof(c->ibuf) - c->ilen);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				if ((r = wait_fd(c->in, POLLIN,
				    c->deadline)) != 1)
					return r;
				continue;
			}
			if (n == -1 && errno == ECONNRESET) {
				c->reset = 1;
				return CONN_RESET;
			}
			if (n == -1)
				return CONN_ERROR;
		}
		if (n == 0)
			return CONN_EOF;
		c->ilen += (size_t)n;
		return 1;
	}
}

/* Send every buffered reply.  1, or CONN_ERROR / CONN_TIMEOUT. */
int
conn_flush(struct conn *c)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 r;

	if (c->reset) {
		c->olen = 0;
		return CONN_RESET;
	}
	while (off < c->olen) {
		if (c->tls != NULL) {
			n = tls_write(c->tls, c->obuf + off, c->olen - off);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				if ((r = wait_tls(c, n)) != 1)
					return r;
				continue;
			}
		} else {
			n = write(c->out, c->obuf + off, c->olen - off);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				if ((r = wait_fd(c->out, POLLOUT,
				    c->deadline)) != 1)
					return r;
				continue;
			}
			if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
				c->reset = 1;
				c->olen = 0;
				return CONN_RESET;
			}
		}
		if (n == -1)
			return CONN_ERROR;
		off += (size_t)n;
	}
	c->olen = 0;
	return 1;
}

/*
 * Queue one reply line.  Replies to pipelined commands collect here and
 * leave together when the input runs dry, as RFC 2920 asks; a client
 * that never reads them only ever costs this one buffer.
 */
void
conn_reply(struct conn *c, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (c->olen + (size_t)n > sizeof(c->obuf) && conn_flush(c) != 1)
		exit(EX_OK);
	memcpy(c->obuf + c->olen, line, (size_t)n);
	c->olen += (size_t)n;
}

int
conn_starttls(struct conn *c)
{
	char	 err[256];

	if (tls_srv == NULL)
		return -1;
	if (tls_server_accept(tls_srv, c->in, c->out, c->deadline, &c->tls,
	    err, sizeof(err)) == -1) {
		session_log(LOG_ERR, "%s", err);
		return -1;
	}
	session_log(LOG_INFO, "TLS started: %s, %s",
	    tls_conn_version(c->tls), tls_conn_cipher(c->tls));
	return 0;
}

void
session_log(int prio, const char *fmt, ...)
{
	char		 msg[1024];
	va_list		 ap;

	if (!logging)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ipc_buf_init(&msgbuf);
	ipc_buf_u32(&msgbuf, (uint32_t)prio);
	ipc_buf_str(&msgbuf, msg);
	if (ipc_compose_buf(&parent, MSG_S_LOG, -1, &msgbuf) == -1)
		fatal("ipc_compose");
	(void)ipc_write(&parent);
}

static struct ipc_msg *
next_msg(struct ipc_msg *m)
{
	if (ipc_flush(&parent) == -1)
		fatal("session: send to listener");
	switch (ipc_recv(&parent, m)) {
	case 1:
		return m;
	case 0:
		fatalx("listener went away");
	default:
		fatal("session: channel to listener");
	}
}

/* The file for the next message: handed out in advance by the listener. */
int
session_data_fd(void)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	int		 fd;

	if (datafd != -1) {
		fd = datafd;
		datafd = -1;
		return fd;
	}
	next_msg(&m);
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_S_DATA_FD || m.fd == -1 ||
	    ipc_cur_end(&c) == -1)
		fatalx("bad message %u from listener", m.hdr.type);
	return m.fd;
}

static void
send_str(uint32_t type, const char *s)
{
	ipc_buf_init(&msgbuf);
	ipc_buf_str(&msgbuf, s);
	if (ipc_compose_buf(&parent, type, -1, &msgbuf) == -1)
		fatal("ipc_compose");
	if (parent.queued > 64 && ipc_flush(&parent) == -1)
		fatal("session: send to listener");
}

/*
 * The message is whole: hand over the envelope and wait for what the
 * command made of it.
 */
void
session_deliver(const char *from, char *const *rcpts, size_t n,
    uint64_t size, struct result *r)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		*text = NULL;
	uint32_t	 code;
	size_t		 i;

	send_str(MSG_S_FROM, from);
	for (i = 0; i < n; i++)
		send_str(MSG_S_RCPT, rcpts[i]);
	ipc_buf_init(&msgbuf);
	ipc_buf_u64(&msgbuf, size);
	if (ipc_compose_buf(&parent, MSG_S_DATA_END, -1, &msgbuf) == -1)
		fatal("ipc_compose");
	next_msg(&m);
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_S_RESULT || m.fd != -1 ||
	    ipc_cur_u32(&c, &code) == -1 || ipc_cur_str(&c, &text) == -1 ||
	    text == NULL || ipc_cur_end(&c) == -1 || code < 200 || code > 599)
		fatalx("bad message %u from listener", m.hdr.type);
	r->code = (int)code;
	strlcpy(r->text, text, sizeof(r->text));
	free(text);
}

void
session_data_abort(void)
{
	if (ipc_compose(&parent, MSG_S_DATA_ABORT, 0, -1, NULL, 0) == -1 ||
	    ipc_flush(&parent) == -1)
		fatal("session: send to listener");
}

/* 1 accepted, 0 refused (after the auth process's delay). */
int
session_auth(const void *z, size_t zl, const void *u, size_t ul,
    const void *p, size_t pl)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	uint32_t	 ok;

	ipc_buf_init(&msgbuf);
	ipc_buf_bytes(&msgbuf, z, zl);
	ipc_buf_bytes(&msgbuf, u, ul);
	ipc_buf_bytes(&msgbuf, p, pl);
	if (ipc_compose_buf(&authc, MSG_A_CHECK, -1, &msgbuf) == -1 ||
	    ipc_flush(&authc) == -1)
		fatal("session: send to auth");
	explicit_bzero(msgbuf.data, msgbuf.len);
	if (ipc_recv(&authc, &m) != 1)
		fatalx("auth process went away");
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_A_ANSWER || m.fd != -1 ||
	    ipc_cur_u32(&c, &ok) == -1 || ipc_cur_end(&c) == -1 || ok > 1)
		fatalx("bad message from auth");
	return (int)ok;
}

static void
configure(struct ipc *chan, struct sconf *sc, struct z_config *zc)
{
	struct ipc_msg		 m;
	struct ipc_cur		 c;
	struct tls		*t;
	char			 err[256];
	int			 have = 0;

	for (;;) {
		if (ipc_recv(chan, &m) != 1)
			fatalx("no configuration from listener");
		if (m.fd != -1)
			fatalx("unexpected descriptor");
		ipc_cur_init(&c, &m);
		switch (m.hdr.type) {
		case MSG_Z_CONFIG:
			if (have || z_config_get(&m, zc) == -1)
				fatalx("bad configuration message");
			sc->flags = zc->flags;
			sc->timeout = zc->timeout;
			sc->session_timeout = zc->session_timeout;
			sc->max_recipients = zc->max_recipients;
			sc->max_auth_failures = zc->max_auth_failures;
			sc->max_line_length = zc->max_line_length;
			sc->max_message_size = zc->max_message_size;
			/* The domain is the sessions' for their whole life. */
			sc->domain = zc->domain;
			zc->domain = NULL;
			have = 1;
			break;
		case MSG_Z_CERT:
		case MSG_Z_KEY:
			if (!have || blob_add(m.hdr.type == MSG_Z_CERT ?
			    &cert : &key, &m, TLS_FILE_MAX) == -1)
				fatalx("bad or too large TLS message");
			/* What was read of the key is not left behind. */
			explicit_bzero(chan->rbuf, chan->roff);
			break;
		case MSG_Z_GO:
			if (!have || ipc_cur_end(&c) == -1)
				fatalx("bad start message");
			goto done;
		default:
			fatalx("unexpected message %u", m.hdr.type);
		}
	}
done:
	if (sc->flags & SF_TLS) {
		if (cert.data == NULL || key.data == NULL)
			fatalx("TLS configured without a key pair");
		/*
		 * Once here, so that everything libtls and libcrypto load
		 * lazily is loaded before any filter goes on; each session
		 * then builds its own context from the same bytes.
		 */
		if ((t = tls_server_new(cert.data, cert.len, key.data,
		    key.len, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		tls_free(t);
	}
}

/*
 * What the session server does once for all its sessions, before it locks
 * itself down: take the configuration, load what libtls and the time
 * functions would open lazily, and, when started as root, chroot to the
 * empty directory and drop to the unprivileged user.
 */
void
session_prepare(struct ipc *chan)
{
#ifndef SB_SANITIZER
	struct rlimit	 rl;
#endif
	struct z_config	 zc;
	uid_t		 uid;
	gid_t		 gid;

	memset(&sconf, 0, sizeof(sconf));
	configure(chan, &sconf, &zc);
	logging = (sconf.flags & SF_LOG) != 0;
	/* The time zone file cannot be read once locked in. */
	tzset();

	if (sconf.flags & SF_CHROOT) {
		sandbox_leak_check();
		if (chroot(zc.chroot) == -1 || chdir("/") == -1)
			fatal("chroot %s", zc.chroot);
		uid = (uid_t)zc.uid;
		gid = (gid_t)zc.gid;
		if (setgroups(0, NULL) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			fatal("cannot drop privileges");
		/* The change of user cleared the tie. */
		role_tie_to_listener();
	}
	z_config_clear(&zc);
#ifndef SB_SANITIZER
	/* AddressSanitizer's shadow memory alone is larger. */
	rl.rlim_cur = rl.rlim_max = SESSION_MEMORY;
	if (setrlimit(RLIMIT_DATA, &rl) == -1)
		fatal("setrlimit(RLIMIT_DATA)");
#endif
}

/*
 * A session, just forked, with its descriptors in place (FD_PARENT to
 * FD_AUTH) and nothing else open: its own filter goes on before the first
 * byte from the client.
 */
void
session_run(const char *peer)
{
	static struct conn	 conn;	/* untouched pages cost nothing */
	struct conn		*c = &conn;
	char			 err[256];

	log_procname("session");
	ipc_init(&parent, FD_PARENT);
	if (sconf.flags & SF_AUTH)
		ipc_init(&authc, FD_AUTH);
	/*
	 * A context of its own, as when each session was a fresh image: what
	 * OpenSSL keys per context (the TLS 1.3 ticket key) is not shared
	 * between sessions, and no session resumes another's.
	 */
	if ((sconf.flags & SF_TLS) && (tls_srv = tls_server_new(cert.data,
	    cert.len, key.data, key.len, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	sandbox_lockdown(ROLE_SESSION);

	/* The server's buffer: a session never returns into the server. */
	sconf.peer = peer;
	c->in = FD_CLIENT_IN;
	c->out = FD_CLIENT_OUT;
	(void)fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
	(void)fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
	smtp_session(c, &sconf);
	if (c->tls != NULL) {
		c->deadline = now_ms() + 1000;
		(void)tls_close(c->tls);
	}
	(void)ipc_flush(&parent);
	/*
	 * Everything is said; the exit handlers (the libraries' destructors)
	 * would only tear down, page by copied page, what the server built.
	 */
	_exit(EX_OK);
}
