#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "tap.h"

/* Parse s and compare the result, joined with '|', to want. */
static void
check(const char *s, const char *want)
{
	struct addr_list	 l;
	struct addr		*a;
	char			 got[1024] = "";
	int			 n;

	addr_list_init(&l);
	n = addr_parse_list(&l, s, strlen(s));
	TAILQ_FOREACH(a, &l, entry) {
		if (got[0] != '\0')
			strlcat(got, "|", sizeof(got));
		strlcat(got, a->spec, sizeof(got));
	}
	ok(n >= 0 && strcmp(got, want) == 0 && (size_t)n == addr_list_count(&l),
	    "parse [%s] -> [%s] (got [%s])", s, want, got);
	addr_list_free(&l);
}

static void
test_parse(void)
{
	check("a@b.example", "a@b.example");
	check("  a@b.example  ", "a@b.example");
	check("a@x, b@y", "a@x|b@y");
	check("a@x,b@y,,c@z,", "a@x|b@y|c@z");
	check("Name <n@x>", "n@x");
	check("\"q,uoted\" <q@x>, Name <n@x>", "q@x|n@x");
	check("\"Doe, John\" <jd@x>", "jd@x");
	check("\"a\\\"b, c\" <ab@x>", "ab@x");
	check("e@v (comm,ent)", "e@v");
	check("(lead) e@v", "e@v");
	check("e@v (nested (comm, ent) here), f@w", "e@v|f@w");
	check("John (the man) Doe <jd@x>", "jd@x");
	check("grp: g1@x, g2@y;", "g1@x|g2@y");
	check("grp: g1@x, \"g 2\"@x;, undisclosed:;", "g1@x|\"g 2\"@x");
	check("undisclosed-recipients:;", "");
	check("undisclosed-recipients: ;", "");
	check("a@x, grp:;, b@y", "a@x|b@y");
	check("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	    "mary@x.test|jdoe@example.org|one@y.test");
	check("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	    "boss@nil.test|sysservices@example.net");
	check("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	    "c@a.test|joe@where.test|jdoe@one.test");
	check("Undisclosed recipients:;", "");
	check("\"Joe Q. Public\" <john.q.public@example.com>",
	    "john.q.public@example.com");
	check("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	    "pete@silly.test");
	check("<@route1.test,@route2.test:user@final.test>", "user@final.test");
	check("john . doe @ example . org", "john.doe@example.org");
	check("\"quoted local\"@x", "\"quoted local\"@x");
	check("\"lone display name\"", "");
	check("user@[192.0.2.1]", "user@[192.0.2.1]");
	check("user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]");
	check("bob", "bob");
	check("bob, alice", "bob|alice");
	check("<bob>", "bob");
	check("<>", "");
	check("Name <a@x> trailing junk, b@y", "a@x|b@y");
	check("Name <a@x> \"junk, quoted\", b@y", "a@x|b@y");
	check("John Doe john@x", "john@x");
	check("<a@x", "a@x");
	check("\"unterminated", "");
	check("(unterminated comment a@x", "");
	check("a\x01" "b@x", "a_b@x");
	check("=?utf-8?B?SsO2aG4=?= <j@x>", "j@x");
	check("J\xc3\xb6rg <j\xc3\xb6rg@ex\xc3\xa4mple.org>",
	    "j\xc3\xb6rg@ex\xc3\xa4mple.org");
	check("a\\@b@x", "a\\@b@x");
	check("", "");
	check(" , ; : ", "");
	check("a@x;b@y", "a@x|b@y");
	check("a@x\r\n\tb@y", "b@y");
	check("a@x,\r\n b@y", "a@x|b@y");
}

static void
test_parse_nul(void)
{
	struct addr_list	 l;
	int			 n;

	addr_list_init(&l);
	n = addr_parse_list(&l, "a\0b@x, c@y", 10);
	ok(n == 2, "embedded NUL does not stop the parser");
	ok(n == 2 && strcmp(TAILQ_FIRST(&l)->spec, "a_b@x") == 0,
	    "embedded NUL becomes '_'");
	addr_list_free(&l);
	ok(TAILQ_EMPTY(&l), "list empty after free");
}

static void
test_valid(void)
{
	const char	*good[] = { "", "a@b", "a.b@c.d", "a+tag@ex-ample.org",
	    "\"a b\"@c", "\"a\\\"b\"@c", "user@[192.0.2.1]", "bob",
	    "MAILER-DAEMON", "j\xc3\xb6rg@ex\xc3\xa4mple.org", "a..b@c",
	    "a_b@c_d", "x!#$%&'*+/=?^`{|}~-@y", NULL };
	const char	*bad[] = { "a@b\r\nRCPT TO:<x@y>", "a@b\n", "a\r@b",
	    "a@b>", "<a@b>", "a b@c", "a@b c", "a@b> SIZE=1", "@b", "a@",
	    "a@b@c", "\"a@b", "\"a\"b@c", "a@[1.2.3.4", "a@[1.2]x", "a,b@c",
	    "a@b\t", "a@b\x7f", "a@b\x01", "(c)a@b", "a@b;",
	    /* C1, raw or in UTF-8 (CSI, NEL), and bytes that are not UTF-8 */
	    "a\xc2\x9b" "31m@b", "a@b\x9b", "\xc2\x85@b", "a@\xc2\x80x",
	    "a\xc3@b", "a@b\xff", "a\xe2\x82@b", "\xc0\xaf@b", NULL };
	char		 big[ADDR_MAXLEN + 10];
	int		 i;

	for (i = 0; good[i] != NULL; i++)
		ok(addr_valid_envelope(good[i]), "valid envelope [%s]", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		ok(!addr_valid_envelope(bad[i]), "invalid envelope #%d", i);
	ok(!addr_valid_envelope(NULL), "NULL is invalid");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(!addr_valid_envelope(big), "overlong address is invalid");
}

static void
test_paths(void)
{
	char	 buf[64];

	ok(addr_reverse_path(buf, sizeof(buf), "a@b") == 0 &&
	    strcmp(buf, "<a@b>") == 0, "reverse path <a@b>");
	ok(addr_reverse_path(buf, sizeof(buf), "") == 0 &&
	    strcmp(buf, "<>") == 0, "empty reverse path");
	ok(addr_reverse_path(buf, sizeof(buf), "mailer-daemon") == 0 &&
	    strcmp(buf, "<>") == 0, "MAILER-DAEMON is the null path");
	ok(addr_reverse_path(buf, sizeof(buf), "a@b>\r\nRCPT TO:<c@d") == -1,
	    "injection refused in MAIL FROM");
	ok(addr_forward_path(buf, sizeof(buf), "r@x") == 0 &&
	    strcmp(buf, "<r@x>") == 0, "forward path <r@x>");
	ok(addr_forward_path(buf, sizeof(buf), "MAILER-DAEMON") == 0 &&
	    strcmp(buf, "<MAILER-DAEMON>") == 0, "MAILER-DAEMON kept in RCPT");
	ok(addr_forward_path(buf, sizeof(buf), "") == -1,
	    "empty forward path refused");
	ok(addr_forward_path(buf, 5, "r@x") == -1, "truncation refused");
	ok(addr_forward_path(buf, 6, "r@x") == 0, "exact fit accepted");
}

int
main(void)
{
	test_parse();
	test_parse_nul();
	test_valid();
	test_paths();
	return tap_done();
}
