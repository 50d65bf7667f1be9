#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "ipc.h"

/* Leaves room for the header in every frame. */
#define BLOB_CHUNK	(IPC_MAXDATA - 64)

/*
 * Queue p as messages of type type, each a byte string holding one chunk
 * of it, sent with the next ipc_write or ipc_flush.  0, or -1.
 */
int
blob_send(struct ipc *ipc, uint32_t type, const void *p, size_t len)
{
	struct ipc_buf		 b;
	const unsigned char	*s = p;
	size_t			 n;
	int			 rc = 0;

	while (len > 0 && rc == 0) {
		n = len > BLOB_CHUNK ? BLOB_CHUNK : len;
		ipc_buf_init(&b);
		ipc_buf_bytes(&b, s, n);
		rc = ipc_compose_buf(ipc, type, -1, &b);
		s += n;
		len -= n;
	}
	explicit_bzero(&b, sizeof(b));
	return rc;
}

/*
 * Append the chunk m carries (one byte string, nothing after it).  -1
 * when the payload is not that, when the blob would grow larger than
 * max, or on no memory.
 */
int
blob_add(struct blob *bl, const struct ipc_msg *m, size_t max)
{
	struct ipc_cur		 c;
	const unsigned char	*p;
	unsigned char		*nd;
	size_t			 n;

	ipc_cur_init(&c, m);
	if (ipc_cur_bytes(&c, &p, &n) == -1 || ipc_cur_end(&c) == -1)
		return -1;
	if (n > max || bl->len > max - n)
		return -1;
	/* Not realloc: the old copy is wiped, not left in the heap. */
	if ((nd = malloc(bl->len + n + 1)) == NULL)
		return -1;
	if (bl->data != NULL) {
		memcpy(nd, bl->data, bl->len);
		freezero(bl->data, bl->len + 1);
	}
	memcpy(nd + bl->len, p, n);
	bl->data = nd;
	bl->len += n;
	bl->data[bl->len] = '\0';
	return 0;
}

void
blob_free(struct blob *bl)
{
	if (bl->data != NULL)
		freezero(bl->data, bl->len + 1);
	bl->data = NULL;
	bl->len = 0;
}
