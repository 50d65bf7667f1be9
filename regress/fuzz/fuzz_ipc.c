/*
 * The IPC decoder: the input is the byte stream a peer process writes on
 * a channel, in pieces.  Each message is read with ipc_read()/ipc_get()
 * as a role reads it, and the payload of every message type of postern
 * and posternd is taken apart as its receiver does: by the program's own
 * decoder for the large ones, field by field for the others
 * (ipc_postern.c, ipc_posternd.c).  The first byte chooses the program
 * and the size of the peer's writes.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_shapes.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Take the payload apart field by field as the receiving role does, then
 * insist it ends there; a type neither program knows is refused.
 */
static void
walk(const struct ipc_msg *m, int daemon)
{
	const char		*sh;
	struct ipc_cur		 c;
	const unsigned char	*p;
	char			*s, buf[64];
	uint32_t		 u;
	uint64_t		 q;
	size_t			 n;

	if (daemon ? ipc_decode_posternd(m) : ipc_decode_postern(m))
		return;
	sh = daemon ? ipc_shape_posternd(m->hdr.type) :
	    ipc_shape_postern(m->hdr.type);
	if (sh == NULL)
		return;
	ipc_cur_init(&c, m);
	for (; *sh != '\0'; sh++) {
		switch (*sh) {
		case 'u':
			if (ipc_cur_u32(&c, &u) == -1)
				return;
			break;
		case 'q':
			if (ipc_cur_u64(&c, &q) == -1)
				return;
			break;
		case 's':
			/* Short fields go to a fixed buffer, as some do. */
			if (m->hdr.type & 1) {
				if (ipc_cur_strbuf(&c, buf, sizeof(buf)) == -1)
					return;
				if (strlen(buf) >= sizeof(buf))
					abort();
				break;
			}
			if (ipc_cur_str(&c, &s) == -1)
				return;
			if (s != NULL && strlen(s) > m->datalen)
				abort();
			free(s);
			break;
		case 'b':
			if (ipc_cur_bytes(&c, &p, &n) == -1)
				return;
			if (n > m->datalen || (n > 0 && (p < m->data ||
			    p + n > m->data + m->datalen)))
				abort();
			break;
		}
	}
	(void)ipc_cur_end(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct ipc	 ch;
	struct ipc_msg		 m;
	size_t			 off = 0, chunk;
	ssize_t			 n;
	int			 sv[2], r, sz = 1 << 20, daemon;

	if (len < 1 || len > 2 * IPC_MAXSIZE)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	ipc_init(&ch, sv[0]);
	/* Low bit: which program's messages; the rest: the write size. */
	daemon = data[0] & 1;
	chunk = 1 + (data[0] >> 1) * 61;
	data++;
	len--;
	for (;;) {
		/* A peer writes in pieces; the reader takes what has come. */
		if (off < len) {
			n = write(sv[1], data + off,
			    len - off < chunk ? len - off : chunk);
			if (n <= 0)
				abort();
			off += (size_t)n;
			if (off == len)
				shutdown(sv[1], SHUT_WR);
		} else if (len == 0)
			shutdown(sv[1], SHUT_WR);
		if ((n = ipc_read(&ch)) <= 0)
			break;
		while ((r = ipc_get(&ch, &m)) == 1) {
			if (m.datalen + IPC_HDRSIZE != m.hdr.len ||
			    m.hdr.len > IPC_MAXSIZE)
				abort();
			walk(&m, daemon);
			if (m.fd != -1)
				close(m.fd);
		}
		if (r == -1)
			break;
	}
	ipc_clear(&ch);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
