/* posternd's RFC 5321 grammar: paths, mailboxes, domains, literals. */
#include <string.h>

#include "../../usr.sbin/posternd/posternd.h"
#include "tap.h"

/* rfc5321_path on s: 0 with out and rest as expected, or -1. */
static int
path(const char *s, int flags, const char *want, const char *wrest)
{
	char		 out[MAILBOX_MAX + 1];
	const char	*rest = NULL;

	if (rfc5321_path(s, flags, out, sizeof(out), &rest) == -1)
		return want == NULL;
	return want != NULL && strcmp(out, want) == 0 &&
	    strcmp(rest, wrest) == 0;
}

int
main(void)
{
	char	 big[400];

	ok(rfc5321_mailbox("user@example.org", 0), "plain mailbox");
	ok(rfc5321_mailbox("first.last+tag@mail.example.org", 0),
	    "dots and plus in the local part");
	ok(rfc5321_mailbox("\"john doe\"@example.org", 0),
	    "quoted local part");
	ok(rfc5321_mailbox("user@[192.0.2.1]", 0), "IPv4 literal");
	ok(rfc5321_mailbox("user@[IPv6:2001:db8::1]", 0), "IPv6 literal");
	ok(rfc5321_mailbox("us\xc3\xa9r@exampl\xc3\xa9.org", 0),
	    "UTF-8 in local part and domain (RFC 6531)");
	ok(!rfc5321_mailbox("user", 0), "a local part alone needs PATH_LOCALOK");
	ok(rfc5321_mailbox("user", PATH_LOCALOK), "local part with PATH_LOCALOK");
	ok(!rfc5321_mailbox("", 0), "empty is no mailbox");
	ok(rfc5321_mailbox("", PATH_NULLOK), "empty with PATH_NULLOK");
	ok(!rfc5321_mailbox("a..b@example.org", 0), "two dots in a row");
	ok(!rfc5321_mailbox(".a@example.org", 0), "leading dot");
	ok(!rfc5321_mailbox("a@-example.org", 0), "label starting with '-'");
	ok(!rfc5321_mailbox("a@example-.org", 0), "label ending with '-'");
	ok(!rfc5321_mailbox("a b@example.org", 0), "space in the local part");
	ok(!rfc5321_mailbox("a@example.org\r\nRCPT", 0), "CRLF inside");
	ok(!rfc5321_mailbox("a@[192.0.2.300]", 0), "bad IPv4 literal");
	ok(!rfc5321_mailbox("a\xc2\x85@example.org", 0),
	    "a C1 control is no letter");
	ok(!rfc5321_mailbox("a\xff@example.org", 0), "invalid UTF-8");
	memset(big, 'a', sizeof(big));
	memcpy(big + 300, "@example.org", 13);
	ok(!rfc5321_mailbox(big, 0), "longer than RFC 5321 allows");

	ok(rfc5321_domain("example.org", 11), "domain");
	ok(rfc5321_domain("localhost", 9), "one label");
	ok(!rfc5321_domain("example..org", 12), "empty label");
	ok(!rfc5321_domain("", 0), "empty domain");
	ok(!rfc5321_domain("exa_mple.org", 12), "underscore");
	memset(big, 'a', 64);
	ok(!rfc5321_domain(big, 64), "label of 64 characters");
	ok(rfc5321_domain(big, 63), "label of 63 characters");

	ok(rfc5321_literal("[192.0.2.1]", 11), "IPv4 address literal");
	ok(rfc5321_literal("[IPv6:::1]", 10), "IPv6 address literal");
	ok(!rfc5321_literal("[IPv6:192.0.2.1]", 16), "IPv4 under IPv6: tag");
	ok(rfc5321_literal("[x-tag:abc]", 11), "general address literal");
	ok(!rfc5321_literal("[x-tag:a]b]", 11), "']' inside a literal");
	ok(!rfc5321_literal("192.0.2.1", 9), "no brackets");
	ok(!rfc5321_literal("[01.2.3.4]", 10), "leading zero in IPv4");

	ok(path("<user@example.org>", 0, "user@example.org", ""), "path");
	ok(path("<user@example.org> SIZE=10", 0, "user@example.org",
	    " SIZE=10"), "path with parameters after it");
	ok(path("<>", PATH_NULLOK, "", ""), "null reverse-path");
	ok(path("<>", 0, NULL, NULL), "null path refused without PATH_NULLOK");
	ok(path("<@relay.example,@b.example:user@example.org>", 0,
	    "user@example.org", ""), "source route dropped");
	ok(path("<@relay.example:>", 0, NULL, NULL), "route without mailbox");
	ok(path("user@example.org", 0, NULL, NULL), "no angle brackets");
	ok(path("<user@example.org", 0, NULL, NULL), "no closing bracket");
	ok(path("<postmaster>", PATH_LOCALOK, "postmaster", ""),
	    "local part with PATH_LOCALOK");
	ok(path("<-oQ/tmp@example.org>", 0, "-oQ/tmp@example.org", ""),
	    "a leading '-' is grammar; the listener refuses it apart");
	return tap_done();
}
