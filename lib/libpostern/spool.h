/*
 * The outgoing queue on disk.
 *
 * A spool is a directory (0700) with tmp/, queue/, failed/, state/ and a
 * lock file.  An entry is one file, written once in tmp/ and renamed into
 * queue/ once it is complete and on disk; it is never edited.  Its retry
 * state lives beside it, in state/ID, replaced by rename.
 *
 * Entry format: the magic, then records of one type byte, a 64-bit
 * big-endian length and the data.  The head (account, configuration file,
 * the arguments of the original command line, time, uid, sender,
 * recipients) ends with a HEADSUM record, the SHA-256 of every byte before
 * it.  Then one BODY record (the message as it is sent: headers added, Bcc
 * removed, CRLF line ends, not dot-stuffed) and an END record, the SHA-256
 * of the body.  Nothing may follow END.  An unknown record, a bad length or
 * checksum, or a control character in an envelope field makes the whole
 * entry invalid.
 */
#ifndef POSTERN_SPOOL_H
#define POSTERN_SPOOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SPOOL_MAGIC	"POSTERN-QUEUE-1\n"
#define SPOOL_MAGICLEN	16
#define SPOOL_IDLEN	24		/* 16 hex digits of time, 8 random */

enum spool_rec {
	SREC_ACCOUNT = 1,	/* account name */
	SREC_CONFFILE,		/* configuration file, "" for none */
	SREC_ARG,		/* one argument of the original command line */
	SREC_TIME,		/* 8 bytes: arrival, seconds since the epoch */
	SREC_UID,		/* 8 bytes */
	SREC_FROM,		/* envelope sender, "" for <> */
	SREC_RCPT,		/* one recipient */
	SREC_NOTICE,		/* empty: a delivery notice, never noticed */
	SREC_HEADSUM,		/* SHA-256 of everything before it */
	SREC_BODY,		/* the message */
	SREC_END,		/* SHA-256 of the body */
};

#define SPOOL_FIELD_MAX	(64 * 1024)
#define SPOOL_RCPT_MAX	100000
#define SPOOL_ARG_MAX	1024

struct spool_head {
	char		*account;
	char		*conffile;
	char		**argv;
	size_t		 argc;
	uint64_t	 time;
	uint64_t	 uid;
	char		*from;
	char		**rcpts;
	size_t		 nrcpt;
	int		 notice;
	/* Filled in by spool_read_head(): where the body record starts. */
	off_t		 body_off;
};

struct spool_status {
	unsigned	 attempts;
	time_t		 last;		/* last try, 0: never */
	time_t		 next;		/* next try for a --due flush */
	char		 error[512];	/* last error, "" */
};

struct spool {
	char		*path;
	int		 dirfd;
	int		 tmpfd, queuefd, failedfd, statefd;
	int		 lockfd;
};

/* Which directory of the spool. */
#define SPOOL_QUEUE	0
#define SPOOL_FAILED	1

int	 spool_open(struct spool *, const char *, int create, char *, size_t);
void	 spool_close(struct spool *);
int	 spool_lock(struct spool *, int wait);
void	 spool_unlock(struct spool *);
void	 spool_newid(char [SPOOL_IDLEN + 1]);
int	 spool_valid_id(const char *);
int	 spool_create(struct spool *, char [SPOOL_IDLEN + 1]);
int	 spool_commit(struct spool *, const char *, int fd);
void	 spool_discard(struct spool *, const char *);
int	 spool_list(struct spool *, int which, char ***, size_t *);
void	 spool_list_free(char **, size_t);
int	 spool_openentry(struct spool *, int which, const char *);
int	 spool_remove(struct spool *, const char *);
int	 spool_move(struct spool *, const char *, int from, int to);
void	 spool_sweep_tmp(struct spool *, time_t);

int	 spool_status_read(struct spool *, const char *, struct spool_status *);
int	 spool_status_write(struct spool *, const char *,
	    const struct spool_status *);

int	 spool_write_head(int, const struct spool_head *);
int	 spool_read_head(int, struct spool_head *, char *, size_t);
void	 spool_head_free(struct spool_head *);
/*
 * Append the body, already written by the caller from body_off + 9 to the
 * current end: fix its length, read it back, hash it, copy it to out
 * (when out != -1 and it keeps accepting), and append END.
 */
int	 spool_body_begin(int, off_t *);
int	 spool_body_end(int, off_t, int out, int *outbroken);
/*
 * From body_off (after spool_read_head()): check the body and its END
 * record, copying the body to out (-1: none).  Returns 0, -1 for an
 * invalid entry (err says why), -2 when out stopped accepting.
 */
int	 spool_read_body(int, const struct spool_head *, int out,
	    uint64_t *len, char *, size_t);

int	 spool_field_ok(const char *, int allow_tab);

#endif
