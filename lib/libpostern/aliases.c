#include <sys/queue.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "aliases.h"

static void
seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* A name without '@' is local: looked up in the file. */
static int
is_local(const char *s)
{
	return *s != '\0' && strchr(s, '@') == NULL;
}

/* Trim white space in place on [*sp, *sp + *np). */
static void
trim(const char **sp, size_t *np)
{
	const char	*s = *sp;
	size_t		 n = *np;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*sp = s;
	*np = n;
}

const struct alias *
aliases_find(const struct aliases *al, const char *name)
{
	const struct alias	*a;

	TAILQ_FOREACH(a, &al->list, entry)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int
parse_line(struct aliases *al, const char *s, size_t n, int lnum)
{
	struct alias	*a;
	const char	*p, *q, *end, *colon, *t;
	size_t		 tn;
	char		*name, *tok;

	if ((p = memchr(s, '#', n)) != NULL)
		n = p - s;
	trim(&s, &n);
	if (n == 0)
		return 0;
	end = s + n;
	if ((colon = memchr(s, ':', n)) == NULL ||
	    memchr(colon + 1, ':', end - (colon + 1)) != NULL) {
		seterr(al->error, sizeof(al->error),
		    "line %d: single ':' delimiter expected", lnum);
		return -1;
	}
	t = s;
	tn = colon - s;
	trim(&t, &tn);
	if ((name = strndup(t, tn)) == NULL)
		goto nomem;
	if (!is_local(name) || strlen(name) != tn) {
		seterr(al->error, sizeof(al->error),
		    "line %d: invalid alias '%s'", lnum, name);
		free(name);
		return -1;
	}
	if (aliases_find(al, name) != NULL) {
		seterr(al->error, sizeof(al->error),
		    "line %d: duplicate alias '%s'", lnum, name);
		free(name);
		return -1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		free(name);
		goto nomem;
	}
	a->name = name;
	addr_list_init(&a->targets);
	TAILQ_INSERT_TAIL(&al->list, a, entry);

	/*
	 * Targets are taken as written, split on commas.  msmtp would send
	 * an empty one as RCPT TO:<>; it is skipped here.
	 */
	for (p = colon + 1;; p = q + 1) {
		if ((q = memchr(p, ',', end - p)) == NULL)
			q = end;
		t = p;
		tn = q - p;
		trim(&t, &tn);
		if (tn > 0) {
			if ((tok = strndup(t, tn)) == NULL)
				goto nomem;
			if (addr_list_add(&a->targets, tok) == -1) {
				free(tok);
				goto nomem;
			}
			free(tok);
		}
		if (q == end)
			break;
	}
	return 0;
nomem:
	seterr(al->error, sizeof(al->error), "out of memory");
	return -1;
}

struct aliases *
aliases_parse(const char *buf, size_t len)
{
	struct aliases	*al;
	const char	*p, *nl;
	int		 lnum = 1;

	if ((al = calloc(1, sizeof(*al))) == NULL)
		return NULL;
	TAILQ_INIT(&al->list);
	for (p = buf; p < buf + len; p = nl + 1, lnum++) {
		if ((nl = memchr(p, '\n', buf + len - p)) == NULL)
			nl = buf + len;
		if (memchr(p, '\0', nl - p) != NULL) {
			seterr(al->error, sizeof(al->error),
			    "line %d: contains a NUL byte", lnum);
			break;
		}
		if (parse_line(al, p, nl - p, lnum) == -1)
			break;
	}
	return al;
}

struct aliases *
aliases_read(FILE *fp)
{
	struct aliases	*al;
	char		*buf = NULL, *nbuf;
	size_t		 len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > ALIASES_MAXFILE + 1 ||
			    (nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				if ((al = aliases_parse("", 0)) != NULL)
					seterr(al->error, sizeof(al->error),
					    cap > ALIASES_MAXFILE + 1 ?
					    "file too large" : "out of memory");
				return al;
			}
			buf = nbuf;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		free(buf);
		if ((al = aliases_parse("", 0)) != NULL)
			seterr(al->error, sizeof(al->error), "input error");
		return al;
	}
	al = aliases_parse(buf != NULL ? buf : "", len);
	free(buf);
	return al;
}

void
aliases_free(struct aliases *al)
{
	struct alias	*a;

	if (al == NULL)
		return;
	while ((a = TAILQ_FIRST(&al->list)) != NULL) {
		TAILQ_REMOVE(&al->list, a, entry);
		addr_list_free(&a->targets);
		free(a->name);
		free(a);
	}
	free(al);
}

int
aliases_needed(const struct addr_list *rcpts)
{
	const struct addr	*r;

	TAILQ_FOREACH(r, rcpts, entry)
		if (is_local(r->spec))
			return 1;
	return 0;
}

/* -1: too deep, -2: out of memory. */
static int
expand(const struct aliases *al, const char *name, int depth,
    struct addr_list *out)
{
	const struct alias	*a;
	const struct addr	*t;
	int			 r;

	if (depth > ALIASES_MAXDEPTH)
		return -1;
	if ((a = aliases_find(al, name)) == NULL &&
	    (a = aliases_find(al, "default")) == NULL)
		return addr_list_add(out, name) == -1 ? -2 : 0;
	TAILQ_FOREACH(t, &a->targets, entry) {
		if (!is_local(t->spec)) {
			if (addr_list_add(out, t->spec) == -1)
				return -2;
		} else if ((r = expand(al, t->spec, depth + 1, out)) != 0)
			return r;
	}
	return 0;
}

/*
 * Replace every local recipient (no '@') by its expansion, in place and in
 * order.  Returns 0, or -1 with a message in err.
 */
int
aliases_expand(const struct aliases *al, struct addr_list *rcpts, char *err,
    size_t errlen)
{
	struct addr_list	 out;
	struct addr		*r, *next, *x;
	int			 e;

	if (!aliases_needed(rcpts))
		return 0;
	if (al->error[0] != '\0') {
		seterr(err, errlen, "%s", al->error);
		return -1;
	}
	for (r = TAILQ_FIRST(rcpts); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!is_local(r->spec))
			continue;
		addr_list_init(&out);
		if ((e = expand(al, r->spec, 0, &out)) != 0) {
			if (e == -1)
				seterr(err, errlen, "Too many redirects when "
				    "expanding alias %s.", r->spec);
			else
				seterr(err, errlen, "out of memory");
			addr_list_free(&out);
			return -1;
		}
		while ((x = TAILQ_FIRST(&out)) != NULL) {
			TAILQ_REMOVE(&out, x, entry);
			TAILQ_INSERT_BEFORE(r, x, entry);
		}
		TAILQ_REMOVE(rcpts, r, entry);
		free(r->spec);
		free(r);
	}
	return 0;
}
