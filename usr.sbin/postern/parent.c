/*
 * The parent process: reads the command line and the configuration,
 * chooses the account, resolves and connects, and starts the three
 * children that do the rest.  It holds no secret once the secrets process
 * has it, never sees the message body, and is the only process that writes
 * the log and decides the exit code.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <netdb.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "blob.h"
#include "cmdline.h"
#include "config.h"
#include "configure.h"
#include "connect.h"
#include "ipc.h"
#include "log.h"
#include "maillog.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "rfc5322.h"
#include "roles.h"
#include "smtp_client.h"
#include "sysmode.h"
#include "sysqueue.h"

#ifndef PATH_POSTERND
#define PATH_POSTERND	"/usr/local/sbin/posternd"
#endif
#define SYSTEM_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
#define CHUNK		(IPC_MAXDATA - 64)

extern char	**environ;


__dead void
die(int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_warnx(fmt, ap);
	va_end(ap);
	exit(code);
}

static void
print_notes(struct config *cf)
{
	struct conf_note	*n;

	TAILQ_FOREACH(n, &cf->notes, entry)
		printf("%s\n", n->text);
}

static void
add_rcpt(struct send *s, const char *addr)
{
	char	**n;

	if ((n = reallocarray(s->rcpts, s->nrcpt + 1, sizeof(*n))) == NULL)
		fatal("reallocarray");
	s->rcpts = n;
	if ((s->rcpts[s->nrcpt++] = strdup(addr)) == NULL)
		fatal("strdup");
}

void
child_send(struct child *c, uint32_t type, int fd, const struct ipc_buf *b)
{
	if (ipc_compose_buf(&c->ipc, type, fd, b) == -1 ||
	    ipc_flush(&c->ipc) == -1)
		fatal("send to the %s process", c->role == ROLE_READER ?
		    "reader" : c->role == ROLE_SECRETS ? "secrets" : "network");
}

/* The payload of every *_ERROR message: a sysexits code and a text. */
void
parse_error(const struct ipc_msg *m, int *code, char *text, size_t textsz)
{
	struct ipc_cur	 c;
	uint32_t	 v;

	ipc_cur_init(&c, m);
	if (m->fd != -1 || ipc_cur_u32(&c, &v) == -1 || v == 0 || v > 255 ||
	    ipc_cur_strbuf(&c, text, textsz) == -1 || ipc_cur_end(&c) == -1)
		fatalx("bad error message %u from a child", m->hdr.type);
	log_scrub(text, 0);
	*code = (int)v;
}

/* A child closed its channel before its answer: say how it ended. */
static __dead void
child_gone(struct child *c)
{
	char	 msg[512];

	if (proc_wait(c, msg, sizeof(msg)) != 0)
		die(EX_SOFTWARE, "%s", msg);
	die(EX_SOFTWARE, "the %s process went away", role_name(c->role));
}

/*
 * The reader's report on the header.  A reader that dies or fails here is
 * reported at once: nothing has gone to the network yet.
 */
static void
reader_header(struct send *s)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		*str, msg[1024];
	int		 code;

	for (;;) {
		if (ipc_recv(&s->reader.ipc, &m) != 1)
			child_gone(&s->reader);
		ipc_cur_init(&c, &m);
		if (m.fd != -1)
			fatalx("reader sent a descriptor");
		switch (m.hdr.type) {
		case MSG_R_HDR_FROM:
			if (ipc_cur_str(&c, &str) == -1 || str == NULL ||
			    ipc_cur_end(&c) == -1 || s->hdr_from != NULL)
				fatalx("bad MSG_R_HDR_FROM");
			s->hdr_from = str;
			break;
		case MSG_R_HDR_RCPT:
			if (ipc_cur_str(&c, &str) == -1 || str == NULL ||
			    ipc_cur_end(&c) == -1)
				fatalx("bad MSG_R_HDR_RCPT");
			if (addr_list_add(&s->hdr_rcpts, str) == -1)
				fatal("addr_list_add");
			free(str);
			break;
		case MSG_R_HDR_DONE:
			if (m.datalen != 0)
				fatalx("bad MSG_R_HDR_DONE");
			return;
		case MSG_R_ERROR:
			parse_error(&m, &code, msg, sizeof(msg));
			die(code, "%s", msg);
		default:
			fatalx("unexpected message %u from the reader",
			    m.hdr.type);
		}
	}
}

static void
start_reader(struct send *s)
{
	struct ipc_buf	 b;
	uint32_t	 flags = 0;

	if (pipe2(s->body, O_CLOEXEC) == -1)
		fatal("pipe");
	proc_spawn(&s->reader, ROLE_READER, s->body[1], -1, (char *[]){ NULL });
	s->body[1] = -1;
	if (s->cl.read_recipients)
		flags |= R_EXTRACT_RCPT;
	if (s->cl.read_envelope_from)
		flags |= R_EXTRACT_FROM;
	ipc_buf_init(&b);
	ipc_buf_u32(&b, flags);
	ipc_buf_u32(&b, RFC5322_MAXHEADER);
	child_send(&s->reader, MSG_R_START, -1, &b);
	addr_list_init(&s->hdr_rcpts);
	reader_header(s);
}

static void
reader_output(struct send *s)
{
	struct ipc_buf	 b;
	struct r_output	 o;
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 host[256], date[64];
	const char	*at;

	memset(&o, 0, sizeof(o));
	if (s->acc->remove_bcc_headers)
		o.flags |= R_OUT_REMOVE_BCC;
	if (s->acc->undisclosed_recipients)
		o.flags |= R_OUT_UNDISCLOSED;
	if (s->queueing)
		o.flags |= R_OUT_SPOOL;
	switch (s->acc->set_from_header) {
	case HDR_ON:
		o.set_from = RFC5322_SET_ON;
		break;
	case HDR_OFF:
		o.set_from = RFC5322_SET_OFF;
		break;
	default:
		o.set_from = RFC5322_SET_AUTO;
		break;
	}
	o.set_date = s->acc->set_date_header == HDR_OFF ? RFC5322_SET_OFF :
	    RFC5322_SET_AUTO;
	o.set_msgid = s->acc->set_msgid_header == HDR_OFF ? RFC5322_SET_OFF :
	    RFC5322_SET_AUTO;
	if (localtime_r(&now, &tm) == NULL)
		fatal("localtime");
	if ((at = strrchr(s->from, '@')) != NULL)
		strlcpy(host, at + 1, sizeof(host));
	else if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "localhost", sizeof(host));
	o.from = s->from;
	o.full_name = s->acc->from_full_name;
	o.date = (uint64_t)now;
	o.gmtoff = (int64_t)tm.tm_gmtoff;
	o.msgid_host = host;
	o.trace = NULL;
	if (sysmode_is_system(s->acc) && rfc5322_format_date(date,
	    sizeof(date), now, tm.tm_gmtoff) != -1)
		o.trace = sysmode_trace(date);
	r_output_put(&b, &o);
	free(o.trace);
	child_send(&s->reader, MSG_R_OUTPUT, -1, &b);
	if (s->queueing)
		queue_handoff(s);
}

/*
 * Start the secrets process and hand it the credential.  It runs
 * passwordeval itself, so the parent never sees that password at all.
 */
void
start_secrets(struct send *s, int peer)
{
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct s_config	 sc;
	char		 msg[1024];
	int		 code;

	proc_spawn(&s->secrets, ROLE_SECRETS, -1, peer, environ);
	memset(&sc, 0, sizeof(sc));
	sc.host = s->acc->socket != NULL ? s->acc->socket : s->acc->host;
	sc.user = s->acc->user;
	sc.password = s->acc->password;
	sc.passwordeval = s->acc->password == NULL ? s->acc->passwordeval :
	    NULL;
	sc.auth = s->acc->auth;
	sc.port = (uint32_t)s->acc->port;
	sc.ntlmdomain = s->acc->ntlmdomain;
	/* A system account's secret is read by the secrets process alone. */
	sc.system = sysmode_is_system(s->acc) ? s->acc->id : NULL;
	s_config_put(&b, &sc);
	child_send(&s->secrets, MSG_S_CONFIG, -1, &b);
	explicit_bzero(&b, sizeof(b));
	if (s->acc->password != NULL) {
		freezero(s->acc->password, strlen(s->acc->password));
		s->acc->password = NULL;
	}
	if (ipc_recv(&s->secrets.ipc, &m) != 1)
		child_gone(&s->secrets);
	switch (m.hdr.type) {
	case MSG_S_READY:
		if (m.datalen != 0 || m.fd != -1)
			fatalx("bad MSG_S_READY");
		break;
	case MSG_S_ERROR:
		parse_error(&m, &code, msg, sizeof(msg));
		die(code, "%s", msg);
	default:
		fatalx("unexpected message %u from the secrets process",
		    m.hdr.type);
	}
	/* It listens to the parent no more. */
	ipc_clear(&s->secrets.ipc);
	close(s->secrets.ipc.fd);
	s->secrets.ipc.fd = -1;
}

static void
send_file(struct child *c, uint32_t type, const char *path, const char *what)
{
	unsigned char	 buf[CHUNK];
	struct stat	 st;
	ssize_t		 n;
	size_t		 total = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		die(EX_NOINPUT, "cannot set X509 %s file %s for TLS session: "
		    "%s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > PEM_MAX)
		die(EX_NOINPUT, "cannot set X509 %s file %s for TLS session: "
		    "not a regular file of at most %d bytes", what, path,
		    PEM_MAX);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die(EX_NOINPUT, "cannot set X509 %s file %s for TLS "
			    "session: %s", what, path, strerror(errno));
		}
		if ((total += (size_t)n) > PEM_MAX)
			die(EX_NOINPUT, "cannot set X509 %s file %s for TLS "
			    "session: too large", what, path);
		/* The network process puts the chunks back together. */
		if (blob_send(&c->ipc, type, buf, (size_t)n) == -1 ||
		    ipc_flush(&c->ipc) == -1)
			fatal("send to the network process");
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
}

void
start_network(struct send *s, int peer, uint32_t mode, char *etrn)
{
	static char	 localhost[] = "localhost";
	struct account	*a = s->acc;
	struct ipc_buf	 b;
	struct n_config	 nc;
	char		 fpr[3 * FPR_MAXLEN + 1];
	uint32_t	 flags = 0, tls, auth;
	size_t		 i;

	proc_spawn_network(&s->network, a->tls, s->body[0], peer);
	s->body[0] = -1;

	if (a->tls_certcheck)
		flags |= N_TLS_CERTCHECK;
	if (s->cl.debug)
		flags |= N_DEBUG;
	if (a->protocol == PROTO_LMTP)
		flags |= N_LMTP;
	/* With the queue on, due entries may follow over the same session. */
	if (mode == N_MODE_SEND && s->queueing)
		flags |= N_KEEP;
	if (!a->tls)
		tls = SMTP_TLS_OFF;
	else
		tls = a->tls_starttls ? SMTP_TLS_STARTTLS : SMTP_TLS_IMPLICIT;
	if (a->auth == NULL || mode == N_MODE_SERVERINFO)
		auth = SMTP_AUTH_OFF;
	else
		auth = *a->auth == '\0' ? SMTP_AUTH_AUTO : SMTP_AUTH_MECH;
	fpr[0] = '\0';
	for (i = 0; i < a->tls_fingerprint_len; i++)
		snprintf(fpr + (i ? 3 * i - 1 : 0), sizeof(fpr) -
		    (i ? 3 * i - 1 : 0), "%s%02X", i ? ":" : "",
		    a->tls_fingerprint[i]);

	memset(&nc, 0, sizeof(nc));
	nc.protocol = a->protocol == PROTO_LMTP ? SMTP_PROTO_LMTP :
	    SMTP_PROTO_SMTP;
	nc.tls = tls;
	nc.flags = flags;
	nc.timeout = (uint32_t)a->timeout;
	nc.auth = auth;
	nc.domain = a->domain != NULL ? a->domain : localhost;
	nc.servername = a->tls_host_override != NULL ? a->tls_host_override :
	    a->host != NULL ? a->host : localhost;
	nc.dsn_notify = a->dsn_notify;
	nc.dsn_return = a->dsn_return;
	nc.auth_mech = auth == SMTP_AUTH_MECH ? a->auth : NULL;
	nc.fingerprint = a->tls_fingerprint_len > 0 ? fpr : NULL;
	nc.priorities = a->tls_priorities;
	nc.proxy_host = a->proxy_host != NULL ? a->host : NULL;
	nc.proxy_port = a->proxy_host != NULL ? (uint32_t)a->port : 0;
	nc.mode = mode;
	nc.etrn = etrn;
	n_config_put(&b, &nc);
	child_send(&s->network, MSG_N_CONFIG, -1, &b);

	if (a->tls) {
		if (a->tls_trust_file != NULL && *a->tls_trust_file != '\0')
			send_file(&s->network, MSG_N_CA,
			    strcmp(a->tls_trust_file, "system") == 0 ?
			    SYSTEM_CA_FILE : a->tls_trust_file, "trust");
		if (a->tls_crl_file != NULL)
			send_file(&s->network, MSG_N_CRL, a->tls_crl_file,
			    "CRL");
		if (a->tls_cert_file != NULL)
			send_file(&s->network, MSG_N_CERT, a->tls_cert_file,
			    "cert");
		if (a->tls_key_file != NULL)
			send_file(&s->network, MSG_N_KEY, a->tls_key_file,
			    "key");
	}
	if (mode != N_MODE_SEND)
		return;
	ipc_buf_init(&b);
	ipc_buf_str(&b, s->from);
	child_send(&s->network, MSG_N_FROM, -1, &b);
	for (i = 0; i < s->nrcpt; i++) {
		ipc_buf_init(&b);
		ipc_buf_str(&b, s->rcpts[i]);
		child_send(&s->network, MSG_N_RCPT, -1, &b);
	}
}

/*
 * Connect and give the socket to the network process.  When that fails,
 * the network process learns only that it may go, and a reader finds its
 * pipe closed and says so.
 */
void
hand_socket(struct send *s)
{
	struct account	*a = s->acc;
	struct ipc_buf	 b;
	char		 err[1024];
	int		 sock;

	if (a->socket != NULL)
		sock = connect_unix(a->socket, a->timeout, err, sizeof(err));
	else if (a->proxy_host != NULL)
		sock = connect_tcp(a->proxy_host, a->proxy_port, a->source_ip,
		    a->timeout, &s->ci, err, sizeof(err));
	else
		sock = connect_tcp(a->host, a->port, a->source_ip, a->timeout,
		    &s->ci, err, sizeof(err));
	if (sock < 0) {
		ipc_clear(&s->network.ipc);
		close(s->network.ipc.fd);
		s->network.ipc.fd = -1;
		s->n_done = 1;
		s->n_code = -sock;
		if ((s->n_errmsg = strdup(err)) == NULL)
			fatal("strdup");
		return;
	}
	ipc_buf_init(&b);
	child_send(&s->network, MSG_N_SOCKET, sock, &b);
}

static void
reader_final(struct send *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	uint64_t	 bytes;
	uint32_t	 verdict;

	ipc_cur_init(&c, m);
	if (m->fd != -1)
		fatalx("reader sent a descriptor");
	switch (m->hdr.type) {
	case MSG_R_DONE:
		if (ipc_cur_u64(&c, &bytes) == -1 ||
		    ipc_cur_u64(&c, &s->r_mailsize) == -1 ||
		    ipc_cur_end(&c) == -1)
			fatalx("bad MSG_R_DONE");
		s->r_code = EX_OK;
		break;
	case MSG_R_ERROR:
		parse_error(m, &s->r_code, s->r_msg, sizeof(s->r_msg));
		break;
	default:
		fatalx("unexpected message %u from the reader", m->hdr.type);
	}
	s->r_done = 1;
	verdict = s->r_code == EX_OK ? MSG_N_BODY_OK : MSG_N_BODY_ABORT;
	if (s->network.pid > 0 && !s->n_done &&
	    ipc_send(&s->network.ipc, verdict, -1, NULL, 0) == -1 &&
	    errno != EPIPE)
		fatal("send to the network process");
}

static void
network_final(struct send *s, struct ipc_msg *m)
{
	struct lmtp_refusal	*r;
	struct ipc_cur		 c;
	uint32_t		 code, status, idx;
	char			*text;

	ipc_cur_init(&c, m);
	if (m->fd != -1)
		fatalx("the network process sent a descriptor");
	switch (m->hdr.type) {
	case MSG_N_RCPT_STATUS:
		if (ipc_cur_u32(&c, &idx) == -1 ||
		    ipc_cur_u32(&c, &code) == -1 ||
		    ipc_cur_str(&c, &text) == -1 || text == NULL ||
		    ipc_cur_end(&c) == -1 || idx >= s->nrcpt || code > 999 ||
		    s->nrefused >= s->nrcpt)
			fatalx("bad MSG_N_RCPT_STATUS");
		if ((r = reallocarray(s->refused, s->nrefused + 1,
		    sizeof(*r))) == NULL)
			fatal("reallocarray");
		s->refused = r;
		s->refused[s->nrefused].rcpt = idx;
		s->refused[s->nrefused].code = (int)code;
		log_scrub(text, 1);
		s->refused[s->nrefused++].text = text;
		break;
	case MSG_N_INFO:
		if (s->n_info != NULL ||
		    ipc_cur_str(&c, &s->n_info) == -1 || s->n_info == NULL ||
		    ipc_cur_end(&c) == -1)
			fatalx("bad MSG_N_INFO");
		log_scrub(s->n_info, 1);
		break;
	case MSG_N_RESULT:
		if (ipc_cur_u32(&c, &code) == -1 ||
		    ipc_cur_u32(&c, &status) == -1 ||
		    ipc_cur_u32(&c, &s->n_flags) == -1 ||
		    ipc_cur_u64(&c, &s->n_mailsize) == -1 ||
		    ipc_cur_str(&c, &s->n_smtpmsg) == -1 ||
		    ipc_cur_str(&c, &s->n_errmsg) == -1 ||
		    ipc_cur_end(&c) == -1 || code > 255 || status > 999)
			fatalx("bad MSG_N_RESULT");
		/* They reach a terminal and the log: no control characters. */
		if (s->n_smtpmsg != NULL)
			log_scrub(s->n_smtpmsg, 1);
		if (s->n_errmsg != NULL)
			log_scrub(s->n_errmsg, 0);
		s->n_code = (int)code;
		s->n_status = (int)status;
		s->n_done = 1;
		break;
	default:
		fatalx("unexpected message %u from the network process",
		    m->hdr.type);
	}
}

/*
 * A child died before its work was done: the send is over.  The others
 * are stopped so that none is left waiting for a peer that is gone.
 */
static int
check_children(struct send *s)
{
	struct child	*c[3] = { &s->reader, &s->secrets, &s->network };
	char		 buf[64];
	int		 i;

	while (read(proc_sigchld_fd(), buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < 3; i++)
		if (proc_reap(c[i]) && proc_failed(c[i]) && s->culprit == NULL)
			s->culprit = c[i];
	if (s->culprit == NULL)
		return 0;
	for (i = 0; i < 3; i++)
		if (c[i]->pid > 0 && !c[i]->reaped)
			kill(c[i]->pid, SIGKILL);
	return 1;
}

/*
 * Wait for the reader's and the network process's final words.  A child
 * that closes its channel without one died: that is recorded, and the
 * network process is told to abort if the reader is the one that died.
 */
static void
event_loop(struct send *s)
{
	struct pollfd	 pfd[3];
	struct ipc_msg	 m;
	int		 r = 0, ravail, navail;

	while (!s->r_done || !s->n_done) {
		if (check_children(s))
			return;
		ravail = !s->r_done && s->reader.ipc.fd != -1;
		navail = !s->n_done && s->network.ipc.fd != -1;
		if (!ravail && !navail)
			break;
		pfd[0].fd = ravail ? s->reader.ipc.fd : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = navail ? s->network.ipc.fd : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = proc_sigchld_fd();
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (ravail && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (ipc_read(&s->reader.ipc) == -1)
				fatal("reader channel");
			while ((r = ipc_get(&s->reader.ipc, &m)) == 1 &&
			    !s->r_done)
				reader_final(s, &m);
			if (r == -1 || (r == 1 && s->r_done))
				fatalx("bad message from the reader");
			if (s->reader.ipc.eof && !s->r_done) {
				s->r_done = 1;
				s->r_code = EX_SOFTWARE;
				strlcpy(s->r_msg, "the reader process went away",
				    sizeof(s->r_msg));
				if (s->network.pid > 0 && !s->n_done)
					ipc_send(&s->network.ipc,
					    MSG_N_BODY_ABORT, -1, NULL, 0);
			}
		}
		if (navail && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (ipc_read(&s->network.ipc) == -1)
				fatal("network channel");
			while (!s->n_done &&
			    (r = ipc_get(&s->network.ipc, &m)) == 1)
				network_final(s, &m);
			if (r == -1)
				fatalx("bad message from the network process");
			else if (s->network.ipc.eof && !s->n_done) {
				s->n_done = 1;
				s->n_code = EX_SOFTWARE;
				if ((s->n_errmsg = strdup("the network process "
				    "went away")) == NULL)
					fatal("strdup");
			}
		}
	}
}

static void
print_failure(struct send *s, int code, const char *errmsg)
{
	char	*p, *line, *copy;
	size_t	 i;

	if (s->nrefused > 0) {
		for (i = 0; i < s->nrefused; i++) {
			log_warnx("the server refuses to send the mail to %s",
			    s->rcpts[s->refused[i].rcpt]);
			if ((copy = strdup(s->refused[i].text)) == NULL)
				fatal("strdup");
			for (p = copy; (line = strsep(&p, "\n")) != NULL; )
				log_warnx("LMTP server message: %d %s",
				    s->refused[i].code, line);
			free(copy);
		}
		if (s->acc->conffile != NULL && s->acc->origin == ORIGIN_FILE)
			log_warnx("could not send mail to all recipients "
			    "(account %s from %s)", s->acc->id,
			    s->acc->conffile);
		else
			log_warnx("could not send mail to all recipients");
		return;
	}
	if (errmsg != NULL && *errmsg != '\0')
		log_warnx("%s", errmsg);
	if (s->n_status != 0 && s->n_smtpmsg != NULL && code != EX_OK) {
		if ((copy = strdup(s->n_smtpmsg)) == NULL)
			fatal("strdup");
		for (p = copy; (line = strsep(&p, "\n")) != NULL; )
			log_warnx("server message: %s", line);
		free(copy);
	}
	if (s->acc->conffile != NULL && s->acc->origin == ORIGIN_FILE)
		log_warnx("could not send mail (account %s from %s)",
		    s->acc->id, s->acc->conffile);
	else
		log_warnx("could not send mail");
}

/*
 * Reap the children and decide: the mail was sent only if the reader
 * ended cleanly and the server accepted the final dot.  Every child exits
 * 0 when it has reported; one that did not was killed, by its sandbox or
 * otherwise, and makes the whole send a software error naming its role.
 */
static int
outcome(struct send *s, const char **errmsg)
{
	struct child	*c[3] = { &s->reader, &s->network, &s->secrets };
	static char	 msg[3][512];
	int		 code = -1, i;

	*errmsg = NULL;
	for (i = 0; i < 3; i++)
		if (!(c[i] == &s->network && (s->n_flags & NRES_KEPT)) &&
		    proc_wait(c[i], msg[i], sizeof(msg[i])) != 0 &&
		    (code == -1 || c[i] == s->culprit)) {
			code = EX_SOFTWARE;
			*errmsg = msg[i];
		}
	if (code != -1)
		return code;
	if (!s->r_done || !s->n_done) {
		*errmsg = !s->r_done ? "the reader process went away" :
		    "the network process went away";
		return EX_SOFTWARE;
	}
	if (s->r_code != EX_OK && (s->n_flags & NRES_ABORTED)) {
		*errmsg = s->r_msg;
		return s->r_code;
	}
	if (s->n_code != EX_OK) {
		*errmsg = s->n_errmsg;
		return s->n_code;
	}
	if (s->r_code != EX_OK) {
		*errmsg = s->r_msg;
		return s->r_code;
	}
	return EX_OK;
}

/*
 * A network process that kept its session open after the mail (NRES_KEPT)
 * ends it with QUIT once its channel closes.  The mail went out already:
 * a failure now is only worth a warning.
 */
void
network_release(struct send *s)
{
	char	 msg[512];

	if (!(s->n_flags & NRES_KEPT) || s->network.pid <= 0)
		return;
	if (s->network.ipc.fd != -1) {
		ipc_clear(&s->network.ipc);
		close(s->network.ipc.fd);
		s->network.ipc.fd = -1;
	}
	if (proc_wait(&s->network, msg, sizeof(msg)) != 0)
		log_warnx("%s", msg);
	s->n_flags &= ~NRES_KEPT;
}

static int
finish(struct send *s)
{
	struct maillog	 l;
	const char	*errmsg;
	int		 code;

	code = outcome(s, &errmsg);
	if (code == EX_OK && !(s->n_flags & NRES_DATA_SENT)) {
		code = EX_SOFTWARE;
		errmsg = "the mail was not sent";
	}
	if (s->queueing && queue_finish(s, code, errmsg)) {
		network_release(s);
		return EX_OK;
	}
	memset(&l, 0, sizeof(l));
	l.from = s->from;
	l.rcpts = s->rcpts;
	l.nrcpt = s->nrcpt;
	l.exitcode = code;
	l.mailsize = s->n_mailsize;
	/* LMTP: the per-recipient replies went to stderr, not the log. */
	l.smtpstatus = s->nrefused > 0 ? 0 : s->n_status;
	l.smtpmsg = s->n_smtpmsg;
	l.errmsg = code == EX_OK ? NULL : errmsg;
	if (sysmode_is_system(s->acc)) {
		l.localuser = sysmode_user();
		l.localuid = (unsigned long)sysmode_uid();
	}
	if (code != EX_OK)
		print_failure(s, code, errmsg);
	maillog_write(s->acc, &l);
	if (code == EX_OK && s->queueing)
		queue_after_send(s);
	network_release(s);
	return code;
}

/* Recipients without '@' go through the aliases file, as in msmtp. */
static void
expand_aliases(struct send *s, struct addr_list *list)
{
	struct aliases	*al;
	struct addr	*a;
	char		 err[1024];
	FILE		*fp;

	if (s->acc->aliases != NULL && aliases_needed(list)) {
		if ((fp = fopen(s->acc->aliases, "r")) == NULL)
			die(EX_CONFIG, "%s: %s", s->acc->aliases,
			    strerror(errno));
		if ((al = aliases_read(fp)) == NULL)
			die(EX_CONFIG, "%s: %s", s->acc->aliases,
			    strerror(errno));
		fclose(fp);
		if (al->error[0] != '\0')
			die(EX_CONFIG, "%s: %s", s->acc->aliases, al->error);
		if (aliases_expand(al, list, err, sizeof(err)) != 0)
			die(EX_CONFIG, "%s: %s", s->acc->aliases, err);
		aliases_free(al);
	}
	TAILQ_FOREACH(a, list, entry)
		add_rcpt(s, a->spec);
}

/*
 * With the socket handed over, the parent only waits, reads reports, kills
 * and logs: it locks itself down to that.  This is the one point where it
 * does, for one send and nothing after it.  A parent with more to do
 * after the handoff (a queue run: opening spool files relative to
 * directory descriptors, fsync, renameat, unlinkat, flock, connecting
 * again, starting new children) must skip this call or widen the parent
 * table in the sandbox files first; children started after it inherit
 * the filter.
 */
static void
confine(struct send *s)
{
	struct parent_bounds	 b;

	parent_bounds_init(&b);
	b.child[0] = s->reader.pid;
	b.child[1] = s->secrets.pid;
	b.child[2] = s->network.pid;
	b.lockfd = maillog_fd();
	b.wfd[3] = b.lockfd;
	parent_lockdown(&b);
}

static int
sendmail_mode(struct send *s)
{
	struct selector	 sel;
	struct addr_list all;
	struct rcpt	*rc;
	struct addr	*a;
	char		 err[2048];
	int		 r, sp[2], fin;
	size_t		 i;
	int		 need_reader = !s->cl.pretend || s->cl.read_envelope_from;

	if (need_reader)
		start_reader(s);

	memset(&sel, 0, sizeof(sel));
	sel.account = s->cl.account;
	sel.cmdline_host = s->cl.host;
	sel.envelope_from = s->cl.from;
	/* msmtp 1.8.23 reports a missing From as a configuration error. */
	if (s->cl.read_envelope_from && s->hdr_from == NULL)
		die(EX_CONFIG, "envelope-from address is missing");
	if (s->cl.read_envelope_from) {
		sel.envelope_from = s->hdr_from;
		if (s->cl.pretend || s->cl.debug)
			printf("envelope from address extracted from mail: "
			    "%s\n", log_sanitize(err, sizeof(err), s->hdr_from,
			    strlen(s->hdr_from)));
	}
	sel.need_from = 1;
	sel.override = s->cl.override;
	r = config_select(&s->cf, &sel, &s->acc, err, sizeof(err));
	if (r == EX_OK) {
		sysmode_check_options(&s->cl, s->acc);
		sysqueue_check_account(s->acc);
	}
	if (s->cl.pretend || s->cl.debug)
		print_notes(&s->cf);
	if (r != EX_OK)
		die(r, "%s", err);
	fin = FIN_SENDMAIL | (s->cl.pretend ? FIN_PRETEND : 0);
	if ((r = account_finalize(s->acc, fin, err, sizeof(err))) != EX_OK)
		die(r, "%s", err);
	if (s->cl.pretend || s->cl.debug)
		account_print(stdout, s->acc, PRINT_SENDMAIL |
		    (s->cl.read_envelope_from ? PRINT_FROM_MAIL : 0) |
		    (s->cl.read_recipients ? PRINT_RCPT_MAIL : 0), NULL);
	if (s->cl.pretend)
		return EX_OK;
	fflush(stdout);
	/* The chosen account is a copy: every other password goes now. */
	config_clear(&s->cf);

	if ((s->from = strdup(s->acc->from != NULL ? s->acc->from : "")) ==
	    NULL)
		fatal("strdup");
	if (*s->from != '\0' && !addr_valid_envelope(s->from))
		die(EX_DATAERR, "invalid envelope from address %s", s->from);

	addr_list_init(&all);
	TAILQ_FOREACH(rc, &s->cl.rcpts, entry)
		if (addr_list_add(&all, rc->addr) == -1)
			fatal("addr_list_add");
	TAILQ_FOREACH(a, &s->hdr_rcpts, entry)
		if (addr_list_add(&all, a->spec) == -1)
			fatal("addr_list_add");
	expand_aliases(s, &all);
	addr_list_free(&all);
	if (s->nrcpt == 0)
		die(EX_USAGE, "no recipients found");
	for (i = 0; i < s->nrcpt; i++)
		if (*s->rcpts[i] == '\0' || !addr_valid_envelope(s->rcpts[i]))
			die(EX_DATAERR, "invalid recipient address %s",
			    s->rcpts[i]);

	queue_begin(s);
	reader_output(s);
	if (s->cl.queue_only)
		return queue_only(s);

	if (s->acc->auth != NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ==
		    -1)
			fatal("socketpair");
		start_secrets(s, sp[0]);
		start_network(s, sp[1], N_MODE_SEND, NULL);
	} else
		start_network(s, -1, N_MODE_SEND, NULL);

	/* What the log line needs is opened while the parent still may. */
	maillog_open(s->acc);
	hand_socket(s);
	/* With a queue entry the parent still commits it and may flush. */
	if (!s->queueing)
		confine(s);
	event_loop(s);
	return finish(s);
}

/* As msmtp, --serverinfo names the server by a reverse lookup. */
static void
reverse_name(const char *addr, char *name, size_t namesz)
{
	struct addrinfo	 hints, *res;

	name[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &res) != 0)
		return;
	if (getnameinfo(res->ai_addr, res->ai_addrlen, name, namesz, NULL, 0,
	    NI_NAMEREQD) != 0)
		name[0] = '\0';
	freeaddrinfo(res);
}

/* --serverinfo and --rmqs: one session, no message, no log line. */
static int
query_mode(struct send *s, uint32_t mode)
{
	struct selector	 sel;
	const char	*errmsg;
	char		 err[2048];
	int		 r, sp[2];

	memset(&sel, 0, sizeof(sel));
	sel.account = s->cl.account;
	sel.cmdline_host = s->cl.host;
	sel.envelope_from = s->cl.from;
	sel.override = s->cl.override;
	r = config_select(&s->cf, &sel, &s->acc, err, sizeof(err));
	if (r == EX_OK) {
		sysmode_check_options(&s->cl, s->acc);
		sysqueue_check_account(s->acc);
	}
	if (s->cl.pretend || s->cl.debug)
		print_notes(&s->cf);
	if (r != EX_OK)
		die(r, "%s", err);
	if ((r = account_finalize(s->acc, s->cl.pretend ? FIN_PRETEND : 0,
	    err, sizeof(err))) != EX_OK)
		die(r, "%s", err);
	if (s->cl.pretend || s->cl.debug)
		account_print(stdout, s->acc, 0,
		    mode == N_MODE_RMQS ? s->cl.rmqs : NULL);
	if (s->cl.pretend)
		return EX_OK;
	fflush(stdout);
	config_clear(&s->cf);

	s->r_done = 1;
	s->r_code = EX_OK;
	if (mode == N_MODE_RMQS && s->acc->auth != NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ==
		    -1)
			fatal("socketpair");
		start_secrets(s, sp[0]);
		start_network(s, sp[1], mode, s->cl.rmqs);
	} else
		start_network(s, -1, mode, s->cl.rmqs);
	hand_socket(s);
	event_loop(s);
	if ((r = outcome(s, &errmsg)) != EX_OK) {
		if (errmsg != NULL && *errmsg != '\0')
			log_warnx("%s", errmsg);
		if (s->n_status != 0 && s->n_smtpmsg != NULL)
			log_warnx("server message: %s", s->n_smtpmsg);
		return r;
	}
	if (mode == N_MODE_SERVERINFO && s->n_info != NULL) {
		printf("%s server at ", s->acc->protocol == PROTO_LMTP ?
		    "LMTP" : "SMTP");
		if (s->acc->socket != NULL)
			printf("%s", s->acc->socket);
		else {
			printf("%s", s->acc->host);
			reverse_name(s->ci.addr, s->ci.canon,
			    sizeof(s->ci.canon));
			if (s->acc->proxy_host == NULL && s->ci.canon[0] != '\0')
				printf(" (%s [%s])", s->ci.canon, s->ci.addr);
			else if (s->acc->proxy_host == NULL)
				printf(" ([%s])", s->ci.addr);
			printf(", port %d", s->acc->port);
		}
		printf(":\n%s", s->n_info);
	}
	return EX_OK;
}

/*
 * newaliases, -bi: there is no database to build, since the aliases file
 * is read at each send, but the caller learns whether it would parse.
 */
static int
newaliases_mode(struct send *s)
{
	struct selector	 sel;
	struct aliases	*al;
	struct alias	*a;
	FILE		*fp;
	char		 err[2048];
	size_t		 n = 0;

	memset(&sel, 0, sizeof(sel));
	sel.account = s->cl.account;
	sel.cmdline_host = s->cl.host;
	sel.override = s->cl.override;
	if (config_select(&s->cf, &sel, &s->acc, err, sizeof(err)) != EX_OK) {
		fprintf(stderr, "%s: %s: no aliases file to check\n",
		    log_progname(), err);
		return EX_OK;
	}
	if (s->acc->aliases == NULL) {
		fprintf(stderr, "%s: no aliases file is configured\n",
		    log_progname());
		return EX_OK;
	}
	if ((fp = fopen(s->acc->aliases, "r")) == NULL)
		die(EX_CONFIG, "%s: %s", s->acc->aliases, strerror(errno));
	if ((al = aliases_read(fp)) == NULL)
		die(EX_CONFIG, "%s: %s", s->acc->aliases, strerror(errno));
	fclose(fp);
	if (al->error[0] != '\0')
		die(EX_CONFIG, "%s: %s", s->acc->aliases, al->error);
	TAILQ_FOREACH(a, &al->list, entry)
		n++;
	aliases_free(al);
	printf("%s: %zu aliases\n", s->acc->aliases, n);
	return EX_OK;
}

/*
 * -bs: one SMTP session on stdin and stdout.  posternd speaks the server
 * side and hands each mail to postern as this user, so the session gets
 * nothing the user could not do with postern directly.
 */
static __dead void
smtp_mode(void)
{
	char	 name[] = "posternd", inetd[] = "--inetd";
	char	*argv[] = { name, inetd, NULL };

	/* posternd gets no group that an installed postern may carry. */
	if (setresgid(getgid(), getgid(), getgid()) == -1)
		die(EX_OSERR, "setresgid: %s", strerror(errno));
	fflush(stdout);
	execv(PATH_POSTERND, argv);
	die(EX_UNAVAILABLE, "-bs needs posternd(8): %s: %s", PATH_POSTERND,
	    strerror(errno));
}

int
parent_main(int argc, char *argv[])
{
	/*
	 * Static: what the send holds lives until the process ends, which
	 * is right after this returns, and stays reachable until then.
	 */
	static struct send	 s;
	char		 err[2048];
	int		 r;

	log_init(argv[0], 0);
	signal(SIGPIPE, SIG_IGN);
	/* s is static and zero: no memset touching every page of it. */
	s.body[0] = s.body[1] = -1;
	s.reader.ipc.fd = s.network.ipc.fd = s.secrets.ipc.fd = -1;

	s.qfd = -1;
	if (argc == 2 && strcmp(argv[1], SYSQUEUE_FLUSH_OPT) == 0) {
		proc_init();
		if ((r = sysmode_load_system(CONF_SYSTEM_FILE, err,
		    sizeof(err))) != EX_OK)
			die(r, "%s", err);
		return sysqueue_flush();
	}
	if (argc > 1 && strcmp(argv[1], SYSQUEUE_SEND_OPT) == 0)
		sysqueue_send_args(&argc, &argv);
	queue_argv0(&argc, &argv);
	if ((r = cmdline_parse(&s.cl, argc, argv, err, sizeof(err))) != EX_OK)
		die(r, "%s", err);
	switch (s.cl.mode) {
	case MODE_VERSION:
		cmdline_version(stdout);
		return EX_OK;
	case MODE_HELP:
		cmdline_help(stdout);
		return EX_OK;
	case MODE_CONFIGURE:
		r = configure_mode(s.cl.configure, s.cl.file);
		fflush(stdout);
		return r;
	case MODE_SMTP:
		smtp_mode();
	default:
		break;
	}
	proc_init();
	switch (s.cl.mode) {
	case MODE_QFLUSH:
	case MODE_QLIST:
	case MODE_QSHOW:
	case MODE_QPURGE:
	case MODE_QRETRY:
		return queue_command(&s.cl);
	default:
		break;
	}
	config_init(&s.cf);
	/* Installed setgid: which accounts are the system's. */
	if ((r = sysmode_load_system(CONF_SYSTEM_FILE, err, sizeof(err))) !=
	    EX_OK)
		die(r, "%s", err);
	sysmode_check_host(&s.cl);
	if (!s.cl.host &&
	    (r = config_load(&s.cf, s.cl.file, err, sizeof(err))) != EX_OK) {
		if (s.cl.pretend || s.cl.debug)
			print_notes(&s.cf);
		die(r, "%s", err);
	}
	sysmode_check_config(&s.cf);
	switch (s.cl.mode) {
	case MODE_SENDMAIL:
		r = sendmail_mode(&s);
		break;
	case MODE_SERVERINFO:
		r = query_mode(&s, N_MODE_SERVERINFO);
		break;
	case MODE_RMQS:
		r = query_mode(&s, N_MODE_RMQS);
		break;
	case MODE_NEWALIASES:
		r = newaliases_mode(&s);
		break;
	default:
		die(EX_USAGE, "unsupported operation mode");
	}
	fflush(stdout);
	return r;
}
