#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "spool.h"
#include "tap.h"

static void
hex(const unsigned char *d, char *out)
{
	int	 i;

	for (i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int
digest_is(const void *data, size_t len, size_t chunk, const char *want)
{
	struct sha256	 c;
	unsigned char	 d[SHA256_LEN];
	char		 h[2 * SHA256_LEN + 1];
	size_t		 off, n;

	sha256_init(&c);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		sha256_update(&c, (const char *)data + off, n);
	}
	sha256_final(&c, d);
	hex(d, h);
	return strcmp(h, want) == 0;
}

/* A temporary file holding one entry with the given recipient. */
static int
entry(const char *rcpt, const char *body)
{
	struct spool_head	 h;
	char			*rcpts[1], *argv[2];
	char			 path[] = "/tmp/test_spool.XXXXXX";
	off_t			 start;
	int			 fd, broken;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);
	memset(&h, 0, sizeof(h));
	rcpts[0] = (char *)(uintptr_t)rcpt;
	argv[0] = (char *)(uintptr_t)"-F";
	argv[1] = (char *)(uintptr_t)"Full Name";
	h.account = (char *)(uintptr_t)"default";
	h.conffile = (char *)(uintptr_t)"/etc/posternrc";
	h.argv = argv;
	h.argc = 2;
	h.time = 1700000000;
	h.uid = 1000;
	h.from = (char *)(uintptr_t)"me@example.org";
	h.rcpts = rcpts;
	h.nrcpt = 1;
	if (spool_write_head(fd, &h) == -1 || spool_body_begin(fd, &start) ==
	    -1 || write(fd, body, strlen(body)) != (ssize_t)strlen(body) ||
	    spool_body_end(fd, start, -1, &broken) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(void)
{
	struct spool_head	 h;
	char			 err[256], *a;
	uint64_t		 len;
	int			 fd, p[2], r;
	char			 out[64];
	ssize_t			 n;

	/* FIPS 180-4 examples, whole and in odd pieces. */
	ok(digest_is("abc", 3, 3, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"), "sha256 abc");
	ok(digest_is("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"), "sha256 empty");
	a = strdup("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
	ok(digest_is(a, strlen(a), 7, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1"), "sha256 two blocks, 7 at a "
	    "time");
	free(a);
	if ((a = malloc(1000000)) == NULL)
		return 1;
	memset(a, 'a', 1000000);
	ok(digest_is(a, 1000000, 4099, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0"), "sha256 a million a");
	free(a);

	ok(spool_valid_id("000661DDFBB12B4890922F48") &&
	    !spool_valid_id("000661DDFBB12B4890922F4") &&
	    !spool_valid_id("000661ddfbb12b4890922f48") &&
	    !spool_valid_id("../661DDFBB12B4890922F48"), "entry names");
	ok(spool_field_ok("a@b", 0) && !spool_field_ok("a@b\r\n", 0) &&
	    !spool_field_ok("a\tb", 0) && spool_field_ok("a\tb", 1) &&
	    !spool_field_ok("a\177", 1), "envelope fields");

	fd = entry("you@example.net", "Subject: x\r\n\r\nbody\r\n");
	ok(fd != -1 && spool_read_head(fd, &h, err, sizeof(err)) == 0 &&
	    strcmp(h.from, "me@example.org") == 0 && h.nrcpt == 1 &&
	    strcmp(h.rcpts[0], "you@example.net") == 0 && h.argc == 2 &&
	    strcmp(h.argv[1], "Full Name") == 0 && h.time == 1700000000,
	    "an entry reads back");
	if (pipe(p) == -1)
		return 1;
	r = spool_read_body(fd, &h, p[1], &len, err, sizeof(err));
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	ok(r == 0 && len == 20 && strcmp(out, "Subject: x\r\n\r\nbody\r\n") ==
	    0, "its body verifies and streams whole");
	spool_head_free(&h);
	close(fd);

	fd = entry("you@example.net\nRCPT TO:<x@y>", "b\r\n");
	ok(fd != -1 && spool_read_head(fd, &h, err, sizeof(err)) == -1 &&
	    strstr(err, "recipient") != NULL, "a LF in a recipient is refused "
	    "(%s)", err);
	close(fd);
	return tap_done();
}
