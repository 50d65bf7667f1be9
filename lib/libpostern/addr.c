#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "utf8.h"

enum tok {
	TOK_WORD,		/* atom or quoted-string */
	TOK_LITERAL,		/* [domain literal] */
	TOK_SPECIAL		/* '.' or '@' */
};

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 quoted;	/* holds a quoted-string or literal */
	int	 at;		/* holds an '@' */
};

void
addr_list_init(struct addr_list *l)
{
	TAILQ_INIT(l);
}

void
addr_list_free(struct addr_list *l)
{
	struct addr	*a;

	while ((a = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, a, entry);
		free(a->spec);
		free(a);
	}
}

int
addr_list_add(struct addr_list *l, const char *spec)
{
	struct addr	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	if ((a->spec = strdup(spec)) == NULL) {
		free(a);
		return -1;
	}
	TAILQ_INSERT_TAIL(l, a, entry);
	return 0;
}

size_t
addr_list_count(const struct addr_list *l)
{
	const struct addr	*a;
	size_t			 n = 0;

	TAILQ_FOREACH(a, l, entry)
		n++;
	return n;
}

static int
sbuf_putc(struct sbuf *b, int c)
{
	char	*p;
	size_t	 ncap;

	if (b->len + 2 > b->cap) {
		ncap = b->cap ? b->cap * 2 : 64;
		if ((p = realloc(b->s, ncap)) == NULL)
			return -1;
		b->s = p;
		b->cap = ncap;
	}
	/* No control character may reach an envelope (msmtp uses '_'). */
	if ((unsigned char)c < 0x20 || c == 0x7f)
		c = '_';
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
	if (c == '@')
		b->at = 1;
	return 0;
}

static void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->quoted = 0;
	b->at = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

/*
 * Emit the collected address.  Outside angle brackets a candidate without
 * '@' counts only if it is a bare local name (an alias or a local user), so
 * that a lone quoted display name is not taken for a recipient.
 */
static int
emit(struct addr_list *l, struct sbuf *b, int angle, int *n)
{
	int	 rv = 0;

	if (b->len > 0 && b->s[0] != '@' && (angle || b->at || !b->quoted)) {
		if ((rv = addr_list_add(l, b->s)) == 0)
			(*n)++;
	}
	sbuf_reset(b);
	return rv;
}

/* Skip a comment starting at s[i] == '('; returns the index after it. */
static size_t
skip_comment(const char *s, size_t len, size_t i)
{
	int	 depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/*
 * Copy a quoted-string or domain literal starting at s[i] into b, as
 * written; returns the index after it.
 */
static size_t
copy_delimited(struct sbuf *b, const char *s, size_t len, size_t i, int close,
    int *err)
{
	if (sbuf_putc(b, s[i++]) == -1)
		goto fail;
	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			if (sbuf_putc(b, s[i++]) == -1)
				goto fail;
		} else if (s[i] == close) {
			if (sbuf_putc(b, s[i]) == -1)
				goto fail;
			return i + 1;
		}
		if (sbuf_putc(b, s[i]) == -1)
			goto fail;
	}
	/* Unterminated: close it so the result stays well formed. */
	if (sbuf_putc(b, close) == -1)
		goto fail;
	return len;
fail:
	*err = 1;
	return len;
}

/* Skip a quoted-string starting at s[i] == '"'; returns the index after. */
static size_t
skip_quoted(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

static int
is_atom_char(unsigned char c)
{
	if (c >= 0x80 || c == '\0')
		return 1;
	return strchr("()<>[]:;@\\,.\" \t\r\n", c) == NULL;
}

int
addr_parse_list(struct addr_list *l, const char *s, size_t len)
{
	struct sbuf	 cur, ang;
	struct sbuf	*b;
	enum tok	 last = TOK_SPECIAL, t;
	size_t		 i;
	int		 n = 0, err = 0, in_angle = 0, done = 0, ws = 0;
	unsigned char	 c;

	memset(&cur, 0, sizeof(cur));
	memset(&ang, 0, sizeof(ang));
	i = 0;
	while (i < len && !err) {
		c = s[i];
		b = in_angle ? &ang : &cur;
		switch (c) {
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			ws = 1;
			i++;
			continue;
		case '(':
			ws = 1;
			i = skip_comment(s, len, i);
			continue;
		case '<':
			if (!in_angle) {
				in_angle = 1;
				sbuf_reset(&cur);
				sbuf_reset(&ang);
				last = TOK_SPECIAL;
				ws = 0;
			}
			i++;
			continue;
		case '>':
			if (in_angle) {
				if (emit(l, &ang, 1, &n) == -1)
					err = 1;
				in_angle = 0;
				done = 1;
			}
			i++;
			continue;
		case ',':
			/* Inside brackets only an obsolete route has commas. */
			if (!in_angle) {
				if (!done && emit(l, &cur, 0, &n) == -1)
					err = 1;
				sbuf_reset(&cur);
				done = 0;
			}
			ws = 0;
			last = TOK_SPECIAL;
			i++;
			continue;
		case ';':
			if (in_angle) {
				i++;
				continue;
			}
			if (!done && emit(l, &cur, 0, &n) == -1)
				err = 1;
			sbuf_reset(&cur);
			done = 0;
			ws = 0;
			last = TOK_SPECIAL;
			i++;
			continue;
		case ':':
			/* A group name, or the end of a source route. */
			sbuf_reset(b);
			last = TOK_SPECIAL;
			i++;
			continue;
		case ')':
		case ']':
			i++;
			continue;
		}
		if (done) {
			/* Junk after an angle address, up to the next comma. */
			i = c == '"' ? skip_quoted(s, len, i) : i + 1;
			continue;
		}
		if (c == '"' || c == '[')
			t = c == '"' ? TOK_WORD : TOK_LITERAL;
		else if (c == '.' || c == '@')
			t = TOK_SPECIAL;
		else
			t = TOK_WORD;
		/*
		 * Two words separated by white space outside brackets are a
		 * phrase, not an address: keep the last word, as msmtp does.
		 */
		if (!in_angle && ws && t != TOK_SPECIAL && last != TOK_SPECIAL)
			sbuf_reset(b);
		ws = 0;
		last = t;
		if (c == '"' || c == '[') {
			i = copy_delimited(b, s, len, i, c == '"' ? '"' : ']',
			    &err);
			b->quoted = 1;
		} else if (t == TOK_SPECIAL) {
			if (sbuf_putc(b, c) == -1)
				err = 1;
			i++;
		} else {
			while (i < len && !err && (is_atom_char(s[i]) ||
			    s[i] == '\\')) {
				if (s[i] == '\\' && i + 1 < len &&
				    sbuf_putc(b, s[i++]) == -1)
					err = 1;
				if (sbuf_putc(b, s[i++]) == -1)
					err = 1;
			}
		}
	}
	if (!err && in_angle && emit(l, &ang, 1, &n) == -1)
		err = 1;
	if (!err && !done && !in_angle && emit(l, &cur, 0, &n) == -1)
		err = 1;
	free(cur.s);
	free(ang.s);
	return err ? -1 : n;
}

/*
 * Loose RFC 5321 Mailbox check: msmtp sends any string, so only what could
 * break the SMTP command or its path syntax is refused (control characters,
 * white space and brackets outside quotes, unbalanced quotes, a malformed
 * domain).  A bare local name is accepted, as msmtp does for aliases.
 */
int
addr_valid_envelope(const char *a)
{
	const unsigned char	*p;
	size_t			 n;

	if (a == NULL)
		return 0;
	if ((n = strlen(a)) == 0)
		return 1;
	if (n > ADDR_MAXLEN)
		return 0;
	/* Beyond ASCII only well-formed UTF-8 (RFC 6531), and no C1. */
	if (!utf8_text(a, n))
		return 0;

	p = (const unsigned char *)a;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return 0;
			if (*p == '\\' && *++p == '\0')
				return 0;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != '@'; p++)
			if (!is_atom_char(*p) && *p != '.')
				return 0;
		if (p == (const unsigned char *)a)
			return 0;
	}
	if (*p == '\0')
		return 1;
	if (*p++ != '@' || *p == '\0')
		return 0;
	if (*p == '[') {
		for (p++; *p != ']'; p++)
			if (*p == '\0' || *p == '[' || *p == '\\' || *p == ' ')
				return 0;
		return p[1] == '\0';
	}
	for (; *p != '\0'; p++) {
		if (*p >= 0x80 || *p == '.' || *p == '-' || *p == '_' ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z'))
			continue;
		return 0;
	}
	return 1;
}

static int
make_path(char *buf, size_t len, const char *a)
{
	int	 r;

	if (!addr_valid_envelope(a))
		return -1;
	r = snprintf(buf, len, "<%s>", a);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return 0;
}

int
addr_reverse_path(char *buf, size_t len, const char *from)
{
	if (from != NULL && strcasecmp(from, "MAILER-DAEMON") == 0)
		from = "";
	return make_path(buf, len, from);
}

int
addr_forward_path(char *buf, size_t len, const char *rcpt)
{
	if (rcpt == NULL || *rcpt == '\0')
		return -1;
	return make_path(buf, len, rcpt);
}
