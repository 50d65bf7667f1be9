/*
 * SHA-256 (FIPS 180-4), small and self-contained so that a sandboxed
 * process can checksum a spool entry without a crypto library that might
 * open configuration files on first use.
 */
#ifndef POSTERN_SHA256_H
#define POSTERN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32

struct sha256 {
	uint32_t	 h[8];
	uint64_t	 len;		/* bytes hashed so far */
	unsigned char	 buf[64];
	size_t		 nbuf;
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *, size_t);
void	sha256_final(struct sha256 *, unsigned char [SHA256_LEN]);

#endif
