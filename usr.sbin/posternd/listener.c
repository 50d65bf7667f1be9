/*
 * The listener: binds (or takes its sockets from inetd or systemd), keeps
 * the session limit, starts the session server and the auth process, has
 * the session server fork one session per connection, and runs the
 * delivery command for each message a session has received whole.  It never reads a byte of SMTP: everything it hears
 * from a session is a framed message, checked field by field, and a
 * session that breaks the protocol is killed.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>

#include "command.h"
#include "ipc.h"
#include "log.h"
#include "posternd.h"

#define MAX_LISTEN	16
#define TLS_FILE_MAX	(1024 * 1024)
#define CHUNK		(60 * 1024)
#define KILL_GRACE	60000		/* ms past the session's own deadline */
#define RECEIVED_SLACK	4096		/* the Received header we add */

enum sstate {
	S_IDLE,		/* between transactions */
	S_ENVELOPE,	/* the sender came, recipients arriving */
	S_DELIVER,	/* the command runs */
};

struct delivery;

struct session {
	TAILQ_ENTRY(session)	 entry;
	uint32_t		 id;
	pid_t			 pid;		/* 0 once reaped */
	int			 open;		/* channel open */
	struct ipc		 ipc;
	enum sstate		 state;
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			*from;
	char		       **rcpts;
	size_t			 nrcpt;
	int			 memfd;
	struct delivery		*dlv;
	int64_t			 kill_at;
};

struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	pid_t			 pid;
	struct session		*s;		/* NULL once the session ended */
	uint32_t		 sid;
	int64_t			 deadline;
	int			 timedout;
};

static TAILQ_HEAD(, session)	 sessions = TAILQ_HEAD_INITIALIZER(sessions);
static TAILQ_HEAD(, delivery)	 deliveries =
				    TAILQ_HEAD_INITIALIZER(deliveries);

static struct conf		*conf;
static struct command		 cmd;
static int			 listenfd[MAX_LISTEN];
static int			 nlisten;
static unsigned int		 nsessions;
static uint32_t			 nextid;
static int			 exefd = -1;
static int			 devnull = -1;
static int			 logfd = -1;
static int			 root;
static uid_t			 s_uid;
static gid_t			 s_gid;
static struct ipc		 authipc;
static pid_t			 authpid;
static struct ipc		 srvipc;
static pid_t			 srvpid;
static unsigned char		*cert, *key;
static size_t			 certlen, keylen;
static volatile sig_atomic_t	 got_chld, got_term;

static void	plog(pid_t, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* msmtpd's log format, so existing log watchers keep working. */
static void
plog(pid_t pid, int prio, const char *fmt, ...)
{
	char		 msg[2048], line[2200], stamp[32];
	va_list		 ap;
	time_t		 t;
	struct tm	 tm;
	int		 n;

	if (conf->logmode == LOGTO_NONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (conf->logmode == LOGTO_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s posternd[%ld] %s: %s\n", stamp,
	    (long)(pid ? pid : getpid()), prio <= LOG_ERR ? "error" : "info",
	    msg);
	if (n > 0 && write(logfd, line, (size_t)n < sizeof(line) ?
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

/*
 * A child role is a fresh image of this very file (opened at start-up,
 * never found through argv[0] or $PATH) with only the descriptors given.
 * posix_spawn (a vfork underneath) rather than fork: the listener's pages
 * are not made copy-on-write twice for every message.
 */
static pid_t
spawn(enum role role, int chan, int in, int out, int authfd, int keepstdio)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[4], *envp[2], tz[256], exe[64];
	const char			*t;
	pid_t				 pid;
	int				 rc;

	/* The child resolves it: our descriptor, not its own (closed by then). */
	snprintf(exe, sizeof(exe), "/proc/%ld/fd/%d", (long)getpid(), exefd);
	argv[0] = (char *)(uintptr_t)"posternd";
	argv[1] = (char *)(uintptr_t)ROLE_FLAG;
	argv[2] = (char *)(uintptr_t)role_name(role);
	argv[3] = NULL;
	envp[0] = NULL;
	envp[1] = NULL;
	if ((t = getenv("TZ")) != NULL &&
	    snprintf(tz, sizeof(tz), "TZ=%s", t) < (int)sizeof(tz))
		envp[0] = tz;

	/* Every source descriptor is above FD_AUTH, so no dup2 clobbers one. */
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	rc = posix_spawn_file_actions_adddup2(&fa, chan, FD_PARENT);
	if (rc == 0 && in != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, in, FD_CLIENT_IN);
	if (rc == 0 && out != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, out, FD_CLIENT_OUT);
	if (rc == 0 && authfd != -1)
		rc = posix_spawn_file_actions_adddup2(&fa, authfd, FD_AUTH);
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDIN_FILENO);
	if (rc == 0 && !keepstdio)
		rc = posix_spawn_file_actions_adddup2(&fa, devnull,
		    STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, FD_AUTH + 1);
	if (rc == 0)
		rc = command_spawn(&pid, exe, &fa, 0, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}

static void
queue_bytes(struct ipc *ipc, uint32_t type, const unsigned char *p,
    size_t len)
{
	struct ipc_buf	 b;
	size_t		 n;

	while (len > 0) {
		n = len > CHUNK ? CHUNK : len;
		ipc_buf_init(&b);
		ipc_buf_bytes(&b, p, n);
		if (ipc_compose_buf(ipc, type, -1, &b) == -1)
			fatal("ipc_compose");
		explicit_bzero(&b, sizeof(b));
		p += n;
		len -= n;
	}
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

static void
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
 * An empty file for the session's next message.  The listener keeps its
 * own descriptor: what it delivers is the file it created, whatever the
 * session sends back.
 */
static int
give_memfd(struct session *s)
{
	int	 fd;

	if (s->memfd != -1)
		close(s->memfd);
	if ((s->memfd = memfd_create("posternd-message",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    (fd = fcntl(s->memfd, F_DUPFD_CLOEXEC, 10)) == -1) {
		plog(s->pid, LOG_ERR, "session %u: memfd_create: %s", s->id,
		    strerror(errno));
		return -1;
	}
	if (ipc_compose(&s->ipc, MSG_S_DATA_FD, 0, fd, NULL, 0) == -1)
		fatal("ipc_compose");
	return 0;
}

/* The transaction is over: forget it and hand out a fresh file. */
static void
next_message(struct session *s)
{
	session_reset(s);
	if (!s->open)
		return;
	if (give_memfd(s) == -1) {
		kill(s->pid, SIGKILL);
		return;
	}
	ipc_write(&s->ipc);
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

	if (pid <= 0 || pid == srvpid || pid == authpid)
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

	if (authfd != -1 && ipc_compose(&srvipc, MSG_Z_AUTH, 0, authfd, NULL,
	    0) == -1)
		fatal("ipc_compose");
	if (ipc_compose(&srvipc, MSG_Z_CLIENT, 0, in, NULL, 0) == -1 ||
	    (out != -1 && ipc_compose(&srvipc, MSG_Z_CLIENT_OUT, 0, out,
	    NULL, 0) == -1))
		fatal("ipc_compose");
	ipc_buf_init(&b);
	ipc_buf_str(&b, peer);
	if (ipc_compose_buf(&srvipc, MSG_Z_FORK, chan, &b) == -1)
		fatal("ipc_compose");
	if (ipc_flush(&srvipc) == -1)
		fatal("session server");
	if (ipc_recv(&srvipc, &m) != 1)
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

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto refuse;
	s->memfd = -1;
	s->id = ++nextid;
	strlcpy(s->peer, peer, sizeof(s->peer));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		free(s);
		goto refuse;
	}
	if ((conf->auth_user != NULL &&
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
		if (ipc_compose_buf(&authipc, MSG_A_SESSION, ap[0], &b) == -1)
			fatal("ipc_compose");
		ipc_write(&authipc);
	}
	ipc_init(&s->ipc, sp[0]);
	s->open = 1;
	s->kill_at = now_ms() + (int64_t)conf->session_timeout * 1000 +
	    KILL_GRACE;
	nsessions++;
	TAILQ_INSERT_TAIL(&sessions, s, entry);

	if (give_memfd(s) == -1)
		kill(s->pid, SIGKILL);
	ipc_write(&s->ipc);
	plog(s->pid, LOG_INFO, "connection from %s, active sessions %u "
	    "(max %u)", peer[0] ? peer : "unknown", nsessions,
	    conf->max_sessions);
	return;
refuse:
	plog(0, LOG_ERR, "cannot start a session: %s", strerror(errno));
	(void)send(out, "421 4.3.2 Cannot start a session, try again "
	    "later\r\n", 51, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
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

static void
send_result(struct session *s, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
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

/*
 * The message is whole: seal the file so nobody can change it any more,
 * open it afresh (an offset of its own, read-only) and start the command.
 */
static void
deliver(struct session *s)
{
	struct delivery	*d;
	struct stat	 st;
	char		 path[64], **argv;
	const char	*from;
	int		 in;
	pid_t		 pid;

	if (fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1 || fstat(s->memfd, &st) == -1) {
		plog(s->pid, LOG_ERR, "session %u: cannot seal the message: "
		    "%s", s->id, strerror(errno));
		send_result(s, 451, "4.3.0 Cannot start pipe command");
		next_message(s);
		return;
	}
	if (conf->max_message_size > 0 && (uint64_t)st.st_size >
	    conf->max_message_size + RECEIVED_SLACK) {
		session_kill(s, "message larger than the limit");
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->memfd);
	from = s->from[0] != '\0' ? s->from : "MAILER-DAEMON";
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (argv = command_argv(&cmd, from, s->rcpts, s->nrcpt)) == NULL) {
		plog(s->pid, LOG_ERR, "session %u: cannot start pipe "
		    "command: %s", s->id, strerror(errno));
		if (in != -1)
			close(in);
		send_result(s, 451, "4.3.0 Cannot start pipe command");
		next_message(s);
		return;
	}
	pid = command_start(&cmd, argv, in, STDERR_FILENO, devnull);
	close(in);
	command_argv_free(argv);
	if (pid == -1 || (d = calloc(1, sizeof(*d))) == NULL) {
		plog(s->pid, LOG_ERR, "session %u: cannot start pipe "
		    "command: %s", s->id, strerror(errno));
		if (pid != -1)
			kill(pid, SIGKILL);	/* reaped, unmatched */
		send_result(s, 451, "4.3.0 Cannot start pipe command");
		next_message(s);
		return;
	}
	plog(s->pid, LOG_INFO, "session %u: pipe command %s started for "
	    "%zu recipient(s), %lld bytes", s->id, cmd.path, s->nrcpt,
	    (long long)st.st_size);
	d->pid = pid;
	d->s = s;
	d->sid = s->id;
	d->deadline = now_ms() + (int64_t)conf->command_timeout * 1000;
	TAILQ_INSERT_TAIL(&deliveries, d, entry);
	s->dlv = d;
	session_reset(s);
	s->state = S_DELIVER;
}

static void
delivery_done(struct delivery *d, int status)
{
	struct session	*s = d->s;
	int		 code;

	if (d->timedout) {
		plog(0, LOG_ERR, "session %u: pipe command timed out",
		    d->sid);
		if (s != NULL)
			send_result(s, 451, "4.4.1 Pipe command timed out");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		plog(0, LOG_INFO, "session %u: mail was piped successfully",
		    d->sid);
		if (s != NULL)
			send_result(s, 250, "2.0.0 Ok, mail was piped");
	} else if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		plog(0, LOG_ERR, "session %u: pipe command reported error %d",
		    d->sid, code);
		/* msmtpd's mapping: these sysexits are temporary. */
		if (s == NULL)
			;
		else if (code == 68 || code == 69 || code == 71 || code == 75)
			send_result(s, 451, "4.3.0 Pipe command reported "
			    "error %d", code);
		else
			send_result(s, 554, "5.3.0 Pipe command reported "
			    "error %d", code);
	} else {
		plog(0, LOG_ERR, "session %u: pipe command killed by signal "
		    "%d", d->sid, WTERMSIG(status));
		if (s != NULL)
			send_result(s, 554, "5.3.0 Pipe command failed to "
			    "execute");
	}
	if (s != NULL) {
		s->dlv = NULL;
		next_message(s);
	}
	TAILQ_REMOVE(&deliveries, d, entry);
	free(d);
}

static void
reap(void)
{
	struct session	*s;
	struct delivery	*d;
	int		 status;
	pid_t		 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == authpid)
			fatalx("auth process ended (status 0x%x)", status);
		if (pid == srvpid)
			fatalx("session server ended (status 0x%x)", status);
		TAILQ_FOREACH(d, &deliveries, entry)
			if (d->pid == pid)
				break;
		if (d != NULL) {
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
		    s->nrcpt >= conf->max_recipients ||
		    ipc_cur_str(&c, &str) == -1 || str == NULL ||
		    ipc_cur_end(&c) == -1 ||
		    !rfc5321_mailbox(str, PATH_LOCALOK) ||
		    (str[0] == '-' && !cmd.dashdash))
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
		if (nsessions >= conf->max_sessions)
			reap();
		if (nsessions >= conf->max_sessions) {
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


/* Say where we listen, from the sockets themselves: systemd may pass any. */
static void
log_listening(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 host[NI_MAXHOST], serv[NI_MAXSERV];
	int			 i;

	for (i = 0; i < nlisten; i++) {
		len = sizeof(ss);
		if (getsockname(listenfd[i], (struct sockaddr *)&ss,
		    &len) == -1 || getnameinfo((struct sockaddr *)&ss, len,
		    host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			continue;
		plog(0, LOG_INFO, "listening on %s port %s", host, serv);
	}
}
static void
listen_sockets(void)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*e;
	int		 fd, on = 1, r, i, n;

	/* systemd socket activation: LISTEN_FDS sockets from fd 3. */
	if ((e = getenv("LISTEN_PID")) != NULL &&
	    strtol(e, NULL, 10) == (long)getpid() &&
	    (e = getenv("LISTEN_FDS")) != NULL) {
		n = (int)strtol(e, NULL, 10);
		if (n < 1 || n > MAX_LISTEN)
			fatalx("LISTEN_FDS=%s: expected 1 to %d sockets", e,
			    MAX_LISTEN);
		for (i = 0; i < n; i++) {
			fd = 3 + i;
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
			    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
				fatal("LISTEN_FDS socket %d", fd);
			listenfd[nlisten++] = fd;
		}
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(conf->interface, conf->port, &hints, &res)) != 0)
		fatalx("cannot use interface %s port %s: %s", conf->interface,
		    conf->port, gai_strerror(r));
	for (ai = res; ai != NULL && nlisten < MAX_LISTEN; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) == -1)
			fatal("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1)
			fatal("setsockopt");
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
			fatal("cannot listen on %s port %s", conf->interface,
			    conf->port);
		if (listen(fd, SOMAXCONN) == -1)
			fatal("listen");
		listenfd[nlisten++] = fd;
	}
	freeaddrinfo(res);
}

static unsigned char *
read_file(const char *path, size_t *lenp)
{
	unsigned char	*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("cannot open %s", path);
	if ((buf = malloc(TLS_FILE_MAX)) == NULL)
		fatal("malloc");
	while ((n = read(fd, buf + len, TLS_FILE_MAX - len)) > 0)
		if ((len += (size_t)n) == TLS_FILE_MAX)
			fatalx("%s: larger than %d bytes", path, TLS_FILE_MAX);
	if (n == -1)
		fatal("cannot read %s", path);
	close(fd);
	*lenp = len;
	return buf;
}

/* Load the key pair once here so a mistake shows at start-up. */
static void
load_tls(void)
{
	struct tls_config	*cfg;

	cert = read_file(conf->tls_cert_file, &certlen);
	key = read_file(conf->tls_key_file, &keylen);
	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL)
		fatalx("cannot initialize TLS");
	if (tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen) == -1)
		fatalx("TLS certificate or key: %s", tls_config_error(cfg));
	tls_config_free(cfg);
}

/* Where sessions are locked in: it must exist, be empty and be root's. */
static void
check_chroot(void)
{
	struct passwd	*pw;
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	const char	*user = conf->user;

	if (user == NULL)
		user = getpwnam(POSTERND_USER) != NULL ? POSTERND_USER :
		    POSTERND_USER_FALLBACK;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("--user: no user %s", user);
	if (pw->pw_uid == 0)
		fatalx("--user: sessions may not run as root");
	s_uid = pw->pw_uid;
	s_gid = pw->pw_gid;
	if (stat(conf->chroot, &st) == -1 && errno == ENOENT &&
	    strcmp(conf->chroot, PATH_CHROOT) == 0)
		(void)mkdir(conf->chroot, 0755);
	if (stat(conf->chroot, &st) == -1)
		fatal("--chroot %s", conf->chroot);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("--chroot %s: must be a directory owned by root and "
		    "writable by nobody else", conf->chroot);
	if ((d = opendir(conf->chroot)) == NULL)
		fatal("--chroot %s", conf->chroot);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fatalx("--chroot %s: must be empty", conf->chroot);
	closedir(d);
}

static void
start_auth(void)
{
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	struct a_config	 ac;
	char		*err = NULL;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	if ((authpid = spawn(ROLE_AUTH, sp[1], -1, -1, -1, 1)) == -1)
		fatal("fork");
	close(sp[1]);
	ipc_init(&authipc, sp[0]);
	memset(&ac, 0, sizeof(ac));
	ac.user = conf->auth_user;
	ac.passwordeval = conf->auth_eval;
	ac.delay = conf->auth_delay;
	ac.uid = (uint32_t)s_uid;
	ac.gid = (uint32_t)s_gid;
	ac.chroot = root ? conf->chroot : "";
	a_config_put(&b, &ac);
	if (ipc_compose_buf(&authipc, MSG_A_CONFIG, -1, &b) == -1 ||
	    ipc_flush(&authipc) == -1)
		fatal("auth process");
	if (ipc_recv(&authipc, &m) != 1)
		fatalx("auth process ended during start-up");
	ipc_cur_init(&c, &m);
	switch (m.hdr.type) {
	case MSG_A_READY:
		if (ipc_cur_end(&c) == -1)
			fatalx("auth process: bad message");
		break;
	case MSG_A_ERROR:
		if (ipc_cur_str(&c, &err) == -1 || err == NULL ||
		    ipc_cur_end(&c) == -1)
			fatalx("auth process: bad message");
		fatalx("%s", err);
	default:
		fatalx("auth process: unexpected message %u", m.hdr.type);
	}
	if (m.fd != -1)
		fatalx("auth process: unexpected descriptor");
	fcntl(authipc.fd, F_SETFL, O_NONBLOCK);
}

/*
 * The session server: what every session shares goes to it once, the
 * private key included (each session holds it anyway, to answer TLS);
 * the listener then forgets the key.
 */
static void
start_server(void)
{
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	struct z_config	 zc;
	uint32_t	 flags = 0;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	if ((srvpid = spawn(ROLE_SERVER, sp[1], -1, -1, -1, 0)) == -1)
		fatal("cannot start the session server");
	close(sp[1]);
	ipc_init(&srvipc, sp[0]);

	if (conf->auth_user != NULL)
		flags |= SF_AUTH;
	if (cert != NULL)
		flags |= SF_TLS;
	if (cert != NULL && !conf->tls_starttls)
		flags |= SF_TLS_IMPLICIT;
	if (conf->crlf)
		flags |= SF_CRLF;
	if (cmd.dashdash)
		flags |= SF_DASH_RCPT;
	if (root)
		flags |= SF_CHROOT;
	if (conf->logmode != LOGTO_NONE)
		flags |= SF_LOG;
	memset(&zc, 0, sizeof(zc));
	zc.flags = flags;
	zc.timeout = conf->timeout;
	zc.session_timeout = conf->session_timeout;
	zc.max_recipients = conf->max_recipients;
	zc.max_auth_failures = conf->max_auth_failures;
	zc.max_line_length = conf->max_line_length;
	zc.max_message_size = conf->max_message_size;
	zc.domain = conf->domain;
	zc.uid = (uint32_t)s_uid;
	zc.gid = (uint32_t)s_gid;
	zc.chroot = root ? conf->chroot : "";
	z_config_put(&b, &zc);
	if (ipc_compose_buf(&srvipc, MSG_Z_CONFIG, -1, &b) == -1)
		fatal("ipc_compose");
	if (cert != NULL) {
		queue_bytes(&srvipc, MSG_Z_CERT, cert, certlen);
		queue_bytes(&srvipc, MSG_Z_KEY, key, keylen);
		freezero(key, keylen);
		free(cert);
		key = cert = NULL;
	}
	if (ipc_compose(&srvipc, MSG_Z_GO, 0, -1, NULL, 0) == -1 ||
	    ipc_flush(&srvipc) == -1)
		fatal("session server");
	if (ipc_recv(&srvipc, &m) != 1)
		fatalx("session server ended during start-up");
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_Z_READY || m.fd != -1 || ipc_cur_end(&c) == -1)
		fatalx("session server: unexpected message %u", m.hdr.type);
}

static void
shutdown_all(void)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->pid > 0)
			kill(s->pid, SIGTERM);
	if (authpid > 0)
		kill(authpid, SIGTERM);
	if (srvpid > 0)
		kill(srvpid, SIGTERM);
	plog(0, LOG_INFO, "terminating");
}

int
listener_main(struct conf *c)
{
	struct pollfd		*pfd = NULL;
	struct session		*s, *ns;
	struct delivery		*d;
	struct sigaction	 sa;
	struct timespec		 ts, *tsp;
	sigset_t		 block, orig;
	char			 err[512], self[PATH_MAX], *selfdir = NULL;
	const char		*command;
	size_t			 npfd, i, cap = 0, nspoll;
	int64_t			 now, next;
	ssize_t			 len;
	int			 fd, null;

	conf = c;
	root = geteuid() == 0;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    (devnull = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("/dev/null");
	close(fd);

	/* Children are fresh images of this file, opened once, now. */
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("cannot open own executable");
	if ((exefd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("fcntl");
	close(fd);
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[len] = '\0';
		selfdir = dirname(self);
	}

	command = conf->command != NULL ? conf->command : "postern -f %F --";
	if (command_parse(&cmd, command, selfdir, err, sizeof(err)) == -1)
		fatalx("%s", err[0] ? err : "--command: out of memory");
	if (conf->command_user != NULL &&
	    command_user(&cmd, conf->command_user, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (root)
		check_chroot();
	if (conf->tls_cert_file != NULL)
		load_tls();

	if (conf->logmode == LOGTO_SYSLOG)
		openlog("posternd", LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (conf->logmode == LOGTO_FILE &&
	    (logfd = open(conf->logfile, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1)
		fatal("cannot open log file %s", conf->logfile);
	tzset();

	if (!conf->inetd)
		listen_sockets();
	if (conf->auth_user != NULL)
		start_auth();

	/*
	 * From here on every new descriptor is above those a child gets
	 * (FD_PARENT to FD_AUTH), so spawning a child never overwrites one
	 * of its own sources.
	 */
	for (fd = 0; fd < 10; fd++)
		if (fcntl(fd, F_GETFD) == -1 && (dup2(devnull, fd) == -1 ||
		    (fd > STDERR_FILENO && fcntl(fd, F_SETFD, FD_CLOEXEC) ==
		    -1)))
			fatal("dup2");

	/* Under inetd, stderr may be the client: never write there. */
	if (conf->inetd) {
		if ((null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, STDERR_FILENO) == -1)
			fatal("/dev/null");
		close(null);
	}
	if (chdir("/") == -1)
		fatal("chdir /");
	start_server();

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
	sigprocmask(SIG_BLOCK, &block, &orig);

	if (conf->inetd) {
		char	 peer[sizeof(((struct session *)0)->peer)];

		peer_name(STDIN_FILENO, peer, sizeof(peer));
		session_start(STDIN_FILENO, STDOUT_FILENO, peer);
		if ((null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, STDIN_FILENO) == -1 ||
		    dup2(null, STDOUT_FILENO) == -1)
			fatal("/dev/null");
		close(null);
		if (TAILQ_EMPTY(&sessions))
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
			free(pfd);
			return EX_OK;
		}
		if (conf->inetd && TAILQ_EMPTY(&sessions) &&
		    TAILQ_EMPTY(&deliveries)) {
			free(pfd);
			return EX_OK;
		}

		now = now_ms();
		next = -1;
		TAILQ_FOREACH(d, &deliveries, entry) {
			if (!d->timedout && now >= d->deadline) {
				d->timedout = 1;
				kill(-d->pid, SIGKILL);
				kill(d->pid, SIGKILL);
			} else if (!d->timedout &&
			    (next == -1 || d->deadline < next))
				next = d->deadline;
		}
		TAILQ_FOREACH(s, &sessions, entry) {
			if (s->pid > 0 && now >= s->kill_at) {
				session_kill(s, "session outlived its time "
				    "limit");
				s->kill_at = INT64_MAX;
			} else if (s->pid > 0 && (next == -1 ||
			    s->kill_at < next))
				next = s->kill_at;
		}

		npfd = (size_t)nlisten + 1 + nsessions + 1;
		TAILQ_FOREACH(s, &sessions, entry)
			npfd++;
		if (npfd > cap) {
			cap = npfd * 2;
			if ((pfd = reallocarray(pfd, cap, sizeof(*pfd))) ==
			    NULL)
				fatal("reallocarray");
		}
		npfd = 0;
		for (i = 0; i < (size_t)nlisten; i++) {
			pfd[npfd].fd = listenfd[i];
			pfd[npfd].events = POLLIN;
			npfd++;
		}
		if (authpid > 0) {
			pfd[npfd].fd = authipc.fd;
			pfd[npfd].events = POLLIN |
			    (authipc.queued ? POLLOUT : 0);
			npfd++;
		}
		nspoll = 0;
		TAILQ_FOREACH(s, &sessions, entry) {
			if (!s->open)
				continue;
			nspoll++;
			pfd[npfd].fd = s->ipc.fd;
			pfd[npfd].events = POLLIN |
			    (s->ipc.queued ? POLLOUT : 0);
			npfd++;
		}
		tsp = NULL;
		if (next != -1) {
			next -= now;
			if (next < 0)
				next = 0;
			ts.tv_sec = next / 1000;
			ts.tv_nsec = (next % 1000) * 1000000;
			tsp = &ts;
		}
		if (ppoll(pfd, npfd, tsp, &orig) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		npfd = 0;
		for (i = 0; i < (size_t)nlisten; i++, npfd++)
			if (pfd[npfd].revents & POLLIN)
				accept_one(pfd[npfd].fd);
		if (authpid > 0) {
			if (pfd[npfd].revents & POLLOUT)
				ipc_write(&authipc);
			/* The auth process never speaks after start-up. */
			if (pfd[npfd].revents & (POLLIN | POLLHUP | POLLERR))
				fatalx("auth process: unexpected message or "
				    "end");
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
}
