/*
 * The parent resolves and connects; the network process only ever gets the
 * connected socket.  Errors are msmtp's messages and exit codes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "connect.h"
#include "iowait.h"

static int
wait_connected(int s, int timeout)
{
	socklen_t	 len;
	int		 err;

	if (iowait(s, POLLOUT, iowait_deadline(timeout)) != 1)
		return -1;
	len = sizeof(err);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * The address is parsed whatever the socket's family, as msmtp does: an
 * IPv4 source for an IPv6 peer fails in bind() (EINVAL), not here.
 */
static int
bind_source(int s, const char *source_ip)
{
	struct addrinfo	 hints, *res;
	int		 r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(source_ip, NULL, &hints, &res) != 0) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	r = bind(s, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return r;
}

/*
 * Connect to host:port, trying every address in turn.  The socket comes
 * back non-blocking with Nagle's algorithm off: the network process writes
 * whole command groups and large body blocks, so delaying small segments
 * would only add round trips.  Returns the socket, or -1 with a message and
 * *ex set.
 */
int
connect_tcp(const char *host, int port, const char *source_ip, int timeout,
    struct conn_info *ci, char *err, size_t errsz)
{
	struct addrinfo	 hints, *res, *ai;
	char		 service[16];
	int		 s = -1, r, saved = 0, one = 1;

	memset(ci, 0, sizeof(*ci));
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_CANONNAME;
	if ((r = getaddrinfo(host, service, &hints, &res)) != 0) {
		snprintf(err, errsz, "cannot locate host %s: %s", host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return r == EAI_AGAIN ? -EX_TEMPFAIL : -EX_NOHOST;
	}
	if (res->ai_canonname != NULL)
		strlcpy(ci->canon, res->ai_canonname, sizeof(ci->canon));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (s == -1) {
			snprintf(err, errsz, "cannot create socket: %s",
			    strerror(errno));
			freeaddrinfo(res);
			return -EX_OSERR;
		}
		if (source_ip != NULL && *source_ip != '\0' &&
		    bind_source(s, source_ip) == -1) {
			snprintf(err, errsz, "cannot bind source ip %s: %s",
			    source_ip, strerror(errno));
			close(s);
			freeaddrinfo(res);
			return -EX_OSERR;
		}
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_connected(s, timeout) == 0))
			break;
		saved = errno;
		close(s);
		s = -1;
	}
	if (s == -1) {
		snprintf(err, errsz, "cannot connect to %s, port %d: %s",
		    host, port, strerror(saved));
		freeaddrinfo(res);
		return -EX_TEMPFAIL;
	}
	getnameinfo(ai->ai_addr, ai->ai_addrlen, ci->addr, sizeof(ci->addr),
	    NULL, 0, NI_NUMERICHOST);
	/* ai is part of res: done with it before res goes. */
	if (ai->ai_family != AF_UNIX)
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(res);
	return s;
}

int
connect_unix(const char *path, int timeout, char *err, size_t errsz)
{
	struct sockaddr_un	 sun;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errsz, "cannot connect to %s: %s", path,
		    strerror(ENAMETOOLONG));
		return -EX_TEMPFAIL;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errsz, "cannot create socket: %s",
		    strerror(errno));
		return -EX_OSERR;
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != EINPROGRESS || wait_connected(s, timeout) == -1)) {
		snprintf(err, errsz, "cannot connect to %s: %s", path,
		    strerror(errno));
		close(s);
		return -EX_TEMPFAIL;
	}
	return s;
}
