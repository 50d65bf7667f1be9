/* Base64 (RFC 4648 section 4) for SASL exchanges. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <sys/types.h>
#include <stddef.h>

/* Bytes needed to encode n bytes, including the NUL. */
#define BASE64_ENCODE_SIZE(n)	(((n) + 2) / 3 * 4 + 1)
/* Upper bound of the decoded size of n characters. */
#define BASE64_DECODE_SIZE(n)	(((n) + 3) / 4 * 3)

ssize_t	base64_encode(char *, size_t, const void *, size_t);
ssize_t	base64_decode(void *, size_t, const char *, size_t);

#endif
