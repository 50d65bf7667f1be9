/*
 * The client side of SMTP AUTH, as the secrets process runs it: it picks
 * the mechanism in msmtp's order, answers one challenge at a time and
 * checks the server's last word.  Cyrus SASL does PLAIN, LOGIN, CRAM-MD5,
 * DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256 (and -PLUS), NTLM and GSSAPI;
 * EXTERNAL, XOAUTH2 and OAUTHBEARER are built in.  Challenges and
 * responses are base64 text, as they are on the wire.
 */
#ifndef POSTERN_SASL_CLIENT_H
#define POSTERN_SASL_CLIENT_H

#include <stddef.h>

#define AUTH_SCRAM_MIN_ITER	4096	/* RFC 7677 section 4 */

struct auth_conf {
	const char	*host;		/* SMTP host (or socket), for SASL */
	int		 port;
	const char	*user;		/* NULL: none */
	const char	*password;	/* NULL: none; OAuth: the token */
	const char	*realm;		/* ntlmdomain, NULL: none */
	const char	*mech;		/* "" or NULL: choose automatically */
};

struct auth;

int		 auth_library_init(char *, size_t);
struct auth	*auth_new(const struct auth_conf *, char *, size_t);
int		 auth_begin(struct auth *, const char *, int,
		    const unsigned char *, size_t, char *, size_t, char **,
		    int *, char *, size_t);
int		 auth_step(struct auth *, const char *, char **, int *, char *,
		    size_t);
int		 auth_end(struct auth *, int, int *, char *, size_t);
void		 auth_free(struct auth *);

/* Pure helpers, exposed for the unit tests. */
int		 auth_needs_password(const char *);
const char	*auth_choose(const char *, int, int, int (*)(const char *));
int		 auth_scram_iterations(const char *, size_t, unsigned long *);
char		*auth_oauth(const char *, const char *, const char *, int,
		    const char *);

#endif
