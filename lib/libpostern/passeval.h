/*
 * passwordeval, for both programs: a command from the user's own
 * configuration (or posternd's --auth), run by /bin/sh as msmtp and
 * msmtpd run it, whose output is the password.
 */
#ifndef POSTERN_PASSEVAL_H
#define POSTERN_PASSEVAL_H

#include <stddef.h>

/* msmtpd: the first line is the password, whatever follows is ignored. */
#define PASSEVAL_FIRSTLINE	0x1

char	*password_eval(const char *, int, int, size_t, char *, size_t);

#endif
