/* A blob sent in chunks over a channel and put back together. */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "ipc.h"
#include "tap.h"

#define BIG	(200 * 1024)

static struct ipc	 a, b;

int
main(void)
{
	struct blob	 bl = { NULL, 0 };
	struct ipc_msg	 m;
	unsigned char	*src;
	size_t		 i;
	int		 sp[2], n = 0, good = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    (src = malloc(BIG)) == NULL)
		return 1;
	for (i = 0; i < BIG; i++)
		src[i] = (unsigned char)(i * 7);
	ipc_init(&a, sp[0]);
	ipc_init(&b, sp[1]);
	if (fork() == 0) {
		close(sp[1]);
		if (blob_send(&a, 42, src, BIG) == -1 || ipc_flush(&a) == -1)
			_exit(1);
		_exit(0);
	}
	close(sp[0]);
	while (ipc_recv(&b, &m) == 1) {
		n++;
		if (m.hdr.type != 42 || blob_add(&bl, &m, BIG) == -1)
			good = 0;
	}
	ok(good && n > 1, "sent in %d chunks, each taken", n);
	ok(bl.len == BIG && memcmp(bl.data, src, BIG) == 0,
	    "put back together byte for byte");
	ok(bl.data[bl.len] == '\0', "NUL after it, for PEM parsers");
	blob_free(&bl);
	ok(bl.data == NULL && bl.len == 0, "freed");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		return 1;
	ipc_init(&a, sp[0]);
	ipc_init(&b, sp[1]);
	ok(blob_send(&a, 7, src, 1000) == 0 && ipc_flush(&a) == 0 &&
	    ipc_recv(&b, &m) == 1 && blob_add(&bl, &m, 999) == -1 &&
	    bl.data == NULL, "larger than the limit: refused");
	ok(ipc_send(&a, 7, -1, "xy", 2) == 0 && ipc_recv(&b, &m) == 1 &&
	    blob_add(&bl, &m, 1000) == -1, "a payload that is no byte "
	    "string: refused");
	free(src);
	return tap_done();
}
