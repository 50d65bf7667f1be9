/*
 * The auth process: the only holder of the expected credential.  It runs
 * passwordeval (or asks the terminal) once at start-up, keeps nothing but
 * digests of the user name and password, locks itself down, and then
 * answers each session's check over that session's own channel.
 *
 * After a failure, no answer to that session or to any other from the
 * same client address leaves before the failure delay has passed, so
 * guessing from many connections at once is as slow as guessing from one
 * address; a client elsewhere is not held up.  Across all addresses at
 * most FAIL_SLOTS failures are answered per delay: guessing from many
 * addresses stays bounded, and only other failures wait for it.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <readpassphrase.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ipc.h"
#include "passeval.h"
#include "log.h"
#include "posternd.h"
#include "sandbox.h"
#include "sha256.h"

#define EVAL_TIMEOUT	60
#define EVAL_MAXOUT	4096
#define DIGEST_LEN	SHA256_LEN
#define FAIL_SLOTS	16	/* failures answered per delay, all clients */
#define PEER_LEN	64

struct chan {
	TAILQ_ENTRY(chan)	 entry;
	struct ipc		 ipc;
	int			 pending;	/* a check is waiting */
	int64_t			 next_free;	/* after its last failure */
	char			 peer[PEER_LEN];
};

/* A client address with a failure whose delay has not passed yet. */
struct peer {
	TAILQ_ENTRY(peer)	 entry;
	int64_t			 next_free;
	char			 addr[PEER_LEN];
};

struct check {
	TAILQ_ENTRY(check)	 entry;
	struct chan		*chan;
	int			 ok;
	int64_t			 due;		/* 0: not scheduled yet */
};

static TAILQ_HEAD(, chan)	 chans = TAILQ_HEAD_INITIALIZER(chans);
static TAILQ_HEAD(, check)	 checks = TAILQ_HEAD_INITIALIZER(checks);
static unsigned char		 user_md[DIGEST_LEN], pass_md[DIGEST_LEN];
static TAILQ_HEAD(, peer)	 peers = TAILQ_HEAD_INITIALIZER(peers);
static const char		*user_name;
static int64_t			 slots[FAIL_SLOTS];
static unsigned int		 delay_ms;

/* The library's SHA-256: this process links no crypto library. */
static void
digest(const void *p, size_t len, unsigned char *md)
{
	struct sha256	 ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, p, len);
	sha256_final(&ctx, md);
	explicit_bzero(&ctx, sizeof(ctx));
}

static __dead void
startup_error(struct ipc *parent, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static __dead void
startup_error(struct ipc *parent, const char *fmt, ...)
{
	struct ipc_buf	 b;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ipc_buf_init(&b);
	ipc_buf_str(&b, msg);
	if (ipc_compose_buf(parent, MSG_A_ERROR, -1, &b) == 0)
		(void)ipc_flush(parent);
	exit(EX_CONFIG);
}

static void
configure(struct ipc *parent)
{
	struct ipc_msg	 m;
	struct a_config	 ac;
	char		*pass;
	char		 buf[1024];

	if (ipc_recv(parent, &m) != 1 || m.hdr.type != MSG_A_CONFIG ||
	    m.fd != -1)
		fatalx("expected the configuration");
	if (a_config_get(&m, &ac) == -1)
		fatalx("bad configuration message");
	delay_ms = ac.delay;

	/* As msmtpd: the first line of the command's output. */
	if (ac.passwordeval != NULL) {
		if ((pass = password_eval(ac.passwordeval, PASSEVAL_FIRSTLINE,
		    EVAL_TIMEOUT, EVAL_MAXOUT, buf, sizeof(buf))) == NULL)
			startup_error(parent, "%s", buf);
	} else {
		snprintf(buf, sizeof(buf), "password for %s: ", ac.user);
		if ((pass = malloc(1024)) == NULL)
			fatal("malloc");
		if (readpassphrase(buf, pass, 1024, RPP_REQUIRE_TTY) == NULL)
			startup_error(parent, "--auth=%s: no passwordeval "
			    "command and no terminal to ask for the password",
			    ac.user);
	}
	digest(ac.user, strlen(ac.user), user_md);
	digest(pass, strlen(pass), pass_md);
	freezero(pass, strlen(pass) + 1);
	/* The user name is kept for the authorization identity. */
	user_name = ac.user;
	ac.user = NULL;

	if (*ac.chroot != '\0')
		sandbox_leak_check();	/* it needs /proc */
	if (*ac.chroot != '\0' &&
	    (chroot(ac.chroot) == -1 || chdir("/") == -1))
		fatal("chroot %s", ac.chroot);
	if (*ac.chroot != '\0' &&
	    (setgroups(0, NULL) == -1 ||
	    setresgid((gid_t)ac.gid, (gid_t)ac.gid, (gid_t)ac.gid) == -1 ||
	    setresuid((uid_t)ac.uid, (uid_t)ac.uid, (uid_t)ac.uid) == -1))
		fatal("cannot drop privileges");
	/* A change of user clears the tie. */
	if (*ac.chroot != '\0')
		role_tie_to_listener();
	a_config_clear(&ac);
}

/* Every byte looked at, whatever the first difference. */
static int
digest_equal(const unsigned char *a, const unsigned char *b)
{
	unsigned char	 d = 0;
	size_t		 i;

	for (i = 0; i < DIGEST_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* Constant time over what the client controls: compare digests. */
static int
verify(const unsigned char *authzid, size_t zlen, const unsigned char *u,
    size_t ulen, const unsigned char *p, size_t plen)
{
	unsigned char	 md[DIGEST_LEN];
	int		 ok;

	digest(u, ulen, md);
	ok = digest_equal(md, user_md);
	digest(p, plen, md);
	ok &= digest_equal(md, pass_md);
	explicit_bzero(md, sizeof(md));
	/* An authorization identity, if any, may only be the user itself. */
	if (zlen > 0 && (zlen != strlen(user_name) ||
	    memcmp(authzid, user_name, zlen) != 0))
		ok = 0;
	return ok;
}

static void
chan_close(struct chan *ch)
{
	struct check	*k, *nk;

	TAILQ_FOREACH_SAFE(k, &checks, entry, nk)
		if (k->chan == ch) {
			TAILQ_REMOVE(&checks, k, entry);
			free(k);
		}
	ipc_clear(&ch->ipc);
	close(ch->ipc.fd);
	TAILQ_REMOVE(&chans, ch, entry);
	free(ch);
}

/* Returns -1 when the session broke the protocol. */
static int
chan_msg(struct chan *ch, struct ipc_msg *m)
{
	struct ipc_cur		 c;
	struct check		*k;
	const unsigned char	*z, *u, *p;
	size_t			 zl, ul, pl;

	if (m->fd != -1) {
		close(m->fd);
		return -1;
	}
	if (m->hdr.type != MSG_A_CHECK || ch->pending)
		return -1;
	ipc_cur_init(&c, m);
	if (ipc_cur_bytes(&c, &z, &zl) == -1 ||
	    ipc_cur_bytes(&c, &u, &ul) == -1 ||
	    ipc_cur_bytes(&c, &p, &pl) == -1 || ipc_cur_end(&c) == -1)
		return -1;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("calloc");
	k->chan = ch;
	k->ok = verify(z, zl, u, ul, p, pl);
	ch->pending = 1;
	TAILQ_INSERT_TAIL(&checks, k, entry);
	return 0;
}

static void
chan_io(struct chan *ch, short revents)
{
	struct ipc_msg	 m;
	ssize_t		 n;
	int		 r;

	if ((revents & POLLOUT) && ipc_write(&ch->ipc) == -1) {
		chan_close(ch);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((n = ipc_read(&ch->ipc)) == -1) {
		if (errno != EAGAIN)
			chan_close(ch);
		return;
	}
	while ((r = ipc_get(&ch->ipc, &m)) == 1)
		if (chan_msg(ch, &m) == -1) {
			chan_close(ch);
			return;
		}
	/* The checked bytes held a password: do not leave them around. */
	explicit_bzero(ch->ipc.rbuf, ch->ipc.roff);
	if (r == -1 || n == 0)
		chan_close(ch);
}

static void
parent_io(struct ipc *parent)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	struct chan	*ch;
	char		 peer[PEER_LEN];
	ssize_t		 n;
	int		 r;

	if ((n = ipc_read(parent)) == -1) {
		if (errno == EAGAIN)
			return;
		fatal("auth: channel to the listener");
	}
	if (n == 0)
		exit(EX_OK);
	while ((r = ipc_get(parent, &m)) == 1) {
		switch (m.hdr.type) {
		case MSG_A_SESSION:
			ipc_cur_init(&c, &m);
			if (m.fd == -1 || ipc_cur_strbuf(&c, peer,
			    sizeof(peer)) == -1 || ipc_cur_end(&c) == -1)
				fatalx("auth: bad session message");
			if ((ch = calloc(1, sizeof(*ch))) == NULL)
				fatal("calloc");
			strlcpy(ch->peer, peer, sizeof(ch->peer));
			ipc_init(&ch->ipc, m.fd);
			(void)fcntl(m.fd, F_SETFL, O_NONBLOCK);
			TAILQ_INSERT_TAIL(&chans, ch, entry);
			break;
		default:
			fatalx("auth: unexpected message %u", m.hdr.type);
		}
	}
	if (r == -1)
		fatal("auth: channel to the listener");
}

/* The address's entry, made when make is set; old ones go on the way. */
static struct peer *
peer_find(const char *addr, int64_t now, int make)
{
	struct peer	*p, *np;

	TAILQ_FOREACH_SAFE(p, &peers, entry, np) {
		if (strcmp(p->addr, addr) == 0)
			return p;
		if (p->next_free <= now) {
			TAILQ_REMOVE(&peers, p, entry);
			free(p);
		}
	}
	if (!make)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	strlcpy(p->addr, addr, sizeof(p->addr));
	TAILQ_INSERT_TAIL(&peers, p, entry);
	return p;
}

/*
 * When a check may be answered: after the delay of its session's and its
 * address's last failures; a failure also after a free slot, and it moves
 * all three on by the delay.
 */
static int64_t
schedule(struct check *k, int64_t now)
{
	struct chan	*ch = k->chan;
	struct peer	*p;
	int64_t		 due = now;
	size_t		 i, s = 0;

	/* An unknown address (a unix socket, inetd) is one address. */
	p = peer_find(ch->peer, now, !k->ok);
	if (ch->next_free > due)
		due = ch->next_free;
	if (p != NULL && p->next_free > due)
		due = p->next_free;
	if (k->ok)
		return due;
	for (i = 1; i < FAIL_SLOTS; i++)
		if (slots[i] < slots[s])
			s = i;
	if (slots[s] > due)
		due = slots[s];
	due += delay_ms;
	slots[s] = ch->next_free = p->next_free = due;
	return due;
}

/* Send every answer that is due; returns ms until the next one, or -1. */
static int
answer(void)
{
	struct check	*k, *nk;
	struct ipc_buf	 b;
	int64_t		 now = now_ms(), next = -1;

	TAILQ_FOREACH_SAFE(k, &checks, entry, nk) {
		if (k->due == 0)
			k->due = schedule(k, now);
		if (k->due > now) {
			if (next == -1 || k->due - now < next)
				next = k->due - now;
			continue;
		}
		ipc_buf_init(&b);
		ipc_buf_u32(&b, k->ok ? 1 : 0);
		k->chan->pending = 0;
		if (ipc_compose_buf(&k->chan->ipc, MSG_A_ANSWER, -1, &b) == -1)
			fatal("ipc_compose");
		ipc_write(&k->chan->ipc);
		TAILQ_REMOVE(&checks, k, entry);
		free(k);
	}
	return (int)next;
}

int
auth_main(void)
{
	struct ipc	 parent;
	struct pollfd	*pfd = NULL;
	struct chan	*ch, *nch;
	size_t		 n, cap = 0, i;
	int		 timeout, null;

	log_procname("auth");
	sandbox_closefrom(FD_PARENT + 1);
	/* A session gone mid-answer is no reason to stop answering. */
	signal(SIGPIPE, SIG_IGN);
	ipc_init(&parent, FD_PARENT);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	configure(&parent);
	/*
	 * The terminal was only for the prompt, the daemon's stderr only for
	 * passwordeval and start-up errors.
	 */
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(null, STDERR_FILENO) == -1)
		fatal("dup2");
	close(null);
	if (ipc_send(&parent, MSG_A_READY, -1, NULL, 0) == -1)
		fatal("auth: send");
	sandbox_lockdown(ROLE_AUTH);
	(void)fcntl(FD_PARENT, F_SETFL, O_NONBLOCK);

	for (;;) {
		timeout = answer();
		n = 1;
		TAILQ_FOREACH(ch, &chans, entry)
			n++;
		if (n > cap) {
			cap = n * 2;
			if ((pfd = reallocarray(pfd, cap, sizeof(*pfd))) ==
			    NULL)
				fatal("reallocarray");
		}
		pfd[0].fd = FD_PARENT;
		pfd[0].events = POLLIN;
		i = 1;
		TAILQ_FOREACH(ch, &chans, entry) {
			pfd[i].fd = ch->ipc.fd;
			pfd[i].events = POLLIN | (ch->ipc.queued ? POLLOUT : 0);
			i++;
		}
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		i = 1;
		TAILQ_FOREACH_SAFE(ch, &chans, entry, nch) {
			if (i >= n)
				break;
			if (pfd[i].revents)
				chan_io(ch, pfd[i].revents);
			i++;
		}
		if (pfd[0].revents)
			parent_io(&parent);
	}
}
