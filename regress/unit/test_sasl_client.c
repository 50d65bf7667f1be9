/*
 * Unit tests of the secrets process's helpers: the automatic choice of a
 * mechanism, the SCRAM iteration count parser, the OAuth responses, netrc
 * lookups, and the SRV answer parser of --configure.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sasl_client.h"
#include "configure.h"
#include "password.h"
#include "tap.h"

static int
have_all(const char *m)
{
	return 1;
}

static int
have_no_scram(const char *m)
{
	return strncmp(m, "SCRAM-", 6) != 0;
}

static const char *
choose(const char *list, int tls, int cb)
{
	const char	*m = auth_choose(list, tls, cb, have_all);

	return m != NULL ? m : "(none)";
}

static void
test_choose(void)
{
	static const struct {
		const char	*list;
		int		 tls, cb;
		const char	*want;
	} c[] = {
		{ "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 "
		    "SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS", 1, 1,
		    "SCRAM-SHA-256-PLUS" },
		{ "SCRAM-SHA-1-PLUS SCRAM-SHA-256", 1, 1, "SCRAM-SHA-1-PLUS" },
		{ "SCRAM-SHA-256-PLUS SCRAM-SHA-256", 1, 0, "SCRAM-SHA-256" },
		{ "SCRAM-SHA-1 PLAIN", 1, 1, "SCRAM-SHA-1" },
		{ "CRAM-MD5 LOGIN PLAIN", 1, 1, "PLAIN" },
		{ "LOGIN CRAM-MD5 DIGEST-MD5", 1, 1, "CRAM-MD5" },
		{ "LOGIN DIGEST-MD5", 1, 1, "DIGEST-MD5" },
		{ "NTLM LOGIN", 1, 1, "LOGIN" },
		{ "NTLM", 1, 1, "NTLM" },
		{ "GSSAPI EXTERNAL XOAUTH2 OAUTHBEARER ANONYMOUS", 1, 1,
		    "(none)" },
		{ "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 NTLM", 0, 0, "(none)" },
		{ "PLAIN SCRAM-SHA-1 SCRAM-SHA-256", 0, 0, "SCRAM-SHA-256" },
		{ "SCRAM-SHA-256-PLUS SCRAM-SHA-1", 0, 0, "SCRAM-SHA-1" },
		{ "XPLAIN PLAINX SCRAM-SHA-2567", 1, 1, "(none)" },
		{ "", 1, 1, "(none)" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ok(strcmp(choose(c[i].list, c[i].tls, c[i].cb), c[i].want) ==
		    0, "choose from '%s' (tls %d, binding %d): %s", c[i].list,
		    c[i].tls, c[i].cb, c[i].want);
	ok(auth_choose("SCRAM-SHA-256 PLAIN", 1, 1, have_no_scram) != NULL &&
	    strcmp(auth_choose("SCRAM-SHA-256 PLAIN", 1, 1, have_no_scram),
	    "PLAIN") == 0, "a mechanism without its plugin is skipped");
	ok(auth_needs_password("plain") && auth_needs_password("") &&
	    auth_needs_password(NULL) && !auth_needs_password("external") &&
	    !auth_needs_password("GSSAPI"), "EXTERNAL and GSSAPI need no "
	    "password, everything else does");
}

static void
test_iterations(void)
{
	static const struct {
		const char	*msg;
		int		 rv;
		unsigned long	 iter;
	} c[] = {
		{ "r=abc,s=c2FsdA==,i=4096", 0, 4096 },
		{ "r=abc,s=c2FsdA==,i=1", 0, 1 },
		{ "r=abc,s=c2FsdA==,i=0", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=01", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=4096x", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=-4096", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=99999999999", -1, 0 },
		{ "r=abc,s=c2FsdA==,i=4294967295", 0, 4294967295UL },
		{ "r=abc,s=c2FsdA==,i=100000,ext=1", 0, 100000 },
		{ "m=x,r=abc,s=c2FsdA==,i=4096", -1, 0 },
		{ "r=abc,i=4096", -1, 0 },
		{ "s=c2FsdA==,i=4096", -1, 0 },
		{ "e=invalid-proof", -1, 0 },
		{ "", -1, 0 },
	};
	unsigned long	 it;
	size_t		 i;
	int		 rv;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		it = 0;
		rv = auth_scram_iterations(c[i].msg, strlen(c[i].msg), &it);
		ok(rv == c[i].rv && (rv == -1 || it == c[i].iter),
		    "server-first '%s': %s", c[i].msg, c[i].rv == 0 ?
		    "parsed" : "refused");
	}
	ok(auth_scram_iterations("r=a\0b,s=c,i=4096", 16, &it) == -1,
	    "server-first with a NUL byte is refused");
}

static void
test_oauth(void)
{
	char	*s;

	s = auth_oauth("XOAUTH2", "alice@example.org", "tok", 587,
	    "smtp.example.org");
	ok(strcmp(s, "user=alice@example.org\001auth=Bearer tok\001\001") ==
	    0, "XOAUTH2 response");
	free(s);
	s = auth_oauth("OAUTHBEARER", "alice@example.org", "tok", 587,
	    "smtp.example.org");
	ok(strcmp(s, "n,a=alice@example.org,\001host=smtp.example.org\001"
	    "port=587\001auth=Bearer tok\001\001") == 0,
	    "OAUTHBEARER response (RFC 7628)");
	free(s);
	s = auth_oauth("OAUTHBEARER", "a,b=c", "tok", 25, "h");
	ok(strncmp(s, "n,a=a=2Cb=3Dc,\001", 15) == 0,
	    "OAUTHBEARER escapes ',' and '=' in the user name (RFC 5801)");
	free(s);
}

static char *
netrc(const char *text, const char *host, const char *user)
{
	char	 path[] = "/tmp/postern-netrc.XXXXXX";
	char	*pw;
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	pw = password_netrc(path, host, user);
	unlink(path);
	return pw;
}

static void
test_netrc(void)
{
	static const struct {
		const char	*text, *host, *user, *want;
	} c[] = {
		{ "machine h login u password p\n", "h", "u", "p" },
		{ "machine H.Example login u password p\n", "h.example", "u",
		    "p" },
		{ "machine h login v password p\n", "h", "u", NULL },
		{ "machine x login u password p\n", "h", "u", NULL },
		{ "machine h password p\n", "h", "u", "p" },
		{ "machine h login v password p\nmachine h login u password "
		    "q\n", "h", "u", "q" },
		{ "machine x login u password p\ndefault login u password d\n",
		    "h", "u", "d" },
		{ "default login v password d\n", "h", "u", NULL },
		{ "machine h\n\tlogin u\n\tpassword \"a b\\\"c\"\n", "h", "u",
		    "a b\"c" },
		{ "macdef init\nmachine h login u password evil\n\nmachine h "
		    "login u password good\n", "h", "u", "good" },
		{ "machine h account acct login u password p\n", "h", "u",
		    "p" },
		{ "machine h login u\n", "h", "u", NULL },
		{ "", "h", "u", NULL },
	};
	size_t	 i;
	char	*pw;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pw = netrc(c[i].text, c[i].host, c[i].user);
		ok(c[i].want == NULL ? pw == NULL : pw != NULL &&
		    strcmp(pw, c[i].want) == 0, "netrc case %zu: %s", i + 1,
		    c[i].want != NULL ? c[i].want : "no match");
		free(pw);
	}
	ok(password_netrc("/nonexistent/netrc", "h", "u") == NULL,
	    "a missing netrc file is no match");
}

/* A DNS answer with one question and the given SRV records. */
static int
srv_answer(unsigned char *buf, const char *recs[][4], int n)
{
	static const unsigned char q[] = "\x0c_submissions\x04_tcp\x07"
	    "example\x03org";
	int	 len = 12, i, rd;
	const char *t, *dot;

	memset(buf, 0, 12);
	buf[2] = 0x81;
	buf[3] = 0x80;
	buf[5] = 1;
	buf[7] = (unsigned char)n;
	memcpy(buf + len, q, sizeof(q));
	len += (int)sizeof(q);
	buf[len++] = 0;
	buf[len++] = 33;
	buf[len++] = 0;
	buf[len++] = 1;
	for (i = 0; i < n; i++) {
		buf[len++] = 0xc0;
		buf[len++] = 12;
		memcpy(buf + len, "\0\x21\0\x01\0\0\0\x3c", 8);
		len += 8;
		rd = len;
		len += 2;
		buf[len++] = 0;
		buf[len++] = (unsigned char)atoi(recs[i][0]);
		buf[len++] = 0;
		buf[len++] = (unsigned char)atoi(recs[i][1]);
		buf[len++] = (unsigned char)(atoi(recs[i][2]) >> 8);
		buf[len++] = (unsigned char)atoi(recs[i][2]);
		for (t = recs[i][3]; *t != '\0' && strcmp(t, ".") != 0;
		    t = *dot ? dot + 1 : dot) {
			if ((dot = strchr(t, '.')) == NULL)
				dot = t + strlen(t);
			buf[len++] = (unsigned char)(dot - t);
			memcpy(buf + len, t, (size_t)(dot - t));
			len += (int)(dot - t);
		}
		buf[len++] = 0;
		buf[rd] = 0;
		buf[rd + 1] = (unsigned char)(len - rd - 2);
	}
	return len;
}

static void
test_srv(void)
{
	const char	*one[][4] = { { "0", "1", "465", "mail.example.org" } };
	const char	*two[][4] = { { "10", "0", "587", "b.example.org" },
			    { "5", "0", "2587", "a.example.org" },
			    { "5", "9", "25", "c.example.org" } };
	const char	*none[][4] = { { "0", "0", "0", "." } };
	unsigned char	 buf[1024];
	char		 host[256];
	int		 len, port = 0;

	len = srv_answer(buf, one, 1);
	ok(configure_srv(buf, len, host, sizeof(host), &port) == 0 &&
	    strcmp(host, "mail.example.org") == 0 && port == 465,
	    "SRV: one record");
	len = srv_answer(buf, two, 3);
	ok(configure_srv(buf, len, host, sizeof(host), &port) == 0 &&
	    strcmp(host, "c.example.org") == 0 && port == 25,
	    "SRV: lowest priority, then highest weight");
	len = srv_answer(buf, none, 1);
	ok(configure_srv(buf, len, host, sizeof(host), &port) == 1,
	    "SRV: target '.' means no service");
	len = srv_answer(buf, one, 0);
	ok(configure_srv(buf, len, host, sizeof(host), &port) == 1,
	    "SRV: no answer records");
	len = srv_answer(buf, one, 1);
	ok(configure_srv(buf, len - 5, host, sizeof(host), &port) == -1,
	    "SRV: a truncated answer is an error");
	ok(configure_srv(buf, 5, host, sizeof(host), &port) == -1,
	    "SRV: a truncated header is an error");
	ok(configure_host_matches("mail.example.org", "example.org") &&
	    configure_host_matches("example.org.", "example.org") &&
	    configure_host_matches("MAIL.Example.ORG", "example.org") &&
	    !configure_host_matches("badexample.org", "example.org") &&
	    !configure_host_matches("smtp.other.test", "example.org"),
	    "host in the mail domain or not");
}

int
main(void)
{
	test_choose();
	test_iterations();
	test_oauth();
	test_netrc();
	test_srv();
	return tap_done();
}
