/*
 * nodelay.so - LD_PRELOAD shim: every TCP socket a program connects gets
 * TCP_NODELAY first, which turns Nagle's algorithm off.  bench/run.sh uses
 * it to show that a client's 40 ms stall on a small mail comes from Nagle
 * holding back small writes until a delayed ACK arrives.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <stddef.h>

int connect(int, const struct sockaddr *, socklen_t);

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real_connect)(int, const struct sockaddr *, socklen_t);
	int one = 1;

	if (real_connect == NULL)
		real_connect = (int (*)(int, const struct sockaddr *,
		    socklen_t))dlsym(RTLD_NEXT, "connect");
	if (sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6))
		/* fails harmlessly on a datagram socket */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return real_connect(fd, sa, len);
}
