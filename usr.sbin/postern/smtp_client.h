/*
 * SMTP/LMTP client engine of the network process.  Synchronous and driven
 * by the caller: it is handed a connected socket, a TLS context built
 * before the sandbox (tls_client.h) and callbacks for the steps another
 * process answers (SASL, the message body).  It knows nothing about IPC.
 *
 * Errors are reported in struct smtp_result with msmtp's message and exit
 * code, except that every 4xx reply maps to EX_TEMPFAIL.
 */
#ifndef POSTERN_SMTP_CLIENT_H
#define POSTERN_SMTP_CLIENT_H

#include <sys/types.h>

#include <stddef.h>

#include "tls_client.h"

enum smtp_protocol {
	SMTP_PROTO_SMTP,
	SMTP_PROTO_LMTP
};

enum smtp_tls_mode {
	SMTP_TLS_OFF,
	SMTP_TLS_STARTTLS,	/* tls on, tls_starttls on */
	SMTP_TLS_IMPLICIT	/* tls on, tls_starttls off */
};

enum smtp_auth_mode {
	SMTP_AUTH_OFF,
	SMTP_AUTH_AUTO,		/* auth on: auth_start picks the mechanism */
	SMTP_AUTH_MECH		/* auth METHOD: auth_mech names it */
};

#define SMTP_CAP_PIPELINING	0x0001
#define SMTP_CAP_SIZE		0x0002
#define SMTP_CAP_8BITMIME	0x0004
#define SMTP_CAP_DSN		0x0008
#define SMTP_CAP_STARTTLS	0x0010
#define SMTP_CAP_AUTH		0x0020
#define SMTP_CAP_ETRN		0x0040
#define SMTP_CAP_SMTPUTF8	0x0080
#define SMTP_CAP_ENHANCEDSTATUSCODES 0x0100
#define SMTP_CAP_SIZE_BARE	0x0200	/* "SIZE" without a limit */

#define SMTP_AUTH_LIST_MAX	1024
#define SMTP_MSG_MAX		4096
#define SMTP_ERR_MAX		1024
#define SMTP_CMD_MAX		8190	/* longest command line, as msmtp */
#define SMTP_PIPELINE_MAX	100	/* commands per pipelined group */

struct smtp_caps {
	int			 flags;		/* SMTP_CAP_* */
	unsigned long long	 size;		/* SIZE limit, 0: none */
	/* Offered mechanisms, upper case, separated by one space. */
	char			 auth[SMTP_AUTH_LIST_MAX];
};

struct smtp_result {
	int	 exitcode;		/* sysexits */
	int	 smtpstatus;		/* code of the reply in smtpmsg, or 0 */
	/* The reply, lines joined with '\n', control characters as '?'. */
	char	 smtpmsg[SMTP_MSG_MAX];
	char	 errmsg[SMTP_ERR_MAX];	/* msmtp's wording; "" on success */
	size_t	 mailsize;		/* as msmtp logs it: CRLF counts 1 */
	size_t	 rcpt_failed;		/* LMTP: recipients refused after DATA */
};

struct smtp_params {
	int		 protocol;	/* enum smtp_protocol */
	const char	*domain;	/* EHLO/LHLO argument */
	int		 tls;		/* enum smtp_tls_mode */
	int		 auth;		/* enum smtp_auth_mode */
	const char	*auth_mech;	/* with SMTP_AUTH_MECH, upper case */
	const char	*dsn_notify;	/* NOTIFY= value, NULL: none */
	const char	*dsn_return;	/* RET= value, NULL: none */
	int		 timeout;	/* seconds per network wait, 0: none */
	int		 debug_fd;	/* msmtp's --debug transcript, -1: none */
};

/*
 * Callbacks.  Strings returned through char ** are malloc'ed by the
 * callback and wiped and freed by the engine.  A non-zero return aborts,
 * and the callback has filled in the result.
 */
struct smtp_callbacks {
	void	 *ctx;
	/*
	 * Pick a mechanism among the offered ones (post-TLS list) and make
	 * the initial response: *initial NULL for none, "" for an empty one
	 * (sent as "=").  cbind is tls-server-end-point, NULL without TLS.
	 */
	int	(*auth_start)(void *, const char *offered, int tls_active,
		    const unsigned char *cbind, size_t cbindlen,
		    char *mech, size_t mechsz, char **initial,
		    struct smtp_result *);
	/* Answer one 334 challenge (base64 text, may be ""). */
	int	(*auth_step)(void *, const char *challenge, char **response,
		    struct smtp_result *);
	/* The final reply (code, text after the code); SCRAM checks it. */
	int	(*auth_done)(void *, int code, const char *text,
		    struct smtp_result *);
	/* Next bytes of the message (CRLF ends, not dot-stuffed); 0 at end,
	 * -1 on error. */
	ssize_t	(*body_read)(void *, void *, size_t);
	/* Called after the last byte: 0 only once the reader confirmed a
	 * clean end of message; otherwise no final dot is sent. */
	int	(*body_commit)(void *, struct smtp_result *);
	/* LMTP, optional: the reply for recipient i after the data. */
	void	(*rcpt_status)(void *, size_t i, const char *rcpt, int code,
		    const char *text);
	/*
	 * Optional, both or neither: more() says, once body_commit() agreed,
	 * whether another transaction follows at once.  Then, over SMTP with
	 * PIPELINING, the final dot waits in the output buffer and goes with
	 * the next transaction's RSET, MAIL, RCPT and DATA (RFC 2920: the
	 * message content may start a group); smtp_transaction() returns 1,
	 * and dot_done() gets the mail's outcome (0: taken) as soon as the
	 * dot's reply is read, before the replies of that group.
	 */
	int	(*more)(void *);
	void	(*dot_done)(void *, int, const struct smtp_result *);
};

struct smtp;

struct smtp	*smtp_open(int, const struct smtp_params *, struct tls_client *,
		    const struct smtp_callbacks *, struct smtp_result *);
int		 smtp_transaction(struct smtp *, const char *, char *const *,
		    size_t, struct smtp_result *);
int		 smtp_etrn(struct smtp *, const char *, struct smtp_result *);
void		 smtp_close(struct smtp *, int);
int		 smtp_usable(const struct smtp *);
const struct smtp_caps *smtp_capabilities(const struct smtp *);
const struct tls_peer_info *smtp_tls_info(const struct smtp *);
const char	*smtp_greeting(const struct smtp *);
size_t		 smtp_serverinfo_format(const struct smtp *, char *, size_t);

#endif
