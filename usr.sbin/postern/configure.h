/* --configure: an account generated from the domain's SRV records. */
#ifndef POSTERN_CONFIGURE_H
#define POSTERN_CONFIGURE_H

#include <stddef.h>

int	configure_mode(const char *, const char *);
int	configure_srv(const unsigned char *, int, char *, size_t, int *);
int	configure_host_matches(const char *, const char *);

#endif
