/*
 * The TLS of postern-network-plain: none.  postern starts that executable
 * only for an account with tls off, so that a plain session never maps
 * libtls and libcrypto (their relocation was most of the network
 * process's start-up); the account's own TLS settings never reach it.
 * Should it be asked for TLS all the same, every call fails and says
 * why, and no byte is sent in the clear in TLS's place.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <sysexits.h>

#include "tls_client.h"

#define NO_TLS	"this network executable (postern-network-plain) has no TLS"

struct tls_client *
tls_client_init(const struct tls_client_params *p, char *err, size_t errsz,
    int *exitcode)
{
	snprintf(err, errsz, "cannot initialize TLS session: %s", NO_TLS);
	*exitcode = EX_SOFTWARE;
	return NULL;
}

void
tls_client_free(struct tls_client *tc)
{
}

struct tls *
tls_client_start(struct tls_client *tc, int fd, int timeout,
    struct tls_peer_info *info, unsigned char *cbind, size_t *cbindlen,
    char *err, size_t errsz, int *exitcode)
{
	snprintf(err, errsz, "cannot start TLS session: %s", NO_TLS);
	*exitcode = EX_SOFTWARE;
	return NULL;
}

void
tls_client_stop(struct tls *ctx, int fd, int timeout)
{
}

ssize_t
tls_client_read(struct tls *ctx, void *buf, size_t len)
{
	errno = EPROTONOSUPPORT;
	return -1;
}

ssize_t
tls_client_write(struct tls *ctx, const void *buf, size_t len)
{
	errno = EPROTONOSUPPORT;
	return -1;
}

const char *
tls_client_error(struct tls *ctx)
{
	return NO_TLS;
}
