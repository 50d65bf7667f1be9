/*
 * The system queue: where a system account's mail waits when it cannot go
 * out now.  It never goes to the user's home, where a later flush by the
 * user would have no way to the account's secret.
 *
 * The user's postern writes the entry (the spool format of spool.h) to an
 * unlinked temporary file and hands it to postern-drop, setgid to a group
 * of its own (_postern-spool), which checks it whole and writes it into
 * the drop directory (1730 _postern-queue:_postern-spool): the file is the
 * user's, 0600 while it is written, 0640 once complete.  Nobody but the
 * directory's owner can list the directory.
 *
 * The flusher (postern --system-queue-flush, run by the owner of the drop
 * directory from a timer) takes only complete files: regular, one link,
 * mode 0640, the directory's group, owned by a user of the password
 * database who is not the flusher.  Each goes out through a fresh setgid
 * postern as an ordinary send of the system account, attributed to the
 * file's owner: the trace field and the log line name the owner's uid,
 * never what the entry says.
 */
#ifndef POSTERN_SYSQUEUE_H
#define POSTERN_SYSQUEUE_H

/* Fixed when building; nothing at run time can change them. */
#ifndef PATH_SPOOLDIR
#define PATH_SPOOLDIR		"/var/spool/postern"
#endif
#ifndef PATH_POSTERN_DROP
#define PATH_POSTERN_DROP	"/usr/local/sbin/postern-drop"
#endif
#define SYSQUEUE_DROPDIR	PATH_SPOOLDIR "/drop"
#define SYSQUEUE_FAILEDDIR	PATH_SPOOLDIR "/failed"
#define SYSQUEUE_DROPMODE	01730
#define SYSQUEUE_MAXSIZE	(256LL * 1024 * 1024)

#include <stddef.h>

#define SYSQUEUE_FLUSH_OPT	"--system-queue-flush"
#define SYSQUEUE_SEND_OPT	"--system-queue-send"

struct send;
struct account;

/* The user's side: queue_begin() and its commit for a system account. */
void	 sysqueue_begin(struct send *);
int	 sysqueue_commit(struct send *);
void	 sysqueue_list(void);
size_t	 sysqueue_purge(const char *);

/* The flusher and the send it starts for each entry. */
int	 sysqueue_flush(void);
void	 sysqueue_send_args(int *, char ***);
void	 sysqueue_check_account(const struct account *);

#endif
