/*
 * The listener's own state and its three files: listener.c (sessions,
 * timers, the poll set and dispatch), listener_setup.c (sockets, TLS,
 * the chroot, starting the auth process and the session server) and
 * delivery.c (the message file and the delivery command).
 */
#ifndef POSTERND_LISTENER_H
#define POSTERND_LISTENER_H

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include <stdint.h>

#include "command.h"
#include "ipc.h"
#include "posternd.h"

#define MAX_LISTEN	16

enum sstate {
	S_IDLE,		/* between transactions */
	S_ENVELOPE,	/* the sender came, recipients arriving */
	S_DELIVER,	/* the command runs */
};

struct delivery;

/* ipc comes last: a new session zeroes what comes before it, not 128 KB. */
struct session {
	TAILQ_ENTRY(session)	 entry;
	uint32_t		 id;
	pid_t			 pid;		/* 0 once reaped */
	int			 open;		/* channel open */
	enum sstate		 state;
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			*from;
	char		       **rcpts;
	size_t			 nrcpt;
	int			 memfd;
	struct delivery		*dlv;
	int64_t			 kill_at;
	struct ipc		 ipc;
};

struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	pid_t			 pid;
	struct session		*s;		/* NULL once the session ended */
	uint32_t		 sid;
	int64_t			 deadline;
	int			 timedout;
};

TAILQ_HEAD(sessionq, session);
TAILQ_HEAD(deliveryq, delivery);

/* Set up by listener_setup() before the first connection. */
struct listener {
	struct conf		*conf;
	int			 root;		/* started as root: chroot */
	int			 devnull;
	int			 logfd;
	int			 listenfd[MAX_LISTEN];
	int			 nlisten;
	uid_t			 s_uid;		/* sessions, with root */
	gid_t			 s_gid;
	struct ipc		 authipc;
	pid_t			 authpid;
	struct ipc		 srvipc;
	pid_t			 srvpid;
};

extern struct listener		 L;
extern struct sessionq		 sessions;

/* listener.c */
void	plog(pid_t, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	send_result(struct session *, uint32_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	session_reset(struct session *);
void	session_kill(struct session *, const char *);

/* listener_setup.c */
void	listener_setup(struct conf *);
void	log_listening(void);

/* delivery.c */
extern struct deliveryq		 deliveries;

void	delivery_init(const char *, const char *, const char *);
int	delivery_dashdash(void);
int	give_memfd(struct session *);
void	next_message(struct session *);
void	deliver(struct session *);
void	delivery_done(struct delivery *, int);
struct delivery *delivery_find(pid_t);
int64_t	delivery_timers(int64_t, int64_t);

#endif
