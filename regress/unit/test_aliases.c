#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "aliases.h"
#include "tap.h"

/*
 * Expand the comma-separated recipients rcpts with the aliases file text
 * and compare the result, joined with ',', to want (or the error text).
 */
static void
check(const char *file, const char *rcpts, const char *want, const char *what)
{
	struct aliases		*al;
	struct addr_list	 l;
	struct addr		*a;
	char			 got[1024] = "", err[256] = "";
	char			*dup, *p, *tok;

	if ((al = aliases_parse(file, strlen(file))) == NULL)
		abort();
	addr_list_init(&l);
	if ((dup = strdup(rcpts)) == NULL)
		abort();
	for (p = dup; (tok = strsep(&p, ",")) != NULL;)
		if (*tok != '\0')
			addr_list_add(&l, tok);
	free(dup);
	if (aliases_expand(al, &l, err, sizeof(err)) == -1)
		strlcpy(got, err, sizeof(got));
	else {
		TAILQ_FOREACH(a, &l, entry) {
			if (got[0] != '\0')
				strlcat(got, ",", sizeof(got));
			strlcat(got, a->spec, sizeof(got));
		}
	}
	ok(strcmp(got, want) == 0, "%s: [%s] (got [%s])", what, want, got);
	addr_list_free(&l);
	aliases_free(al);
}

static const char manual[] =
    "# Example aliases file\n"
    "\n"
    "# Send root to Joe and Jane\n"
    "root: joe_smith@example.com, jane_chang@example.com\n"
    "\n"
    "# Send cron to Mark\n"
    "cron: mark_jones@example.com\n"
    "\n"
    "# Send everything else to admin\n"
    "default: admin@domain.example\n";

static void
test_expand(void)
{
	const char	*nested = "root: a@x, sub # trailing comment\r\n"
	    "sub: s1@x , s2@x\r\n   \r\n\t# indented comment\n";

	check(manual, "root", "joe_smith@example.com,jane_chang@example.com",
	    "manual example: root");
	check(manual, "cron,r@x", "mark_jones@example.com,r@x",
	    "alias then an address");
	check(manual, "someone", "admin@domain.example", "default entry");
	check(manual, "r@x,s@y", "r@x,s@y", "addresses untouched");
	check(nested, "root,c@d,bob", "a@x,s1@x,s2@x,c@d,bob",
	    "nested alias in file order, unknown name kept without default");
	check("a: b,,c@x,\n", "a", "b,c@x", "empty targets skipped");
	check("a:\n", "a,z@x", "z@x", "alias to nothing");
	check("a: b\nb: c\nc: d@x\n", "a", "d@x", "chain of three");
	check("root: root\n", "root", "Too many redirects when expanding "
	    "alias root.", "self loop");
	check("a: b\nb: a\n", "x@y,a", "Too many redirects when expanding "
	    "alias a.", "two-alias loop");
	check("default: nobody\n", "u", "Too many redirects when expanding "
	    "alias u.", "default to an unknown local name loops, as in msmtp");
	check("a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\n"
	    "a8: a9\na9: a10\na10: a11\na11: a12\na12: a13\na13: a14\n"
	    "a14: a15\na15: a16\na16: a17\na17: end@x\n", "a1", "end@x",
	    "16 nested levels allowed");
	check("a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\n"
	    "a8: a9\na9: a10\na10: a11\na11: a12\na12: a13\na13: a14\n"
	    "a14: a15\na15: a16\na16: a17\na17: a18\na18: end@x\n", "a1",
	    "Too many redirects when expanding alias a1.", "17 levels refused");
	check("Root: r@x\n", "root", "root", "names are case-sensitive");
	check("local: \"q, x\"@y\n", "local", "\"q,x\"@y",
	    "commas split as msmtp (two targets)");
	check("", "bob", "bob", "empty file");
}

static void
test_errors(void)
{
	check("root: a@x\nbad line\n", "root",
	    "line 2: single ':' delimiter expected", "missing colon");
	check("a: b: c\n", "a", "line 1: single ':' delimiter expected",
	    "two colons");
	check("# c\n\na@b: c@d\n", "a", "line 3: invalid alias 'a@b'",
	    "alias with @");
	check(": c@d\n", "a", "line 1: invalid alias ''", "empty alias");
	check("a: x@y\na: z@y\n", "a", "line 2: duplicate alias 'a'",
	    "duplicate");
	check("root: a@x\nbad line\n", "r@x,s@y", "r@x,s@y",
	    "broken file ignored when no local recipient");
	check("a: x@y # has: colon\n", "a", "x@y", "colon in a comment");
}

static void
test_read(void)
{
	struct aliases		*al;
	const struct alias	*a;
	FILE			*fp;

	if ((fp = tmpfile()) == NULL)
		abort();
	fputs(manual, fp);
	rewind(fp);
	al = aliases_read(fp);
	fclose(fp);
	ok(al != NULL && al->error[0] == '\0', "read from a FILE");
	a = al ? aliases_find(al, "root") : NULL;
	ok(a != NULL && addr_list_count(&a->targets) == 2, "root has 2 targets");
	ok(al != NULL && aliases_find(al, "nobody") == NULL, "unknown not found");
	aliases_free(al);

	al = aliases_parse("a: b\0c\n", 7);
	ok(al != NULL && strcmp(al->error, "line 1: contains a NUL byte") == 0,
	    "NUL in the file is an error");
	aliases_free(al);
	aliases_free(NULL);
	ok(1, "aliases_free(NULL) is harmless");
}

static void
test_needed(void)
{
	struct addr_list	 l;

	addr_list_init(&l);
	ok(!aliases_needed(&l), "empty list needs nothing");
	addr_list_add(&l, "a@b");
	ok(!aliases_needed(&l), "addresses need nothing");
	addr_list_add(&l, "bob");
	ok(aliases_needed(&l), "a local name needs the file");
	addr_list_free(&l);
}

int
main(void)
{
	test_expand();
	test_errors();
	test_read();
	test_needed();
	return tap_done();
}
