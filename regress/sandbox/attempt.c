#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"

/* In the child, after the lockdown: make the call named what. */
void
attempt(const char *what)
{
	char	*argv[] = { (char *)(uintptr_t)"true", NULL };
	int	 p[2];

	if (strcmp(what, "control") == 0) {
		if (write(STDOUT_FILENO, "", 0) == -1)
			_exit(2);
		_exit(0);
	} else if (strcmp(what, "open") == 0)
		(void)open("/etc/passwd", O_RDONLY);
	else if (strcmp(what, "openat") == 0)
		(void)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	else if (strcmp(what, "socket") == 0)
		(void)socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "socketpair") == 0)
		(void)socketpair(AF_UNIX, SOCK_STREAM, 0, p);
	else if (strcmp(what, "connect") == 0)
		(void)syscall(SYS_connect, 0, NULL, 0);
	else if (strcmp(what, "accept") == 0)
		(void)syscall(SYS_accept, 0, NULL, NULL);
	else if (strcmp(what, "execve") == 0)
		(void)execve("/bin/true", argv, NULL);
	else if (strcmp(what, "ptrace") == 0)
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (strcmp(what, "fork") == 0)
		(void)syscall(SYS_fork);
	else if (strcmp(what, "clone-parent") == 0)
		(void)syscall(SYS_clone, (unsigned long)CLONE_PARENT, NULL, NULL,
		    NULL, 0UL);
	else if (strcmp(what, "clone-other") == 0)
		/* Refused by the kernel too (EINVAL), should the filter miss it. */
		(void)syscall(SYS_clone, (unsigned long)(CLONE_PARENT |
		    CLONE_SIGHAND), NULL, NULL, NULL, 0UL);
	else if (strcmp(what, "setresuid") == 0)
		(void)syscall(SYS_setresuid, -1, -1, -1);
	else if (strcmp(what, "kill") == 0)
		(void)syscall(SYS_kill, 1, 0);
	else if (strcmp(what, "memfd_create") == 0)
		(void)syscall(SYS_memfd_create, "x", 0);
	else if (strcmp(what, "sigaltstack") == 0) {
		stack_t	 old;

		(void)syscall(SYS_sigaltstack, NULL, &old);
	} else if (strcmp(what, "chroot") == 0)
		(void)syscall(SYS_chroot, "/");
	else if (strcmp(what, "mprotect-exec") == 0) {
		static char page[4096] __attribute__((aligned(4096)));

		(void)syscall(SYS_mprotect, page, sizeof(page),
		    PROT_READ | PROT_EXEC);
	}
	_exit(3);	/* the call returned: the sandbox let it through */
}

/* fork(2), with nothing buffered that the child could print twice. */
pid_t
attempt_fork(void)
{
	fflush(stdout);
	return fork();
}

/*
 * Wait for the child of attempt number n and print its TAP line.
 * Returns whether it ended as it should.
 */
int
attempt_judge(pid_t pid, int n, const char *role, const char *what)
{
	int	 want_kill = strcmp(what, "control") != 0;
	int	 good, status;

	waitpid(pid, &status, 0);
	if (want_kill)
		good = WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
	else
		good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	printf("%sok %d - %s: %s %s\n", good ? "" : "not ", n, role, what,
	    want_kill ? "is killed by SIGSYS" : "runs within the rules");
	if (!good)
		printf("# status 0x%x\n", status);
	return good;
}
