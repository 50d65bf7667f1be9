/*
 * RFC 5321 section 4.1.2 syntax for paths, mailboxes and domains, with the
 * RFC 6531 extension that lets UTF-8 stand wherever a letter may.  Every
 * address the session accepts, and every one the listener puts into the
 * command's argument vector, passes these checks: the grammar is the
 * whitelist, so nothing valid is refused and nothing else gets through.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "posternd.h"
#include "utf8.h"

/*
 * Length of one well-formed UTF-8 sequence of 2 to 4 bytes, else 0: what
 * RFC 6531 lets stand for a letter.  A C1 control is no letter.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t	 len = utf8_seqlen(s, n);

	return len == 2 && UTF8_IS_C1(s) ? 0 : len;
}

static int
is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_letdig(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Dot-string = Atom *("." Atom): length of the longest valid prefix. */
static size_t
dot_string(const unsigned char *s, size_t n)
{
	size_t	 i = 0, atom = 0, u, end = 0;

	while (i < n) {
		if (is_atext(s[i])) {
			i++;
			atom++;
		} else if (s[i] >= 0x80 && (u = utf8_len(s + i, n - i)) > 0) {
			i += u;
			atom++;
		} else if (s[i] == '.' && atom > 0) {
			end = i;
			atom = 0;
			i++;
			continue;
		} else
			break;
		end = i;
	}
	/* A trailing dot is not part of a dot-string. */
	if (atom == 0)
		return end;
	return i;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE: its length, 0 if invalid. */
static size_t
quoted_string(const unsigned char *s, size_t n)
{
	size_t	 i, u;

	if (n < 2 || s[0] != '"')
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\') {
			if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
				return 0;
			i++;
		} else if (s[i] >= 0x80) {
			if ((u = utf8_len(s + i, n - i)) == 0)
				return 0;
			i += u - 1;
		} else if (s[i] < 32 || s[i] > 126)
			return 0;
	}
	return 0;
}

/* Length of the longest prefix of s that is a Domain, 0 if none. */
static size_t
domain_len(const unsigned char *s, size_t n)
{
	size_t	 i = 0, label = 0, end = 0, u;
	int	 last = 0;	/* the last character of the label */

	while (i < n) {
		if (is_letdig(s[i]) || (s[i] == '-' && label > 0)) {
			last = s[i];
			i++;
			label++;
		} else if (s[i] >= 0x80 && (u = utf8_len(s + i, n - i)) > 0) {
			last = 'a';
			i += u;
			label += u;
		} else if (s[i] == '.' && label > 0 && last != '-') {
			i++;
			label = 0;
			continue;
		} else
			break;
		if (label > 63)
			return 0;
		if (last != '-')
			end = i;
	}
	return end;
}

int
rfc5321_domain(const char *s, size_t n)
{
	return n > 0 && n <= 255 && domain_len((const unsigned char *)s, n)
	    == n;
}

/* address-literal, brackets included. */
int
rfc5321_literal(const char *s, size_t n)
{
	char		 buf[64];
	unsigned char	 a[16];
	size_t		 i;

	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return 0;
	s++;
	n -= 2;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, a) == 1;
	if (strchr(buf, ':') == NULL) {
		/* IPv4: four decimal octets, nothing else inet_pton takes. */
		return inet_pton(AF_INET, buf, a) == 1;
	}
	/* General-address-literal = Standardized-tag ":" 1*dcontent */
	for (i = 0; buf[i] != ':'; i++)
		if (!is_letdig((unsigned char)buf[i]) &&
		    !(buf[i] == '-' && i > 0))
			return 0;
	if (i == 0 || buf[i - 1] == '-' || buf[i + 1] == '\0')
		return 0;
	for (i++; buf[i] != '\0'; i++)
		if (buf[i] < 33 || buf[i] > 126 || buf[i] == '[' ||
		    buf[i] == '\\' || buf[i] == ']')
			return 0;
	return 1;
}

/*
 * Mailbox = Local-part "@" ( Domain / address-literal ), or with
 * PATH_LOCALOK a local part alone (a local user or alias name, which
 * msmtpd passes on and msmtp's aliases expand).  Returns the length of
 * the mailbox at the start of s, 0 if there is none.
 */
static size_t
mailbox_len(const char *str, size_t n, int flags)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 l, d;
	const unsigned char	*e;

	if (n > 0 && s[0] == '"')
		l = quoted_string(s, n);
	else
		l = dot_string(s, n);
	if (l == 0)
		return 0;
	if (l == n || s[l] != '@')
		return (flags & PATH_LOCALOK) ? l : 0;
	s += l + 1;
	n -= l + 1;
	if (n > 0 && s[0] == '[') {
		if ((e = memchr(s, ']', n)) == NULL ||
		    !rfc5321_literal((const char *)s, (size_t)(e - s) + 1))
			return 0;
		d = (size_t)(e - s) + 1;
	} else if ((d = domain_len(s, n)) == 0 || d > 255)
		return 0;
	return l + 1 + d;
}

int
rfc5321_mailbox(const char *s, int flags)
{
	size_t	 n = strlen(s);

	if (n == 0)
		return (flags & PATH_NULLOK) != 0;
	return n <= MAILBOX_MAX && mailbox_len(s, n, flags) == n;
}

/*
 * Path = "<" [ A-d-l ":" ] Mailbox ">", Reverse-path also "<>".  The
 * mailbox, source route dropped (RFC 5321 appendix C), goes to out; rest
 * is set to what follows '>'.  Returns 0, or -1 on a syntax error or an
 * address longer than the RFC allows.
 */
int
rfc5321_path(const char *str, int flags, char *out, size_t outsz,
    const char **rest)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), i, m;

	if (n < 2 || s[0] != '<')
		return -1;
	i = 1;
	if (s[i] == '>') {
		if (!(flags & PATH_NULLOK))
			return -1;
		out[0] = '\0';
		*rest = str + 2;
		return 0;
	}
	if (s[i] == '@') {
		for (;;) {
			if (s[i] != '@')
				return -1;
			i++;
			if ((m = domain_len(s + i, n - i)) == 0)
				return -1;
			i += m;
			if (s[i] == ',')
				i++;
			else if (s[i] == ':') {
				i++;
				break;
			} else
				return -1;
		}
	}
	if ((m = mailbox_len(str + i, n - i, flags)) == 0 || s[i + m] != '>')
		return -1;
	if (m > MAILBOX_MAX || m >= outsz)
		return -1;
	memcpy(out, str + i, m);
	out[m] = '\0';
	*rest = str + i + m + 1;
	return 0;
}
