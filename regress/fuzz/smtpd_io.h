/* The harness side of smtpd_io.c. */
#include <stddef.h>

struct sconf;

extern size_t	smtpd_delivered;
void	smtpd_run(const struct sconf *, const unsigned char *, size_t, size_t);
