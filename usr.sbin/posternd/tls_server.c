/*
 * TLS for the session process.  tls_server_new() loads the key pair from
 * memory and runs everything libtls and libcrypto would otherwise do
 * lazily, before the sandbox goes on; a handshake afterwards needs
 * nothing but the client's descriptors.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <tls.h>

#include "iowait.h"
#include "posternd.h"
#include "session.h"

/* TLS 1.2 with ECDHE and AEAD only; every TLS 1.3 suite is both. */
#define TLS_SERVER_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"

struct tls *
tls_server_new(const unsigned char *cert, size_t certlen,
    const unsigned char *key, size_t keylen, char *err, size_t errsz)
{
	struct tls_config	*cfg;
	struct tls		*ctx;

	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL) {
		snprintf(err, errsz, "cannot initialize TLS");
		return NULL;
	}
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_ciphers(cfg, TLS_SERVER_CIPHERS) == -1 ||
	    tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen) ==
	    -1) {
		snprintf(err, errsz, "TLS configuration: %s",
		    tls_config_error(cfg));
		tls_config_free(cfg);
		return NULL;
	}
	if ((ctx = tls_server()) == NULL || tls_configure(ctx, cfg) == -1) {
		snprintf(err, errsz, "TLS server: %s",
		    ctx != NULL ? tls_error(ctx) : "tls_server failed");
		tls_config_free(cfg);
		return NULL;
	}
	/* The context keeps its own copy of the key. */
	tls_config_clear_keys(cfg);
	tls_config_free(cfg);
	return ctx;
}

int
tls_server_accept(struct tls *srv, int in, int out, int64_t deadline,
    struct tls **cctx, char *err, size_t errsz)
{
	int		 rv;

	if (tls_accept_fds(srv, cctx, in, out) == -1) {
		snprintf(err, errsz, "%s", tls_error(srv));
		return -1;
	}
	while ((rv = tls_handshake(*cctx)) != 0) {
		if (rv != TLS_WANT_POLLIN && rv != TLS_WANT_POLLOUT) {
			snprintf(err, errsz, "TLS handshake failed: %s",
			    tls_error(*cctx));
			return -1;
		}
		switch (iowait_tls(rv, in, out, deadline)) {
		case 1:
			break;
		case 0:
			snprintf(err, errsz, "TLS handshake timed out");
			return -1;
		default:
			snprintf(err, errsz, "poll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}
