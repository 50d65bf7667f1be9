#ifndef POSTERN_PROC_H
#define POSTERN_PROC_H

#include <sys/types.h>

#include "ipc.h"
#include "proto.h"

#define ROLE_FLAG	"--postern-role"

struct child {
	enum role	 role;
	pid_t		 pid;
	struct ipc	 ipc;
	int		 done;		/* its final message arrived */
};

void	proc_init(void);
void	proc_spawn(struct child *, enum role, int, int, char *const *);
int	proc_wait(struct child *, char *, size_t);
int	proc_role(const char *, enum role *);

#endif
