/*
 * The session server: a fresh image of posternd, started once by the
 * listener, that forks one session per connection.  Every library is
 * loaded and bound, and the TLS context built, once, here; a connection
 * then costs a fork, not an exec with the dynamic loading of libcrypto,
 * libssl, libtls, libseccomp and libbsd (all bound at once: -z now) and
 * the C library's start-up.
 *
 * It holds no credential (the auth process has it) and never reads a
 * byte from a client: what it hears comes from the listener, framed and
 * checked.  It runs in the empty chroot as the unprivileged user under a
 * filter that is the session's plus what forking one takes, so a session
 * is born locked in, and loads its own, narrower, filter before it reads
 * from its client.
 */
#include <sys/types.h>
#include <sys/syscall.h>

#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "posternd.h"
#include "sandbox.h"
#include "session.h"

/* The descriptors of one connection, as they arrive. */
struct request {
	int	 auth;
	int	 in;
	int	 out;
};

#define PEER_MAX	64		/* the listener's are shorter */

static struct ipc	 chan;		/* to the listener */

static void
request_clear(struct request *r)
{
	if (r->auth != -1)
		close(r->auth);
	if (r->in != -1)
		close(r->in);
	if (r->out != -1)
		close(r->out);
	r->auth = r->in = r->out = -1;
}

/*
 * Fork with the listener as the parent (CLONE_PARENT): it reaps the
 * session, learns how it ended (a sandbox kill included) and kills it at
 * its deadline, exactly as when it started each session itself.  The
 * filter lets this process clone with these flags and no others.
 */
static pid_t
fork_session(const struct request *r, int sfd, const char *peer,
    char *rolearg)
{
	size_t	 n;
	long	 pid;

	pid = syscall(SYS_clone, (unsigned long)CLONE_PARENT, NULL, NULL,
	    NULL, 0UL);
	if (pid != 0)
		return (pid_t)pid;
	/* A fork clears the tie, which binds the session to its parent. */
	role_tie_to_listener();

	/*
	 * Every descriptor received is above FD_AUTH (the slots are held
	 * open), so no dup2 overwrites a source; the copy of the server's
	 * own channel on FD_PARENT goes.
	 */
	if (dup2(sfd, FD_PARENT) == -1 ||
	    dup2(r->in, FD_CLIENT_IN) == -1 ||
	    dup2(r->out != -1 ? r->out : r->in, FD_CLIENT_OUT) == -1 ||
	    (r->auth != -1 && dup2(r->auth, FD_AUTH) == -1))
		fatal("dup2");
	if (r->auth == -1)
		close(FD_AUTH);
	sandbox_closefrom(FD_AUTH + 1);
	/* Requests for other connections already read are not its business. */
	explicit_bzero(chan.rbuf, chan.rlen);
	chan.rlen = chan.roff = 0;
	chan.nfds = 0;
	/* So that ps and /proc/PID/cmdline tell a session from its server. */
	n = strlen(rolearg);
	memset(rolearg, 0, n);
	strlcpy(rolearg, role_name(ROLE_SESSION), n + 1);
	session_run(peer);
}

/*
 * The payload is built by hand, as ipc_buf_u32 would: an ipc_buf is 64 KB
 * of stack, and every page the server writes between forks is a page
 * fault (copy on write) in the server.
 */
static void
answer(uint32_t pid)
{
	unsigned char	 p[4];

	p[0] = pid >> 24;
	p[1] = pid >> 16;
	p[2] = pid >> 8;
	p[3] = pid;
	if (ipc_compose(&chan, MSG_Z_FORKED, 0, -1, p, sizeof(p)) == -1 ||
	    ipc_flush(&chan) == -1)
		fatal("session server: send to listener");
}

int
session_server_main(char *rolearg)
{
	struct request	 r = { -1, -1, -1 };
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	/* Not malloc'd: a write to the heap after a fork copies its page. */
	static char	 peer[PEER_MAX];
	pid_t		 pid;
	int		 fd;

	log_procname("session server");
	/*
	 * No fast bins: with small free chunks in them at the fork, a
	 * session's first larger allocation would walk and merge them,
	 * writing to (and so copying) pages all over the server's heap.
	 */
#ifndef SB_SANITIZER
	/* AddressSanitizer's allocator has no such knob. */
	if (mallopt(M_MXFAST, 0) != 1)
		fatalx("mallopt");
#endif
	sandbox_closefrom(FD_PARENT + 1);
	/*
	 * A client that resets its connection makes the next write fail
	 * with EPIPE: that is a reset to log, not a signal to die of.
	 * Sessions inherit this; none of them executes anything.
	 */
	signal(SIGPIPE, SIG_IGN);
	ipc_init(&chan, FD_PARENT);
	session_prepare(&chan);
	/* Hold the slots a session's descriptors go to; see fork_session. */
	for (fd = FD_PARENT + 1; fd <= FD_AUTH; fd++)
		if (dup2(STDIN_FILENO, fd) == -1)
			fatal("dup2");
	sandbox_prepare(ROLE_SESSION);
	/*
	 * Start-up errors went to the daemon's stderr; from here on nothing
	 * this process or a session writes reaches the administrator's
	 * terminal or error log but through the listener's log (stdin is
	 * /dev/null).
	 */
	if (dup2(STDIN_FILENO, STDERR_FILENO) == -1)
		fatal("dup2");
	malloc_trim(0);
	sandbox_lockdown(ROLE_SERVER);
	if (ipc_compose(&chan, MSG_Z_READY, 0, -1, NULL, 0) == -1 ||
	    ipc_flush(&chan) == -1)
		fatal("session server: send to listener");

	for (;;) {
		switch (ipc_recv(&chan, &m)) {
		case 1:
			break;
		case 0:
			exit(EX_OK);	/* the listener is gone */
		default:
			fatal("session server: channel to listener");
		}
		ipc_cur_init(&c, &m);
		switch (m.hdr.type) {
		case MSG_Z_AUTH:
			if (r.auth != -1 || m.fd == -1 || ipc_cur_end(&c) == -1)
				fatalx("bad session request");
			r.auth = m.fd;
			break;
		case MSG_Z_CLIENT:
			if (r.in != -1 || m.fd == -1 || ipc_cur_end(&c) == -1)
				fatalx("bad session request");
			r.in = m.fd;
			break;
		case MSG_Z_CLIENT_OUT:
			if (r.out != -1 || m.fd == -1 || ipc_cur_end(&c) == -1)
				fatalx("bad session request");
			r.out = m.fd;
			break;
		case MSG_Z_FORK:
			if (r.in == -1 || m.fd == -1 ||
			    ipc_cur_strbuf(&c, peer, sizeof(peer)) == -1 ||
			    ipc_cur_end(&c) == -1)
				fatalx("bad session request");
			if ((pid = fork_session(&r, m.fd, peer, rolearg)) == -1)
				log_warn("session server: clone");
			close(m.fd);
			request_clear(&r);
			answer(pid == -1 ? 0 : (uint32_t)pid);
			break;
		default:
			fatalx("unexpected message %u from listener",
			    m.hdr.type);
		}
	}
}
