/*
 * The message as the reader process sees it: the header block is read into
 * memory with limits and inspected; the body is then streamed to an fd with
 * every line end turned into CRLF, never held whole in memory.
 */
#ifndef POSTERN_RFC5322_H
#define POSTERN_RFC5322_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct addr_list;

#define RFC5322_MAXFIELD	(64 * 1024)	/* one field, folds included */
#define RFC5322_MAXHEADER	(1024 * 1024)	/* the whole header block */
#define RFC5322_MAXFIELDS	10000
#define RFC5322_BUFSIZE		(64 * 1024)	/* read and write size */

struct rfc5322_field {
	TAILQ_ENTRY(rfc5322_field) entry;
	char		*name;		/* NULL: a line that is not a field */
	char		*text;		/* as read, CRLF line ends, NUL ended */
	size_t		 textlen;
	char		*value;		/* after the colon, unfolded */
	int		 resent;	/* in the first block of Resent- fields */
};
TAILQ_HEAD(rfc5322_fields, rfc5322_field);

struct rfc5322_msg {
	int			 fd;		/* the message source */
	size_t			 bufsize;	/* read size, RFC5322_BUFSIZE */
	size_t			 maxheader;	/* RFC5322_MAXHEADER */
	struct rfc5322_fields	 fields;
	size_t			 nfields;
	size_t			 hdrsize;
	int			 separator;	/* an empty line ended the header */
	int			 eof;		/* the source is exhausted */
	int			 has_from;	/* From: with an address */
	int			 has_date;
	int			 has_msgid;
	int			 has_to;
	int			 has_cc;
	int			 has_resent;	/* a Resent- block exists */

	/* Bytes read past the header block, and line-end state. */
	char			*rest;
	size_t			 restlen;
	int			 skip_lf;

	char			 errstr[256];
};

enum rfc5322_set {
	RFC5322_SET_OFF,
	RFC5322_SET_AUTO,		/* add if missing */
	RFC5322_SET_ON			/* replace (From only) */
};

struct rfc5322_opts {
	int			 remove_bcc;	/* drop Bcc: and Resent-Bcc: */
	enum rfc5322_set	 set_from;
	enum rfc5322_set	 set_date;	/* OFF or AUTO */
	enum rfc5322_set	 set_msgid;	/* OFF or AUTO */
	int			 undisclosed;	/* To/Cc/Bcc -> undisclosed */
	const char		*envelope_from;	/* validated; "" for <> */
	const char		*full_name;	/* NULL or display name */
	const char		*charset;	/* of full_name; NULL: utf-8 */
	time_t			 date;		/* time for an added Date: */
	long			 gmtoff;	/* local offset east of UTC, s */
	const char		*msgid_host;	/* Message-ID domain fallback */
	const unsigned char	*msgid_random;	/* 16 bytes; NULL: arc4random */
	const char		*trace;		/* NULL or a field put first */
};

struct rfc5322_stats {
	uint64_t		 bytes;		/* written, CRLF as 2 */
	uint64_t		 mailsize;	/* msmtp's count: CRLF as 1 */
};

/*
 * Phase 1.  Every function returning int returns a sysexits(3) code and,
 * unless EX_OK, leaves a message in msg->errstr.
 */
void	 rfc5322_init(struct rfc5322_msg *, int);
void	 rfc5322_clear(struct rfc5322_msg *);
int	 rfc5322_read_header(struct rfc5322_msg *);
struct rfc5322_field *rfc5322_find(struct rfc5322_msg *, const char *);
int	 rfc5322_envelope_from(struct rfc5322_msg *, char **);
int	 rfc5322_recipients(struct rfc5322_msg *, struct addr_list *);

/* Phase 2: the added fields, the header block, then the body. */
int	 rfc5322_write(struct rfc5322_msg *, const struct rfc5322_opts *, int,
	    struct rfc5322_stats *);

/* Building blocks, exposed for their callers and tests. */
int	 rfc5322_format_date(char *, size_t, time_t, long);
char	*rfc5322_display_name(const char *, const char *);
int	 rfc5322_msgid(char *, size_t, const unsigned char *, const char *,
	    const char *);

#endif
