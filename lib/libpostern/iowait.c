/*
 * Time and waiting.  Every wait is against a deadline on the monotonic
 * clock, so a signal that interrupts poll() does not restart the time-out.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <tls.h>

#include "iowait.h"

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A time-out in seconds as a deadline; 0 or less means none. */
int64_t
iowait_deadline(int seconds)
{
	if (seconds <= 0)
		return IOWAIT_FOREVER;
	return now_ms() + (int64_t)seconds * 1000;
}

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT) or the deadline
 * passes.  1: ready (or an error or hang-up to be read); 0: the deadline
 * passed, errno ETIMEDOUT; -1: poll failed, errno set.
 */
int
iowait(int fd, int events, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 r;

	pfd.fd = fd;
	pfd.events = (short)events;
	for (;;) {
		if (deadline == IOWAIT_FOREVER)
			left = -1;
		else if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return 0;
		} else if (left > INT_MAX)
			left = INT_MAX;
		if ((r = poll(&pfd, 1, (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 1)
			return 1;
	}
}

/*
 * Wait for what libtls asked for: want is TLS_WANT_POLLIN (read side, in)
 * or TLS_WANT_POLLOUT (write side, out).  Returns as iowait().
 */
int
iowait_tls(ssize_t want, int in, int out, int64_t deadline)
{
	if (want == TLS_WANT_POLLIN)
		return iowait(in, POLLIN, deadline);
	return iowait(out, POLLOUT, deadline);
}
