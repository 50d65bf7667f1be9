/*
 * The framing layer is the first thing a compromised peer talks to, so
 * these tests drive it both through its own writer and through a raw one
 * that can send what ipc_compose() never would.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "tap.h"

#define NMANY		200
#define FD_EVERY	7

static void __attribute__((__noreturn__))
die(const char *what)
{
	perror(what);
	exit(2);
}

static struct ipc *
ipc_new(int fd)
{
	struct ipc	*ipc;

	if ((ipc = malloc(sizeof(*ipc))) == NULL)
		die("malloc");
	ipc_init(ipc, fd);
	return ipc;
}

static void
ipc_free(struct ipc *ipc)
{
	ipc_clear(ipc);
	close(ipc->fd);
	free(ipc);
}

static void
mkpair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
}

static void
nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		die("fcntl");
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
rawhdr(unsigned char *p, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t flags)
{
	put32(p, type);
	put32(p + 4, len);
	put32(p + 8, peerid);
	put32(p + 12, flags);
}

static void
xwrite(int fd, const void *p, size_t len)
{
	if (write(fd, p, len) != (ssize_t)len)
		die("write");
}

/* Send bytes with descriptors attached, as a hostile peer could. */
static void
rawsend(int sock, const void *p, size_t len, const int *fds, int nfds)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * IPC_MAXFDS)];
	} cmsgbuf;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	if (sendmsg(sock, &msg, 0) != (ssize_t)len)
		die("sendmsg");
}

static int
count_fds(void)
{
	int	 fd, n = 0, max;

	max = getdtablesize();
	for (fd = 0; fd < max; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* An unlinked temporary file: a descriptor with an identity to compare. */
static int
tmpfile_fd(void)
{
	char	 path[] = "/tmp/test_ipc.XXXXXX";
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		die("mkstemp");
	unlink(path);
	return fd;
}

static int
same_file(int a, int b)
{
	struct stat	 sa, sb;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static uint64_t
file_ino(int fd)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1)
		die("fstat");
	return (uint64_t)st.st_ino;
}

/*
 * Move queued messages from tx to rx within one process: tx is
 * non-blocking, so neither side can wait on the other.
 * Returns what ipc_get() returns, 0 also at end of file or when nothing
 * more is coming.
 */
static int
xfer(struct ipc *tx, struct ipc *rx, struct ipc_msg *m)
{
	struct pollfd	 pfd;
	int		 r, n;

	for (;;) {
		if ((r = ipc_get(rx, m)) != 0)
			return r;
		if (rx->eof)
			return 0;
		if (tx != NULL && !TAILQ_EMPTY(&tx->outq) &&
		    ipc_write(tx) == -1)
			return -1;
		pfd.fd = rx->fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, tx != NULL && !TAILQ_EMPTY(&tx->outq) ?
		    0 : 5000);
		if (n == -1)
			return -1;
		if (n == 0) {
			if (tx != NULL && !TAILQ_EMPTY(&tx->outq))
				continue;
			errno = ETIMEDOUT;
			return -1;
		}
		if (ipc_read(rx) == -1)
			return -1;
	}
}

static void
fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

static void
test_roundtrip(size_t len)
{
	struct ipc	*tx, *rx;
	struct ipc_msg	 m;
	unsigned char	*data;
	int		 sv[2], r;

	mkpair(sv);
	nonblock(sv[0]);
	tx = ipc_new(sv[0]);
	rx = ipc_new(sv[1]);
	if ((data = malloc(len + 1)) == NULL)
		die("malloc");
	fill(data, len, (unsigned int)len);
	ok(ipc_compose(tx, 42, 7, -1, data, len) == 0,
	    "compose a %zu-byte payload", len);
	r = xfer(tx, rx, &m);
	ok(r == 1, "%zu-byte message arrives", len);
	if (r == 1) {
		ok(m.hdr.type == 42 && m.hdr.peerid == 7 && m.hdr.flags == 0,
		    "%zu-byte message: type, peer id and flags kept", len);
		ok(m.hdr.len == IPC_HDRSIZE + len && m.datalen == len,
		    "%zu-byte message: length kept", len);
		ok(len == 0 || memcmp(m.data, data, len) == 0,
		    "%zu-byte message: payload kept", len);
		ok(m.fd == -1, "%zu-byte message: no descriptor", len);
	}
	ok(tx->queued == 0 && TAILQ_EMPTY(&tx->outq),
	    "%zu-byte message: send queue empty afterwards", len);
	close(tx->fd);
	tx->fd = -1;
	ok(ipc_recv(rx, &m) == 0, "%zu-byte message: then a clean end of file",
	    len);
	free(data);
	ipc_clear(tx);
	free(tx);
	ipc_free(rx);
}

static size_t
many_len(int i)
{
	return (size_t)(i * 977) % 9000 + (size_t)(i % 3);
}

/*
 * The reader of test_many, in its own process: every message in order,
 * with the right payload, a descriptor exactly where one was sent, then a
 * clean end of file.  The exit status says which check failed.
 */
static int
many_reader(int sock, int go)
{
	struct ipc	*rx;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	const unsigned char *p;
	unsigned char	*want;
	size_t		 n;
	uint64_t	 ino;
	uint32_t	 idx;
	char		 b;
	int		 i, r;

	if (read(go, &b, 1) != 1)
		return 10;
	close(go);
	if ((want = malloc(9000 + 3)) == NULL)
		return 11;
	rx = ipc_new(sock);
	for (i = 0; i < NMANY; i++) {
		if ((r = ipc_recv(rx, &m)) != 1)
			return 12;
		if (m.hdr.type != (uint32_t)i + 1)
			return 13;
		ipc_cur_init(&c, &m);
		if (ipc_cur_u32(&c, &idx) == -1 || idx != (uint32_t)i ||
		    ipc_cur_u64(&c, &ino) == -1 ||
		    ipc_cur_bytes(&c, &p, &n) == -1 || ipc_cur_end(&c) == -1)
			return 14;
		fill(want, many_len(i), (unsigned int)i);
		if (n != many_len(i) || memcmp(p, want, n) != 0)
			return 15;
		if ((i % FD_EVERY == 0) != (m.fd != -1))
			return 16;
		if (m.fd != -1) {
			if (file_ino(m.fd) != ino)
				return 17;
			close(m.fd);
		}
	}
	if (ipc_recv(rx, &m) != 0)
		return 18;
	ipc_free(rx);
	free(want);
	return 0;
}

static void
test_many(void)
{
	struct ipc	*tx;
	struct ipc_buf	*b;
	struct ipc_out	*o;
	struct pollfd	 pfd;
	unsigned char	*data;
	size_t		 before;
	pid_t		 pid;
	int		 sv[2], go[2], i, fd, status, sndbuf = 4096;
	int		 composed = 1, stuck, progress, rc;

	mkpair(sv);
	if (pipe(go) == -1)
		die("pipe");
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		die("setsockopt");
	nonblock(sv[0]);
	switch ((pid = fork())) {
	case -1:
		die("fork");
	case 0:
		close(sv[0]);
		close(go[1]);
		_exit(many_reader(sv[1], go[0]));
	}
	close(sv[1]);
	close(go[0]);

	tx = ipc_new(sv[0]);
	if ((b = malloc(sizeof(*b))) == NULL ||
	    (data = malloc(9000 + 3)) == NULL)
		die("malloc");
	for (i = 0; i < NMANY; i++) {
		fd = -1;
		ipc_buf_init(b);
		ipc_buf_u32(b, (uint32_t)i);
		if (i % FD_EVERY == 0) {
			fd = tmpfile_fd();
			ipc_buf_u64(b, file_ino(fd));
		} else
			ipc_buf_u64(b, 0);
		fill(data, many_len(i), (unsigned int)i);
		ipc_buf_bytes(b, data, many_len(i));
		if (ipc_compose_buf(tx, (uint32_t)i + 1, fd, b) == -1)
			composed = 0;
	}
	ok(composed && tx->queued == NMANY, "%d messages queued", NMANY);

	/* The reader is not reading yet: a small buffer must fill up. */
	stuck = 0;
	while (!stuck) {
		before = tx->queued;
		o = TAILQ_FIRST(&tx->outq);
		progress = o != NULL ? (int)o->off : -1;
		if (ipc_write(tx) == -1)
			break;
		o = TAILQ_FIRST(&tx->outq);
		stuck = tx->queued == before &&
		    (o == NULL || (int)o->off == progress);
	}
	ok(stuck && tx->queued > 0,
	    "non-blocking writes stop when the socket buffer is full");

	if (write(go[1], "g", 1) != 1)
		die("write");
	close(go[1]);
	/* Write by hand for half the queue. */
	rc = 0;
	while (tx->queued > NMANY / 2 && rc == 0) {
		if ((rc = ipc_write(tx)) == -1)
			break;
		pfd.fd = tx->fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 1000);
	}
	ok(rc == 0, "ipc_write succeeds while the reader drains");
	ok(ipc_flush(tx) == 0 && tx->queued == 0 && TAILQ_EMPTY(&tx->outq),
	    "ipc_flush sends the rest");
	close(tx->fd);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "reader got all %d messages in order, descriptors with the right"
	    " ones (status %d)", NMANY, WIFEXITED(status) ?
	    WEXITSTATUS(status) : -WTERMSIG(status));
	ipc_clear(tx);
	free(tx);
	free(b);
	free(data);
}

/*
 * A message larger than the sender's socket buffer cannot go in one
 * non-blocking sendmsg(): the kernel must take a part of it.  ipc_write()
 * keeps the offset and the rest follows as the reader drains.
 */
static void
test_partial_write(void)
{
	struct ipc	*tx, *rx;
	struct ipc_out	*o;
	struct ipc_msg	 m;
	unsigned char	*data;
	size_t		 first = 0, len = IPC_MAXDATA;
	int		 sv[2], sndbuf = 4096, got = 0, rounds, same = 0;

	mkpair(sv);
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		die("setsockopt");
	nonblock(sv[0]);
	nonblock(sv[1]);
	if ((data = malloc(len)) == NULL)
		die("malloc");
	fill(data, len, 7);
	tx = ipc_new(sv[0]);
	rx = ipc_new(sv[1]);
	if (ipc_compose(tx, 9, 0, -1, data, len) == -1)
		die("ipc_compose");
	if (ipc_write(tx) == 0 && (o = TAILQ_FIRST(&tx->outq)) != NULL)
		first = o->off;
	ok(first > 0 && first < len + IPC_HDRSIZE,
	    "a message larger than the socket buffer is written in parts"
	    " (%zu of %zu bytes at first)", first, len + IPC_HDRSIZE);
	for (rounds = 0; rounds < 100000 && !got; rounds++) {
		if (ipc_write(tx) == -1)
			break;
		if (ipc_read(rx) == -1 && errno != EAGAIN)
			break;
		if ((got = ipc_get(rx, &m)) == 1)
			same = m.hdr.type == 9 && m.datalen == len &&
			    memcmp(m.data, data, len) == 0;
		else if (got == -1)
			break;
	}
	ok(got == 1 && same && tx->queued == 0,
	    "the parts arrive as the whole message");
	ipc_free(tx);
	ipc_free(rx);
	free(data);
}

static void
test_partial_read(void)
{
	struct ipc	*rx;
	struct ipc_msg	 m;
	unsigned char	 raw[2 * IPC_HDRSIZE + 5 + 3];
	size_t		 i, len1 = IPC_HDRSIZE + 5;
	int		 sv[2], early = 0, r;

	mkpair(sv);
	rx = ipc_new(sv[1]);
	rawhdr(raw, 3, IPC_HDRSIZE + 5, 9, 0);
	memcpy(raw + IPC_HDRSIZE, "hello", 5);
	rawhdr(raw + len1, 4, IPC_HDRSIZE + 3, 0, 0);
	memcpy(raw + len1 + IPC_HDRSIZE, "abc", 3);

	for (i = 0; i < len1; i++) {
		xwrite(sv[0], raw + i, 1);
		if (ipc_read(rx) != 1)
			die("ipc_read");
		r = ipc_get(rx, &m);
		if (i + 1 < len1 && r != 0)
			early = 1;
	}
	ok(!early, "no message before its last byte has arrived");
	ok(r == 1 && m.hdr.type == 3 && m.hdr.peerid == 9 &&
	    m.datalen == 5 && memcmp(m.data, "hello", 5) == 0,
	    "message fed byte by byte arrives whole");
	ok(ipc_get(rx, &m) == 0, "nothing more after it");

	/* The second message's header in two pieces, the payload in one. */
	xwrite(sv[0], raw + len1, 7);
	ok(ipc_read(rx) == 7 && ipc_get(rx, &m) == 0,
	    "part of a header is not a message");
	xwrite(sv[0], raw + len1 + 7, IPC_HDRSIZE - 7);
	ok(ipc_read(rx) == IPC_HDRSIZE - 7 && ipc_get(rx, &m) == 0,
	    "a header without its payload is not a message");
	xwrite(sv[0], raw + len1 + IPC_HDRSIZE, 3);
	ok(ipc_read(rx) == 3 && ipc_get(rx, &m) == 1 && m.hdr.type == 4 &&
	    m.datalen == 3 && memcmp(m.data, "abc", 3) == 0,
	    "the payload completes it");

	/* Both at once, in one write: two messages from one read. */
	xwrite(sv[0], raw, sizeof(raw));
	ok(ipc_read(rx) == (ssize_t)sizeof(raw), "two messages in one read");
	ok(ipc_get(rx, &m) == 1 && m.hdr.type == 3 &&
	    memcmp(m.data, "hello", 5) == 0, "first of the two");
	ok(ipc_get(rx, &m) == 1 && m.hdr.type == 4 &&
	    memcmp(m.data, "abc", 3) == 0, "second of the two");
	close(sv[0]);
	ok(ipc_recv(rx, &m) == 0, "clean end of file after whole messages");
	ipc_free(rx);
}

/* Write raw bytes, close, and return what ipc_recv() makes of them. */
static int
recv_raw(const void *p, size_t len, int *err)
{
	struct ipc	*rx;
	struct ipc_msg	 m;
	int		 sv[2], r;

	mkpair(sv);
	rx = ipc_new(sv[1]);
	if (len > 0)
		xwrite(sv[0], p, len);
	close(sv[0]);
	errno = 0;
	while ((r = ipc_recv(rx, &m)) == 1)
		;
	*err = errno;
	ipc_free(rx);
	return r;
}

static void
test_framing_errors(void)
{
	unsigned char	 raw[IPC_HDRSIZE + 32];
	int		 err, r;

	memset(raw, 0, sizeof(raw));
	rawhdr(raw, 1, IPC_HDRSIZE, 0, 0);
	r = recv_raw(raw, 10, &err);
	ok(r == -1 && err == EBADMSG, "truncated header at end of file");

	rawhdr(raw, 1, IPC_HDRSIZE + 32, 0, 0);
	r = recv_raw(raw, IPC_HDRSIZE + 20, &err);
	ok(r == -1 && err == EBADMSG, "truncated payload at end of file");

	r = recv_raw(raw, 0, &err);
	ok(r == 0, "nothing then end of file is a clean end");

	rawhdr(raw, 1, IPC_HDRSIZE - 1, 0, 0);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "length below the header size");

	rawhdr(raw, 1, 0, 0, 0);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "length zero");

	/* Refused from the header alone, before any payload arrives. */
	rawhdr(raw, 1, IPC_MAXSIZE + 1, 0, 0);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "length above IPC_MAXSIZE");

	rawhdr(raw, 1, 0xffffffffU, 0, 0);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "length 0xffffffff");

	rawhdr(raw, 1, IPC_HDRSIZE, 0, 0x2);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "unknown flag 0x2");

	rawhdr(raw, 1, IPC_HDRSIZE, 0, 0x80000000U);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG, "unknown flag 0x80000000");

	rawhdr(raw, 1, IPC_HDRSIZE, 0, IPC_F_FD);
	r = recv_raw(raw, IPC_HDRSIZE, &err);
	ok(r == -1 && err == EBADMSG,
	    "a message claiming a descriptor that never came");
}

static void
test_unclaimed_fd(void)
{
	struct ipc	*rx;
	struct ipc_msg	 m;
	unsigned char	 raw[IPC_HDRSIZE];
	int		 sv[2], fd, r, nbefore;

	nbefore = count_fds();
	mkpair(sv);
	rx = ipc_new(sv[1]);
	fd = tmpfile_fd();
	rawhdr(raw, 5, IPC_HDRSIZE, 0, 0);
	rawsend(sv[0], raw, sizeof(raw), &fd, 1);
	close(fd);
	close(sv[0]);
	errno = 0;
	while ((r = ipc_recv(rx, &m)) == 1)
		ok(m.fd == -1, "a message without IPC_F_FD takes no descriptor");
	ok(r == -1 && errno == EBADMSG,
	    "a descriptor no message claims is an error");
	ipc_free(rx);
	ok(count_fds() == nbefore, "the unclaimed descriptor is closed");
}

/* More descriptors than the receiver keeps: refused, and none leaks. */
static void
test_fd_flood(void)
{
	struct ipc	*rx;
	unsigned char	 raw[IPC_HDRSIZE];
	int		 sv[2], fds[10], i, nbefore;
	ssize_t		 r;

	nbefore = count_fds();
	mkpair(sv);
	rx = ipc_new(sv[1]);
	for (i = 0; i < 10; i++)
		fds[i] = tmpfile_fd();
	rawhdr(raw, 1, IPC_HDRSIZE, 0, IPC_F_FD);
	rawsend(sv[0], raw, 1, fds, 10);
	rawsend(sv[0], raw + 1, 1, fds, 10);
	for (i = 0; i < 10; i++)
		close(fds[i]);
	close(sv[0]);
	errno = 0;
	if ((r = ipc_read(rx)) != -1)
		r = ipc_read(rx);
	ok(r == -1 && errno == EBADMSG,
	    "more than IPC_MAXFDS pending descriptors is an error");
	ok(rx->nfds <= IPC_MAXFDS, "no more than IPC_MAXFDS kept");
	ipc_free(rx);
	ok(count_fds() == nbefore, "no descriptor leaks (%d open, %d before)",
	    count_fds(), nbefore);
}

static void
test_fd_interleaved(void)
{
	struct ipc	*tx, *rx;
	struct ipc_msg	 m;
	int		 sv[2], files[4], i, nf = 0, r, nbefore;
	int		 arrived = 1, matched = 1, bare = 1, sameino = 1;
	/* Which of the messages carry a descriptor: runs with and without. */
	static const int withfd[] = { 1, 0, 0, 1, 1, 0, 1, 0 };
	const int	 n = (int)(sizeof(withfd) / sizeof(withfd[0]));
	char		 payload[16];

	nbefore = count_fds();
	mkpair(sv);
	nonblock(sv[0]);
	tx = ipc_new(sv[0]);
	rx = ipc_new(sv[1]);
	for (i = 0; i < 4; i++)
		files[i] = tmpfile_fd();
	for (i = 0; i < n; i++) {
		snprintf(payload, sizeof(payload), "msg%d", i);
		if (ipc_compose(tx, 100 + i, 0,
		    withfd[i] ? dup(files[nf++]) : -1, payload,
		    strlen(payload)) == -1)
			die("ipc_compose");
	}
	/* Everything goes out before anything is read. */
	while (!TAILQ_EMPTY(&tx->outq))
		if (ipc_write(tx) == -1)
			die("ipc_write");
	nf = 0;
	for (i = 0; i < n; i++) {
		if ((r = xfer(NULL, rx, &m)) != 1) {
			arrived = 0;
			break;
		}
		snprintf(payload, sizeof(payload), "msg%d", i);
		if (m.hdr.type != (uint32_t)(100 + i) ||
		    m.datalen != strlen(payload) ||
		    memcmp(m.data, payload, m.datalen) != 0)
			matched = 0;
		if (withfd[i]) {
			if (m.fd == -1 || !(m.hdr.flags & IPC_F_FD))
				bare = 0;
			else {
				if (!same_file(m.fd, files[nf]))
					sameino = 0;
				if (nf > 0 && same_file(m.fd, files[nf - 1]))
					sameino = 0;
				close(m.fd);
			}
			nf++;
		} else if (m.fd != -1 || m.hdr.flags != 0)
			bare = 0;
	}
	ok(arrived, "%d messages, some with descriptors, all arrive", n);
	ok(matched, "they arrive in order with their payloads");
	ok(bare, "a descriptor with each message that carries one, and only"
	    " those");
	ok(sameino, "each received descriptor is the file that was sent"
	    " with its message");
	close(tx->fd);
	ok(ipc_recv(rx, &m) == 0, "then a clean end of file");
	ipc_clear(tx);
	free(tx);
	ipc_free(rx);
	for (i = 0; i < 4; i++)
		close(files[i]);
	ok(count_fds() == nbefore, "sender closed the descriptors it sent");
}

static void
test_compose_limits(void)
{
	struct ipc	*tx;
	unsigned char	*big;
	int		 sv[2], fd, nbefore;

	mkpair(sv);
	tx = ipc_new(sv[0]);
	if ((big = calloc(1, IPC_MAXDATA + 1)) == NULL)
		die("calloc");
	errno = 0;
	ok(ipc_compose(tx, 1, 0, -1, big, IPC_MAXDATA + 1) == -1 &&
	    errno == EMSGSIZE, "ipc_compose refuses IPC_MAXDATA + 1 bytes");
	ok(tx->queued == 0 && TAILQ_EMPTY(&tx->outq),
	    "and queues nothing");
	ok(ipc_compose(tx, 1, 0, -1, big, IPC_MAXDATA) == 0 &&
	    tx->queued == 1, "ipc_compose takes IPC_MAXDATA bytes");

	/* A queued descriptor belongs to the queue: clearing closes it. */
	nbefore = count_fds();
	fd = tmpfile_fd();
	ok(ipc_compose(tx, 2, 0, fd, NULL, 0) == 0, "queue a descriptor");
	ipc_clear(tx);
	ok(count_fds() == nbefore && tx->queued == 0,
	    "ipc_clear closes queued descriptors");
	close(sv[0]);
	close(sv[1]);
	free(tx);
	free(big);
}

static struct ipc_msg
msg_of(const void *p, size_t len)
{
	struct ipc_msg	 m;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.data = p;
	m.datalen = len;
	return m;
}

static void
test_cursor(void)
{
	struct ipc	*tx, *rx;
	struct ipc_buf	*b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	const unsigned char *p;
	unsigned char	 raw[16];
	char		*s, small[6];
	size_t		 n;
	uint64_t	 v64;
	uint32_t	 v32;
	int		 sv[2], r;

	if ((b = malloc(sizeof(*b))) == NULL)
		die("malloc");
	mkpair(sv);
	nonblock(sv[0]);
	tx = ipc_new(sv[0]);
	rx = ipc_new(sv[1]);

	ipc_buf_init(b);
	ipc_buf_u32(b, 0xdeadbeefU);
	ipc_buf_u64(b, 0x0123456789abcdefULL);
	ipc_buf_u64(b, UINT64_MAX);
	ipc_buf_bytes(b, "a\0b", 3);
	ipc_buf_bytes(b, NULL, 0);
	ipc_buf_str(b, "hello");
	ipc_buf_str(b, NULL);
	ipc_buf_str(b, "");
	ipc_buf_str(b, "hello");
	ipc_buf_str(b, "hello!");
	ok(!b->overflow, "builder: no overflow for a small payload");
	ok(ipc_compose_buf(tx, 9, -1, b) == 0, "compose the built payload");
	r = xfer(tx, rx, &m);
	ok(r == 1 && m.datalen == b->len, "built payload arrives");
	if (r != 1)
		m = msg_of(b->data, b->len);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_u32(&c, &v32) == 0 && v32 == 0xdeadbeefU, "u32 round trip");
	ok(ipc_cur_u64(&c, &v64) == 0 && v64 == 0x0123456789abcdefULL,
	    "u64 round trip");
	ok(ipc_cur_u64(&c, &v64) == 0 && v64 == UINT64_MAX,
	    "u64 all ones round trip");
	ok(ipc_cur_bytes(&c, &p, &n) == 0 && n == 3 &&
	    memcmp(p, "a\0b", 3) == 0, "bytes keep an embedded NUL");
	ok(ipc_cur_bytes(&c, &p, &n) == 0 && n == 0, "empty bytes");
	s = (char *)1;
	ok(ipc_cur_str(&c, &s) == 0 && s != NULL && strcmp(s, "hello") == 0,
	    "string round trip");
	free(s);
	s = (char *)1;
	ok(ipc_cur_str(&c, &s) == 0 && s == NULL, "NULL string stays NULL");
	s = NULL;
	ok(ipc_cur_str(&c, &s) == 0 && s != NULL && *s == '\0',
	    "empty string stays empty, not NULL");
	free(s);
	ok(ipc_cur_strbuf(&c, small, sizeof(small)) == 0 &&
	    strcmp(small, "hello") == 0, "string into a buffer that fits");
	ok(ipc_cur_strbuf(&c, small, sizeof(small)) == -1,
	    "string one byte too long for the buffer refused");
	ok(ipc_cur_end(&c) == 0, "nothing left over");
	ok(ipc_cur_u32(&c, &v32) == -1, "u32 past the end refused");
	ipc_clear(tx);
	free(tx);
	ipc_free(rx);
	close(sv[0]);

	/* Embedded NUL in a string: what follows it could be hidden. */
	ipc_buf_init(b);
	ipc_buf_bytes(b, "ab\0cd", 5);
	m = msg_of(b->data, b->len);
	ipc_cur_init(&c, &m);
	s = NULL;
	ok(ipc_cur_str(&c, &s) == -1 && s == NULL,
	    "string with an embedded NUL refused");
	ipc_cur_init(&c, &m);
	ok(ipc_cur_strbuf(&c, small, sizeof(small)) == -1,
	    "string with an embedded NUL refused into a buffer");

	/* A NULL string where bytes are expected. */
	ipc_buf_init(b);
	ipc_buf_str(b, NULL);
	m = msg_of(b->data, b->len);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_bytes(&c, &p, &n) == -1, "NULL marker is not bytes");
	ipc_cur_init(&c, &m);
	ok(ipc_cur_strbuf(&c, small, sizeof(small)) == -1,
	    "NULL marker is not a buffer string");

	/* Length fields that promise more than is there. */
	put32(raw, 10);
	memcpy(raw + 4, "abcdef", 6);
	m = msg_of(raw, 10);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_bytes(&c, &p, &n) == -1, "bytes longer than what is left");
	ipc_cur_init(&c, &m);
	s = NULL;
	ok(ipc_cur_str(&c, &s) == -1 && s == NULL,
	    "string longer than what is left");
	ipc_cur_init(&c, &m);
	ok(ipc_cur_strbuf(&c, small, sizeof(small)) == -1,
	    "buffer string longer than what is left");
	put32(raw, 0xfffffffeU);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_bytes(&c, &p, &n) == -1, "huge length refused");
	put32(raw, 6);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_bytes(&c, &p, &n) == 0 && n == 6 && ipc_cur_end(&c) == 0,
	    "length exactly what is left is accepted");

	m = msg_of(raw, 3);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_u32(&c, &v32) == -1, "u32 from 3 bytes refused");
	m = msg_of(raw, 7);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_u64(&c, &v64) == -1, "u64 from 7 bytes refused");
	m = msg_of(raw, 2);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_str(&c, &s) == -1, "string length from 2 bytes refused");

	m = msg_of(raw, 5);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_u32(&c, &v32) == 0 && ipc_cur_end(&c) == -1,
	    "ipc_cur_end detects a leftover byte");
	m = msg_of(raw, 0);
	ipc_cur_init(&c, &m);
	ok(ipc_cur_end(&c) == 0, "empty payload has nothing left over");

	free(b);
}

static void
test_buf_overflow(void)
{
	struct ipc	*tx;
	struct ipc_buf	*b;
	unsigned char	*big;
	int		 sv[2];

	if ((b = malloc(sizeof(*b))) == NULL ||
	    (big = calloc(1, IPC_MAXDATA)) == NULL)
		die("malloc");
	mkpair(sv);
	tx = ipc_new(sv[0]);

	ipc_buf_init(b);
	ipc_buf_bytes(b, big, IPC_MAXDATA - 4);
	ok(!b->overflow && b->len == IPC_MAXDATA,
	    "builder fills exactly IPC_MAXDATA bytes");
	ok(ipc_compose_buf(tx, 1, -1, b) == 0, "and that composes");
	ipc_buf_u32(b, 1);
	ok(b->overflow && b->len == IPC_MAXDATA,
	    "one more field overflows and is not added");
	errno = 0;
	ok(ipc_compose_buf(tx, 1, -1, b) == -1 && errno == EMSGSIZE &&
	    tx->queued == 1, "ipc_compose_buf refuses an overflowed builder");

	ipc_buf_init(b);
	ipc_buf_bytes(b, big, IPC_MAXDATA - 4);
	ipc_buf_bytes(b, NULL, 0);
	ok(b->overflow, "even an empty field does not fit after a full one");

	ipc_buf_init(b);
	ipc_buf_bytes(b, big, IPC_MAXDATA - 3);
	ipc_buf_u32(b, 7);
	ok(b->overflow && ipc_compose_buf(tx, 1, -1, b) == -1,
	    "overflow sticks even when a later field would fit");

	ipc_buf_init(b);
	ok(!b->overflow && b->len == 0, "ipc_buf_init resets the builder");

	ipc_clear(tx);
	free(tx);
	close(sv[0]);
	close(sv[1]);
	free(b);
	free(big);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);

	test_roundtrip(0);
	test_roundtrip(1);
	test_roundtrip(IPC_MAXDATA);
	test_many();
	test_partial_write();
	test_partial_read();
	test_framing_errors();
	test_unclaimed_fd();
	test_fd_flood();
	test_fd_interleaved();
	test_compose_limits();
	test_cursor();
	test_buf_overflow();
	return tap_done();
}
