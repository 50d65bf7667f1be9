/*
 * Small helpers both programs use: allocation that cannot fail quietly,
 * an error message into the caller's buffer, and strings that held a
 * secret freed without leaving it in memory.
 */
#ifndef POSTERN_UTIL_H
#define POSTERN_UTIL_H

#include <stddef.h>

char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 seterr(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 wipe_str(char **);

#endif
