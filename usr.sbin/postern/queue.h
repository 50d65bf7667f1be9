/*
 * The parent's side of the queue: deciding to queue, committing an entry
 * once the children are done, and the queue commands (flush, list, show,
 * purge, retry).  Everything here runs in the parent; the reader writes
 * and checks entries, the network process sends them.
 */
#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

struct send;
struct cmdline;

void	 queue_argv0(int *, char ***);
void	 queue_begin(struct send *);
void	 queue_handoff(struct send *);
int	 queue_only(struct send *);
int	 queue_finish(struct send *, int, const char *);
void	 queue_after_send(struct send *);
int	 queue_command(struct cmdline *);

#endif
