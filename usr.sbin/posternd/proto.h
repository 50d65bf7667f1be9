/*
 * The protocol between the processes of posternd, on one screen.
 *
 *   L listener (parent), Z session server, S session (one per
 *   connection, forked by Z), A auth.
 *
 * Every payload is built with ipc_buf and read with ipc_cur; the comment
 * after each type lists its fields in order.  The configurations
 * (MSG_Z_CONFIG, MSG_A_CONFIG) are a struct below, written and read only
 * by their pair of functions in proto.c.  A receiver that gets a type
 * it does not expect in its current state, or a payload that does not
 * parse to the last byte, treats the sender as hostile: the listener ends
 * that session, a session or the auth process exits.
 */
#ifndef POSTERND_PROTO_H
#define POSTERND_PROTO_H

#include <stdint.h>

/*
 * Descriptors a child finds at exec (Z, A) or, for a session, when the
 * session server has forked it.
 */
#define FD_PARENT	3	/* Z, S, A: the channel to L */
#define FD_CLIENT_IN	4	/* S: the client, read side */
#define FD_CLIENT_OUT	5	/* S: the client, write side (may be the same) */
#define FD_AUTH		6	/* S: its own channel to A, when --auth */

#define ROLE_FLAG	"--posternd-role"

enum role {
	ROLE_LISTENER,
	ROLE_SERVER,
	ROLE_SESSION,
	ROLE_AUTH,
};

/* MSG_S_CONFIG flags */
#define SF_AUTH		0x01	/* AUTH required before MAIL */
#define SF_TLS		0x02	/* a certificate is configured */
#define SF_TLS_IMPLICIT	0x04	/* TLS from the first byte, no STARTTLS */
#define SF_CRLF		0x08	/* hand the message over with CRLF line ends */
#define SF_DASH_RCPT	0x10	/* recipients may begin with '-' (after --) */
#define SF_CHROOT	0x20	/* chroot and drop to uid/gid */
#define SF_LOG		0x40	/* send MSG_S_LOG (a log is kept) */
#define SF_ALL		0x7f

enum msg_type {
	/* L -> Z, at start, in this order: what every session shares */
	MSG_Z_CONFIG = 1,	/* u32 flags (SF_*), u32 timeout,
				   u32 session timeout, u32 max recipients,
				   u32 max auth failures, u32 max line length,
				   u64 max message size, str domain,
				   u32 uid, u32 gid, str chroot directory */
	MSG_Z_CERT,		/* bytes: a chunk of the certificate chain
				   (blob.h) */
	MSG_Z_KEY,		/* bytes: a chunk of the private key */
	MSG_Z_GO,		/* empty: configuration complete */
	/* Z -> L */
	MSG_Z_READY,		/* empty: locked down, taking requests */
	/* L -> Z, one request per connection, in this order */
	MSG_Z_AUTH,		/* fd: the session's channel to A; empty
				   payload.  Only with --auth. */
	MSG_Z_CLIENT,		/* fd: the client (read side); empty */
	MSG_Z_CLIENT_OUT,	/* fd: the client's write side; empty.
				   Only when it is another descriptor. */
	MSG_Z_FORK,		/* fd: the session's channel to L;
				   str peer address ("1.2.3.4",
				   "IPv6:::1" or "") */
	/* Z -> L */
	MSG_Z_FORKED,		/* u32 process id of the session, 0 if the
				   fork failed */

	/* S -> L */
	MSG_S_LOG = 32,		/* u32 priority (LOG_*), str message */
	MSG_S_FROM,		/* str envelope sender, "" for <> */
	MSG_S_RCPT,		/* str one recipient */
	MSG_S_DATA_END,		/* u64 bytes: the message in the file is
				   whole, FROM and RCPT came just before */
	MSG_S_DATA_ABORT,	/* empty: the file holds nothing to deliver */
	/* L -> S */
	MSG_S_DATA_FD,		/* fd: an empty file for the next message;
				   empty payload.  One at once, one after
				   each RESULT and each DATA_ABORT. */
	MSG_S_RESULT,		/* u32 reply code, str enhanced code and text */

	/* L -> A */
	MSG_A_CONFIG = 64,	/* str user, str passwordeval (NULL: ask
				   the terminal), u32 failure delay (ms),
				   u32 uid, u32 gid, str chroot directory
				   ("" for none) */
	MSG_A_SESSION,		/* fd: a session's channel; str client address
				   ("" when unknown) */
	/* A -> L */
	MSG_A_READY,		/* empty */
	MSG_A_ERROR,		/* str message */
	/* S -> A */
	MSG_A_CHECK,		/* bytes authzid, bytes user, bytes password */
	/* A -> S */
	MSG_A_ANSWER,		/* u32 1 accepted, 0 refused */
};

struct ipc_buf;
struct ipc_msg;

/*
 * A decoder checks every field and the end, fills the struct with strings
 * of its own (free them with the matching *_clear()), and returns -1 on
 * anything else, having freed what it took.  The encoders take the
 * strings as given and own none.
 */
struct z_config {			/* MSG_Z_CONFIG */
	uint32_t	 flags;		/* SF_* */
	uint32_t	 timeout;	/* seconds */
	uint32_t	 session_timeout;
	uint32_t	 max_recipients;
	uint32_t	 max_auth_failures;
	uint32_t	 max_line_length;
	uint64_t	 max_message_size;
	const char	*domain;	/* never NULL */
	uint32_t	 uid;		/* with SF_CHROOT */
	uint32_t	 gid;
	const char	*chroot;	/* never NULL, "" for none */
};

struct a_config {			/* MSG_A_CONFIG */
	const char	*user;		/* never NULL */
	const char	*passwordeval;	/* NULL: ask the terminal */
	uint32_t	 delay;		/* ms after a failure */
	uint32_t	 uid;
	uint32_t	 gid;
	const char	*chroot;	/* never NULL, "" for none */
};

void	z_config_put(struct ipc_buf *, const struct z_config *);
int	z_config_get(const struct ipc_msg *, struct z_config *);
void	z_config_clear(struct z_config *);
void	a_config_put(struct ipc_buf *, const struct a_config *);
int	a_config_get(const struct ipc_msg *, struct a_config *);
void	a_config_clear(struct a_config *);

#endif
