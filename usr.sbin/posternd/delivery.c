/*
 * Delivery, in the listener: the empty file each message is written into,
 * and the delivery command run on it once it is whole and sealed.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "command.h"
#include "log.h"
#include "listener.h"

#define RECEIVED_SLACK	4096		/* the Received header we add */

struct deliveryq		 deliveries = TAILQ_HEAD_INITIALIZER(deliveries);
static struct command		 cmd;

/*
 * The command line, parsed once at start-up: selfdir is where posternd's
 * own executable lies (postern is looked for there first), user the
 * --command-user or NULL.
 */
void
delivery_init(const char *command, const char *selfdir, const char *user)
{
	char	 err[512];

	if (command_parse(&cmd, command, selfdir, err, sizeof(err)) == -1)
		fatalx("%s", err[0] ? err : "--command: out of memory");
	if (user != NULL && command_user(&cmd, user, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/* Whether recipients may begin with '-': the command ends options with --. */
int
delivery_dashdash(void)
{
	return cmd.dashdash;
}

/*
 * An empty file for the session's next message.  The listener keeps its
 * own descriptor: what it delivers is the file it created, whatever the
 * session sends back.
 */
int
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
void
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
 * The message is whole: seal the file so nobody can change it any more,
 * open it afresh (an offset of its own, read-only) and start the command.
 */
void
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
	if (L.conf->max_message_size > 0 && (uint64_t)st.st_size >
	    L.conf->max_message_size + RECEIVED_SLACK) {
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
	pid = command_start(&cmd, argv, in, STDERR_FILENO, L.devnull);
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
	d->deadline = now_ms() + (int64_t)L.conf->command_timeout * 1000;
	TAILQ_INSERT_TAIL(&deliveries, d, entry);
	s->dlv = d;
	session_reset(s);
	s->state = S_DELIVER;
}


void
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


struct delivery *
delivery_find(pid_t pid)
{
	struct delivery	*d;

	TAILQ_FOREACH(d, &deliveries, entry)
		if (d->pid == pid)
			return d;
	return NULL;
}

/*
 * Kill the commands past their deadline (reap() reports them); returns
 * the earliest deadline still ahead, or next if that comes first (-1:
 * none yet).
 */
int64_t
delivery_timers(int64_t now, int64_t next)
{
	struct delivery	*d;

	TAILQ_FOREACH(d, &deliveries, entry) {
		if (!d->timedout && now >= d->deadline) {
			d->timedout = 1;
			kill(-d->pid, SIGKILL);
			kill(d->pid, SIGKILL);
		} else if (!d->timedout && (next == -1 || d->deadline < next))
			next = d->deadline;
	}
	return next;
}
