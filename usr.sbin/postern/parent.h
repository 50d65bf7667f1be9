#ifndef POSTERN_PARENT_H
#define POSTERN_PARENT_H

#include <stdint.h>

#include "addr.h"
#include "cmdline.h"
#include "config.h"
#include "connect.h"
#include "log.h"
#include "proc.h"
#include "spool.h"

int	parent_main(int, char *[]);

/* One send, or one account's group of a queue flush. */
struct send {
	struct cmdline	 cl;
	struct config	 cf;
	struct account	*acc;
	char		*from;		/* envelope from */
	char		**rcpts;
	size_t		 nrcpt;

	struct child	 reader, secrets, network;
	struct child	*culprit;	/* the first child that died */
	int		 body[2];	/* the pipe R -> N */

	/* What the reader found in the header. */
	char		*hdr_from;
	struct addr_list hdr_rcpts;

	/* Outcome. */
	int		 r_done;	/* the reader's final word came */
	int		 r_code;
	char		 r_msg[1024];
	uint64_t	 r_mailsize;
	int		 n_done;
	int		 n_code;
	int		 n_status;
	uint32_t	 n_flags;
	uint64_t	 n_mailsize;
	char		*n_smtpmsg;
	char		*n_errmsg;
	char		*n_info;	/* --serverinfo text */
	struct lmtp_refusal {
		size_t	 rcpt;
		int	 code;
		char	*text;
	}		*refused;	/* LMTP: recipients refused after data */
	size_t		 nrefused;
	struct conn_info ci;

	/* The queue entry written while the mail goes out (queue.c). */
	int		 queueing;
	struct spool	 sp;
	int		 qfd;
	char		 qid[SPOOL_IDLEN + 1];
};

__dead void die(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	child_send(struct child *, uint32_t, int, const struct ipc_buf *);
void	parse_error(const struct ipc_msg *, int *, char *, size_t);
void	start_secrets(struct send *, int);
void	start_network(struct send *, int, uint32_t, char *);
void	hand_socket(struct send *);
void	network_release(struct send *);

#endif
