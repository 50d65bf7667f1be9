/*
 * posternd's two parsers of what a client sends: command lines (CRLF and
 * nothing else) and the DATA stream (dot-unstuffing, the end marker, bare
 * CR or LF, the size and line limits).
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../usr.sbin/posternd/posternd.h"
#include "../../usr.sbin/posternd/session.h"
#include "tap.h"

static struct conn	 c;

static void
input(const char *s, size_t n)
{
	memcpy(c.ibuf, s, n);
	c.ioff = 0;
	c.ilen = n;
}

/* The next line of s (all of it given at once); its status. */
static int
line(const char *s, char *buf, size_t bufsz)
{
	input(s, strlen(s));
	return smtp_next_line(&c, buf, bufsz);
}

/*
 * Parse a whole DATA stream given in pieces of at most chunk bytes.
 * Returns what data_parse said last; out gets the message written.
 */
static int
data(const char *s, size_t chunk, uint64_t max, size_t maxline, int crlf,
    struct data *d, char *out, size_t outsz)
{
	static struct wbuf	 w;
	size_t			 n = strlen(s), off = 0, k;
	ssize_t			 got;
	int			 r = 0, fd;

	if ((fd = memfd_create("test", 0)) == -1)
		return -1;
	w.fd = fd;
	w.len = 0;
	w.failed = 0;
	data_init(d, max, maxline, crlf);
	while (off < n && r == 0) {
		k = n - off < chunk ? n - off : chunk;
		input(s + off, k);
		r = data_parse(d, &c, &w);
		off += c.ioff;
	}
	c.ioff = c.ilen = 0;
	wflush(&w);
	got = pread(fd, out, outsz - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	return r;
}

int
main(void)
{
	struct data	 d;
	char		 buf[CMD_LINE_MAX + 1], out[4096], *big;
	size_t		 chunk;
	int		 r, same;

	ok(line("HELO x\r\n", buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "HELO x") == 0 && c.ioff == 8, "one command line");
	ok(line("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n", buf,
	    sizeof(buf)) == 1 && strcmp(buf, "MAIL FROM:<a@b>") == 0,
	    "pipelined: the first line");
	ok(smtp_next_line(&c, buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "RCPT TO:<c@d>") == 0, "pipelined: the second line");
	ok(smtp_next_line(&c, buf, sizeof(buf)) == 0, "then more is needed");
	ok(line("NOOP", buf, sizeof(buf)) == 0, "no line end yet");
	ok(line("NOOP\r", buf, sizeof(buf)) == 0, "CR at the end: wait");
	ok(line("NOOP\n", buf, sizeof(buf)) == -1, "bare LF");
	ok(line("NO\rOP\r\n", buf, sizeof(buf)) == -1, "bare CR");
	ok(line("NO\0OP\r\n", buf, sizeof(buf)) == 0, "NUL: nothing before");
	input("NO\0OP\r\n", 7);
	ok(smtp_next_line(&c, buf, sizeof(buf)) == 1 && buf[0] == '\0',
	    "a line with a NUL comes out empty");
	if ((big = malloc(CMD_LINE_MAX + 2)) == NULL)
		return 1;
	memset(big, 'a', CMD_LINE_MAX + 2);
	memcpy(big + CMD_LINE_MAX - 2, "\r\n", 2);
	input(big, CMD_LINE_MAX);
	ok(smtp_next_line(&c, buf, sizeof(buf)) == 1 &&
	    strlen(buf) == CMD_LINE_MAX - 2, "a line of the limit, CRLF in");
	memcpy(big + CMD_LINE_MAX - 2, "a\r\n", 3);
	input(big, CMD_LINE_MAX + 1);
	ok(smtp_next_line(&c, buf, sizeof(buf)) == -2, "one byte over");
	input(big, CMD_LINE_MAX);
	ok(smtp_next_line(&c, buf, sizeof(buf)) == -2,
	    "too long before its end came");
	free(big);

	ok(data("Subject: x\r\n\r\nbody\r\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && d.flags == 0 &&
	    strcmp(out, "Subject: x\n\nbody\n") == 0, "message, LF ends");
	ok(d.size == 20, "size counts CRLF");
	ok(data("a\r\n.\r\n", 4096, 0, 1000, 1, &d, out, sizeof(out)) == 1 &&
	    strcmp(out, "a\r\n") == 0, "CRLF kept with --crlf");
	ok(data("..dot\r\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && strcmp(out, ".dot\n") == 0,
	    "dot-unstuffing");
	ok(data(".\r\n", 4096, 0, 1000, 0, &d, out, sizeof(out)) == 1 &&
	    out[0] == '\0', "empty message");
	ok(data("a\r\n.\r\nMAIL FROM:<x@y>\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && strcmp(out, "a\n") == 0 && c.ioff == 0,
	    "the end marker stops the parser");
	same = 1;
	for (chunk = 1; chunk < 12; chunk++) {
		r = data("ab\r\n..c\r\n\r\n.\r\n", chunk, 0, 1000, 0, &d, out,
		    sizeof(out));
		if (r != 1 || d.flags != 0 || strcmp(out, "ab\n.c\n\n") != 0)
			same = 0;
	}
	ok(same, "the same message whatever the pieces it comes in");
	ok(data("a\nb\r\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && (d.flags & DATA_BARE), "bare LF refused");
	ok(data("a\rb\r\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && (d.flags & DATA_BARE), "bare CR refused");
	ok(data("a\r\n.\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 0 && (d.flags & DATA_BARE),
	    "LF.LF does not end the message (smuggling)");
	ok(data("a\r\n.\r.\r\n", 4096, 0, 1000, 0, &d, out, sizeof(out)) ==
	    0 && (d.flags & DATA_BARE), "CR.CR neither");
	ok(data("a\r\n.\n.\r\n.\r\n", 4096, 0, 1000, 0, &d, out,
	    sizeof(out)) == 1 && (d.flags & DATA_BARE),
	    "only CRLF.CRLF does, and the message is refused");
	ok(data("a\r\n.\r\n", 4096, 0, 1000, 0, &d, out, sizeof(out)) == 1 &&
	    d.flags == 0, "the same with CRLF is fine");
	ok(data("12345\r\n.\r\n", 4096, 7, 1000, 0, &d, out,
	    sizeof(out)) == 1 && d.flags == 0, "exactly the size limit");
	ok(data("123456\r\n.\r\n", 4096, 7, 1000, 0, &d, out,
	    sizeof(out)) == 1 && (d.flags & DATA_TOOBIG),
	    "one byte over the size limit");
	ok(data("12345678\r\n.\r\n", 4096, 0, 10, 0, &d, out,
	    sizeof(out)) == 1 && d.flags == 0, "a line of the line limit");
	ok(data("123456789\r\n.\r\n", 4096, 0, 10, 0, &d, out,
	    sizeof(out)) == 1 && (d.flags & DATA_TOOLONG),
	    "one byte over the line limit");
	ok(data("abc\r\n", 4096, 0, 1000, 0, &d, out, sizeof(out)) == 0,
	    "no end marker: more is needed");
	return tap_done();
}
