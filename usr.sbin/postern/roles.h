#ifndef POSTERN_ROLES_H
#define POSTERN_ROLES_H

#include <sys/types.h>

#include "proto.h"

const char *role_name(enum role);
void	role_tie_to_parent(void);
void	sandbox_lockdown(enum role);
void	sandbox_lockdown_gssapi(const char *const *);

/*
 * What the parent may still touch once the socket is with the network
 * process: the children it may kill and wait for, the descriptors it may
 * read and write.  Everything else it needed (the log file, syslog's
 * socket, the time zone) is open or loaded before.
 */
#define PARENT_MAXFD	8
struct parent_bounds {
	pid_t	 child[3];		/* 0: none */
	int	 rfd[PARENT_MAXFD];	/* -1: unused */
	int	 wfd[PARENT_MAXFD];
	int	 lockfd;		/* the log file, or -1 */
};

void	parent_bounds_init(struct parent_bounds *);
void	parent_lockdown(const struct parent_bounds *);

#endif
