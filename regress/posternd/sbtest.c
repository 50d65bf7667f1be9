/*
 * Locks a child down in each sandboxed role of posternd with the real
 * policy tables and makes it try what the role must never do
 * (regress/sandbox/attempt.c).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "attempt.h"
#include "posternd.h"
#include "sandbox.h"

int
main(void)
{
	static const enum role roles[] = { ROLE_SERVER, ROLE_SESSION,
	    ROLE_AUTH };
	static const char *what[] = {
		"control", "open", "openat", "socket", "socketpair", "connect",
		"accept", "execve", "ptrace", "fork", "clone-parent",
		"clone-other", "kill", "memfd_create", "chroot", "setresuid",
		"mprotect-exec",
#ifndef SB_SANITIZER
		/* Only the sanitizer build lets its runtime call these. */
		"sigaltstack",
#endif
	};
	size_t		 i, j;
	int		 n = 0, failed = 0;
	pid_t		 pid;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		for (j = 0; j < sizeof(what) / sizeof(what[0]); j++) {
			/*
			 * Forking sessions is the session server's job; that
			 * it can is shown by every session it starts.
			 */
			if (roles[i] == ROLE_SERVER &&
			    strcmp(what[j], "clone-parent") == 0)
				continue;

			if ((pid = attempt_fork()) == -1)
				return 1;
			if (pid == 0) {
				sandbox_lockdown(roles[i]);
				attempt(what[j]);
			}
			failed += !attempt_judge(pid, ++n,
			    role_name(roles[i]), what[j]);
		}
	}
	printf("1..%d\n", n);
	return failed != 0;
}
