/*
 * The protocol between the processes of postern, on one screen.
 *
 *   P parent, R reader, S secrets, N network.
 *
 * Every payload is built with ipc_buf and read with ipc_cur; the comment
 * after each type lists its fields in order.  str may be NULL, bytes never.
 * The large payloads (MSG_R_OUTPUT, MSG_S_CONFIG, MSG_N_CONFIG) are a
 * struct below, written and read only by their pair of functions in
 * proto.c.  A receiver that gets a type it does not expect in its current
 * state, or a payload that does not parse to the last byte, exits (fatalx).
 */
#ifndef POSTERN_PROTO_H
#define POSTERN_PROTO_H

#include <stdint.h>

/* Descriptors a child finds at exec. */
#define FD_PARENT	3	/* every child: the channel to P */
#define FD_BODY		4	/* R: write end; N: read end of the body pipe */
#define FD_PEER		5	/* N and S: the channel between them */
#define FD_EXE		6	/* every child: its own executable */

/*
 * The largest TLS file (trust, CRL, certificate, key) the parent reads
 * and sends to the network process as MSG_N_CA.. chunks (blob.h).
 */
#define PEM_MAX		(16 * 1024 * 1024)

enum role {
	ROLE_PARENT,
	ROLE_READER,
	ROLE_SECRETS,
	ROLE_NETWORK,
};

enum msg_type {
	/* P -> R */
	MSG_R_START = 1,	/* u32 flags (R_EXTRACT_*), u32 max header bytes */
	MSG_R_OUTPUT,		/* u32 flags (R_OUT_*), u32 set_from,
				   u32 set_date, u32 set_msgid (enum
				   rfc5322_set), str envelope from,
				   str full name, u64 date, u64 UTC offset
				   (two's complement), str Message-ID host,
				   str trace field (NULL: none) */
	MSG_R_SPOOL,		/* fd: the queue entry, its head written;
				   u32 flags (R_SPOOL_*) */
	MSG_R_ENTRY,		/* fd: a queue entry to check and send */
	MSG_R_PIPE,		/* fd: the body pipe for that entry */
	/* R -> P */
	MSG_R_HDR_FROM,		/* str address from the From header */
	MSG_R_HDR_RCPT,		/* str recipient from To/Cc/Bcc or Resent-* */
	MSG_R_HDR_DONE,		/* empty: the header is reported */
	MSG_R_DONE,		/* u64 bytes written, u64 mailsize */
	MSG_R_ERROR,		/* u32 sysexits code, str message */

	/* P -> S */
	MSG_S_CONFIG,		/* str host, str user, str password,
				   str passwordeval, str auth ("" = on),
				   u32 port, str ntlmdomain, str system
				   account (NULL: none; see sysmode.h) */
	/* S -> P */
	MSG_S_READY,		/* empty */
	MSG_S_ERROR,		/* u32 sysexits code, str message */

	/* P -> N */
	MSG_N_CONFIG,		/* u32 protocol, u32 tls mode, u32 flags (N_*),
				   u32 timeout, u32 auth mode, str domain,
				   str TLS server name, str dsn_notify,
				   str dsn_return, str auth method,
				   str tls_fingerprint, str tls_priorities,
				   str proxy target host (NULL: no proxy),
				   u32 proxy target port, u32 mode (N_MODE_*),
				   str ETRN argument */
	MSG_N_CA,		/* bytes: a chunk of the CA bundle */
	MSG_N_CRL,		/* bytes: a chunk of the CRL file */
	MSG_N_CERT,		/* bytes: a chunk of the client certificate */
	MSG_N_KEY,		/* bytes: a chunk of the client key */
	MSG_N_FROM,		/* str envelope from */
	MSG_N_RCPT,		/* str one recipient */
	MSG_N_SOCKET,		/* fd: the connected socket; empty payload */
	MSG_N_BODY_OK,		/* empty: R ended the message cleanly */
	MSG_N_BODY_ABORT,	/* empty: R failed, never send the final dot */
	MSG_N_BODY,		/* fd: the body pipe of the next transaction
				   (N_MODE_BATCH); after MSG_N_FROM and
				   MSG_N_RCPT; empty payload */
	MSG_N_READY,		/* N -> P, N_MODE_BATCH: the session is open,
				   transactions may come; empty */
	/* N -> P */
	MSG_N_RCPT_STATUS,	/* LMTP, a refused recipient: u32 index,
				   u32 reply code, str reply */
	MSG_N_INFO,		/* str --serverinfo text */
	MSG_N_RESULT,		/* u32 sysexits code, u32 smtp status,
				   u32 flags (NRES_*), u64 mailsize,
				   str smtp message, str error message */

	/* N -> S */
	MSG_AUTH_START,		/* str offered mechanisms, u32 tls active,
				   bytes channel binding */
	MSG_AUTH_CHALLENGE,	/* str base64 challenge */
	MSG_AUTH_RESULT,	/* u32 reply code, str reply text */
	/* S -> N */
	MSG_AUTH_MECH,		/* str mechanism, str initial response
				   (NULL: none) */
	MSG_AUTH_RESPONSE,	/* str base64 response */
	MSG_AUTH_OK,		/* empty */
	MSG_AUTH_FAIL,		/* u32 sysexits code, str message */
};

/* MSG_R_START */
#define R_EXTRACT_RCPT		0x01	/* -t */
#define R_EXTRACT_FROM		0x02	/* --read-envelope-from */

/* MSG_R_OUTPUT */
#define R_OUT_REMOVE_BCC	0x01
#define R_OUT_UNDISCLOSED	0x02
#define R_OUT_SPOOL		0x04	/* an MSG_R_SPOOL follows */
#define R_OUT_ALL		0x07

/* MSG_R_SPOOL */
#define R_SPOOL_SEND		0x01	/* also stream it into the body pipe */

/* MSG_N_CONFIG */
#define N_TLS_CERTCHECK		0x01
#define N_DEBUG			0x02
#define N_LMTP			0x04
#define N_KEEP			0x08	/* N_MODE_SEND: after a mail the server
					   took, keep the session for the
					   parent's due queue entries */
#define N_ALL			0x0f

/* The tls and auth modes are enum smtp_tls_mode and smtp_auth_mode. */
#define N_MODE_SEND		0
#define N_MODE_SERVERINFO	1
#define N_MODE_RMQS		2
#define N_MODE_BATCH		3	/* queue flush: transactions one after
					   another over one session, each with
					   its own body pipe; the parent closes
					   the channel to end it with QUIT */

/* MSG_N_RESULT */
#define NRES_DATA_SENT		0x01	/* the final dot was sent */
#define NRES_ABORTED		0x02	/* stopped before the dot: R failed */
#define NRES_BROKEN		0x04	/* the session can carry no more mail */
#define NRES_KEPT		0x08	/* N_KEEP: the session stays open, the
					   network process goes on as in
					   N_MODE_BATCH until the parent closes
					   the channel */

struct ipc_buf;
struct ipc_msg;

/*
 * The payloads with many fields.  A decoder checks every field and the
 * end, fills the struct with strings of its own (free them with the
 * matching *_clear()), and returns -1 on anything else, having freed what
 * it took.  The encoders take the strings as given and own none.
 */
struct r_output {			/* MSG_R_OUTPUT */
	uint32_t	 flags;		/* R_OUT_* */
	uint32_t	 set_from;	/* enum rfc5322_set */
	uint32_t	 set_date;
	uint32_t	 set_msgid;
	char		*from;		/* envelope from, never NULL */
	char		*full_name;
	uint64_t	 date;		/* time_t */
	int64_t		 gmtoff;	/* seconds east of UTC */
	char		*msgid_host;
	char		*trace;		/* NULL: none */
};

struct s_config {			/* MSG_S_CONFIG */
	char		*host;		/* host or socket, never NULL */
	char		*user;
	char		*password;
	char		*passwordeval;	/* only without password */
	char		*auth;		/* "" = on, any mechanism */
	uint32_t	 port;
	char		*ntlmdomain;
	char		*system;	/* system account: no password above */
};

struct n_config {			/* MSG_N_CONFIG */
	uint32_t	 protocol;	/* enum smtp_protocol */
	uint32_t	 tls;		/* enum smtp_tls_mode */
	uint32_t	 flags;		/* N_* */
	uint32_t	 timeout;	/* seconds, 0: none */
	uint32_t	 auth;		/* enum smtp_auth_mode */
	char		*domain;	/* never NULL */
	char		*servername;	/* never NULL */
	char		*dsn_notify;
	char		*dsn_return;
	char		*auth_mech;
	char		*fingerprint;
	char		*priorities;
	char		*proxy_host;	/* target host, NULL: no proxy */
	uint32_t	 proxy_port;
	uint32_t	 mode;		/* N_MODE_* */
	char		*etrn;		/* N_MODE_RMQS: never NULL */
};

void	r_output_put(struct ipc_buf *, const struct r_output *);
int	r_output_get(const struct ipc_msg *, struct r_output *);
void	r_output_clear(struct r_output *);
void	s_config_put(struct ipc_buf *, const struct s_config *);
int	s_config_get(const struct ipc_msg *, struct s_config *);
void	s_config_clear(struct s_config *);
void	n_config_put(struct ipc_buf *, const struct n_config *);
int	n_config_get(const struct ipc_msg *, struct n_config *);
void	n_config_clear(struct n_config *);

#endif
