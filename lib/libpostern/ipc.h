/*
 * Framed messages between the processes of postern and posternd, in the
 * manner of OpenBSD's imsg: a fixed header (type, total length, peer id,
 * flags) and a payload, over a stream socketpair.  A message may carry one
 * file descriptor, passed with SCM_RIGHTS.  Everything read from a peer is
 * untrusted: ipc_get() checks the framing and the payload cursor checks
 * every field and that nothing is left over.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stdint.h>

#define IPC_HDRSIZE	16
#define IPC_MAXSIZE	(64 * 1024)		/* header and payload */
#define IPC_MAXDATA	(IPC_MAXSIZE - IPC_HDRSIZE)
#define IPC_MAXFDS	16

#define IPC_F_FD	0x1

struct ipc_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header included */
	uint32_t	 peerid;
	uint32_t	 flags;
};

struct ipc_msg {
	struct ipc_hdr	 hdr;
	int		 fd;		/* -1 unless IPC_F_FD */
	const unsigned char *data;	/* valid until the next ipc_get() */
	size_t		 datalen;
};

struct ipc_out {
	TAILQ_ENTRY(ipc_out) entry;
	size_t		 len;
	size_t		 off;
	int		 fd;
	unsigned char	 buf[];
};

struct ipc {
	int		 fd;
	unsigned char	 rbuf[2 * IPC_MAXSIZE];
	size_t		 rlen;		/* bytes in rbuf */
	size_t		 roff;		/* start of the next message */
	size_t		 rhigh;		/* rbuf bytes ever written: to wipe */
	int		 fds[IPC_MAXFDS];
	int		 nfds;
	int		 eof;
	TAILQ_HEAD(, ipc_out) outq;
	size_t		 queued;
};

/* Payload builder and cursor: u32, u64 and length-prefixed byte strings. */
struct ipc_buf {
	unsigned char	 data[IPC_MAXDATA];
	size_t		 len;
	int		 overflow;
};

struct ipc_cur {
	const unsigned char *p;
	size_t		 left;
};

void	 ipc_init(struct ipc *, int);
void	 ipc_clear(struct ipc *);
int	 ipc_compose(struct ipc *, uint32_t, uint32_t, int, const void *,
	    size_t);
int	 ipc_compose_buf(struct ipc *, uint32_t, int, const struct ipc_buf *);
int	 ipc_write(struct ipc *);
int	 ipc_flush(struct ipc *);
ssize_t	 ipc_read(struct ipc *);
int	 ipc_get(struct ipc *, struct ipc_msg *);
int	 ipc_recv(struct ipc *, struct ipc_msg *);
int	 ipc_send(struct ipc *, uint32_t, int, const void *, size_t);

void	 ipc_buf_init(struct ipc_buf *);
void	 ipc_buf_u32(struct ipc_buf *, uint32_t);
void	 ipc_buf_u64(struct ipc_buf *, uint64_t);
void	 ipc_buf_bytes(struct ipc_buf *, const void *, size_t);
void	 ipc_buf_str(struct ipc_buf *, const char *);

void	 ipc_cur_init(struct ipc_cur *, const struct ipc_msg *);
int	 ipc_cur_u32(struct ipc_cur *, uint32_t *);
int	 ipc_cur_u64(struct ipc_cur *, uint64_t *);
int	 ipc_cur_bytes(struct ipc_cur *, const unsigned char **, size_t *);
int	 ipc_cur_str(struct ipc_cur *, char **);
int	 ipc_cur_strbuf(struct ipc_cur *, char *, size_t);
int	 ipc_cur_end(const struct ipc_cur *);

#endif
