/*
 * A blob larger than one message (a certificate chain, a private key):
 * sent as chunks of one type and put back together by the receiver, with
 * a NUL after it for PEM parsers.  Every copy of it is wiped when freed
 * or outgrown: it may be a key.
 */
#ifndef POSTERN_BLOB_H
#define POSTERN_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct ipc;
struct ipc_msg;

struct blob {
	unsigned char	*data;		/* NUL-terminated, NULL when empty */
	size_t		 len;		/* without the NUL */
};

int	blob_send(struct ipc *, uint32_t, const void *, size_t);
int	blob_add(struct blob *, const struct ipc_msg *, size_t);
void	blob_free(struct blob *);

#endif
