/*
 * The queue, parent side.  When the queue is on, every mail is written to
 * a new entry in tmp/ by the reader while it is sent; the parent commits
 * it (fsync, rename into queue/, fsync of the directory) only when the
 * send failed for a reason that may pass and every child exited cleanly,
 * and removes it otherwise.  A flush takes the spool's lock, groups the
 * entries by account and sends each group over one session: the reader
 * checks each entry while it streams the message, the network process
 * sends the dot only after that check, and an entry leaves the queue only
 * after the server's 250.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "maillog.h"
#include "parent.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "spool.h"
#include "sysmode.h"
#include "sysqueue.h"

#define LIFETIME_DEFAULT	(5 * 24 * 3600)
#define TMP_MAXAGE		(24 * 3600)
#define RETRY_MIN		300
#define RETRY_MAX		3600

struct qent {
	char			 id[SPOOL_IDLEN + 1];
	struct spool_head	 h;
	struct spool_status	 st;
	uint64_t		 size;
	char			*key;		/* the account group */
	int			 done;
};

static const char *
spool_dir(const char *given, char *buf, size_t bufsz)
{
	const char	*xdg = getenv("XDG_STATE_HOME");

	if (given != NULL)
		return given;
	if (xdg != NULL && *xdg == '/')
		snprintf(buf, bufsz, "%s/postern/queue", xdg);
	else
		snprintf(buf, bufsz, "%s/.local/state/postern/queue",
		    conf_homedir());
	return buf;
}

static char	 opt_list[] = "--queue-list", opt_queue[] = "--queue";
static char	 opt_flush[] = "--queue-flush", opt_all[] = "--queue-purge=all";
static char	 empty[] = "";

static void	 backoff(struct spool_status *, const char *);

static int
temporary(int code)
{
	return code == EX_TEMPFAIL || code == EX_IOERR || code == EX_NOHOST;
}

/* The three names msmtp's scripts and sendmail are called by. */
void
queue_argv0(int *argcp, char ***argvp)
{
	static const char *help =
	    "usage: msmtp-queue -r | -R ID | -d | -p ID | -a | -h\n"
	    "  -r     send every queued mail now\n"
	    "  -R ID  send this queued mail now\n"
	    "  -d     list the queue\n"
	    "  -p ID  remove this mail from the queue\n"
	    "  -a     remove every mail from the queue\n"
	    "  -h     this help\n";
	char		**argv = *argvp, **nv, *arg;
	const char	*base;
	int		 argc = *argcp, i, n = 0;

	if (argc < 1)
		return;
	base = (base = strrchr(argv[0], '/')) != NULL ? base + 1 : argv[0];
	if ((nv = calloc((size_t)argc + 3, sizeof(*nv))) == NULL)
		fatal("calloc");
	nv[n++] = argv[0];
	if (strcmp(base, "mailq") == 0)
		nv[n++] = opt_list;
	else if (strcmp(base, "msmtpq") == 0)
		nv[n++] = opt_queue;
	else if (strcmp(base, "msmtp-queue") == 0) {
		if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
		    ((strcmp(argv[1], "-R") == 0 || strcmp(argv[1], "-p") ==
		    0) && argc < 3)) {
			fputs(help, argc < 2 ? stderr : stdout);
			exit(argc < 2 ? EX_USAGE : EX_OK);
		}
		if (strcmp(argv[1], "-r") == 0)
			nv[n++] = opt_flush;
		else if (strcmp(argv[1], "-d") == 0)
			nv[n++] = opt_list;
		else if (strcmp(argv[1], "-a") == 0)
			nv[n++] = opt_all;
		else if (strcmp(argv[1], "-R") == 0 ||
		    strcmp(argv[1], "-p") == 0) {
			if (asprintf(&arg, "--queue-%s=%s", argv[1][1] == 'R' ?
			    "flush" : "purge", argv[2]) == -1)
				fatal("asprintf");
			nv[n++] = arg;
			argc--;
			argv++;
		} else {
			fputs(help, stderr);
			exit(EX_USAGE);
		}
		argc--;
		argv++;
	} else {
		free(nv);
		return;
	}
	for (i = 1; i < argc; i++)
		nv[n++] = argv[i];
	nv[n] = NULL;
	*argcp = n;
	*argvp = nv;
}

/*
 * Before the reader writes the message: create the entry in tmp/ with
 * its head.  Queueing that cannot start is a temporary failure only with
 * -odq; otherwise the mail is still sent, unqueued.
 */
void
queue_begin(struct send *s)
{
	struct spool_head	 h;
	char			 buf[1024], err[1024];
	const char		*dir;
	int			 i;

	s->qfd = -1;
	if (!(s->cl.queue_only || s->cl.queue == QUEUE_ON ||
	    (s->cl.queue == QUEUE_CONFIG && s->acc->queue)))
		return;
	/*
	 * A system account's mail never goes to the user's own queue: a
	 * later flush by the user would have no access to its secret.
	 */
	if (sysmode_is_system(s->acc)) {
		sysqueue_begin(s);
		return;
	}
	dir = spool_dir(s->cl.queue_dir != NULL ? s->cl.queue_dir :
	    s->acc->queue_dir, buf, sizeof(buf));
	for (i = 0; i < s->cl.argc; i++)
		if (!spool_field_ok(s->cl.argv[i], 1))
			die(EX_USAGE, "an argument with a control character "
			    "cannot be queued");
	if (spool_open(&s->sp, dir, 1, err, sizeof(err)) == -1)
		goto fail;
	if ((s->qfd = spool_create(&s->sp, s->qid)) == -1) {
		snprintf(err, sizeof(err), "%s/tmp: %s", dir, strerror(errno));
		goto fail;
	}
	memset(&h, 0, sizeof(h));
	h.account = s->acc->id != NULL ? s->acc->id : empty;
	h.conffile = s->acc->conffile != NULL ? s->acc->conffile : empty;
	h.argv = s->cl.argv;
	h.argc = (size_t)s->cl.argc;
	h.time = (uint64_t)time(NULL);
	h.uid = (uint64_t)getuid();
	h.from = s->from;
	h.rcpts = s->rcpts;
	h.nrcpt = s->nrcpt;
	if (spool_write_head(s->qfd, &h) == -1) {
		snprintf(err, sizeof(err), "cannot write the queue entry: %s",
		    strerror(errno));
		close(s->qfd);
		s->qfd = -1;
		spool_discard(&s->sp, s->qid);
		goto fail;
	}
	s->queueing = 1;
	return;
fail:
	if (s->cl.queue_only)
		die(EX_TEMPFAIL, "%s", err);
	log_warnx("%s; the mail is not queued", err);
}

/* Give the reader the entry: it appends the message and its checksum. */
void
queue_handoff(struct send *s)
{
	struct ipc_buf	 b;
	int		 fd;

	if ((fd = dup(s->qfd)) == -1)
		fatal("dup");
	ipc_buf_init(&b);
	ipc_buf_u32(&b, s->cl.queue_only ? 0 : R_SPOOL_SEND);
	child_send(&s->reader, MSG_R_SPOOL, fd, &b);
}

static int
commit(struct send *s)
{
	if (sysmode_is_system(s->acc))
		return sysqueue_commit(s);
	if (spool_commit(&s->sp, s->qid, s->qfd) == -1) {
		log_warn("cannot commit queue entry %s", s->qid);
		spool_discard(&s->sp, s->qid);
		return -1;
	}
	close(s->qfd);
	s->qfd = -1;
	return 0;
}

static void
discard(struct send *s)
{
	if (s->qfd != -1) {
		close(s->qfd);
		s->qfd = -1;
	}
	if (!sysmode_is_system(s->acc))
		spool_discard(&s->sp, s->qid);
}

static void
log_queued(struct send *s, int code, const char *why)
{
	struct maillog	 l;
	char		 msg[1300];

	snprintf(msg, sizeof(msg), "queued as %s%s%s", s->qid,
	    why != NULL && *why != '\0' ? ": " : "", why != NULL ? why : "");
	memset(&l, 0, sizeof(l));
	l.from = s->from;
	l.rcpts = s->rcpts;
	l.nrcpt = s->nrcpt;
	l.exitcode = code;
	l.errmsg = msg;
	maillog_write(s->acc, &l);
}

/* -odq: no connection; the entry is committed once the reader is done. */
int
queue_only(struct send *s)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		 msg[1024], why[512];
	uint64_t	 a, b;
	int		 code = EX_SOFTWARE;

	strlcpy(msg, "the reader process went away", sizeof(msg));
	if (ipc_recv(&s->reader.ipc, &m) == 1) {
		ipc_cur_init(&c, &m);
		if (m.hdr.type == MSG_R_DONE && m.fd == -1 &&
		    ipc_cur_u64(&c, &a) == 0 && ipc_cur_u64(&c, &b) == 0 &&
		    ipc_cur_end(&c) == 0)
			code = EX_OK;
		else if (m.hdr.type == MSG_R_ERROR)
			parse_error(&m, &code, msg, sizeof(msg));
		else
			fatalx("unexpected message %u from the reader",
			    m.hdr.type);
	}
	if (proc_wait(&s->reader, why, sizeof(why)) != 0) {
		code = EX_SOFTWARE;
		strlcpy(msg, why, sizeof(msg));
	}
	if (code == EX_OK && commit(s) == 0) {
		log_warnx("queued as %s", s->qid);
		log_queued(s, EX_OK, NULL);
		return EX_OK;
	}
	discard(s);
	if (code == EX_OK) {
		code = EX_TEMPFAIL;
		strlcpy(msg, "cannot commit the queue entry", sizeof(msg));
	}
	log_warnx("%s", msg);
	log_warnx("could not queue mail");
	return code;
}

/*
 * After a send with the queue on.  Returns 1 when the mail was queued
 * (the caller exits 0), 0 when the entry was dropped.
 */
int
queue_finish(struct send *s, int code, const char *errmsg)
{
	struct spool_status	 st;
	char			 why[sizeof(st.error)];

	if (code != EX_OK && temporary(code) && s->r_done &&
	    s->r_code == EX_OK && commit(s) == 0) {
		if (errmsg != NULL && *errmsg != '\0')
			log_warnx("%s", errmsg);
		if (s->n_status != 0 && s->n_smtpmsg != NULL)
			log_warnx("server message: %s", s->n_smtpmsg);
		log_warnx("queued as %s", s->qid);
		log_queued(s, code, errmsg);
		memset(&st, 0, sizeof(st));
		if (s->n_status != 0 && s->n_smtpmsg != NULL)
			snprintf(why, sizeof(why), "%s", s->n_smtpmsg);
		else
			snprintf(why, sizeof(why), "%s", errmsg != NULL ?
			    errmsg : "");
		backoff(&st, why);
		if (!sysmode_is_system(s->acc))
			spool_status_write(&s->sp, s->qid, &st);
		return 1;
	}
	discard(s);
	return 0;
}

static time_t
lifetime(const struct account *a)
{
	char		*end;
	long long	 v;

	if (a == NULL || a->queue_lifetime == NULL)
		return LIFETIME_DEFAULT;
	v = strtoll(a->queue_lifetime, &end, 10);
	if (v <= 0 || end == a->queue_lifetime)
		return LIFETIME_DEFAULT;
	switch (*end) {
	case 'd':
		v *= 24;
		/* FALLTHROUGH */
	case 'h':
		v *= 60;
		/* FALLTHROUGH */
	case 'm':
		v *= 60;
		break;
	default:
		break;
	}
	return (time_t)v;
}

/* About 5, 10, 20, 40 minutes, then hourly, with up to 10% jitter. */
static void
backoff(struct spool_status *st, const char *error)
{
	time_t		 now = time(NULL), d = RETRY_MIN;
	unsigned	 i;

	st->attempts++;
	st->last = now;
	for (i = 1; i < st->attempts && d < RETRY_MAX; i++)
		d *= 2;
	if (d > RETRY_MAX)
		d = RETRY_MAX;
	st->next = now + d + (time_t)arc4random_uniform((uint32_t)d / 10 + 1);
	if (error != NULL)
		strlcpy(st->error, error, sizeof(st->error));
}

static void
json_str(FILE *fp, const char *s)
{
	const unsigned char	*p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/*
 * Read one entry whole.  An invalid one is moved to failed/ at once, with
 * the reason in its state, and never sent.
 */
static int
load(struct spool *sp, int which, const char *id, struct qent *e)
{
	char	 err[256];
	int	 fd, r;

	memset(e, 0, sizeof(*e));
	strlcpy(e->id, id, sizeof(e->id));
	if ((fd = spool_openentry(sp, which, id)) == -1)
		return -1;
	r = spool_read_head(fd, &e->h, err, sizeof(err));
	if (r == 0 && (r = spool_read_body(fd, &e->h, -1, &e->size, err,
	    sizeof(err))) != 0)
		spool_head_free(&e->h);
	close(fd);
	spool_status_read(sp, id, &e->st);
	if (r == 0)
		return 0;
	if (which == SPOOL_QUEUE) {
		log_warnx("queue entry %s is invalid (%s): moved to failed/",
		    id, err);
		snprintf(e->st.error, sizeof(e->st.error), "invalid entry: %s",
		    err);
		spool_status_write(sp, id, &e->st);
		spool_move(sp, id, SPOOL_QUEUE, SPOOL_FAILED);
	}
	return -1;
}

/*
 * A delivery status notice (RFC 3464) to the sender of a failed entry,
 * queued like any mail.  A notice is never noticed itself.
 */
static void
notify(struct spool *sp, const struct qent *e, const char *why)
{
	struct spool_head	 h;
	char			 id[SPOOL_IDLEN + 1], date[64], host[256];
	char			 boundary[320], *rcpt[1], *text = NULL;
	time_t			 now = time(NULL);
	off_t			 start;
	size_t			 i;
	int			 fd, broken, len;
	FILE			*fp;

	if (e->h.notice || *e->h.from == '\0')
		return;
	if ((fd = spool_create(sp, id)) == -1)
		return;
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "localhost", sizeof(host));
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
	    localtime(&now));
	snprintf(boundary, sizeof(boundary), "%s/%s", id, host);
	memset(&h, 0, sizeof(h));
	h.account = e->h.account;
	h.conffile = e->h.conffile;
	h.argv = e->h.argv;
	h.argc = e->h.argc;
	h.time = (uint64_t)now;
	h.uid = (uint64_t)getuid();
	h.from = empty;
	rcpt[0] = e->h.from;
	h.rcpts = rcpt;
	h.nrcpt = 1;
	h.notice = 1;
	if (spool_write_head(fd, &h) == -1 || spool_body_begin(fd, &start) ==
	    -1 || (fp = open_memstream(&text, &i)) == NULL)
		goto fail;
	fprintf(fp, "From: Mail Delivery System <%s>\r\nTo: <%s>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\nAuto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "postern on %s could not deliver your mail of %s\r\n"
	    "(queue entry %s) and has given up.\r\n\r\nReason: %s\r\n\r\n"
	    "--%s\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n",
	    e->h.from, e->h.from, date, boundary, boundary, host,
	    ctime((const time_t *)&(time_t){ (time_t)e->h.time }), e->id,
	    why, boundary, host, date);
	for (i = 0; i < e->h.nrcpt; i++)
		fprintf(fp, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed"
		    "\r\nStatus: %s\r\nDiagnostic-Code: smtp; %s\r\n",
		    e->h.rcpts[i], strncmp(why, "4", 1) == 0 ? "4.4.7" :
		    "5.0.0", why);
	fprintf(fp, "\r\n--%s--\r\n", boundary);
	if (fclose(fp) != 0)
		goto fail;
	/* ctime() ends its text with a newline: make it CRLF. */
	for (len = 0; text[len] != '\0'; len++)
		if (text[len] == '\n' && (len == 0 || text[len - 1] != '\r'))
			text[len] = ' ';
	if (write(fd, text, (size_t)len) != len ||
	    spool_body_end(fd, start, -1, &broken) == -1 ||
	    spool_commit(sp, id, fd) == -1)
		goto fail;
	free(text);
	close(fd);
	log_warnx("delivery notice to %s queued as %s", e->h.from, id);
	return;
fail:
	free(text);
	close(fd);
	spool_discard(sp, id);
}

static void
fail_entry(struct spool *sp, struct qent *e, const char *why, int notice)
{
	backoff(&e->st, why);
	spool_status_write(sp, e->id, &e->st);
	if (spool_move(sp, e->id, SPOOL_QUEUE, SPOOL_FAILED) == -1) {
		log_warn("cannot move %s to failed/", e->id);
		return;
	}
	log_warnx("%s: %s: moved to failed/", e->id, why);
	if (notice)
		notify(sp, e, why);
	e->done = 1;
}

static void
defer(struct spool *sp, struct qent *e, const char *why)
{
	backoff(&e->st, why);
	spool_status_write(sp, e->id, &e->st);
}

static int
nsend(struct child *c, uint32_t type, int fd, const struct ipc_buf *b)
{
	if (ipc_compose_buf(&c->ipc, type, fd, b) == -1 ||
	    ipc_flush(&c->ipc) == -1)
		return -1;
	return 0;
}

struct nres {
	uint32_t	 code, status, flags;
	uint64_t	 size;
	char		*smtpmsg, *errmsg;
};

static int
parse_result(struct ipc_msg *m, struct nres *r)
{
	struct ipc_cur	 c;

	memset(r, 0, sizeof(*r));
	ipc_cur_init(&c, m);
	if (m->hdr.type != MSG_N_RESULT || m->fd != -1 ||
	    ipc_cur_u32(&c, &r->code) == -1 ||
	    ipc_cur_u32(&c, &r->status) == -1 ||
	    ipc_cur_u32(&c, &r->flags) == -1 ||
	    ipc_cur_u64(&c, &r->size) == -1 ||
	    ipc_cur_str(&c, &r->smtpmsg) == -1 ||
	    ipc_cur_str(&c, &r->errmsg) == -1 || ipc_cur_end(&c) == -1 ||
	    r->code > 255 || r->status > 999)
		fatalx("bad message %u from the network process", m->hdr.type);
	if (r->smtpmsg != NULL)
		log_scrub(r->smtpmsg, 0);
	if (r->errmsg != NULL)
		log_scrub(r->errmsg, 0);
	return 0;
}

static void
nres_free(struct nres *r)
{
	free(r->smtpmsg);
	free(r->errmsg);
	memset(r, 0, sizeof(*r));
}

static void
log_entry(struct send *s, struct qent *e, int code, const struct nres *r,
    const char *errmsg)
{
	struct maillog	 l;

	memset(&l, 0, sizeof(l));
	l.from = e->h.from;
	l.rcpts = e->h.rcpts;
	l.nrcpt = e->h.nrcpt;
	l.exitcode = code;
	l.mailsize = r != NULL ? r->size : 0;
	l.smtpstatus = r != NULL ? (int)r->status : 0;
	l.smtpmsg = r != NULL ? r->smtpmsg : NULL;
	l.errmsg = code == EX_OK ? NULL : errmsg;
	maillog_write(s->acc, &l);
}

static void
stop_children(struct send *s)
{
	struct child	*c[3] = { &s->reader, &s->network, &s->secrets };
	char		 msg[512];
	int		 i;

	for (i = 0; i < 3; i++)
		if (c[i]->ipc.fd != -1) {
			ipc_clear(&c[i]->ipc);
			close(c[i]->ipc.fd);
			c[i]->ipc.fd = -1;
		}
	for (i = 0; i < 3; i++)
		if (proc_wait(c[i], msg, sizeof(msg)) != 0)
			log_warnx("%s", msg);
}

/* An entry offered to the network process, its reader not started. */
struct pend {
	struct qent	*e;
	int		 fd;	/* the entry, for the reader */
	int		 wr;	/* the body pipe's write end, for the reader */
};

static void
pend_drop(struct pend *pd)
{
	if (pd->fd != -1)
		close(pd->fd);
	if (pd->wr != -1)
		close(pd->wr);
	pd->fd = pd->wr = -1;
}

/*
 * Offer the first entry from v[*i] on that is not done and still there:
 * its envelope and the read end of a fresh pipe go to the network
 * process.  Returns 1, 0 when none is left, -1 when the network process
 * is gone.
 */
static int
offer(struct send *s, struct spool *sp, struct qent **v, size_t n,
    size_t *i, struct pend *pd)
{
	struct ipc_buf	 b;
	int		 p[2], fd = -1;
	size_t		 k;

	pd->fd = pd->wr = -1;
	for (; *i < n; (*i)++)
		if (!v[*i]->done && (fd = spool_openentry(sp, SPOOL_QUEUE,
		    v[*i]->id)) != -1)
			break;	/* otherwise purged meanwhile */
	if (*i >= n)
		return 0;
	pd->e = v[(*i)++];
	pd->fd = fd;
	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	pd->wr = p[1];
	ipc_buf_init(&b);
	ipc_buf_str(&b, pd->e->h.from);
	if (nsend(&s->network, MSG_N_FROM, -1, &b) == -1)
		goto broken;
	for (k = 0; k < pd->e->h.nrcpt; k++) {
		ipc_buf_init(&b);
		ipc_buf_str(&b, pd->e->h.rcpts[k]);
		if (nsend(&s->network, MSG_N_RCPT, -1, &b) == -1)
			goto broken;
	}
	ipc_buf_init(&b);
	/* The read end goes with the message, sent or not. */
	if (nsend(&s->network, MSG_N_BODY, p[0], &b) == -1) {
		pend_drop(pd);
		return -1;
	}
	return 1;
broken:
	close(p[0]);
	pend_drop(pd);
	return -1;
}

/*
 * One offered entry over the open session: the reader checks it into its
 * pipe, the network process gets the verdict.  When the verdict lets the
 * dot go, the next entry is offered at once (or the parent's side of the
 * channel is shut when none is left), so that with PIPELINING the dot
 * travels with the next envelope; this entry's result is still read and
 * acted on first.  Returns 1 with *next offered, 0 when none is left, -1
 * to stop.
 */
static int
send_entry(struct send *s, struct spool *sp, struct pend *pd,
    struct qent **v, size_t n, size_t *i, struct pend *next, int notice)
{
	struct qent	*e = pd->e;
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	struct nres	 r;
	char		 rmsg[1024], why[1400];
	uint64_t	 x, y;
	int		 rcode = EX_SOFTWARE, rdead = 0, offered = 0, broken;

	next->fd = next->wr = -1;
	ipc_buf_init(&b);
	if (nsend(&s->reader, MSG_R_ENTRY, pd->fd, &b) == -1 ||
	    nsend(&s->reader, MSG_R_PIPE, pd->wr, &b) == -1) {
		/*
		 * The reader is gone: close the pipe's write end still queued
		 * for it, or the network process would wait for the body.
		 */
		ipc_clear(&s->reader.ipc);
		rdead = 1;
	}
	pd->fd = pd->wr = -1;

	strlcpy(rmsg, "the reader process went away", sizeof(rmsg));
	if (!rdead && ipc_recv(&s->reader.ipc, &m) == 1) {
		ipc_cur_init(&c, &m);
		if (m.hdr.type == MSG_R_DONE && m.fd == -1 &&
		    ipc_cur_u64(&c, &x) == 0 && ipc_cur_u64(&c, &y) == 0 &&
		    ipc_cur_end(&c) == 0)
			rcode = EX_OK;
		else if (m.hdr.type == MSG_R_ERROR)
			parse_error(&m, &rcode, rmsg, sizeof(rmsg));
		else
			fatalx("unexpected message %u from the reader",
			    m.hdr.type);
	} else
		rdead = 1;
	ipc_buf_init(&b);
	if (nsend(&s->network, rcode == EX_OK ? MSG_N_BODY_OK :
	    MSG_N_BODY_ABORT, -1, &b) == -1)
		return -1;
	if (rcode == EX_OK && !rdead) {
		offered = offer(s, sp, v, n, i, next);
		if (offered == 0)
			shutdown(s->network.ipc.fd, SHUT_WR);
	}
	if (ipc_recv(&s->network.ipc, &m) != 1) {
		pend_drop(next);
		return -1;
	}
	parse_result(&m, &r);

	if (r.code == EX_OK && (r.flags & NRES_DATA_SENT)) {
		if (spool_remove(sp, e->id) == -1)
			log_warn("cannot remove %s from the queue", e->id);
		e->done = 1;
		log_entry(s, e, EX_OK, &r, NULL);
	} else if (rcode == EX_DATAERR) {
		/* The entry itself is bad: it never goes out. */
		snprintf(why, sizeof(why), "invalid entry: %s", rmsg);
		fail_entry(sp, e, why, 0);
		log_entry(s, e, EX_DATAERR, NULL, why);
	} else {
		if (r.status != 0 && r.smtpmsg != NULL)
			snprintf(why, sizeof(why), "%s (%s)", r.smtpmsg,
			    r.errmsg != NULL ? r.errmsg : "");
		else
			snprintf(why, sizeof(why), "%s", r.errmsg != NULL ?
			    r.errmsg : rcode != EX_OK ? rmsg : "failed");
		/*
		 * A refusal before the data leaves the reader with a closed
		 * pipe (EX_IOERR): the server's 5xx still decides.
		 */
		if (r.status >= 500 && r.status < 600)
			fail_entry(sp, e, why, notice);
		else
			defer(sp, e, why);
		log_entry(s, e, (int)r.code, &r, why);
	}
	broken = (r.flags & NRES_BROKEN) != 0;
	nres_free(&r);
	/* An entry offered but never started stays untouched. */
	if (broken || rdead || offered == -1) {
		pend_drop(next);
		return -1;
	}
	if (rcode == EX_OK)
		return offered;
	return offer(s, sp, v, n, i, next);
}

/* The entries of v over the open session, in order. */
static void
send_entries(struct send *s, struct spool *sp, struct qent **v, size_t n,
    int notice)
{
	struct pend	 cur, next;
	size_t		 i = 0;
	int		 r;

	r = offer(s, sp, v, n, &i, &cur);
	while (r == 1) {
		r = send_entry(s, sp, &cur, v, n, &i, &next, notice);
		cur = next;
	}
}

/*
 * One account: its configuration as the original command line chose it,
 * one connection, one login, one transaction per entry.
 */
static void
flush_group(struct spool *sp, struct qent **v, size_t n)
{
	struct send	 s;
	struct selector	 sel;
	struct ipc_msg	 m;
	struct nres	 r;
	struct qent	*e0 = v[0];
	char		 err[2048], **argv;
	int		 rc, sp2[2], notice;
	time_t		 now = time(NULL), life;
	size_t		 i, left;

	memset(&s, 0, sizeof(s));
	s.body[0] = s.body[1] = -1;
	s.reader.ipc.fd = s.network.ipc.fd = s.secrets.ipc.fd = -1;
	if ((argv = calloc(e0->h.argc + 2, sizeof(*argv))) == NULL)
		fatal("calloc");
	argv[0] = (char *)(uintptr_t)log_progname();
	for (i = 0; i < e0->h.argc; i++)
		argv[i + 1] = e0->h.argv[i];
	rc = cmdline_parse(&s.cl, (int)e0->h.argc + 1, argv, err, sizeof(err));
	config_init(&s.cf);
	if (rc == EX_OK && !s.cl.host)
		rc = config_load(&s.cf, s.cl.file, err, sizeof(err));
	if (rc == EX_OK) {
		memset(&sel, 0, sizeof(sel));
		sel.account = s.cl.host || *e0->h.account == '\0' ? NULL :
		    e0->h.account;
		sel.cmdline_host = s.cl.host;
		sel.envelope_from = e0->h.from;
		sel.need_from = 1;
		sel.override = s.cl.override;
		rc = config_select(&s.cf, &sel, &s.acc, err, sizeof(err));
	}
	if (rc == EX_OK && sysmode_is_system(s.acc)) {
		/* Never put there by postern: such mail goes to the system queue. */
		rc = SYSMODE_REFUSED;
		snprintf(err, sizeof(err), "account %s is an account of %s: "
		    "the user's queue does not send through it", s.acc->id,
		    CONF_SYSTEM_FILE);
	}
	if (rc == EX_OK)
		rc = account_finalize(s.acc, FIN_SENDMAIL, err, sizeof(err));
	free(argv);
	config_clear(&s.cf);
	if (rc != EX_OK) {
		log_warnx("%s: %s", e0->id, err);
		for (i = 0; i < n; i++)
			defer(sp, v[i], err);
		return;
	}
	life = lifetime(s.acc);
	notice = s.acc->queue_notify;
	for (i = 0, left = 0; i < n; i++) {
		if ((time_t)v[i]->h.time + life < now)
			fail_entry(sp, v[i], "expired: too long in the queue",
			    notice);
		else
			left++;
	}
	if (left == 0)
		return;

	if (s.acc->auth != NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2) ==
		    -1)
			fatal("socketpair");
		start_secrets(&s, sp2[0]);
		start_network(&s, sp2[1], N_MODE_BATCH, NULL);
	} else
		start_network(&s, -1, N_MODE_BATCH, NULL);
	hand_socket(&s);
	if (s.n_done) {
		log_warnx("%s", s.n_errmsg);
		for (i = 0; i < n; i++)
			if (!v[i]->done)
				defer(sp, v[i], s.n_errmsg);
		stop_children(&s);
		return;
	}
	if (ipc_recv(&s.network.ipc, &m) != 1) {
		stop_children(&s);
		return;
	}
	if (m.hdr.type != MSG_N_READY) {
		parse_result(&m, &r);
		snprintf(err, sizeof(err), "%s%s%s", r.errmsg != NULL ?
		    r.errmsg : "", r.smtpmsg != NULL ? ": " : "",
		    r.smtpmsg != NULL ? r.smtpmsg : "");
		log_warnx("%s", err);
		for (i = 0; i < n; i++)
			if (!v[i]->done)
				defer(sp, v[i], err);
		nres_free(&r);
		stop_children(&s);
		return;
	}
	proc_spawn(&s.reader, ROLE_READER, -1, -1, (char *[]){ NULL });
	send_entries(&s, sp, v, n, notice);
	/* Closing the channel ends the session with QUIT. */
	stop_children(&s);
	account_free(s.acc);
	cmdline_free(&s.cl);
}

static int
selected(const char *list, const char *id)
{
	const char	*p = list;
	size_t		 n = strlen(id);

	if (list == NULL || strcmp(list, "all") == 0)
		return 1;
	while (*p != '\0') {
		if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return 0;
}

/*
 * Options that change one mail but not the account or its connection:
 * entries that differ only in these share a session.
 */
static int
mail_only(char *const *argv, size_t argc, size_t *i)
{
	static const char *longs[] = { "--from", "--read-recipients",
	    "--read-envelope-from", "--queue", "--no-queue", "--queue-only",
	    "--queue-dir" };
	const char	*a = argv[*i];
	size_t		 n, j;

	if (strncmp(a, "--", 2) == 0) {
		n = strcspn(a, "=");
		for (j = 0; j < sizeof(longs) / sizeof(longs[0]); j++)
			if (strlen(longs[j]) == n && strncmp(a, longs[j], n) ==
			    0) {
				if ((strcmp(longs[j], "--from") == 0 ||
				    strcmp(longs[j], "--queue-dir") == 0) &&
				    a[n] == '\0' && *i + 1 < argc)
					(*i)++;
				return 1;
			}
		return 0;
	}
	if (a[0] != '-' || strchr("fFoBtim", a[1]) == NULL || a[1] == '\0')
		return 0;
	/* -f ADDR, -F NAME, -o X, -B X take an argument, maybe the next. */
	if (strchr("fFoB", a[1]) != NULL && a[2] == '\0' && *i + 1 < argc)
		(*i)++;
	return 1;
}

static char *
group_key(const struct spool_head *h)
{
	char	*k = NULL;
	size_t	 len = 0, i;
	FILE	*fp;

	if ((fp = open_memstream(&k, &len)) == NULL)
		fatal("open_memstream");
	/* Each field is marked, so that none is empty: "" ends the key. */
	fprintf(fp, "a%s%cc%s%c", h->account, 0, h->conffile, 0);
	for (i = 0; i < h->argc; i++)
		if (!mail_only(h->argv, h->argc, &i))
			fprintf(fp, "o%s%c", h->argv[i], 0);
	fputc(0, fp);
	fclose(fp);
	return k;
}

static int
key_eq(const char *a, const char *b)
{
	/* Fields are never empty; both keys end with an empty one. */
	for (;;) {
		if (strcmp(a, b) != 0)
			return 0;
		a += strlen(a) + 1;
		b += strlen(b) + 1;
		if (*a == '\0' && *b == '\0')
			return 1;
		if (*a == '\0' || *b == '\0')
			return 0;
	}
}

static int
do_flush(struct spool *sp, const struct cmdline *cl)
{
	struct qent	*e, **grp;
	char		**ids;
	size_t		 n, i, j, ng, valid = 0;
	time_t		 now = time(NULL);

	if (spool_lock(sp, 0) == -1) {
		if (errno == EWOULDBLOCK) {
			if (cl->debug)
				log_warnx("the queue is being flushed");
			return EX_OK;
		}
		log_warn("%s/lock", sp->path);
		return EX_TEMPFAIL;
	}
	spool_sweep_tmp(sp, TMP_MAXAGE);
	if (spool_list(sp, SPOOL_QUEUE, &ids, &n) == -1) {
		log_warn("%s", sp->path);
		return EX_TEMPFAIL;
	}
	if ((e = calloc(n + 1, sizeof(*e))) == NULL ||
	    (grp = calloc(n + 1, sizeof(*grp))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		if (!selected(cl->queue_arg, ids[i]))
			continue;
		if (load(sp, SPOOL_QUEUE, ids[i], &e[valid]) == -1)
			continue;
		if (cl->due && e[valid].st.next > now) {
			spool_head_free(&e[valid].h);
			continue;
		}
		e[valid].key = group_key(&e[valid].h);
		valid++;
	}
	/* Each group in arrival order of its first entry. */
	for (i = 0; i < valid; i++) {
		if (e[i].key == NULL)
			continue;
		for (ng = 0, j = i; j < valid; j++)
			if (e[j].key != NULL && key_eq(e[i].key, e[j].key))
				grp[ng++] = &e[j];
		flush_group(sp, grp, ng);
		for (j = 1; j < ng; j++) {
			free(grp[j]->key);
			grp[j]->key = NULL;
		}
		free(e[i].key);
		e[i].key = NULL;
	}
	for (i = 0; i < valid; i++)
		spool_head_free(&e[i].h);
	free(e);
	free(grp);
	spool_list_free(ids, n);
	spool_unlock(sp);
	return EX_OK;
}

static void
arrival(time_t t, char *buf, size_t bufsz)
{
	strftime(buf, bufsz, "%a %b %e %H:%M:%S", localtime(&t));
}

/* Postfix's mailq layout, so that what parses it parses this. */
static int
do_list(struct spool *sp, const struct cmdline *cl)
{
	struct qent	 e;
	const char	*fmt = cl->queue_arg != NULL ? cl->queue_arg : "";
	char		**ids, date[64];
	size_t		 n, i, j, count = 0;
	uint64_t	 total = 0;
	int		 which, json;

	which = strstr(fmt, "failed") != NULL ? SPOOL_FAILED : SPOOL_QUEUE;
	json = strstr(fmt, "json") != NULL;
	if (spool_list(sp, which, &ids, &n) == -1) {
		log_warn("%s", sp->path);
		return EX_TEMPFAIL;
	}
	for (i = 0; i < n; i++) {
		if (load(sp, which, ids[i], &e) == -1) {
			if (which == SPOOL_FAILED && !json)
				printf("%-10s  (unreadable entry)\n\n", ids[i]);
			continue;
		}
		if (json) {
			printf("{\"queue_name\":\"%s\",\"queue_id\":\"%s\","
			    "\"arrival_time\":%llu,\"message_size\":%llu,"
			    "\"attempts\":%u,\"next_try\":%lld,\"sender\":",
			    which == SPOOL_FAILED ? "failed" : "deferred",
			    e.id, (unsigned long long)e.h.time,
			    (unsigned long long)e.size, e.st.attempts,
			    (long long)e.st.next);
			json_str(stdout, e.h.from);
			printf(",\"recipients\":[");
			for (j = 0; j < e.h.nrcpt; j++) {
				printf("%s{\"address\":", j ? "," : "");
				json_str(stdout, e.h.rcpts[j]);
				if (e.st.error[0] != '\0') {
					printf(",\"delay_reason\":");
					json_str(stdout, e.st.error);
				}
				printf("}");
			}
			printf("]}\n");
		} else {
			if (count == 0)
				printf("-Queue ID-  --Size-- ----Arrival Time"
				    "---- -Sender/Recipient-------\n");
			arrival((time_t)e.h.time, date, sizeof(date));
			printf("%-10s%c %8llu %-20.20s %s\n", e.id,
			    which == SPOOL_FAILED ? '!' : ' ',
			    (unsigned long long)e.size, date,
			    *e.h.from != '\0' ? e.h.from : "MAILER-DAEMON");
			if (e.st.error[0] != '\0')
				printf("(%s)\n", e.st.error);
			for (j = 0; j < e.h.nrcpt; j++)
				printf("%41s%s\n", "", e.h.rcpts[j]);
			printf("\n");
		}
		count++;
		total += e.size;
		spool_head_free(&e.h);
	}
	if (!json) {
		if (count == 0)
			printf("Mail queue is empty\n");
		else
			printf("-- %llu Kbytes in %zu Request%s.\n",
			    (unsigned long long)(total + 1023) / 1024, count,
			    count == 1 ? "" : "s");
	}
	spool_list_free(ids, n);
	return EX_OK;
}

static int
do_show(struct spool *sp, const char *id)
{
	struct qent	 e;
	struct spool_head h;
	char		 err[256];
	int		 which, fd;
	size_t		 j;

	for (which = SPOOL_QUEUE; which <= SPOOL_FAILED; which++) {
		if (load(sp, which, id, &e) == -1)
			continue;
		printf("Queue-ID: %s%s\nSender: %s\n", id, which ==
		    SPOOL_FAILED ? " (failed)" : "", e.h.from);
		for (j = 0; j < e.h.nrcpt; j++)
			printf("Recipient: %s\n", e.h.rcpts[j]);
		printf("Account: %s\nAttempts: %u\n", e.h.account,
		    e.st.attempts);
		if (e.st.error[0] != '\0')
			printf("Last-Error: %s\n", e.st.error);
		printf("\n");
		fflush(stdout);
		spool_head_free(&e.h);
		if ((fd = spool_openentry(sp, which, id)) == -1 ||
		    spool_read_head(fd, &h, err, sizeof(err)) == -1)
			return EX_TEMPFAIL;
		spool_read_body(fd, &h, STDOUT_FILENO, NULL, err, sizeof(err));
		spool_head_free(&h);
		close(fd);
		return EX_OK;
	}
	log_warnx("%s: no such queue entry", id);
	return EX_NOINPUT;
}

/* Purge and retry never touch an entry while a flush may be sending it. */
static int
do_manage(struct spool *sp, const struct cmdline *cl)
{
	char	**ids;
	size_t	 n, i, hits = 0;
	int	 which, purge = cl->mode == MODE_QPURGE;

	if (cl->queue_arg == NULL || *cl->queue_arg == '\0') {
		log_warnx("which entries? give IDs separated by commas, or all");
		return EX_USAGE;
	}
	if (spool_lock(sp, 0) == -1) {
		log_warnx("the queue is being flushed; try again later");
		return EX_TEMPFAIL;
	}
	for (which = purge ? SPOOL_QUEUE : SPOOL_FAILED; which <= SPOOL_FAILED;
	    which++) {
		if (spool_list(sp, which, &ids, &n) == -1)
			continue;
		for (i = 0; i < n; i++) {
			if (!selected(cl->queue_arg, ids[i]))
				continue;
			if (purge) {
				if (unlinkat(which == SPOOL_QUEUE ?
				    sp->queuefd : sp->failedfd, ids[i], 0) ==
				    0) {
					unlinkat(sp->statefd, ids[i], 0);
					printf("%s removed\n", ids[i]);
					hits++;
				}
			} else if (spool_move(sp, ids[i], SPOOL_FAILED,
			    SPOOL_QUEUE) == 0) {
				unlinkat(sp->statefd, ids[i], 0);
				printf("%s back in the queue\n", ids[i]);
				hits++;
			}
		}
		spool_list_free(ids, n);
	}
	spool_unlock(sp);
	if (hits == 0 && strcmp(cl->queue_arg, "all") != 0) {
		log_warnx("%s: no such queue entry", cl->queue_arg);
		return EX_NOINPUT;
	}
	return EX_OK;
}

/* The queue_dir of the account the command line would choose, if any. */
static const char *
configured_dir(struct cmdline *cl, struct config *cf)
{
	struct selector	 sel;
	struct account	*a;
	char		 err[1024];

	if (cl->host || config_load(cf, cl->file, err, sizeof(err)) != EX_OK)
		return NULL;
	memset(&sel, 0, sizeof(sel));
	sel.account = cl->account;
	sel.envelope_from = cl->from;
	sel.override = cl->override;
	if (config_select(cf, &sel, &a, err, sizeof(err)) != EX_OK)
		return NULL;
	return a->queue_dir;
}

int
queue_command(struct cmdline *cl)
{
	struct spool	 sp;
	struct config	 cf;
	const char	*dir;
	char		 buf[1024], err[1024];
	int		 r;

	/* The user's entries of the system queue: listed after, purged first. */
	if (cl->mode == MODE_QPURGE && cl->queue_arg != NULL &&
	    sysqueue_purge(cl->queue_arg) > 0 &&
	    strcmp(cl->queue_arg, "all") != 0)
		return EX_OK;
	/*
	 * Which accounts are the system's, so that an entry of the user's
	 * queue naming one is refused, not sent without its secret.
	 */
	(void)sysmode_load_system(CONF_SYSTEM_FILE, err, sizeof(err));
	config_init(&cf);
	dir = cl->queue_dir;
	if (dir == NULL)
		dir = configured_dir(cl, &cf);
	dir = spool_dir(dir, buf, sizeof(buf));
	if (spool_open(&sp, dir, cl->mode == MODE_QFLUSH, err,
	    sizeof(err)) == -1) {
		if (errno == ENOENT && cl->mode == MODE_QLIST) {
			printf("Mail queue is empty\n");
			if (cl->queue_arg == NULL)
				sysqueue_list();
			return EX_OK;
		}
		if (errno == ENOENT && cl->mode == MODE_QFLUSH)
			return EX_OK;
		log_warnx("%s", err);
		return errno == ENOENT ? EX_NOINPUT : EX_TEMPFAIL;
	}
	config_clear(&cf);
	switch (cl->mode) {
	case MODE_QFLUSH:
		r = do_flush(&sp, cl);
		break;
	case MODE_QLIST:
		r = do_list(&sp, cl);
		if (cl->queue_arg == NULL)
			sysqueue_list();
		break;
	case MODE_QSHOW:
		r = do_show(&sp, cl->queue_arg);
		break;
	default:
		r = do_manage(&sp, cl);
		break;
	}
	spool_close(&sp);
	fflush(stdout);
	return r;
}

/*
 * After a mail went out with the queue on, the due entries of the same
 * account follow over the same session before QUIT, so that a queue fills
 * only while the server is away; other accounts' entries wait for the
 * timer.  The network process kept the session (NRES_KEPT) and takes the
 * entries as in a flush: each checked by a new reader on its own pipe.
 * When another flusher holds the lock, it sends them.
 */
void
queue_after_send(struct send *s)
{
	struct spool_head	 h;
	struct qent		*e, **v;
	char			**ids, *key;
	size_t			 n, i, valid = 0;
	time_t			 now = time(NULL), life;
	int			 notice;

	if (!(s->n_flags & NRES_KEPT) || s->sp.path == NULL ||
	    s->sp.dirfd == -1 || spool_lock(&s->sp, 0) == -1)
		return;
	if (spool_list(&s->sp, SPOOL_QUEUE, &ids, &n) == -1) {
		spool_unlock(&s->sp);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.account = s->acc->id != NULL ? s->acc->id : empty;
	h.conffile = s->acc->conffile != NULL ? s->acc->conffile : empty;
	h.argv = s->cl.argv;
	h.argc = (size_t)s->cl.argc;
	key = group_key(&h);
	if ((e = calloc(n + 1, sizeof(*e))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		if (strcmp(ids[i], s->qid) == 0 ||
		    load(&s->sp, SPOOL_QUEUE, ids[i], &e[valid]) == -1)
			continue;
		e[valid].key = group_key(&e[valid].h);
		if (e[valid].st.next > now || !key_eq(key, e[valid].key)) {
			free(e[valid].key);
			spool_head_free(&e[valid].h);
			continue;
		}
		valid++;
	}
	life = lifetime(s->acc);
	notice = s->acc->queue_notify;
	for (i = 0; i < valid; i++)
		if ((time_t)e[i].h.time + life < now)
			fail_entry(&s->sp, &e[i], "expired: too long in the "
			    "queue", notice);
	if (valid > 0) {
		/* The mail's reader is done: a new one checks the entries. */
		if (s->reader.ipc.fd != -1) {
			ipc_clear(&s->reader.ipc);
			close(s->reader.ipc.fd);
		}
		proc_spawn(&s->reader, ROLE_READER, -1, -1,
		    (char *[]){ NULL });
		if ((v = calloc(valid, sizeof(*v))) == NULL)
			fatal("calloc");
		for (i = 0; i < valid; i++)
			v[i] = &e[i];
		send_entries(s, &s->sp, v, valid, notice);
		free(v);
		/* Closing the channels ends the session with QUIT. */
		stop_children(s);
		s->n_flags &= ~NRES_KEPT;
	}
	for (i = 0; i < valid; i++) {
		free(e[i].key);
		spool_head_free(&e[i].h);
	}
	free(e);
	free(key);
	spool_list_free(ids, n);
	spool_unlock(&s->sp);
}
