/*
 * The session process: one per client connection, forked by the session
 * server (session_server.c).  session.c owns the process (configuration,
 * lockdown, the client connection with or without TLS, the channels to
 * the listener and the auth process); smtp_session.c owns the SMTP state
 * machine and calls back into these.
 */
#ifndef POSTERND_SESSION_H
#define POSTERND_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define IBUF_SIZE	(16 * 1024)
#define OBUF_SIZE	(16 * 1024)

struct ipc;
struct tls;

struct conn {
	int		 in;
	int		 out;
	struct tls	*tls;
	int64_t		 deadline;	/* of what we wait for now */
	size_t		 ioff;		/* unread input is ibuf[ioff, ilen) */
	size_t		 ilen;
	size_t		 olen;
	int		 reset;		/* the client reset the connection */
	unsigned char	 ibuf[IBUF_SIZE];
	unsigned char	 obuf[OBUF_SIZE];
};

struct sconf {
	uint32_t	 flags;		/* SF_* */
	uint32_t	 timeout;	/* seconds */
	uint32_t	 session_timeout;
	uint32_t	 max_recipients;
	uint32_t	 max_auth_failures;
	uint32_t	 max_line_length;
	uint64_t	 max_message_size;
	const char	*domain;
	const char	*peer;		/* "1.2.3.4", "IPv6:::1" or "" */
};

/* What the delivery came to. */
struct result {
	int		 code;
	char		 text[256];
};

void	 session_prepare(struct ipc *);
void	 session_run(const char *) __attribute__((__noreturn__));

#define CONN_EOF	0
#define CONN_ERROR	-1
#define CONN_TIMEOUT	-2
#define CONN_RESET	-3	/* ECONNRESET or EPIPE: nobody reads */
int	 conn_fill(struct conn *);
int	 conn_flush(struct conn *);
void	 conn_reply(struct conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 conn_starttls(struct conn *);

void	 session_log(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 session_data_fd(void);
void	 session_deliver(const char *, char *const *, size_t, uint64_t,
	    struct result *);
void	 session_data_abort(void);
int	 session_auth(const void *, size_t, const void *, size_t,
	    const void *, size_t);

void	 smtp_session(struct conn *, const struct sconf *);

/* smtp_session.c: its parsers, apart for the unit tests. */
#define WBUF_SIZE	(64 * 1024)

/* What went wrong inside a message. */
#define DATA_BARE	0x01	/* bare CR or LF */
#define DATA_TOOBIG	0x02
#define DATA_TOOLONG	0x04	/* a line over the limit */
#define DATA_WRITE	0x08	/* the message file failed */

/* Buffered writes into the message file. */
struct wbuf {
	int		 fd;
	size_t		 len;
	int		 failed;
	unsigned char	 buf[WBUF_SIZE];
};

enum dstate { D_BOL, D_LINE, D_CR, D_DOT, D_DOTCR };

/* Where the DATA parser is, between two reads from the client. */
struct data {
	enum dstate	 st;
	uint64_t	 max;		/* message size, 0 for none */
	size_t		 maxline;	/* CRLF included */
	int		 crlf;		/* keep CRLF, else LF */
	uint64_t	 size;
	size_t		 linelen;
	int		 flags;		/* DATA_* */
};

int	 smtp_next_line(struct conn *, char *, size_t);
void	 data_init(struct data *, uint64_t, size_t, int);
int	 data_parse(struct data *, struct conn *, struct wbuf *);
void	 wflush(struct wbuf *);
void	 wput(struct wbuf *, const void *, size_t);

/* tls_server.c */
struct tls *tls_server_new(const unsigned char *, size_t,
	    const unsigned char *, size_t, char *, size_t);
int	 tls_server_accept(struct tls *, int, int, int64_t, struct tls **,
	    char *, size_t);

#endif
