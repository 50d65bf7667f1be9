/*
 * Time and waiting, for every process of both programs: one monotonic
 * clock in milliseconds, deadlines on it, and the one poll loop that waits
 * for a descriptor (or for what libtls asked for) until a deadline.
 */
#ifndef POSTERN_IOWAIT_H
#define POSTERN_IOWAIT_H

#include <sys/types.h>
#include <stdint.h>

#define IOWAIT_FOREVER	INT64_MAX

int64_t	now_ms(void);
int64_t	iowait_deadline(int);
int	iowait(int, int, int64_t);
int	iowait_tls(ssize_t, int, int, int64_t);

#endif
