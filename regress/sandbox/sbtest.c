/*
 * Locks a child down in each role of postern with the real policy tables
 * and makes it try what its role must never do (attempt.c).
 */
#include <sys/types.h>

#include <stdio.h>

#include "attempt.h"
#include "proto.h"
#include "roles.h"
#include "sandbox.h"

int
main(void)
{
	static const enum role roles[] = {
		ROLE_READER, ROLE_SECRETS, ROLE_NETWORK
	};
	static const char *what[] = {
		"control", "open", "openat", "socket", "socketpair", "connect",
		"execve", "ptrace", "fork", "mprotect-exec",
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
