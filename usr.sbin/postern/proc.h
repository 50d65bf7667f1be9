#ifndef POSTERN_PROC_H
#define POSTERN_PROC_H

#include <sys/types.h>

#include "ipc.h"
#include "proto.h"

/* Where the role executables are, fixed when building (libexec.c). */
extern const char	postern_libexec[];

struct child {
	enum role	 role;
	pid_t		 pid;		/* 0 once reaped */
	struct ipc	 ipc;
	int		 reaped;
	int		 status;	/* from waitpid, once reaped */
};

void	proc_init(void);
int	proc_sigchld_fd(void);
void	proc_spawn(struct child *, enum role, int, int, char *const *);
void	proc_spawn_network(struct child *, int, int, int);
int	proc_reap(struct child *);
int	proc_failed(const struct child *);
int	proc_wait(struct child *, char *, size_t);

#endif
