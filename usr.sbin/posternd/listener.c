/*
 * The listener: binds (or takes its sockets from inetd or systemd), keeps
 * the session limit, starts the session server and the auth process, has
 * the session server fork one session per connection, and runs the
 * delivery command (delivery.c) for each message a session has received
 * whole.  It never reads a byte of SMTP: everything it hears from a
 * session is a framed message, checked field by field, and a session
 * that breaks the protocol is killed.  Its start-up is listener_setup.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "listener.h"

#define KILL_GRACE	60000		/* ms past the session's own deadline */

struct listener			 L;	/* bss: two channels of 128 KB */
struct sessionq			 sessions = TAILQ_HEAD_INITIALIZER(sessions);
static unsigned int		 nsessions;
static uint32_t			 nextid;
static volatile sig_atomic_t	 got_chld, got_term;

/* msmtpd's log format, so existing log watchers keep working. */
void
plog(pid_t pid, int prio, const char *fmt, ...)
{
	char		 msg[2048], line[2200], stamp[32];
	va_list		 ap;
	time_t		 t;
	struct tm	 tm;
	int		 n;

	if (L.conf->logmode == LOGTO_NONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (L.conf->logmode == LOGTO_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s posternd[%ld] %s: %s\n", stamp,
	    (long)(pid ? pid : getpid()), prio <= LOG_ERR ? "error" : "info",
	    msg);
	if (n > 0 && write(L.logfd, line, (size_t)n < sizeof(line) ?
	    (size_t)n : sizeof(line) - 1) == -1)
		return;
}

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static void
peer_name(int fd, char *buf, size_t bufsz)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[NI_MAXHOST];
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	buf[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return;
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
	    NULL, 0, NI_NUMERICHOST) != 0)
		return;
	if (ss.ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		strlcpy(buf, "IPv6:", bufsz);
		strlcat(buf, host, bufsz);
	} else if (ss.ss_family == AF_INET6)
		strlcpy(buf, host + 7, bufsz);	/* ::ffff: */
	else
		strlcpy(buf, host, bufsz);
}

void
session_reset(struct session *s)
{
	size_t	 i;

	free(s->from);
	s->from = NULL;
	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpt = 0;
	if (s->memfd != -1)
		close(s->memfd);
	s->memfd = -1;
	s->state = S_IDLE;
}

/*
 * Whether the session server named a process the listener may take for a
 * new session: a child of its own (the server forks with CLONE_PARENT),
 * not reaped, and not one it knows already.  A server that lies could
 * otherwise have the listener signal any process.
 */
static int
new_child(pid_t pid)
{
	struct session	*s;
	struct delivery	*d;
	siginfo_t	 si;

	if (pid <= 0 || pid == L.srvpid || pid == L.authpid)
		return 0;
	TAILQ_FOREACH(s, &sessions, entry)
		if (s->pid == pid)
			return 0;
	TAILQ_FOREACH(d, &deliveries, entry)
		if (d->pid == pid)
			return 0;
	/* WNOWAIT: reap() still collects it when it ends. */
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/*
 * Have the session server fork a session on this connection.  The answer
 * comes at once (the server does nothing but fork), so the listener waits
 * for it: a session is known by its process id before it can end.
 * Every descriptor given is the server's to close.
 */
static pid_t
request_session(int chan, int in, int out, int authfd, const char *peer)
{
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	uint32_t	 pid;

	if (authfd != -1 && ipc_compose(&L.srvipc, MSG_Z_AUTH, 0, authfd, NULL,
	    0) == -1)
		fatal("ipc_compose");
	if (ipc_compose(&L.srvipc, MSG_Z_CLIENT, 0, in, NULL, 0) == -1 ||
	    (out != -1 && ipc_compose(&L.srvipc, MSG_Z_CLIENT_OUT, 0, out,
	    NULL, 0) == -1))
		fatal("ipc_compose");
	ipc_buf_init(&b);
	ipc_buf_str(&b, peer);
	if (ipc_compose_buf(&L.srvipc, MSG_Z_FORK, chan, &b) == -1)
		fatal("ipc_compose");
	if (ipc_flush(&L.srvipc) == -1)
		fatal("session server");
	if (ipc_recv(&L.srvipc, &m) != 1)
		fatalx("session server ended");
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_Z_FORKED || m.fd != -1 ||
	    ipc_cur_u32(&c, &pid) == -1 || ipc_cur_end(&c) == -1 ||
	    pid > INT_MAX)
		fatalx("session server: bad message %u", m.hdr.type);
	if (pid == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (!new_child((pid_t)pid))
		fatalx("session server: process %u is no new session", pid);
	return (pid_t)pid;
}

static void
session_start(int in, int out, const char *peer)
{
	struct session	*s;
	int		 sp[2], ap[2] = { -1, -1 }, cin = -1, cout = -1;

	/*
	 * Not calloc: the channel's 128 KB read buffer needs no zeroes, and
	 * clearing it for every connection was most of the listener's work.
	 */
	if ((s = malloc(sizeof(*s))) == NULL)
		goto refuse;
	memset(s, 0, offsetof(struct session, ipc));
	s->memfd = -1;
	s->id = ++nextid;
	strlcpy(s->peer, peer, sizeof(s->peer));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		free(s);
		goto refuse;
	}
	if ((L.conf->auth_user != NULL &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ap) == -1) ||
	    (cin = fcntl(in, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (out != in && (cout = fcntl(out, F_DUPFD_CLOEXEC, 10)) == -1)) {
		close(sp[0]);
		close(sp[1]);
		if (ap[0] != -1) {
			close(ap[0]);
			close(ap[1]);
		}
		if (cin != -1)
			close(cin);
		free(s);
		goto refuse;
	}
	if ((s->pid = request_session(sp[1], cin, cout, ap[1], s->peer)) ==
	    -1) {
		close(sp[0]);
		if (ap[0] != -1)
			close(ap[0]);
		free(s);
		goto refuse;
	}
	(void)fcntl(sp[0], F_SETFL, O_NONBLOCK);
	if (ap[0] != -1) {
		struct ipc_buf	 b;

		/* The auth process delays failures per client address. */
		ipc_buf_init(&b);
		ipc_buf_str(&b, s->peer);
		if (ipc_compose_buf(&L.authipc, MSG_A_SESSION, ap[0], &b) == -1)
			fatal("ipc_compose");
		ipc_write(&L.authipc);
	}
	ipc_init(&s->ipc, sp[0]);
	s->open = 1;
	s->kill_at = now_ms() + (int64_t)L.conf->session_timeout * 1000 +
	    KILL_GRACE;
	nsessions++;
	TAILQ_INSERT_TAIL(&sessions, s, entry);

	if (give_memfd(s) == -1)
		kill(s->pid, SIGKILL);
	ipc_write(&s->ipc);
	plog(s->pid, LOG_INFO, "connection from %s, active sessions %u "
	    "(max %u)", peer[0] ? peer : "unknown", nsessions,
	    L.conf->max_sessions);
	return;
refuse:
	plog(0, LOG_ERR, "cannot start a session: %s", strerror(errno));
	(void)send(out, "421 4.3.2 Cannot start a session, try again "
	    "later\r\n", 51, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
session_kill(struct session *s, const char *why)
{
	plog(s->pid, LOG_ERR, "session %u: %s, session killed", s->id, why);
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	if (s->open) {
		ipc_clear(&s->ipc);
		close(s->ipc.fd);
		s->open = 0;
	}
	if (s->state != S_DELIVER)
		session_reset(s);
}

static void
session_free_if_done(struct session *s)
{
	if (s->pid != 0 || s->open)
		return;
	if (s->dlv != NULL)
		s->dlv->s = NULL;
	session_reset(s);
	TAILQ_REMOVE(&sessions, s, entry);
	free(s);
}

void
send_result(struct session *s, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void
send_result(struct session *s, uint32_t code, const char *fmt, ...)
{
	struct ipc_buf	 b;
	char		 text[256];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!s->open)
		return;
	ipc_buf_init(&b);
	ipc_buf_u32(&b, code);
	ipc_buf_str(&b, text);
	if (ipc_compose_buf(&s->ipc, MSG_S_RESULT, -1, &b) == -1)
		fatal("ipc_compose");
	ipc_write(&s->ipc);
}

/* Without its session server or auth process the daemon cannot serve. */
static __dead void
child_lost(const char *name, int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		fatalx("%s ended: killed by its sandbox (forbidden system "
		    "call)", name);
	if (WIFSIGNALED(status))
		fatalx("%s ended: killed by signal %d", name,
		    WTERMSIG(status));
	fatalx("%s ended: exited with status %d", name, WEXITSTATUS(status));
}

/*
 * Something on the auth process's channel: a message it never sends, or
 * its end, which comes before its exit status.  Either way it is lost;
 * say how it ended when that was not this kill (its sandbox's, say).
 */
static __dead void
auth_lost(void)
{
	int	 status;

	(void)kill(L.authpid, SIGKILL);
	while (waitpid(L.authpid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("auth process");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		fatalx("auth process: unexpected message or end");
	child_lost("auth process", status);
}

static void
reap(void)
{
	struct session	*s;
	struct delivery	*d;
	int		 status;
	pid_t		 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == L.authpid || pid == L.srvpid)
			child_lost(pid == L.authpid ? "auth process" :
			    "session server", status);
		if ((d = delivery_find(pid)) != NULL) {
			delivery_done(d, status);
			continue;
		}
		TAILQ_FOREACH(s, &sessions, entry)
			if (s->pid == pid)
				break;
		if (s == NULL)
			continue;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
			plog(pid, LOG_ERR, "session %u: killed by its sandbox "
			    "(forbidden system call)", s->id);
		else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			plog(pid, LOG_ERR, "session %u: killed by signal %d",
			    s->id, WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			plog(pid, LOG_ERR, "session %u: exited with status %d",
			    s->id, WEXITSTATUS(status));
		s->pid = 0;
		nsessions--;
		session_free_if_done(s);
	}
}

/* One message from a session.  Returns -1 if the session broke the rules. */
static int
session_msg(struct session *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	char		*str = NULL, **nr;
	char		 safe[1024];
	uint32_t	 prio;
	uint64_t	 size;

	ipc_cur_init(&c, m);
	if (m->fd != -1) {
		close(m->fd);
		return -1;
	}
	switch (m->hdr.type) {
	case MSG_S_LOG:
		if (ipc_cur_u32(&c, &prio) == -1 ||
		    ipc_cur_str(&c, &str) == -1 || str == NULL ||
		    ipc_cur_end(&c) == -1)
			goto bad;
		log_sanitize(safe, sizeof(safe), str, strlen(str));
		plog(s->pid, prio == LOG_ERR ? LOG_ERR : LOG_INFO,
		    "session %u: %s", s->id, safe);
		free(str);
		return 0;
	case MSG_S_FROM:
		if (s->state != S_IDLE ||
		    ipc_cur_str(&c, &str) == -1 || str == NULL ||
		    ipc_cur_end(&c) == -1 ||
		    !rfc5321_mailbox(str, PATH_NULLOK | PATH_LOCALOK) ||
		    str[0] == '-')
			goto bad;
		s->from = str;
		s->state = S_ENVELOPE;
		return 0;
	case MSG_S_RCPT:
		if (s->state != S_ENVELOPE ||
		    s->nrcpt >= L.conf->max_recipients ||
		    ipc_cur_str(&c, &str) == -1 || str == NULL ||
		    ipc_cur_end(&c) == -1 ||
		    !rfc5321_mailbox(str, PATH_LOCALOK) ||
		    (str[0] == '-' && !delivery_dashdash()))
			goto bad;
		if ((nr = reallocarray(s->rcpts, s->nrcpt + 1,
		    sizeof(*nr))) == NULL)
			fatal("reallocarray");
		s->rcpts = nr;
		s->rcpts[s->nrcpt++] = str;
		return 0;
	case MSG_S_DATA_END:
		if (s->state != S_ENVELOPE || s->nrcpt == 0 ||
		    s->memfd == -1 || ipc_cur_u64(&c, &size) == -1 ||
		    ipc_cur_end(&c) == -1)
			goto bad;
		deliver(s);
		return 0;
	case MSG_S_DATA_ABORT:
		if (s->state != S_IDLE || ipc_cur_end(&c) == -1)
			goto bad;
		next_message(s);
		return 0;
	default:
		goto bad;
	}
bad:
	free(str);
	return -1;
}

static void
session_io(struct session *s, short revents)
{
	struct ipc_msg	 m;
	ssize_t		 n;
	int		 r;

	/*
	 * A session may end right after its last reply, with the file for
	 * its next message still on the way: a write it can no longer read
	 * is the end of the channel (read below), not a fault.
	 */
	if ((revents & POLLOUT) && ipc_write(&s->ipc) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		session_kill(s, "channel write failed");
		goto done;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((n = ipc_read(&s->ipc)) == -1) {
		if (errno == EAGAIN)
			return;
		session_kill(s, "channel read failed");
		goto done;
	}
	while ((r = ipc_get(&s->ipc, &m)) == 1) {
		if (session_msg(s, &m) == -1) {
			session_kill(s, "protocol violation");
			goto done;
		}
		if (!s->open)
			goto done;	/* killed over that message */
	}
	if (r == -1) {
		session_kill(s, "framing violation");
		goto done;
	}
	if (n == 0) {
		/* The session is gone; a message not yet whole dies with it. */
		ipc_clear(&s->ipc);
		close(s->ipc.fd);
		s->open = 0;
		if (s->state != S_DELIVER)
			session_reset(s);
	}
done:
	/* Reaped already (its exit can come first): nothing is left of it. */
	session_free_if_done(s);
}

static void
accept_one(int lfd)
{
	int	 fd;
	char	 peer[sizeof(((struct session *)0)->peer)];
	static const char busy[] = "421 4.7.0 Too many sessions, try again "
	    "later\r\n";

	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				plog(0, LOG_ERR, "accept: %s", strerror(errno));
			return;
		}
		peer_name(fd, peer, sizeof(peer));
		/* Sessions that ended during this burst no longer count. */
		if (nsessions >= L.conf->max_sessions)
			reap();
		if (nsessions >= L.conf->max_sessions) {
			plog(0, LOG_ERR, "connection from %s refused: %u "
			    "sessions active", peer[0] ? peer : "unknown",
			    nsessions);
			(void)send(fd, busy, sizeof(busy) - 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		session_start(fd, fd, peer);
		close(fd);
	}
}


static void
shutdown_all(void)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->pid > 0)
			kill(s->pid, SIGTERM);
	if (L.authpid > 0)
		kill(L.authpid, SIGTERM);
	if (L.srvpid > 0)
		kill(L.srvpid, SIGTERM);
	plog(0, LOG_INFO, "terminating");
}

/*
 * The signals the loop waits for, blocked but while it polls (orig).  A
 * signal caught or ignored here goes into signals_changed() (command.c)
 * too, so that no child the listener starts gets its handler or SIG_IGN.
 */
static void
signals_setup(sigset_t *orig)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, orig);
}

/* Under inetd: the one session, on stdin and stdout.  -1 if refused. */
static int
inetd_start(void)
{
	char	 peer[sizeof(((struct session *)0)->peer)];
	int	 null;

	peer_name(STDIN_FILENO, peer, sizeof(peer));
	session_start(STDIN_FILENO, STDOUT_FILENO, peer);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 ||
	    dup2(null, STDOUT_FILENO) == -1)
		fatal("/dev/null");
	close(null);
	return TAILQ_EMPTY(&sessions) ? -1 : 0;
}

/*
 * Act on the deadlines that passed (commands, then sessions) and return
 * how long ppoll may sleep until the next one, or NULL for as long as it
 * takes.
 */
static struct timespec *
timers(struct timespec *ts)
{
	struct session	*s;
	int64_t		 now, next;

	now = now_ms();
	next = delivery_timers(now, -1);
	TAILQ_FOREACH(s, &sessions, entry) {
		if (s->pid > 0 && now >= s->kill_at) {
			session_kill(s, "session outlived its time limit");
			s->kill_at = INT64_MAX;
		} else if (s->pid > 0 && (next == -1 || s->kill_at < next))
			next = s->kill_at;
	}
	if (next == -1)
		return NULL;
	next = next > now ? next - now : 0;
	ts->tv_sec = next / 1000;
	ts->tv_nsec = (next % 1000) * 1000000;
	return ts;
}

/*
 * The poll set, in the order dispatch() walks it: the listening sockets,
 * the auth process's channel, then every open session's.
 */
static size_t
pollset(struct pollfd **pfdp, size_t *capp, size_t *nspollp)
{
	struct pollfd	*pfd;
	struct session	*s;
	size_t		 npfd, i;

	npfd = (size_t)L.nlisten + 1;
	TAILQ_FOREACH(s, &sessions, entry)
		npfd++;
	if (npfd > *capp) {
		*capp = npfd * 2;
		if ((*pfdp = reallocarray(*pfdp, *capp, sizeof(**pfdp))) ==
		    NULL)
			fatal("reallocarray");
	}
	pfd = *pfdp;
	npfd = 0;
	for (i = 0; i < (size_t)L.nlisten; i++) {
		pfd[npfd].fd = L.listenfd[i];
		pfd[npfd].events = POLLIN;
		npfd++;
	}
	if (L.authpid > 0) {
		pfd[npfd].fd = L.authipc.fd;
		pfd[npfd].events = POLLIN | (L.authipc.queued ? POLLOUT : 0);
		npfd++;
	}
	*nspollp = 0;
	TAILQ_FOREACH(s, &sessions, entry) {
		if (!s->open)
			continue;
		(*nspollp)++;
		pfd[npfd].fd = s->ipc.fd;
		pfd[npfd].events = POLLIN | (s->ipc.queued ? POLLOUT : 0);
		npfd++;
	}
	return npfd;
}

static void
dispatch(struct pollfd *pfd, size_t nspoll)
{
	struct session	*s, *ns;
	size_t		 npfd = 0;
	int		 i;

	for (i = 0; i < L.nlisten; i++, npfd++)
		if (pfd[npfd].revents & POLLIN)
			accept_one(pfd[npfd].fd);
	if (L.authpid > 0) {
		if (pfd[npfd].revents & POLLOUT)
			ipc_write(&L.authipc);
		/* The auth process never speaks after start-up. */
		if (pfd[npfd].revents & (POLLIN | POLLHUP | POLLERR))
			auth_lost();
		npfd++;
	}
	/* Sessions started in this round are at the tail, unpolled. */
	TAILQ_FOREACH_SAFE(s, &sessions, entry, ns) {
		if (nspoll == 0)
			break;
		if (!s->open)
			continue;
		nspoll--;
		if (pfd[npfd].fd == s->ipc.fd)
			session_io(s, pfd[npfd].revents);
		npfd++;
	}
}

int
listener_main(struct conf *c)
{
	struct pollfd	*pfd = NULL;
	struct timespec	 ts, *tsp;
	sigset_t	 orig;
	size_t		 npfd, cap = 0, nspoll;

	listener_setup(c);
	signals_setup(&orig);
	if (L.conf->inetd) {
		if (inetd_start() == -1)
			return EXIT_FAILURE;
	} else
		log_listening();

	for (;;) {
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (got_term) {
			shutdown_all();
			break;
		}
		if (L.conf->inetd && TAILQ_EMPTY(&sessions) &&
		    TAILQ_EMPTY(&deliveries))
			break;
		/* Timers first: a session they kill leaves the poll set. */
		tsp = timers(&ts);
		npfd = pollset(&pfd, &cap, &nspoll);
		if (ppoll(pfd, npfd, tsp, &orig) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		dispatch(pfd, nspoll);
	}
	free(pfd);
	return EX_OK;
}
