#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "base64.h"
#include "rfc5322.h"
#include "tap.h"

/* Sun, 22 Nov 2026 01:18:41 +0000, the date of the msmtp reference runs. */
#define T0	((time_t)1795310321)

static const unsigned char rnd[16] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
};

#define ADDED	"From: alice@example.org\r\n" \
		"Date: Sun, 22 Nov 2026 01:18:41 +0000\r\n" \
		"Message-ID: <000102030405060708090a0b0c0d0e0f.alice@example.org>\r\n"

struct result {
	int			 rex;	/* of rfc5322_read_header */
	int			 wex;	/* of rfc5322_write */
	char			 err[256];
	char			*out;
	size_t			 outlen;
	struct rfc5322_stats	 st;
};

static void
defopts(struct rfc5322_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->remove_bcc = 1;
	o->set_from = RFC5322_SET_AUTO;
	o->set_date = RFC5322_SET_AUTO;
	o->set_msgid = RFC5322_SET_AUTO;
	o->envelope_from = "alice@example.org";
	o->date = T0;
	o->msgid_host = "vm";
	o->msgid_random = rnd;
}

static int
tmpfd(const void *p, size_t n)
{
	char	 path[] = "/tmp/test_rfc5322.XXXXXX";
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		abort();
	unlink(path);
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	return fd;
}

static char *
slurp(int fd, size_t *lenp)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	for (;;) {
		if (len + 65536 + 1 > cap) {
			cap = len + 65536 + 1;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if ((n = read(fd, buf + len, 65536)) <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Read and write a whole message with the given read size. */
static void
run(struct result *r, const char *in, size_t inlen, size_t bufsize,
    const struct rfc5322_opts *opts)
{
	struct rfc5322_msg	 m;
	int			 ifd, ofd;

	memset(r, 0, sizeof(*r));
	ifd = tmpfd(in, inlen);
	ofd = tmpfd(NULL, 0);
	rfc5322_init(&m, ifd);
	m.bufsize = bufsize;
	r->rex = rfc5322_read_header(&m);
	if (r->rex == EX_OK)
		r->wex = rfc5322_write(&m, opts, ofd, &r->st);
	strlcpy(r->err, m.errstr, sizeof(r->err));
	r->out = slurp(ofd, &r->outlen);
	rfc5322_clear(&m);
	close(ifd);
	close(ofd);
}

static int
same(const struct result *r, const char *want)
{
	if (r->rex != EX_OK || r->wex != EX_OK)
		return 0;
	if (r->outlen != strlen(want) || memcmp(r->out, want, r->outlen) != 0) {
		fprintf(stderr, "# got  [%s]\n# want [%s]\n", r->out, want);
		return 0;
	}
	return 1;
}

/* Byte count and mailsize (CRLF counted as one) match what was written. */
static int
stats_agree(const struct result *r)
{
	size_t	 i, eols = 0;

	for (i = 0; i < r->outlen; i++)
		if (r->out[i] == '\n')
			eols++;
	return r->st.bytes == r->outlen && r->st.mailsize == r->outlen - eols;
}

static void
check(const char *in, const char *want, const char *what)
{
	struct rfc5322_opts	 o;
	struct result		 r;

	defopts(&o);
	run(&r, in, strlen(in), RFC5322_BUFSIZE, &o);
	ok(same(&r, want), "%s", what);
	free(r.out);
}

static void
check_opts(const char *in, const struct rfc5322_opts *o, const char *want,
    const char *what)
{
	struct result	 r;

	run(&r, in, strlen(in), RFC5322_BUFSIZE, o);
	ok(same(&r, want), "%s", what);
	free(r.out);
}

/* Outputs of msmtp 1.8.23 for the same input (body and order). */
static void
test_msmtp_shapes(void)
{
	check("Subject: a\n\nbody\n",
	    ADDED "Subject: a\r\n\r\nbody\r\n", "added From, Date, Message-ID on top");
	check("From mbox@x Tue Nov 22 01:18:41 2026\nSubject: a\n\nbody\n",
	    ADDED "From mbox@x Tue Nov 22 01:18:41 2026\r\nSubject: a\r\n\r\n"
	    "body\r\n", "mbox From_ line passed on as msmtp does");
	check("Subject: no blank line\nX: y",
	    ADDED "Subject: no blank line\r\nX: y\r\n",
	    "EOF in header: all header, CRLF added, no empty line");
	check("Subject: x\n", ADDED "Subject: x\r\n", "header only");
	check("", ADDED, "empty message");
	check("\n", ADDED "\r\n", "empty header, empty body");
	check("Subject: x\n\nbody no nl",
	    ADDED "Subject: x\r\n\r\nbody no nl\r\n", "missing final line end");
	check("Subject: x\n\n", ADDED "Subject: x\r\n\r\n", "empty body");
	check("Subject: x\n\n.\n..x\n",
	    ADDED "Subject: x\r\n\r\n.\r\n..x\r\n", "no dot-stuffing here");
	check("From:\nTo: a@x\n\nb\n",
	    ADDED "To: a@x\r\n\r\nb\r\n",
	    "empty From: counts as missing and is replaced");
	check("From: undisclosed-senders:;\nTo: a@x\n\nb\n",
	    ADDED "To: a@x\r\n\r\nb\r\n",
	    "From: without an address is replaced, never doubled");
	check("From: Orig <o@x>\nDate: x\nMessage-ID: <m@x>\n\nb\n",
	    "From: Orig <o@x>\r\nDate: x\r\nMessage-ID: <m@x>\r\n\r\nb\r\n",
	    "nothing added when present");
	check("FROM: o@x\ndate: x\nmessage-id: <m@x>\n\nb\n",
	    "FROM: o@x\r\ndate: x\r\nmessage-id: <m@x>\r\n\r\nb\r\n",
	    "field names are case-insensitive");
	check(" leading fold\nSubject: s\n\nb\n",
	    ADDED " leading fold\r\nSubject: s\r\n\r\nb\r\n",
	    "continuation line without a field kept");
	check("Subject: s\n \nX: y\n\nb\n",
	    ADDED "Subject: s\r\n \r\nX: y\r\n\r\nb\r\n",
	    "white-space line is a fold, not the end of the header");
}

static void
test_bcc(void)
{
	struct rfc5322_opts	 o;

	check("To: a@x\nBcc: f@x,\n g@x\n\th@x\nX: y\n\nBcc: body@x\n",
	    ADDED "To: a@x\r\nX: y\r\n\r\nBcc: body@x\r\n",
	    "Bcc and its folded lines removed, body untouched");
	check("bcc:z@x\nBCC : zz@x\nBcc:\nX: y\n\nb\n",
	    ADDED "X: y\r\n\r\nb\r\n", "Bcc in any case, obsolete space, empty");
	check("Resent-Bcc: rb@x\n  rb2@x\nX: y\n\nb\n",
	    ADDED "X: y\r\n\r\nb\r\n", "Resent-Bcc removed too");
	check("Bccx: y\nX-Bcc: y\nBc: y\n\nb\n",
	    ADDED "Bccx: y\r\nX-Bcc: y\r\nBc: y\r\n\r\nb\r\n",
	    "other fields that look like Bcc kept");
	check("Bcc: a@x\r\n b@x\r\nX: y\r\n\r\nb\r\n",
	    ADDED "X: y\r\n\r\nb\r\n", "CRLF folded Bcc removed");
	check("Bcc: a@x\r b@x\rX: y\r\rb\r",
	    ADDED, "CR-only lines are one Bcc line, removed whole");
	check("Bcc: a@x\r b@x\nX: y\n\nb\r",
	    ADDED "X: y\r\n\r\nb\r\n", "Bcc with a bare CR removed to its LF");
	check("Bcc: a@x\nX: y",
	    ADDED "X: y\r\n", "Bcc removed from a header without body");
	check("X: y\nBcc: a@x",
	    ADDED "X: y\r\n", "last Bcc without line end removed");
	defopts(&o);
	o.remove_bcc = 0;
	check_opts("Bcc: a@x\n b@x\nResent-Bcc: c@x\n\nb\n", &o,
	    ADDED "Bcc: a@x\r\n b@x\r\nResent-Bcc: c@x\r\n\r\nb\r\n",
	    "remove_bcc off keeps them");
}

static void
test_undisclosed(void)
{
	struct rfc5322_opts	 o;

	defopts(&o);
	o.undisclosed = 1;
	check_opts("To: a@x\nCc: b@x,\n c@x\nBcc: f@x\nResent-To: rt@x\n"
	    "From: Orig <o@x>\nDate: x\nMessage-ID: <m@x>\nSubject: s\n\nbody\n",
	    &o,
	    "To: undisclosed-recipients:;\r\nResent-To: rt@x\r\n"
	    "From: Orig <o@x>\r\nDate: x\r\nMessage-ID: <m@x>\r\nSubject: s\r\n"
	    "\r\nbody\r\n", "undisclosed: To/Cc/Bcc replaced (msmtp run)");
	o.set_date = RFC5322_SET_OFF;
	o.set_msgid = RFC5322_SET_OFF;
	o.full_name = "Jo Doe";
	check_opts("To: a@x\nSubject: s\n\nbody\n", &o,
	    "From: Jo Doe <alice@example.org>\r\nTo: undisclosed-recipients:;"
	    "\r\nSubject: s\r\n\r\nbody\r\n", "From before To (msmtp run)");
	o.remove_bcc = 0;
	check_opts("Bcc: a@x\n\nb\n", &o,
	    "From: Jo Doe <alice@example.org>\r\nTo: undisclosed-recipients:;"
	    "\r\n\r\nb\r\n", "undisclosed drops Bcc even with remove_bcc off");
}

static void
test_from(void)
{
	struct rfc5322_opts	 o;
	struct result		 r;
	const char		*p;

	defopts(&o);
	o.set_from = RFC5322_SET_ON;
	o.set_date = RFC5322_SET_OFF;
	o.set_msgid = RFC5322_SET_OFF;
	check_opts("To: a@x\nFrom: Orig <o@x>,\n  second@x\nSubject: s\n\nb\n",
	    &o, "From: alice@example.org\r\nTo: a@x\r\nSubject: s\r\n\r\nb\r\n",
	    "set_from on replaces a folded From");
	o.full_name = "Jo Doe";
	check_opts("\n", &o, "From: Jo Doe <alice@example.org>\r\n\r\n",
	    "plain full name");
	o.full_name = "Doe, John Q.";
	check_opts("\n", &o,
	    "From: \"Doe, John Q.\" <alice@example.org>\r\n\r\n",
	    "specials are quoted");
	o.full_name = "a\"b\\c";
	check_opts("\n", &o,
	    "From: \"a\\\"b\\\\c\" <alice@example.org>\r\n\r\n",
	    "quote and backslash escaped");
	o.full_name = "J\xc3\xb6hn";
	check_opts("\n", &o,
	    "From: =?utf-8?B?SsO2aG4=?= <alice@example.org>\r\n\r\n",
	    "non-ASCII name as an encoded-word");
	o.full_name = "J\xf6hn";
	o.charset = "ISO-8859-1";
	check_opts("\n", &o,
	    "From: =?ISO-8859-1?B?SvZobg==?= <alice@example.org>\r\n\r\n",
	    "caller's charset used");
	o.charset = "bad charset\r\n";
	check_opts("\n", &o,
	    "From: =?utf-8?B?SvZobg==?= <alice@example.org>\r\n\r\n",
	    "invalid charset replaced");
	o.charset = NULL;

	/* Header injection through -F must be impossible. */
	o.full_name = "Name\nBcc: hidden@x.y";
	run(&r, "\n", 1, RFC5322_BUFSIZE, &o);
	ok(r.wex == EX_OK && strstr(r.out, "\nBcc") == NULL &&
	    strncmp(r.out, "From: =?utf-8?B?", 16) == 0,
	    "LF in the name is encoded, no new field");
	free(r.out);
	o.full_name = "Name\r\nBcc: hidden@x.y\r\n\r\nbody";
	run(&r, "\n", 1, RFC5322_BUFSIZE, &o);
	p = r.out;
	ok(r.wex == EX_OK && strstr(p, "hidden") == NULL &&
	    strstr(p, "\r\n\r\n") == p + r.outlen - 4,
	    "CRLF in the name cannot end the header");
	free(r.out);
	o.full_name = "x <evil@y>, z";
	check_opts("\n", &o,
	    "From: \"x <evil@y>, z\" <alice@example.org>\r\n\r\n",
	    "address in the name stays in the quoted name");
	o.full_name = "";
	check_opts("\n", &o, "From: alice@example.org\r\n\r\n",
	    "empty name gives a bare address");

	o.full_name = NULL;
	o.envelope_from = "";
	check_opts("\n", &o, "From: \r\n\r\n", "null sender gives From: (msmtp)");
	o.envelope_from = "a@b>\r\nRCPT TO:<x@y>";
	run(&r, "\n", 1, RFC5322_BUFSIZE, &o);
	ok(r.wex == EX_DATAERR && r.outlen == 0,
	    "invalid envelope-from refused, nothing written");
	free(r.out);

	defopts(&o);
	o.set_from = RFC5322_SET_OFF;
	check_opts("Subject: s\n\nb\n", &o,
	    "Date: Sun, 22 Nov 2026 01:18:41 +0000\r\n"
	    "Message-ID: <000102030405060708090a0b0c0d0e0f.alice@example.org>"
	    "\r\nSubject: s\r\n\r\nb\r\n", "set_from off adds no From");
}

static void
test_display_name(void)
{
	char		*s, *w, *e, buf[512], dec[512], all[512];
	const char	*name;
	size_t		 n;
	ssize_t		 k;
	int		 good = 1, words = 0;

	ok(rfc5322_display_name(NULL, NULL) == NULL, "NULL name");
	ok(rfc5322_display_name("", NULL) == NULL, "empty name");
	s = rfc5322_display_name(" lead", NULL);
	ok(s != NULL && strcmp(s, "\" lead\"") == 0, "leading space quoted");
	free(s);
	s = rfc5322_display_name("a\tb", NULL);
	ok(s != NULL && strncmp(s, "=?utf-8?B?", 10) == 0, "tab encoded");
	free(s);

	/* 40 two-byte characters must split without cutting one in two. */
	name = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	s = rfc5322_display_name(name, "UTF-8");
	ok(s != NULL, "long name encoded");
	all[0] = '\0';
	strlcpy(buf, s ? s : "", sizeof(buf));
	for (w = strtok(buf, "\r\n "); w != NULL; w = strtok(NULL, "\r\n ")) {
		words++;
		if (strlen(w) > 66 || strncmp(w, "=?UTF-8?B?", 10) != 0 ||
		    (e = strstr(w + 10, "?=")) == NULL || e[2] != '\0') {
			good = 0;
			continue;
		}
		k = base64_decode(dec, sizeof(dec) - 1, w + 10, e - (w + 10));
		if (k < 0 || (k > 0 && (dec[0] & 0xc0) == 0x80) ||
		    (k > 0 && (unsigned char)dec[k - 1] == 0xc3)) {
			good = 0;
			continue;
		}
		dec[k] = '\0';
		strlcat(all, dec, sizeof(all));
	}
	ok(good && words > 1, "%d words of at most 66 chars, whole chars", words);
	ok(strcmp(all, name) == 0, "words decode to the name");
	n = s ? strlen(s) : 0;
	ok(s != NULL && strstr(s, "\r\n ") != NULL && s[n - 1] == '=',
	    "words folded with CRLF SP");
	free(s);
}

static void
test_date_msgid(void)
{
	char	 b[128];

	ok(rfc5322_format_date(b, sizeof(b), T0, 0) == 0 &&
	    strcmp(b, "Sun, 22 Nov 2026 01:18:41 +0000") == 0, "date UTC");
	ok(rfc5322_format_date(b, sizeof(b), T0, -16200) == 0 &&
	    strcmp(b, "Sat, 21 Nov 2026 20:48:41 -0430") == 0,
	    "date west of UTC");
	ok(rfc5322_format_date(b, sizeof(b), T0, 19800) == 0 &&
	    strcmp(b, "Sun, 22 Nov 2026 06:48:41 +0530") == 0,
	    "date east of UTC");
	ok(rfc5322_format_date(b, sizeof(b), 0, 0) == 0 &&
	    strcmp(b, "Thu, 01 Jan 1970 00:00:00 +0000") == 0, "epoch");
	ok(rfc5322_format_date(b, 10, T0, 0) == -1, "date truncation refused");

	ok(rfc5322_msgid(b, sizeof(b), rnd, "alice@example.org", "vm") == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f.alice@example.org>")
	    == 0, "msgid <hex.from>");
	ok(rfc5322_msgid(b, sizeof(b), rnd, "noat", "vm") == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f.noat@vm>") == 0,
	    "msgid without domain uses the host");
	ok(rfc5322_msgid(b, sizeof(b), rnd, "", "vm") == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f@vm>") == 0,
	    "msgid for the null sender");
	ok(rfc5322_msgid(b, sizeof(b), rnd, "\"a b\"@x", "vm") == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f@vm>") == 0,
	    "quoted local part not put in the msg-id");
	ok(rfc5322_msgid(b, sizeof(b), rnd, "a@[1.2.3.4]", "bad host") == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f@localhost>") == 0,
	    "invalid host replaced");
	ok(rfc5322_msgid(b, sizeof(b), rnd, "a..b@x", NULL) == 0 &&
	    strcmp(b, "<000102030405060708090a0b0c0d0e0f@localhost>") == 0,
	    "double dot not put in the msg-id");
	ok(rfc5322_msgid(b, 20, rnd, "a@b", "vm") == -1,
	    "msgid truncation refused");
}

static void
test_line_ends(void)
{
	static const char	 in[] =
	    "A: 1\r\nB: 2\rC: 3\n D\r\n\r\nx\ry\r\nz\n\r\r\n\n\rend\r";
	static const char	 want[] =
	    "A: 1\r\nB: 2C: 3\r\n D\r\n\r\n"
	    "x\r\ny\r\nz\r\n\r\n\r\n\r\n\r\nend\r\n";
	static const char	 in2[] = "S: 1\r\r\n\nb\r\n";
	static const char	 want2[] = "S: 1\r\n\r\nb\r\n";
	struct rfc5322_opts	 o;
	struct result		 r;
	size_t			 sizes[] = { 1, 2, 3, 4, 5, 7, 11, 64 };
	size_t			 i;
	int			 good = 1, good2 = 1;

	defopts(&o);
	o.set_from = o.set_date = o.set_msgid = RFC5322_SET_OFF;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		run(&r, in, sizeof(in) - 1, sizes[i], &o);
		if (!same(&r, want) || !stats_agree(&r))
			good = 0;
		free(r.out);
		run(&r, in2, sizeof(in2) - 1, sizes[i], &o);
		if (!same(&r, want2) || !stats_agree(&r))
			good2 = 0;
		free(r.out);
	}
	ok(good, "header: bare CR dropped; body: LF, CR, CRLF become CRLF; "
	    "every read size");
	ok(good2, "CR CR LF in the header is one line end");

	check("S: x\r", ADDED "S: x\r\n", "header ending in CR");
	check("S: x\r\n\r", ADDED "S: x\r\n",
	    "CR at EOF after the last field is no blank line");
	check("S: x\n\r\nb", ADDED "S: x\r\n\r\nb\r\n",
	    "LF then CRLF ends the header");
	check("S: x\r\n\rb\r", ADDED "S: x\r\nb\r\n",
	    "CR-only line does not end the header");
	check("S: x\n\r\r\nb\r", ADDED "S: x\r\n\r\nb\r\n",
	    "CR CR LF blank line ends the header, CR at the very end");
	check("S: x\n\n\r\n\r\n", ADDED "S: x\r\n\r\n\r\n\r\n",
	    "empty body lines kept");
}

static void
test_nul(void)
{
	struct rfc5322_opts	 o;
	struct result		 r;
	char			 big[70000];

	defopts(&o);
	run(&r, "Sub\0ject: x\n\nb\n", 15, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_DATAERR &&
	    strcmp(r.err, "message contains a NUL byte") == 0 &&
	    r.outlen == 0, "NUL in the header refused before any output");
	free(r.out);
	run(&r, "S: x\n\nbo\0dy\n", 12, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_OK && r.wex == EX_DATAERR &&
	    strcmp(r.err, "message contains a NUL byte") == 0,
	    "NUL in the body (read with the header) refused");
	free(r.out);
	memset(big, 'a', sizeof(big));
	memcpy(big, "S: x\n\n", 6);
	big[sizeof(big) - 2] = '\0';
	run(&r, big, sizeof(big), 4096, &o);
	ok(r.rex == EX_OK && r.wex == EX_DATAERR,
	    "NUL deep in the body refused");
	free(r.out);
	run(&r, "S: x\n\n\0", 7, 1, &o);
	ok(r.rex == EX_OK && r.wex == EX_DATAERR, "NUL as the last byte");
	free(r.out);
}

static void
test_limits(void)
{
	struct rfc5322_opts	 o;
	struct result		 r;
	char			*big;
	size_t			 n, i;

	defopts(&o);
	n = 2 * 1024 * 1024;
	if ((big = malloc(n)) == NULL)
		abort();

	/* One field of exactly 64 KiB with its CRLF passes, one more fails. */
	memcpy(big, "X: ", 3);
	memset(big + 3, 'a', RFC5322_MAXFIELD - 5);
	memcpy(big + RFC5322_MAXFIELD - 2, "\n\nb\n", 4);
	run(&r, big, RFC5322_MAXFIELD + 2, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_OK && r.wex == EX_OK, "field at the limit accepted");
	free(r.out);
	memset(big + 3, 'a', RFC5322_MAXFIELD - 4);
	memcpy(big + RFC5322_MAXFIELD - 1, "\n\nb\n", 4);
	run(&r, big, RFC5322_MAXFIELD + 3, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_DATAERR &&
	    strcmp(r.err, "message header field longer than 65536 bytes") == 0,
	    "long field refused: %s", r.err);
	free(r.out);

	/* Folded: 1000 lines of 100 bytes. */
	memcpy(big, "X: a", 4);
	for (i = 4; i < 100000; i++)
		big[i] = i % 100 == 0 ? '\n' : i % 100 == 1 ? ' ' : 'f';
	memcpy(big + i, "\n\nb\n", 4);
	run(&r, big, i + 4, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_DATAERR && strstr(r.err, "65536") != NULL,
	    "long folded field refused");
	free(r.out);

	/* 1 MiB of 300-byte fields. */
	for (i = 0; i < 1110000; i++)
		big[i] = i % 300 == 299 ? '\n' : i % 300 == 0 ? 'X' :
		    i % 300 == 1 ? ':' : 'h';
	memcpy(big + i, "\nb\n", 3);
	run(&r, big, i + 3, 4000, &o);
	ok(r.rex == EX_DATAERR &&
	    strcmp(r.err, "message header longer than 1048576 bytes") == 0,
	    "long header refused: %s", r.err);
	free(r.out);

	/* 10001 short fields. */
	for (i = 0; i < 10001 * 3; i += 3)
		memcpy(big + i, "X:\n", 3);
	memcpy(big + i, "\nb\n", 3);
	run(&r, big, i + 3, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_DATAERR &&
	    strcmp(r.err, "message header has more than 10000 fields") == 0,
	    "too many fields refused: %s", r.err);
	free(r.out);
	run(&r, big + 3, i, RFC5322_BUFSIZE, &o);
	ok(r.rex == EX_OK, "10000 fields accepted");
	free(r.out);

	/* A long body line is not a header matter. */
	memcpy(big, "S: x\n\n", 6);
	memset(big + 6, 'z', 300000);
	run(&r, big, 300006, 1000, &o);
	ok(r.rex == EX_OK && r.wex == EX_OK &&
	    r.outlen == strlen(ADDED) + 6 + 2 + 300000 + 2,
	    "300000-byte body line passes");
	free(r.out);
	free(big);
}

static void
test_maxheader(void)
{
	struct rfc5322_msg	 m;
	int			 fd;

	fd = tmpfd("X: 12345678\n\nb\n", 16);
	rfc5322_init(&m, fd);
	m.maxheader = 12;
	ok(rfc5322_read_header(&m) == EX_DATAERR && strcmp(m.errstr,
	    "message header longer than 12 bytes") == 0,
	    "caller's header limit: %s", m.errstr);
	rfc5322_clear(&m);
	m.maxheader = 13;
	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	ok(rfc5322_read_header(&m) == EX_OK, "13 bytes fit in 13");
	rfc5322_clear(&m);
	close(fd);
}

static void
test_size(void)
{
	struct rfc5322_opts	 o;
	struct result		 r;
	const char		*in;

	defopts(&o);
	in = "Subject: a\n\nbody\n";
	run(&r, in, strlen(in), RFC5322_BUFSIZE, &o);
	ok(r.st.mailsize == 144 && r.st.bytes == 144 + 6,
	    "mailsize 144 as msmtp logs it (bytes %llu, size %llu)",
	    (unsigned long long)r.st.bytes, (unsigned long long)r.st.mailsize);
	free(r.out);
	in = "Subject: a\r\nBcc: x@y\r\n z@y\r\n\r\nbody\r\n.dot\r\nno end";
	run(&r, in, strlen(in), 3, &o);
	ok(r.st.mailsize == 156 && r.st.bytes == r.outlen,
	    "mailsize 156: Bcc not counted, missing CRLF counted (%llu)",
	    (unsigned long long)r.st.mailsize);
	free(r.out);
	in = "a\rb\rc";
	run(&r, in, strlen(in), 1, &o);
	ok(same(&r, ADDED "abc\r\n") && r.st.bytes == r.outlen &&
	    r.st.mailsize == r.outlen - 4,
	    "bytes and mailsize agree with the output, header CR dropped");
	free(r.out);
	in = "S: a\rb\n\nc\rd\r\ne\n\rf";
	run(&r, in, strlen(in), 1, &o);
	ok(same(&r, ADDED "S: ab\r\n\r\nc\r\nd\r\ne\r\n\r\nf\r\n") &&
	    r.st.bytes == r.outlen && r.st.mailsize == r.outlen - 10,
	    "bytes and mailsize with CR in header and body");
	free(r.out);
}

static void
header_only(struct rfc5322_msg *m, const char *in)
{
	int	 fd;

	fd = tmpfd(in, strlen(in));
	rfc5322_init(m, fd);
	if (rfc5322_read_header(m) != EX_OK)
		abort();
	close(fd);
}

static void
check_rcpt(const char *in, const char *want, const char *what)
{
	struct rfc5322_msg	 m;
	struct addr_list	 l;
	struct addr		*a;
	char			 got[1024] = "";

	header_only(&m, in);
	addr_list_init(&l);
	ok(rfc5322_recipients(&m, &l) == EX_OK, "%s: extraction ok", what);
	TAILQ_FOREACH(a, &l, entry) {
		if (got[0] != '\0')
			strlcat(got, "|", sizeof(got));
		strlcat(got, a->spec, sizeof(got));
	}
	ok(strcmp(got, want) == 0, "%s: [%s] (got [%s])", what, want, got);
	addr_list_free(&l);
	rfc5322_clear(&m);
}

static void
check_from(const char *in, const char *want, const char *what)
{
	struct rfc5322_msg	 m;
	char			*from;
	int			 ex;

	header_only(&m, in);
	ex = rfc5322_envelope_from(&m, &from);
	ok(ex == EX_OK &&
	    ((want == NULL && from == NULL) ||
	    (want != NULL && from != NULL && strcmp(from, want) == 0)),
	    "%s: %s (got %s)", what, want ? want : "none",
	    from ? from : "none");
	free(from);
	rfc5322_clear(&m);
}

static void
test_extract(void)
{
	struct rfc5322_msg	 m;

	check_rcpt("To: a@x\nCc: b@x\nResent-From: r@x\nResent-To: c@x\n"
	    "Resent-Bcc: d@x\nSubject: s\nResent-To: e@x\nBcc: f@x,\n g@x\n"
	    "X: y\n\nTo: body@x\n", "c@x|d@x", "first Resent- block only");
	check_rcpt("To: a@x\nCc: b@x\nSubject: s\nBcc: f@x,\n g@x\nX: y\n\n",
	    "a@x|b@x|f@x|g@x", "To, Cc, Bcc in order");
	check_rcpt("To: \"q,uoted\" <q@x>, Name <n@x>, e@v (comm,ent), grp: "
	    "g1@x, \"g 2\"@x;, undisclosed:;\nBcc:\nbcc:z2@x\n\nb\n",
	    "q@x|n@x|e@v|g1@x|\"g 2\"@x|z2@x", "msmtp run addresses");
	check_rcpt("Resent-Date: x\nResent-To: r1@x\nDate: y\nResent-To: r2@x\n"
	    "To: a@x\n\nb\n", "r1@x", "Date ends the Resent- block");
	check_rcpt("Resent-From: rf@x\nFrom: o@x\nTo: a@x\n\nb\n", "",
	    "Resent- block without recipients: none (msmtp: no recipients)");
	check_rcpt("To: a@x\nResent-Date: x\n  folded\nResent-To: r1@x\n\nb\n",
	    "r1@x", "folded Resent- field keeps the block open");
	check_rcpt("TO : obs@x\nCC:c@x\n\nb\n", "obs@x|c@x",
	    "obsolete space before the colon");
	check_rcpt("To: a@x,\r\n\tb@x\r\nCc: (only comment)\r\n\r\n",
	    "a@x|b@x", "folded To");
	check_rcpt("Subject: s\n\nTo: body@x\n", "", "body is not header");
	check_rcpt("To: a@x", "a@x", "To without line end");
	check_rcpt("To: ,,\nCc: undisclosed-recipients:;\n\n", "",
	    "empty lists");

	check_from("From: Orig <o@x>\nTo: a@x\n\nb\n", "o@x", "From");
	check_from("Resent-From: rf@x\nFrom: o@x\n\nb\n", "rf@x",
	    "Resent-From before From");
	check_from("From: o@x\nResent-From: rf@x\n\nb\n", "o@x",
	    "From before Resent-From");
	check_from("From:\nFrom: (c) <second@x>\n\nb\n", "second@x",
	    "empty From skipped");
	check_from("From: a@x, b@y\n\nb\n", "a@x", "first of several");
	check_from("Sender: s@x\nTo: a@x\n\nb\n", NULL, "Sender is not used");
	check_from("X: y\nResent-To: r@x\nX: z\nResent-From: late@x\n\nb\n",
	    NULL, "Resent-From of a later block ignored");
	check_from("From: \"Doe, J\" <j@x> (c)\n\nb\n", "j@x", "display name");

	header_only(&m, "From: a@x\nDate: d\nMessage-ID: <i@x>\nTo: t@x\n"
	    "Cc: c@x\n\nb\n");
	ok(m.has_from && m.has_date && m.has_msgid && m.has_to && m.has_cc &&
	    !m.has_resent && m.nfields == 5, "presence flags set");
	ok(rfc5322_find(&m, "message-id") != NULL &&
	    strcmp(rfc5322_find(&m, "message-id")->value, " <i@x>") == 0,
	    "find returns the unfolded value");
	ok(rfc5322_find(&m, "Subject") == NULL, "find of a missing field");
	rfc5322_clear(&m);
	header_only(&m, "From: (nobody)\nResent-Date: x\n\nb\n");
	ok(!m.has_from && !m.has_date && !m.has_msgid && !m.has_to &&
	    !m.has_cc && m.has_resent, "presence flags clear");
	rfc5322_clear(&m);
	header_only(&m, "Subject: a\n b\r\n\tc\n\nb\n");
	ok(m.nfields == 1 &&
	    strcmp(TAILQ_FIRST(&m.fields)->value, " a b\tc") == 0 &&
	    strcmp(TAILQ_FIRST(&m.fields)->text, "Subject: a\r\n b\r\n\tc\r\n")
	    == 0, "unfolding and CRLF text");
	rfc5322_clear(&m);
}

struct crcase {
	int	 rex;
	int	 wex;
	int	 nobcc;		/* rfc5322_find(m, "Bcc") is NULL */
	int	 subject;	/* Subject holds the CR-joined text */
	char	 rcpt[256];
	char	*out;
	size_t	 outlen;
	int	 stats;
};

/* Read the header with the given read size, look at it, then write it. */
static void
run_cr(struct crcase *c, const char *in, size_t bufsize)
{
	struct rfc5322_opts	 o;
	struct rfc5322_msg	 m;
	struct rfc5322_field	*f;
	struct addr_list	 l;
	struct addr		*a;
	struct result		 r;
	int			 ifd, ofd;

	memset(c, 0, sizeof(*c));
	memset(&r, 0, sizeof(r));
	defopts(&o);
	ifd = tmpfd(in, strlen(in));
	ofd = tmpfd(NULL, 0);
	rfc5322_init(&m, ifd);
	m.bufsize = bufsize;
	if ((c->rex = rfc5322_read_header(&m)) == EX_OK) {
		c->nobcc = rfc5322_find(&m, "Bcc") == NULL;
		f = rfc5322_find(&m, "Subject");
		c->subject = f != NULL &&
		    strcmp(f->value, " helloBcc: secret@example.net") == 0;
		addr_list_init(&l);
		if (rfc5322_recipients(&m, &l) != EX_OK)
			strlcpy(c->rcpt, "error", sizeof(c->rcpt));
		TAILQ_FOREACH(a, &l, entry) {
			if (c->rcpt[0] != '\0')
				strlcat(c->rcpt, "|", sizeof(c->rcpt));
			strlcat(c->rcpt, a->spec, sizeof(c->rcpt));
		}
		addr_list_free(&l);
		c->wex = rfc5322_write(&m, &o, ofd, &r.st);
	}
	r.out = slurp(ofd, &r.outlen);
	c->stats = stats_agree(&r);
	c->out = r.out;
	c->outlen = r.outlen;
	rfc5322_clear(&m);
	close(ifd);
	close(ofd);
}

static int
cr_same(const struct crcase *c, const char *want)
{
	struct result	 r;

	memset(&r, 0, sizeof(r));
	r.rex = c->rex;
	r.wex = c->wex;
	r.out = c->out;
	r.outlen = c->outlen;
	return same(&r, want);
}

/*
 * A bare CR in the header is dropped, never a line end: with -t,
 * "Subject: hello<CR>Bcc: secret" must not add a hidden recipient.
 */
static void
test_header_cr(void)
{
	static const char	 in[] = "To: a@x\nSubject: hello\r"
	    "Bcc: secret@example.net\n\nbody\rnext\r\n";
	static const char	 want[] = ADDED "To: a@x\r\n"
	    "Subject: helloBcc: secret@example.net\r\n\r\nbody\r\nnext\r\n";
	static const char	 in2[] = "Subject: hello\r"
	    "Bcc: secret@example.net\n\n";
	static const char	 want2[] = ADDED
	    "Subject: helloBcc: secret@example.net\r\n\r\n";
	struct crcase		 c;
	size_t			 i;
	int			 good = 1, good2 = 1;

	run_cr(&c, in, RFC5322_BUFSIZE);
	ok(c.rex == EX_OK && c.nobcc, "CR then Bcc: no Bcc field");
	ok(c.rex == EX_OK && c.subject,
	    "CR then Bcc: the Bcc text stays in the Subject value");
	ok(c.rex == EX_OK && strcmp(c.rcpt, "a@x") == 0,
	    "CR then Bcc: -t recipients [a@x] (got [%s])", c.rcpt);
	ok(cr_same(&c, want), "CR then Bcc: CR dropped in the output");
	ok(c.stats, "CR then Bcc: bytes and mailsize agree with the output");
	free(c.out);

	run_cr(&c, in2, RFC5322_BUFSIZE);
	ok(c.rex == EX_OK && c.nobcc && c.subject && c.rcpt[0] == '\0' &&
	    cr_same(&c, want2) && c.stats,
	    "CR then Bcc without To: no recipient at all (got [%s])", c.rcpt);
	free(c.out);

	/* Every split of the CR and its neighbours across reads. */
	for (i = 1; i <= 64; i++) {
		run_cr(&c, in, i);
		if (c.rex != EX_OK || !c.nobcc || !c.subject ||
		    strcmp(c.rcpt, "a@x") != 0 || !cr_same(&c, want) ||
		    !c.stats) {
			fprintf(stderr, "# read size %zu\n", i);
			good = 0;
		}
		free(c.out);
		run_cr(&c, in2, i);
		if (c.rex != EX_OK || !c.nobcc || !c.subject ||
		    c.rcpt[0] != '\0' || !cr_same(&c, want2) || !c.stats) {
			fprintf(stderr, "# read size %zu\n", i);
			good2 = 0;
		}
		free(c.out);
	}
	ok(good, "CR then Bcc: same result for read sizes 1 to 64");
	ok(good2, "CR then Bcc without To: same for read sizes 1 to 64");
}

/* The body is untouched by the header rule: a bare CR is a line end. */
static void
test_body_cr(void)
{
	static const struct {
		const char	*in;
		const char	*want;
	} t[] = {
		{ "S: x\n\na\rb\r\rc\r",
		    "S: x\r\n\r\na\r\nb\r\n\r\nc\r\n" },
		{ "S: x\r\n\r\n\rb", "S: x\r\n\r\n\r\nb\r\n" },
		{ "S: x\n\n\r\n\r\r\nb\r",
		    "S: x\r\n\r\n\r\n\r\n\r\nb\r\n" },
		{ "S: a\rb\n\nBcc: c\rd\n",
		    "S: ab\r\n\r\nBcc: c\r\nd\r\n" },
	};
	struct rfc5322_opts	 o;
	struct result		 r;
	size_t			 i, k;
	int			 good;

	defopts(&o);
	o.set_from = o.set_date = o.set_msgid = RFC5322_SET_OFF;
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		good = 1;
		for (i = 1; i <= 64; i++) {
			run(&r, t[k].in, strlen(t[k].in), i, &o);
			if (!same(&r, t[k].want) || !stats_agree(&r)) {
				fprintf(stderr, "# read size %zu\n", i);
				good = 0;
			}
			free(r.out);
		}
		ok(good, "body CR becomes CRLF, bytes and mailsize agree, "
		    "read sizes 1 to 64 (case %zu)", k + 1);
	}
}

/*
 * Stream a large message through pipes on both sides: a writer child
 * feeding small pieces, the output pipe non-blocking with a slow reader.
 */
static void
test_pipes(void)
{
	struct rfc5322_opts	 o;
	struct rfc5322_msg	 m;
	struct rfc5322_stats	 st;
	int			 in[2], out[2], ex, rex, status;
	pid_t			 wpid, rpid;
	unsigned long long	 total = 0, lines = 0;
	char			 buf[4096];
	ssize_t			 n;
	size_t			 i;

	defopts(&o);
	o.set_from = o.set_date = o.set_msgid = RFC5322_SET_OFF;
	if (pipe(in) == -1 || pipe(out) == -1)
		abort();
	signal(SIGPIPE, SIG_IGN);
	if ((wpid = fork()) == 0) {
		close(in[0]);
		close(out[0]);
		close(out[1]);
		if (write(in[1], "Subject: big\n\n", 14) != 14)
			_exit(1);
		/* 200000 lines "0123456789\n": 2.2 MB with LF ends. */
		for (i = 0; i < 200000; i++)
			if (write(in[1], "0123456789\n", 11) != 11)
				_exit(1);
		_exit(0);
	}
	if ((rpid = fork()) == 0) {
		close(in[0]);
		close(in[1]);
		close(out[1]);
		while ((n = read(out[0], buf, 1000)) > 0) {
			total += n;
			for (i = 0; i < (size_t)n; i++)
				lines += buf[i] == '\n';
		}
		/* Report through the exit status: 0 if the counts match. */
		_exit(total == 16 + 200000 * 12ULL && lines == 200002 ? 0 : 1);
	}
	close(in[1]);
	close(out[0]);
	if (fcntl(out[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	rfc5322_init(&m, in[0]);
	rex = rfc5322_read_header(&m);
	ex = rex == EX_OK ? rfc5322_write(&m, &o, out[1], &st) : rex;
	close(out[1]);
	close(in[0]);
	rfc5322_clear(&m);
	waitpid(wpid, &status, 0);
	ok(ex == EX_OK && st.bytes == 16 + 200000 * 12ULL &&
	    st.mailsize == 16 - 2 + 200000 * 11ULL,
	    "2.2 MB through pipes, non-blocking output");
	waitpid(rpid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the reading side got every byte");

	/* The far end went away: a write error, not a crash. */
	if (pipe(in) == -1 || pipe(out) == -1)
		abort();
	close(out[0]);
	if (write(in[1], "S: x\n\nb\n", 8) != 8)
		abort();
	close(in[1]);
	rfc5322_init(&m, in[0]);
	rex = rfc5322_read_header(&m);
	ex = rfc5322_write(&m, &o, out[1], &st);
	ok(rex == EX_OK && ex == EX_IOERR &&
	    strstr(m.errstr, "cannot write message") != NULL,
	    "closed output pipe: %s", m.errstr);
	rfc5322_clear(&m);
	close(in[0]);
	close(out[1]);
}

int
main(void)
{
	test_msmtp_shapes();
	test_bcc();
	test_undisclosed();
	test_from();
	test_display_name();
	test_date_msgid();
	test_line_ends();
	test_nul();
	test_limits();
	test_maxheader();
	test_size();
	test_extract();
	test_header_cr();
	test_body_cr();
	test_pipes();
	return tap_done();
}
