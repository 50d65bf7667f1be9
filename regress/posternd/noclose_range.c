/*
 * Runs a program on which close_range(2) fails with ENOSYS, as on a
 * kernel before 5.9 or under a container's filter: posternd must then
 * close the delivery command's other descriptors another way.
 *
 * usage: noclose_range program [arg ...]
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sock_filter	 f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	 prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2)
		errx(2, "usage: noclose_range program [arg ...]");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == -1)
		err(2, "seccomp");
	if (syscall(SYS_close_range, 1000, 1000, 0) != -1 || errno != ENOSYS)
		errx(2, "close_range is not refused");
	execv(argv[1], argv + 1);
	err(127, "%s", argv[1]);
}
