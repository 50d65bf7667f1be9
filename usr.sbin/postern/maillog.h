#ifndef POSTERN_MAILLOG_H
#define POSTERN_MAILLOG_H

#include <stddef.h>
#include <stdint.h>

struct account;

/* What one send attempt did, for msmtp's log line. */
struct maillog {
	const char	*from;
	char *const	*rcpts;
	size_t		 nrcpt;
	int		 exitcode;
	uint64_t	 mailsize;	/* logged on success only */
	int		 smtpstatus;	/* 0: no reply to report */
	const char	*smtpmsg;
	const char	*errmsg;	/* NULL or "" on success */
	const char	*localuser;	/* system account: who sent it */
	unsigned long	 localuid;
};

const char	*exitcode_name(int);
size_t		 maillog_format(char *, size_t, const struct account *,
		    const struct maillog *);
void		 maillog_open(const struct account *);
int		 maillog_fd(void);
void		 maillog_write(const struct account *, const struct maillog *);

#endif
