/*
 * SMTP/LMTP reply parser (RFC 5321 4.2).  Lines are fed one at a time,
 * without their line end; the parser collects a multi-line reply and
 * reports when it is complete.  Every byte comes from an untrusted server,
 * so lengths and line counts are bounded and anything malformed is an error.
 */
#ifndef POSTERN_REPLY_H
#define POSTERN_REPLY_H

#include <stddef.h>

#define REPLY_LINE_MAX	1023	/* bytes of one line without its line end */
#define REPLY_LINES_MAX	50	/* lines of one reply */
#define REPLY_TEXT_MAX	(REPLY_LINES_MAX * (REPLY_LINE_MAX + 1))

enum reply_status {
	REPLY_ERROR = -1,
	REPLY_DONE = 0,
	REPLY_MORE = 1
};

enum reply_error {
	REPLY_OK,
	REPLY_EINVALID,		/* no "DDD " or "DDD-", NUL or CR inside */
	REPLY_ELONG,		/* line longer than REPLY_LINE_MAX */
	REPLY_ELINES,		/* more than REPLY_LINES_MAX lines */
	REPLY_EMISMATCH,	/* lines of one reply carry different codes */
	REPLY_EEMPTY		/* connection closed where a reply was due */
};

struct reply {
	int	 code;		/* of the first line, 0 until one is seen */
	int	 error;		/* enum reply_error */
	int	 done;
	size_t	 nlines;
	size_t	 len;		/* of text, without the NUL */
	/* Raw lines joined with '\n', codes included, no line ends. */
	char	 text[REPLY_TEXT_MAX];
};

void		 reply_init(struct reply *);
int		 reply_add_line(struct reply *, const char *, size_t);
const char	*reply_line(const struct reply *, size_t, size_t *);
const char	*reply_strerror(int);

#endif
