/*
 * The role executables of both programs: opened once at start-up from a
 * directory fixed when building, and checked before anything runs them.
 */
#ifndef POSTERN_ROLEEXEC_H
#define POSTERN_ROLEEXEC_H

#include <sys/types.h>
#include <sys/stat.h>

uid_t	roleexec_owner(const char *);
int	roleexec_open(const char *, const char *, uid_t, struct stat *);

#endif
