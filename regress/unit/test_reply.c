#include <string.h>

#include "reply.h"
#include "tap.h"

static struct reply	 r;

/* Feed a reply given as lines separated by '\n'; return the last status. */
static int
feed(const char *text)
{
	const char	*p = text, *nl;
	int		 st = REPLY_ERROR;

	reply_init(&r);
	for (;;) {
		nl = strchr(p, '\n');
		st = reply_add_line(&r, p, nl ? (size_t)(nl - p) : strlen(p));
		if (nl == NULL || st != REPLY_MORE)
			break;
		p = nl + 1;
	}
	return st;
}

int
main(void)
{
	char		 line[REPLY_LINE_MAX + 2];
	const char	*l;
	size_t		 len;
	int		 i, st;

	ok(feed("220 mail.example.org ESMTP") == REPLY_DONE, "single line");
	ok(r.code == 220, "code of a single line");
	ok(strcmp(r.text, "220 mail.example.org ESMTP") == 0, "text kept");

	ok(feed("250-mx.example\n250-PIPELINING\n250 SIZE 1000") == REPLY_DONE,
	    "multi-line reply");
	ok(r.code == 250 && r.nlines == 3, "three lines, code 250");
	ok(strcmp(r.text, "250-mx.example\n250-PIPELINING\n250 SIZE 1000") == 0,
	    "lines joined with newline");
	l = reply_line(&r, 1, &len);
	ok(l != NULL && len == 14 && memcmp(l, "250-PIPELINING", 14) == 0,
	    "reply_line returns a middle line");
	l = reply_line(&r, 2, &len);
	ok(l != NULL && len == 13, "reply_line returns the last line");
	ok(reply_line(&r, 3, &len) == NULL, "reply_line past the end");

	ok(feed("250-first") == REPLY_MORE, "continuation wants more");
	ok(feed("354 ") == REPLY_DONE && r.code == 354, "empty text accepted");

	ok(feed("2") == REPLY_ERROR && r.error == REPLY_EINVALID, "\"2\" invalid");
	ok(feed("25") == REPLY_ERROR && r.error == REPLY_EINVALID, "\"25\" invalid");
	ok(feed("250") == REPLY_ERROR && r.error == REPLY_EINVALID,
	    "code without separator invalid");
	ok(feed("25x ok") == REPLY_ERROR && r.error == REPLY_EINVALID,
	    "non-digit code invalid");
	ok(feed("250_ok") == REPLY_ERROR && r.error == REPLY_EINVALID,
	    "bad separator invalid");
	ok(feed("") == REPLY_ERROR && r.error == REPLY_EINVALID,
	    "empty line invalid");
	ok(feed("hello world") == REPLY_ERROR, "garbage invalid");
	ok(feed("250-a\n550 b") == REPLY_ERROR && r.error == REPLY_EMISMATCH,
	    "mixed codes rejected");
	ok(strcmp(reply_strerror(r.error), "the server sent an invalid reply")
	    == 0, "mismatch uses msmtp's invalid reply message");

	reply_init(&r);
	ok(reply_add_line(&r, "250 a\0b", 7) == REPLY_ERROR &&
	    r.error == REPLY_EINVALID, "NUL inside a line rejected");
	reply_init(&r);
	ok(reply_add_line(&r, "250 a\rb", 7) == REPLY_ERROR,
	    "bare CR inside a line rejected");

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	reply_init(&r);
	ok(reply_add_line(&r, line, REPLY_LINE_MAX) == REPLY_DONE,
	    "line of exactly %d bytes accepted", REPLY_LINE_MAX);
	reply_init(&r);
	ok(reply_add_line(&r, line, REPLY_LINE_MAX + 1) == REPLY_ERROR &&
	    r.error == REPLY_ELONG, "longer line rejected");
	ok(strcmp(reply_strerror(REPLY_ELONG),
	    "the server sent an invalid reply") == 0, "long line message");

	reply_init(&r);
	for (i = 0, st = REPLY_MORE; i < REPLY_LINES_MAX - 1 && st == REPLY_MORE;
	    i++)
		st = reply_add_line(&r, "250-x", 5);
	ok(st == REPLY_MORE, "49 continuation lines accepted");
	ok(reply_add_line(&r, "250 x", 5) == REPLY_DONE && r.nlines == 50,
	    "50 lines accepted");
	reply_init(&r);
	for (i = 0, st = REPLY_MORE; i < 100000 && st == REPLY_MORE; i++)
		st = reply_add_line(&r, "250-x", 5);
	ok(st == REPLY_ERROR && r.error == REPLY_ELINES && i == 51,
	    "51st line rejected");
	ok(strcmp(reply_strerror(REPLY_ELINES),
	    "Rejecting server reply that is longer than 50 lines.") == 0,
	    "too many lines message");
	ok(reply_add_line(&r, "250 x", 5) == REPLY_ERROR,
	    "failed reply stays failed");

	ok(feed("250 done") == REPLY_DONE &&
	    reply_add_line(&r, "250 again", 9) == REPLY_ERROR,
	    "no line accepted after the last one");
	ok(strcmp(reply_strerror(REPLY_EEMPTY), "the server sent an empty reply")
	    == 0, "empty reply message");
	ok(feed("421 4.3.2 shutting down") == REPLY_DONE && r.code == 421,
	    "4xx code parsed");
	return tap_done();
}
