#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <tls.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "iowait.h"
#include "log.h"
#include "tls_client.h"

/*
 * TLS 1.2 only with ECDHE and AEAD: libretls maps "secure" to a string that
 * still allows AES128-SHA.  TLS 1.3 suites are all ECDHE and AEAD.
 */
#define TLS_CIPHERS_FLOOR	"ECDHE+AESGCM:ECDHE+CHACHA20"

struct tls_client {
	struct tls_config	*cfg;
	char			*servername;
	int			 certcheck;
	int			 pinned;
	unsigned char		 pin[32];
	size_t			 pinlen;
};

static void
seterr(char *err, size_t errsz, int *exitcode, int ex, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
seterr(char *err, size_t errsz, int *exitcode, int ex, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	*exitcode = ex;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * msmtp's fingerprint form: hex byte pairs, any case, separated by colons
 * (or not separated at all).  The length tells the hash: 32 bytes SHA-256,
 * 20 SHA-1, 16 MD5.  Returns 0 and fills buf (32 bytes) and *lenp.
 */
int
tls_parse_fingerprint(const char *s, unsigned char *buf, size_t *lenp)
{
	size_t	 n = 0;
	int	 hi, lo;

	while (*s != '\0') {
		if (n == 32)
			return -1;
		if ((hi = hexval((unsigned char)s[0])) == -1 ||
		    (lo = hexval((unsigned char)s[1])) == -1)
			return -1;
		buf[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
		if (*s == ':' && s[1] != '\0')
			s++;
	}
	if (n != 32 && n != 20 && n != 16)
		return -1;
	*lenp = n;
	return 0;
}

/*
 * tls_priorities: GnuTLS priority strings as msmtp passes them, mapped to
 * what libtls can express, plus "protocols=" (libtls syntax) and
 * "ciphers=" (OpenSSL syntax, the rest of the string) for anything else.  Version and cipher floors only ever stay or
 * move where the user said.
 */
static int
set_priorities(struct tls_config *cfg, const char *prio, char *err,
    size_t errsz, int *exitcode)
{
	char		*copy, *tok, *p;
	uint32_t	 protos = TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3;
	const char	*ciphers = TLS_CIPHERS_FLOOR;
	char		*cipherbuf = NULL;
	int		 rv = -1;

	if ((copy = strdup(prio != NULL ? prio : "")) == NULL)
		fatal("strdup");
	for (p = copy; (tok = strsep(&p, ":")) != NULL;) {
		if (*tok == '\0' || *tok == '%')
			continue;
		if (strcmp(tok, "NORMAL") == 0 || strcmp(tok, "PFS") == 0 ||
		    strncmp(tok, "SECURE", 6) == 0 ||
		    strcmp(tok, "PERFORMANCE") == 0)
			continue;
		if (strcmp(tok, "-VERS-ALL") == 0)
			protos = 0;
		else if (strcmp(tok, "+VERS-ALL") == 0)
			protos = TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3;
		else if (strcmp(tok, "-VERS-TLS1.3") == 0)
			protos &= ~TLS_PROTOCOL_TLSv1_3;
		else if (strcmp(tok, "+VERS-TLS1.3") == 0)
			protos |= TLS_PROTOCOL_TLSv1_3;
		else if (strcmp(tok, "-VERS-TLS1.2") == 0)
			protos &= ~TLS_PROTOCOL_TLSv1_2;
		else if (strcmp(tok, "+VERS-TLS1.2") == 0)
			protos |= TLS_PROTOCOL_TLSv1_2;
		else if (strncmp(tok, "-VERS-", 6) == 0)
			continue;	/* older versions are off anyway */
		else if (strncmp(tok, "protocols=", 10) == 0) {
			if (tls_config_parse_protocols(&protos, tok + 10)
			    == -1) {
				seterr(err, errsz, exitcode, EX_SOFTWARE,
				    "cannot set priorities for TLS session: "
				    "invalid protocols '%s'", tok + 10);
				goto out;
			}
		} else if (strncmp(tok, "ciphers=", 8) == 0) {
			/* An OpenSSL cipher list has colons: it takes the rest. */
			if (p != NULL)
				p[-1] = ':';
			if ((cipherbuf = strdup(tok + 8)) == NULL)
				fatal("strdup");
			ciphers = cipherbuf;
			break;
		} else {
			seterr(err, errsz, exitcode, EX_SOFTWARE,
			    "cannot set priorities for TLS session: "
			    "unsupported priority '%s'", tok);
			goto out;
		}
	}
	if (protos == 0) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot set priorities for TLS session: "
		    "no protocol version left");
		goto out;
	}
	if (tls_config_set_protocols(cfg, protos) == -1 ||
	    tls_config_set_ciphers(cfg, ciphers) == -1) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot set priorities for TLS session: %s",
		    tls_config_error(cfg));
		goto out;
	}
	rv = 0;
 out:
	free(cipherbuf);
	free(copy);
	return rv;
}

/* Parse a PEM bundle now, so a broken file fails before the connection. */
static int
count_pem_certs(const char *pem, size_t len)
{
	BIO			*bio;
	STACK_OF(X509_INFO)	*infos;
	int			 i, n = 0;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL)
		return -1;
	for (i = 0; i < sk_X509_INFO_num(infos); i++)
		if (sk_X509_INFO_value(infos, i)->x509 != NULL)
			n++;
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return n;
}

/*
 * Build the TLS configuration from memory.  Must run before the sandbox:
 * it initialises libcrypto, parses the PEM material and loads the time
 * zone that certificate time checks would otherwise read on first use.
 * On failure returns NULL with msmtp's message in err and a sysexits code.
 */
struct tls_client *
tls_client_init(const struct tls_client_params *p, char *err, size_t errsz,
    int *exitcode)
{
	struct tls_client	*tc;
	time_t			 now;
	struct tm		 tm;

	if (tls_init() == -1) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot initialize TLS library: tls_init failed");
		return NULL;
	}
	tzset();
	now = time(NULL);
	localtime_r(&now, &tm);
	/* A peer reset must be an error return, not a fatal signal. */
	signal(SIGPIPE, SIG_IGN);

	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		fatal("calloc");
	tc->certcheck = p->certcheck;
	if (p->servername != NULL &&
	    (tc->servername = strdup(p->servername)) == NULL)
		fatal("strdup");
	if ((tc->cfg = tls_config_new()) == NULL) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot initialize TLS session: tls_config_new failed");
		goto fail;
	}
	if (set_priorities(tc->cfg, p->priorities, err, errsz, exitcode) == -1)
		goto fail;

	if (p->certcheck && p->fingerprint != NULL) {
		if (tls_parse_fingerprint(p->fingerprint, tc->pin,
		    &tc->pinlen) == -1) {
			seterr(err, errsz, exitcode, EX_CONFIG,
			    "invalid tls_fingerprint %s", p->fingerprint);
			goto fail;
		}
		tc->pinned = 1;
	}
	if (!p->certcheck || tc->pinned) {
		/* The pin replaces the chain, name and time checks. */
		tls_config_insecure_noverifycert(tc->cfg);
		tls_config_insecure_noverifyname(tc->cfg);
		tls_config_insecure_noverifytime(tc->cfg);
	} else if (p->servername == NULL) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot initialize TLS session: no server name to verify");
		goto fail;
	}

	/*
	 * Always hand libtls a CA from memory: without one it falls back to
	 * OpenSSL's default paths, opened during the handshake.
	 */
	if (p->ca_pem != NULL) {
		if (count_pem_certs(p->ca_pem, p->ca_len) <= 0 ||
		    tls_config_set_ca_mem(tc->cfg, (const uint8_t *)p->ca_pem,
		    p->ca_len) == -1) {
			seterr(err, errsz, exitcode, EX_NOINPUT,
			    "cannot set X509 trust file for TLS session: %s",
			    "no usable certificate in the trust file");
			goto fail;
		}
	} else if (p->certcheck && !tc->pinned) {
		seterr(err, errsz, exitcode, EX_CONFIG, "tls requires either "
		    "tls_trust_file (highly recommended) or tls_fingerprint "
		    "or a disabled tls_certcheck");
		goto fail;
	}
	if (p->crl_pem != NULL &&
	    tls_config_set_crl_mem(tc->cfg, (const uint8_t *)p->crl_pem,
	    p->crl_len) == -1) {
		seterr(err, errsz, exitcode, EX_NOINPUT,
		    "cannot set X509 CRL file for TLS session: %s",
		    tls_config_error(tc->cfg));
		goto fail;
	}
	if (p->cert_pem != NULL || p->key_pem != NULL) {
		if (p->cert_pem == NULL || p->key_pem == NULL ||
		    tls_config_set_keypair_mem(tc->cfg,
		    (const uint8_t *)p->cert_pem, p->cert_len,
		    (const uint8_t *)p->key_pem, p->key_len) == -1) {
			seterr(err, errsz, exitcode, EX_NOINPUT,
			    "cannot set X509 key file and/or X509 cert file "
			    "for TLS session: %s", p->cert_pem && p->key_pem ?
			    tls_config_error(tc->cfg) : "both are needed");
			goto fail;
		}
	}
	return tc;
 fail:
	tls_client_free(tc);
	return NULL;
}

void
tls_client_free(struct tls_client *tc)
{
	if (tc == NULL)
		return;
	if (tc->cfg != NULL) {
		tls_config_clear_keys(tc->cfg);
		tls_config_free(tc->cfg);
	}
	free(tc->servername);
	freezero(tc, sizeof(*tc));
}

/* Wait until fd is ready for events; timeout in seconds, 0 = none. */
int
tls_client_wait(int fd, int events, int timeout)
{
	return iowait(fd, events, iowait_deadline(timeout)) == 1 ? 0 : -1;
}

static X509 *
peer_leaf(struct tls *ctx)
{
	const uint8_t	*pem;
	size_t		 len;
	BIO		*bio;
	X509		*x;

	if ((pem = tls_peer_cert_chain_pem(ctx, &len)) == NULL ||
	    len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

static void
name_string(X509_NAME *name, char *buf, size_t bufsz)
{
	BIO	*bio;
	char	*data;
	long	 len;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* In the certificate's order, as msmtp (GnuTLS) prints it. */
	if (X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >= 0 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0)
		log_sanitize(buf, bufsz, data, (size_t)len);
	BIO_free(bio);
}

/*
 * tls-server-end-point (RFC 5929 4.1): the certificate's signature hash,
 * with MD5 and SHA-1 raised to SHA-256.
 */
static int
end_point(X509 *x, unsigned char *cb, size_t *cblen)
{
	ASN1_OCTET_STRING	*os;
	int			 len;

	if ((os = X509_digest_sig(x, NULL, NULL)) == NULL)
		return -1;
	len = ASN1_STRING_length(os);
	if (len <= 0 || len > TLS_CBIND_MAX) {
		ASN1_OCTET_STRING_free(os);
		return -1;
	}
	memcpy(cb, ASN1_STRING_get0_data(os), (size_t)len);
	*cblen = (size_t)len;
	ASN1_OCTET_STRING_free(os);
	return 0;
}

static int
fill_info(struct tls *ctx, X509 *x, struct tls_peer_info *info)
{
	const char	*s;
	unsigned int	 n;

	memset(info, 0, sizeof(*info));
	if ((s = tls_conn_version(ctx)) != NULL)
		strlcpy(info->version, s, sizeof(info->version));
	if ((s = tls_conn_cipher(ctx)) != NULL)
		strlcpy(info->cipher, s, sizeof(info->cipher));
	info->strength = tls_conn_cipher_strength(ctx);
	name_string(X509_get_subject_name(x), info->subject,
	    sizeof(info->subject));
	name_string(X509_get_issuer_name(x), info->issuer,
	    sizeof(info->issuer));
	info->notbefore = tls_peer_cert_notbefore(ctx);
	info->notafter = tls_peer_cert_notafter(ctx);
	n = sizeof(info->sha256);
	if (X509_digest(x, EVP_sha256(), info->sha256, &n) != 1)
		return -1;
	n = sizeof(info->sha1);
	if (X509_digest(x, EVP_sha1(), info->sha1, &n) != 1)
		return -1;
	return 0;
}

static int
check_pin(const struct tls_client *tc, X509 *x)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = sizeof(md);
	const EVP_MD	*type;

	switch (tc->pinlen) {
	case 32:
		type = EVP_sha256();
		break;
	case 20:
		type = EVP_sha1();
		break;
	default:
		type = EVP_md5();
		break;
	}
	if (X509_digest(x, type, md, &n) != 1 || n != tc->pinlen)
		return -1;
	return CRYPTO_memcmp(md, tc->pin, n) == 0 ? 0 : -1;
}

/*
 * libtls reports chain, name and time failures only as text; these are the
 * phrases it uses for them.  They are certificate problems (EX_UNAVAILABLE
 * in msmtp), everything else is a handshake failure (EX_PROTOCOL).
 */
static int
is_cert_error(const char *e)
{
	return strstr(e, "certificate verification failed") != NULL ||
	    strstr(e, "not present in server certificate") != NULL ||
	    strstr(e, "certificate verify failed") != NULL ||
	    strstr(e, "no peer certificate") != NULL;
}

/*
 * Run the handshake on the connected socket fd (non-blocking) and check
 * the peer.  Fills info and the channel binding (cb, TLS_CBIND_MAX bytes;
 * *cblen 0 when unavailable).  Returns the connection, or NULL with
 * msmtp's message and exit code.
 */
struct tls *
tls_client_start(struct tls_client *tc, int fd, int timeout,
    struct tls_peer_info *info, unsigned char *cb, size_t *cblen,
    char *err, size_t errsz, int *exitcode)
{
	struct tls	*ctx;
	X509		*x = NULL;
	const char	*e;
	int		 rv;

	*cblen = 0;
	if ((ctx = tls_client()) == NULL) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot initialize TLS session: tls_client failed");
		return NULL;
	}
	if (tls_configure(ctx, tc->cfg) == -1 ||
	    tls_connect_socket(ctx, fd, tc->servername) == -1) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot initialize TLS session: %s", tls_error(ctx));
		goto fail;
	}
	while ((rv = tls_handshake(ctx)) != 0) {
		if (rv == TLS_WANT_POLLIN || rv == TLS_WANT_POLLOUT) {
			if (tls_client_wait(fd, rv == TLS_WANT_POLLIN ?
			    POLLIN : POLLOUT, timeout) == -1) {
				seterr(err, errsz, exitcode, EX_IOERR,
				    "TLS handshake failed: %s",
				    errno == ETIMEDOUT ?
				    "the operation timed out" : strerror(errno));
				goto fail;
			}
			continue;
		}
		e = tls_error(ctx) != NULL ? tls_error(ctx) : "unknown error";
		if (is_cert_error(e))
			seterr(err, errsz, exitcode, EX_UNAVAILABLE,
			    "TLS certificate verification failed: %s", e);
		else
			seterr(err, errsz, exitcode, EX_PROTOCOL,
			    "TLS handshake failed: %s", e);
		goto fail;
	}
	if ((x = peer_leaf(ctx)) == NULL) {
		seterr(err, errsz, exitcode, EX_UNAVAILABLE,
		    "TLS certificate verification failed: "
		    "no peer certificate");
		goto fail;
	}
	if (tc->pinned && check_pin(tc, x) == -1) {
		seterr(err, errsz, exitcode, EX_UNAVAILABLE,
		    "TLS certificate verification failed: "
		    "the certificate fingerprint does not match");
		goto fail;
	}
	if (fill_info(ctx, x, info) == -1) {
		seterr(err, errsz, exitcode, EX_SOFTWARE,
		    "cannot get TLS certificate info");
		goto fail;
	}
	if (end_point(x, cb, cblen) == -1)
		*cblen = 0;
	X509_free(x);
	return ctx;
 fail:
	X509_free(x);
	tls_free(ctx);
	return NULL;
}

/* Send close_notify, bounded by the timeout, and free the connection. */
void
tls_client_stop(struct tls *ctx, int fd, int timeout)
{
	int	 rv;

	if (ctx == NULL)
		return;
	while ((rv = tls_close(ctx)) == TLS_WANT_POLLIN ||
	    rv == TLS_WANT_POLLOUT)
		if (tls_client_wait(fd, rv == TLS_WANT_POLLIN ? POLLIN :
		    POLLOUT, timeout > 0 ? timeout : 5) == -1)
			break;
	tls_free(ctx);
}

/*
 * Read or write what the connection takes now: the count, -1 on an error
 * (tls_client_error says which), or TLS_CLIENT_WANT_POLLIN/POLLOUT when
 * the socket must be waited for first.
 */
ssize_t
tls_client_read(struct tls *ctx, void *buf, size_t len)
{
	ssize_t	 n = tls_read(ctx, buf, len);

	if (n == TLS_WANT_POLLIN)
		return TLS_CLIENT_WANT_POLLIN;
	if (n == TLS_WANT_POLLOUT)
		return TLS_CLIENT_WANT_POLLOUT;
	return n < 0 ? -1 : n;
}

ssize_t
tls_client_write(struct tls *ctx, const void *buf, size_t len)
{
	ssize_t	 n = tls_write(ctx, buf, len);

	if (n == TLS_WANT_POLLIN)
		return TLS_CLIENT_WANT_POLLIN;
	if (n == TLS_WANT_POLLOUT)
		return TLS_CLIENT_WANT_POLLOUT;
	return n < 0 ? -1 : n;
}

const char *
tls_client_error(struct tls *ctx)
{
	const char	*e = tls_error(ctx);

	return e != NULL ? e : "unknown error";
}
