/*
 * TLS for the network process.  Everything libtls and libcrypto would load
 * lazily (CA bundle, CRL, client key, time zone) is loaded by
 * tls_client_init(), which the caller runs before it turns on its sandbox;
 * afterwards a handshake needs nothing but the socket it is given.
 *
 * Two implementations: tls_client.c over libtls, linked into
 * postern-network, and tls_absent.c, linked into postern-network-plain,
 * which postern starts for accounts with tls off so that a plain session
 * never maps libtls and libcrypto: there every call fails and says so.
 * tls_info.c (formatting only) goes with both.
 */
#ifndef POSTERN_TLS_CLIENT_H
#define POSTERN_TLS_CLIENT_H

#include <sys/types.h>

#include <stddef.h>

struct tls;
struct tls_client;

struct tls_client_params {
	const char	*ca_pem;	/* trust anchors; NULL only without */
	size_t		 ca_len;	/* certcheck or with a fingerprint */
	const char	*crl_pem;	/* NULL: none */
	size_t		 crl_len;
	const char	*cert_pem;	/* client certificate, NULL: none */
	size_t		 cert_len;
	const char	*key_pem;
	size_t		 key_len;
	int		 certcheck;	/* tls_certcheck */
	const char	*fingerprint;	/* "AA:BB:..", SHA-256/SHA-1/MD5 */
	const char	*priorities;	/* tls_priorities, NULL: default */
	const char	*servername;	/* tls_host_override or host */
};

/* Fixed size and pointer free, so it can cross a process boundary. */
struct tls_peer_info {
	char		 version[16];	/* "TLSv1.3" */
	char		 cipher[64];	/* "TLS_AES_256_GCM_SHA384" */
	int		 strength;	/* bits */
	char		 subject[512];	/* RFC 4514 form, sanitised */
	char		 issuer[512];
	long long	 notbefore;
	long long	 notafter;
	unsigned char	 sha256[32];
	unsigned char	 sha1[20];
};

#define TLS_CBIND_MAX	64	/* tls-server-end-point, up to SHA-512 */

/* tls_client_read and tls_client_write: wait for the socket, then retry. */
#define TLS_CLIENT_WANT_POLLIN	-2
#define TLS_CLIENT_WANT_POLLOUT	-3

struct tls_client *tls_client_init(const struct tls_client_params *,
		    char *, size_t, int *);
void		 tls_client_free(struct tls_client *);
struct tls	*tls_client_start(struct tls_client *, int, int,
		    struct tls_peer_info *, unsigned char *, size_t *,
		    char *, size_t, int *);
int		 tls_client_wait(int, int, int);
void		 tls_client_stop(struct tls *, int, int);
ssize_t		 tls_client_read(struct tls *, void *, size_t);
ssize_t		 tls_client_write(struct tls *, const void *, size_t);
const char	*tls_client_error(struct tls *);
size_t		 tls_peer_info_format(const struct tls_peer_info *, char *,
		    size_t);
int		 tls_parse_fingerprint(const char *, unsigned char *, size_t *);

#endif
