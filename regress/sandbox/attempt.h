/*
 * A child locked down in a sandboxed role tries one thing that role must
 * never do, and the parent judges how it ended.  Shared by the sandbox
 * tests of postern (regress/sandbox) and of posternd (regress/posternd),
 * which each lock the child down with their own program's tables.
 *
 * "control" stays within the rules and must exit normally, so that a
 * filter that kills everything fails; every other attempt must end with
 * the child killed by SIGSYS.
 */
#ifndef POSTERN_ATTEMPT_H
#define POSTERN_ATTEMPT_H

#include <sys/types.h>

void	 attempt(const char *) __attribute__((__noreturn__));
pid_t	 attempt_fork(void);
int	 attempt_judge(pid_t, int, const char *, const char *);

#endif
