#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

#define IPC_NULLSTR	0xffffffffU

/*
 * Field by field: the read buffer is large, and zeroing it would touch
 * every page of it in each new process for nothing (rlen says what is in).
 */
void
ipc_init(struct ipc *ipc, int fd)
{
	ipc->fd = fd;
	ipc->rlen = 0;
	ipc->roff = 0;
	ipc->rhigh = 0;
	ipc->nfds = 0;
	ipc->eof = 0;
	TAILQ_INIT(&ipc->outq);
	ipc->queued = 0;
}

void
ipc_clear(struct ipc *ipc)
{
	struct ipc_out	*o;

	while ((o = TAILQ_FIRST(&ipc->outq)) != NULL) {
		TAILQ_REMOVE(&ipc->outq, o, entry);
		if (o->fd != -1)
			close(o->fd);
		freezero(o, sizeof(*o) + o->len);
	}
	while (ipc->nfds > 0)
		close(ipc->fds[--ipc->nfds]);
	/* What was never written holds nothing, and need not be touched. */
	explicit_bzero(ipc->rbuf, ipc->rhigh);
	ipc->rlen = ipc->roff = ipc->rhigh = 0;
	ipc->queued = 0;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Queue one message.  The descriptor, if any, now belongs to the queue and
 * is closed once it has been sent.
 */
int
ipc_compose(struct ipc *ipc, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct ipc_out	*o;

	if (len > IPC_MAXDATA) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + IPC_HDRSIZE + len)) == NULL)
		return -1;
	o->len = IPC_HDRSIZE + len;
	o->off = 0;
	o->fd = fd;
	put32(o->buf, type);
	put32(o->buf + 4, (uint32_t)o->len);
	put32(o->buf + 8, peerid);
	put32(o->buf + 12, fd != -1 ? IPC_F_FD : 0);
	if (len > 0)
		memcpy(o->buf + IPC_HDRSIZE, data, len);
	TAILQ_INSERT_TAIL(&ipc->outq, o, entry);
	ipc->queued++;
	return 0;
}

int
ipc_compose_buf(struct ipc *ipc, uint32_t type, int fd,
    const struct ipc_buf *b)
{
	if (b->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	return ipc_compose(ipc, type, 0, fd, b->data, b->len);
}

/*
 * One sendmsg() of the head of the queue.  A descriptor goes with the first
 * byte of its message, so the receiver can match it to that message.
 * Returns 0 when progress was made or the socket is full, -1 on error.
 */
int
ipc_write(struct ipc *ipc)
{
	struct ipc_out	*o;
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	if ((o = TAILQ_FIRST(&ipc->outq)) == NULL)
		return 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = o->buf + o->off;
	iov.iov_len = o->len - o->off;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (o->off == 0 && o->fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
	}
	n = sendmsg(ipc->fd, &msg, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return -1;
	}
	if (o->fd != -1) {
		close(o->fd);
		o->fd = -1;
	}
	o->off += (size_t)n;
	if (o->off == o->len) {
		TAILQ_REMOVE(&ipc->outq, o, entry);
		ipc->queued--;
		freezero(o, sizeof(*o) + o->len);
	}
	return 0;
}

int
ipc_flush(struct ipc *ipc)
{
	struct pollfd	 pfd;

	while (!TAILQ_EMPTY(&ipc->outq)) {
		if (ipc_write(ipc) == -1)
			return -1;
		if (TAILQ_EMPTY(&ipc->outq))
			break;
		pfd.fd = ipc->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

int
ipc_send(struct ipc *ipc, uint32_t type, int fd, const void *data, size_t len)
{
	if (ipc_compose(ipc, type, 0, fd, data, len) == -1)
		return -1;
	return ipc_flush(ipc);
}

/*
 * Read what is available.  Received descriptors are queued in arrival
 * order; a message that says it carries one takes the oldest.
 * Returns the number of bytes read, 0 at end of file, -1 on error.
 */
ssize_t
ipc_read(struct ipc *ipc)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * IPC_MAXFDS)];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fd, toomany = 0;

	if (ipc->roff > 0) {
		memmove(ipc->rbuf, ipc->rbuf + ipc->roff, ipc->rlen - ipc->roff);
		ipc->rlen -= ipc->roff;
		ipc->roff = 0;
	}
	if (ipc->rlen == sizeof(ipc->rbuf)) {
		errno = ENOBUFS;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = ipc->rbuf + ipc->rlen;
	iov.iov_len = sizeof(ipc->rbuf) - ipc->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
again:
	if ((n = recvmsg(ipc->fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EINTR)
			goto again;
		/* A peer that died with our bytes unread resets the channel. */
		if (errno != ECONNRESET)
			return -1;
		n = 0;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			/* Close every surplus descriptor, not just the first. */
			if (ipc->nfds == IPC_MAXFDS) {
				close(fd);
				toomany = 1;
				continue;
			}
			ipc->fds[ipc->nfds++] = fd;
		}
	}
	if (toomany || (msg.msg_flags & MSG_CTRUNC)) {
		errno = EBADMSG;
		return -1;
	}
	if (n == 0)
		ipc->eof = 1;
	ipc->rlen += (size_t)n;
	if (ipc->rlen > ipc->rhigh)
		ipc->rhigh = ipc->rlen;
	return n;
}

/*
 * Take the next complete message from what was read.  Returns 1 with a
 * message, 0 when more bytes are needed, -1 (errno EBADMSG) when the peer
 * broke the framing: a length out of range, unknown flags, a message that
 * claims a descriptor none came with, or a descriptor no message claims.
 */
int
ipc_get(struct ipc *ipc, struct ipc_msg *m)
{
	const unsigned char	*p = ipc->rbuf + ipc->roff;
	size_t			 avail = ipc->rlen - ipc->roff;
	uint32_t		 len, flags;

	if (avail < IPC_HDRSIZE) {
		if (avail == 0 && ipc->nfds > 0)
			goto bad;
		if (ipc->eof && avail > 0)
			goto bad;
		return 0;
	}
	len = get32(p + 4);
	flags = get32(p + 12);
	if (len < IPC_HDRSIZE || len > IPC_MAXSIZE || (flags & ~IPC_F_FD))
		goto bad;
	if (avail < len) {
		if (ipc->eof)
			goto bad;
		return 0;
	}
	m->hdr.type = get32(p);
	m->hdr.len = len;
	m->hdr.peerid = get32(p + 8);
	m->hdr.flags = flags;
	m->fd = -1;
	if (flags & IPC_F_FD) {
		if (ipc->nfds == 0)
			goto bad;
		m->fd = ipc->fds[0];
		memmove(ipc->fds, ipc->fds + 1, --ipc->nfds * sizeof(int));
	}
	m->data = p + IPC_HDRSIZE;
	m->datalen = len - IPC_HDRSIZE;
	ipc->roff += len;
	return 1;
bad:
	errno = EBADMSG;
	return -1;
}

/*
 * Block until one message arrives.  Returns 1 with a message, 0 at a clean
 * end of file, -1 on error.
 */
int
ipc_recv(struct ipc *ipc, struct ipc_msg *m)
{
	int	 r;

	for (;;) {
		if ((r = ipc_get(ipc, m)) != 0)
			return r;
		if (ipc->eof)
			return 0;
		if (ipc_read(ipc) == -1)
			return -1;
	}
}

void
ipc_buf_init(struct ipc_buf *b)
{
	b->len = 0;
	b->overflow = 0;
}

static void
buf_add(struct ipc_buf *b, const void *p, size_t len)
{
	if (b->overflow || len > sizeof(b->data) - b->len) {
		b->overflow = 1;
		return;
	}
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
}

void
ipc_buf_u32(struct ipc_buf *b, uint32_t v)
{
	unsigned char	 p[4];

	put32(p, v);
	buf_add(b, p, sizeof(p));
}

void
ipc_buf_u64(struct ipc_buf *b, uint64_t v)
{
	ipc_buf_u32(b, (uint32_t)(v >> 32));
	ipc_buf_u32(b, (uint32_t)v);
}

void
ipc_buf_bytes(struct ipc_buf *b, const void *p, size_t len)
{
	if (len >= IPC_NULLSTR) {
		b->overflow = 1;
		return;
	}
	ipc_buf_u32(b, (uint32_t)len);
	buf_add(b, p, len);
}

/* A NULL string is sent as such, distinct from the empty string. */
void
ipc_buf_str(struct ipc_buf *b, const char *s)
{
	if (s == NULL)
		ipc_buf_u32(b, IPC_NULLSTR);
	else
		ipc_buf_bytes(b, s, strlen(s));
}

void
ipc_cur_init(struct ipc_cur *c, const struct ipc_msg *m)
{
	c->p = m->data;
	c->left = m->datalen;
}

int
ipc_cur_u32(struct ipc_cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = get32(c->p);
	c->p += 4;
	c->left -= 4;
	return 0;
}

int
ipc_cur_u64(struct ipc_cur *c, uint64_t *v)
{
	uint32_t	 hi, lo;

	if (ipc_cur_u32(c, &hi) == -1 || ipc_cur_u32(c, &lo) == -1)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
ipc_cur_bytes(struct ipc_cur *c, const unsigned char **p, size_t *len)
{
	uint32_t	 n;

	if (ipc_cur_u32(c, &n) == -1 || n == IPC_NULLSTR || n > c->left)
		return -1;
	*p = c->p;
	*len = n;
	c->p += n;
	c->left -= n;
	return 0;
}

/* A string with an embedded NUL is refused: it could hide what follows. */
int
ipc_cur_str(struct ipc_cur *c, char **s)
{
	uint32_t	 n;

	if (c->left >= 4 && get32(c->p) == IPC_NULLSTR) {
		c->p += 4;
		c->left -= 4;
		*s = NULL;
		return 0;
	}
	if (ipc_cur_u32(c, &n) == -1 || n > c->left)
		return -1;
	if (memchr(c->p, '\0', n) != NULL)
		return -1;
	if ((*s = malloc((size_t)n + 1)) == NULL)
		return -1;
	memcpy(*s, c->p, n);
	(*s)[n] = '\0';
	c->p += n;
	c->left -= n;
	return 0;
}

int
ipc_cur_strbuf(struct ipc_cur *c, char *dst, size_t dstsz)
{
	const unsigned char	*p;
	size_t			 n;

	if (ipc_cur_bytes(c, &p, &n) == -1 || n >= dstsz ||
	    memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int
ipc_cur_end(const struct ipc_cur *c)
{
	return c->left == 0 ? 0 : -1;
}
