#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define EVAL_MAXDEPTH	16

enum kind {
	K_STR,		/* empty argument unsets */
	K_STR_KEEP,	/* empty argument is an empty string */
	K_STR_REQ,	/* needs an argument */
	K_FILE,		/* K_STR with tilde expansion */
	K_BOOL,
	K_PORT,
	K_PROXY_PORT,
	K_TIMEOUT,
	K_DHBITS,
	K_PROTOCOL,
	K_AUTH,
	K_FPR,
	K_SYSLOG,
	K_DSN_NOTIFY,
	K_DSN_RETURN,
	K_HDR3,		/* auto, on, off */
	K_HDR2,		/* auto, off */
	K_NOARG_OFF,	/* obsolete 1.2.x switch: no argument, sets off */
	K_IGNORE,	/* obsolete, accepted with any argument */
	K_INVBOOL,	/* keepbcc */
	K_ADDMISSING	/* add_missing_*_header: on is auto */
};

struct command {
	const char	*name;
	enum kind	 kind;
	uint64_t	 bit;
	size_t		 off;
};

#define O(f)	offsetof(struct account, f)

static const struct command commands[] = {
	{ "host",			K_STR_REQ,	ACC_HOST,	O(host) },
	{ "port",			K_PORT,		ACC_PORT,	O(port) },
	{ "source_ip",			K_STR,		ACC_SOURCE_IP,	O(source_ip) },
	{ "proxy_host",			K_STR,		ACC_PROXY_HOST,	O(proxy_host) },
	{ "proxy_port",			K_PROXY_PORT,	ACC_PROXY_PORT,	O(proxy_port) },
	{ "socket",			K_STR,		ACC_SOCKET,	O(socket) },
	{ "timeout",			K_TIMEOUT,	ACC_TIMEOUT,	O(timeout) },
	{ "connect_timeout",		K_TIMEOUT,	ACC_TIMEOUT,	O(timeout) },
	{ "protocol",			K_PROTOCOL,	ACC_PROTOCOL,	O(protocol) },
	{ "domain",			K_STR_KEEP,	ACC_DOMAIN,	O(domain) },
	{ "auth",			K_AUTH,		ACC_AUTH,	O(auth) },
	{ "user",			K_STR,		ACC_USER,	O(user) },
	{ "password",			K_STR,		ACC_PASSWORD,	O(password) },
	{ "passwordeval",		K_STR,		ACC_PASSWORDEVAL, O(passwordeval) },
	{ "ntlmdomain",			K_STR,		ACC_NTLMDOMAIN,	O(ntlmdomain) },
	{ "tls",			K_BOOL,		ACC_TLS,	O(tls) },
	{ "tls_starttls",		K_BOOL,		ACC_TLS_STARTTLS, O(tls_starttls) },
	{ "tls_nostarttls",		K_NOARG_OFF,	ACC_TLS_STARTTLS, O(tls_starttls) },
	{ "tls_trust_file",		K_FILE,		ACC_TLS_TRUST_FILE, O(tls_trust_file) },
	{ "tls_crl_file",		K_FILE,		ACC_TLS_CRL_FILE, O(tls_crl_file) },
	{ "tls_fingerprint",		K_FPR,		ACC_TLS_FINGERPRINT, 0 },
	{ "tls_key_file",		K_FILE,		ACC_TLS_KEY_FILE, O(tls_key_file) },
	{ "tls_cert_file",		K_FILE,		ACC_TLS_CERT_FILE, O(tls_cert_file) },
	{ "tls_certcheck",		K_BOOL,		ACC_TLS_CERTCHECK, O(tls_certcheck) },
	{ "tls_nocertcheck",		K_NOARG_OFF,	ACC_TLS_CERTCHECK, O(tls_certcheck) },
	{ "tls_force_sslv3",		K_IGNORE,	0,		0 },
	{ "tls_min_dh_prime_bits",	K_DHBITS,	ACC_TLS_MIN_DH_PRIME_BITS, O(tls_min_dh_prime_bits) },
	{ "tls_priorities",		K_STR,		ACC_TLS_PRIORITIES, O(tls_priorities) },
	{ "tls_host_override",		K_STR,		ACC_TLS_HOST_OVERRIDE, O(tls_host_override) },
	{ "from",			K_STR_KEEP,	ACC_FROM,	O(from) },
	{ "from_full_name",		K_STR,		ACC_FROM_FULL_NAME, O(from_full_name) },
	{ "auto_from",			K_BOOL,		ACC_AUTO_FROM,	O(auto_from) },
	{ "maildomain",			K_STR_KEEP,	ACC_MAILDOMAIN,	O(maildomain) },
	{ "allow_from_override",	K_BOOL,		ACC_ALLOW_FROM_OVERRIDE, O(allow_from_override) },
	{ "set_from_header",		K_HDR3,		ACC_SET_FROM_HEADER, O(set_from_header) },
	{ "add_missing_from_header",	K_ADDMISSING,	ACC_SET_FROM_HEADER, O(set_from_header) },
	{ "set_date_header",		K_HDR2,		ACC_SET_DATE_HEADER, O(set_date_header) },
	{ "add_missing_date_header",	K_ADDMISSING,	ACC_SET_DATE_HEADER, O(set_date_header) },
	{ "set_msgid_header",		K_HDR2,		ACC_SET_MSGID_HEADER, O(set_msgid_header) },
	{ "remove_bcc_headers",		K_BOOL,		ACC_REMOVE_BCC_HEADERS, O(remove_bcc_headers) },
	{ "keepbcc",			K_INVBOOL,	ACC_REMOVE_BCC_HEADERS, O(remove_bcc_headers) },
	{ "undisclosed_recipients",	K_BOOL,		ACC_UNDISCLOSED_RECIPIENTS, O(undisclosed_recipients) },
	{ "dsn_notify",			K_DSN_NOTIFY,	ACC_DSN_NOTIFY,	O(dsn_notify) },
	{ "dsn_return",			K_DSN_RETURN,	ACC_DSN_RETURN,	O(dsn_return) },
	{ "logfile",			K_FILE,		ACC_LOGFILE,	O(logfile) },
	{ "logfile_time_format",	K_STR,		ACC_LOGFILE_TIME_FORMAT, O(logfile_time_format) },
	{ "syslog",			K_SYSLOG,	ACC_SYSLOG,	O(syslog) },
	{ "aliases",			K_FILE,		ACC_ALIASES,	O(aliases) },
	{ "queue",			K_BOOL,		ACC_QUEUE,	O(queue) },
	{ "queue_dir",			K_FILE,		ACC_QUEUE_DIR,	O(queue_dir) },
	{ "queue_lifetime",		K_STR,		ACC_QUEUE_LIFETIME, O(queue_lifetime) },
	{ "queue_notify",		K_BOOL,		ACC_QUEUE_NOTIFY, O(queue_notify) },
};

/* Storage of every setting, for copying settings selected by a mask. */
enum fkind { F_STR, F_INT, F_FPR };

static const struct field {
	uint64_t	 bit;
	enum fkind	 kind;
	size_t		 off;
} fields[] = {
	{ ACC_HOST,			F_STR,	O(host) },
	{ ACC_PORT,			F_INT,	O(port) },
	{ ACC_SOURCE_IP,		F_STR,	O(source_ip) },
	{ ACC_PROXY_HOST,		F_STR,	O(proxy_host) },
	{ ACC_PROXY_PORT,		F_INT,	O(proxy_port) },
	{ ACC_SOCKET,			F_STR,	O(socket) },
	{ ACC_TIMEOUT,			F_INT,	O(timeout) },
	{ ACC_PROTOCOL,			F_INT,	O(protocol) },
	{ ACC_DOMAIN,			F_STR,	O(domain) },
	{ ACC_AUTH,			F_STR,	O(auth) },
	{ ACC_USER,			F_STR,	O(user) },
	{ ACC_PASSWORD,			F_STR,	O(password) },
	{ ACC_PASSWORDEVAL,		F_STR,	O(passwordeval) },
	{ ACC_NTLMDOMAIN,		F_STR,	O(ntlmdomain) },
	{ ACC_TLS,			F_INT,	O(tls) },
	{ ACC_TLS_STARTTLS,		F_INT,	O(tls_starttls) },
	{ ACC_TLS_TRUST_FILE,		F_STR,	O(tls_trust_file) },
	{ ACC_TLS_CRL_FILE,		F_STR,	O(tls_crl_file) },
	{ ACC_TLS_FINGERPRINT,		F_FPR,	0 },
	{ ACC_TLS_KEY_FILE,		F_STR,	O(tls_key_file) },
	{ ACC_TLS_CERT_FILE,		F_STR,	O(tls_cert_file) },
	{ ACC_TLS_CERTCHECK,		F_INT,	O(tls_certcheck) },
	{ ACC_TLS_MIN_DH_PRIME_BITS,	F_INT,	O(tls_min_dh_prime_bits) },
	{ ACC_TLS_PRIORITIES,		F_STR,	O(tls_priorities) },
	{ ACC_TLS_HOST_OVERRIDE,	F_STR,	O(tls_host_override) },
	{ ACC_FROM,			F_STR,	O(from) },
	{ ACC_FROM_FULL_NAME,		F_STR,	O(from_full_name) },
	{ ACC_AUTO_FROM,		F_INT,	O(auto_from) },
	{ ACC_MAILDOMAIN,		F_STR,	O(maildomain) },
	{ ACC_ALLOW_FROM_OVERRIDE,	F_INT,	O(allow_from_override) },
	{ ACC_SET_FROM_HEADER,		F_INT,	O(set_from_header) },
	{ ACC_SET_DATE_HEADER,		F_INT,	O(set_date_header) },
	{ ACC_SET_MSGID_HEADER,		F_INT,	O(set_msgid_header) },
	{ ACC_REMOVE_BCC_HEADERS,	F_INT,	O(remove_bcc_headers) },
	{ ACC_UNDISCLOSED_RECIPIENTS,	F_INT,	O(undisclosed_recipients) },
	{ ACC_DSN_NOTIFY,		F_STR,	O(dsn_notify) },
	{ ACC_DSN_RETURN,		F_STR,	O(dsn_return) },
	{ ACC_LOGFILE,			F_STR,	O(logfile) },
	{ ACC_LOGFILE_TIME_FORMAT,	F_STR,	O(logfile_time_format) },
	{ ACC_SYSLOG,			F_STR,	O(syslog) },
	{ ACC_ALIASES,			F_STR,	O(aliases) },
	{ ACC_QUEUE,			F_INT,	O(queue) },
	{ ACC_QUEUE_DIR,		F_STR,	O(queue_dir) },
	{ ACC_QUEUE_LIFETIME,		F_STR,	O(queue_lifetime) },
	{ ACC_QUEUE_NOTIFY,		F_INT,	O(queue_notify) },
};

#undef O

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define STRP(a, off)	((char **)(void *)((char *)(a) + (off)))
#define INTP(a, off)	((int *)(void *)((char *)(a) + (off)))
#define CSTRP(a, off)	((char *const *)(const void *)((const char *)(a) + (off)))
#define CINTP(a, off)	((const int *)(const void *)((const char *)(a) + (off)))

static void
setstr(char **p, const char *s)
{
	char	*n;

	n = xstrdup(s);
	wipe_str(p);
	*p = n;
}

struct account *
account_new(const char *conffile, const char *id)
{
	struct account	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->id = xstrdup(id);
	a->conffile = xstrdup(conffile);
	a->origin = ORIGIN_FILE;
	a->protocol = PROTO_SMTP;
	a->domain = xstrdup("localhost");
	a->tls_starttls = 1;
	a->tls_trust_file = xstrdup("system");
	a->tls_certcheck = 1;
	a->tls_min_dh_prime_bits = -1;
	a->allow_from_override = 1;
	a->set_from_header = HDR_AUTO;
	a->set_date_header = HDR_AUTO;
	a->set_msgid_header = HDR_AUTO;
	a->remove_bcc_headers = 1;
	return a;
}

struct account *
account_dup(const struct account *src)
{
	struct account	*a;
	size_t		 i;

	if ((a = malloc(sizeof(*a))) == NULL)
		fatal("malloc");
	memcpy(a, src, sizeof(*a));
	a->id = xstrdup(src->id);
	a->conffile = xstrdup(src->conffile);
	for (i = 0; i < NITEMS(fields); i++)
		if (fields[i].kind == F_STR)
			*STRP(a, fields[i].off) =
			    xstrdup(*CSTRP(src, fields[i].off));
	return a;
}

void
account_free(struct account *a)
{
	size_t	 i;

	if (a == NULL)
		return;
	free(a->id);
	free(a->conffile);
	for (i = 0; i < NITEMS(fields); i++)
		if (fields[i].kind == F_STR)
			wipe_str(STRP(a, fields[i].off));
	freezero(a, sizeof(*a));
}

void
account_override(struct account *dst, const struct account *src)
{
	size_t	 i;

	for (i = 0; i < NITEMS(fields); i++) {
		if ((src->mask & fields[i].bit) == 0)
			continue;
		switch (fields[i].kind) {
		case F_STR:
			setstr(STRP(dst, fields[i].off),
			    *CSTRP(src, fields[i].off));
			break;
		case F_INT:
			*INTP(dst, fields[i].off) = *CINTP(src, fields[i].off);
			break;
		case F_FPR:
			memcpy(dst->tls_fingerprint, src->tls_fingerprint,
			    sizeof(dst->tls_fingerprint));
			dst->tls_fingerprint_len = src->tls_fingerprint_len;
			break;
		}
	}
	dst->mask |= src->mask;
}

/* msmtp's positive integer: strtol base 0, 1..INT_MAX, nothing after. */
static int
pos_int(const char *s)
{
	char	*end;
	long	 l;

	errno = 0;
	l = strtol(s, &end, 0);
	if (end == s || *end != '\0' || errno == ERANGE || l <= 0 ||
	    l > INT_MAX)
		return -1;
	return (int)l;
}

int
account_parse_fingerprint(const char *s, unsigned char *buf, size_t buflen)
{
	size_t	 len, n, i, j;
	int	 hi, lo;

	len = strlen(s);
	if (len == 32 * 3 - 1)
		n = 32;
	else if (len == 20 * 3 - 1)
		n = 20;
	else if (len == 16 * 3 - 1)
		n = 16;
	else
		return -1;
	if (n > buflen)
		return -1;
	for (i = 0; i < n; i++) {
		j = 3 * i;
		if (!isxdigit((unsigned char)s[j]) ||
		    !isxdigit((unsigned char)s[j + 1]))
			return -1;
		if (i + 1 < n && s[j + 2] != ':' && s[j + 2] != ' ')
			return -1;
		hi = isdigit((unsigned char)s[j]) ? s[j] - '0' :
		    tolower((unsigned char)s[j]) - 'a' + 10;
		lo = isdigit((unsigned char)s[j + 1]) ? s[j + 1] - '0' :
		    tolower((unsigned char)s[j + 1]) - 'a' + 10;
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)n;
}

static const char *const auth_methods[] = {
	"plain", "scram-sha-1", "scram-sha-1-plus", "scram-sha-256",
	"scram-sha-256-plus", "external", "gssapi", "cram-md5", "digest-md5",
	"login", "ntlm", "oauthbearer", "xoauth2"
};

static char *
upper(const char *s)
{
	char	*u, *p;

	u = xstrdup(s);
	for (p = u; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* "never", or a comma list of distinct failure, delay, success. */
static int
valid_dsn_notify(const char *s)
{
	static const char *const conds[] = { "failure", "delay", "success" };
	const char	*p, *e;
	size_t		 i, n;
	int		 seen = 0, found;

	if (strcmp(s, "never") == 0)
		return 1;
	for (p = s;; p = e + 1) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		found = 0;
		for (i = 0; i < NITEMS(conds); i++) {
			if (strlen(conds[i]) == n &&
			    strncmp(p, conds[i], n) == 0 &&
			    (seen & (1 << i)) == 0) {
				seen |= 1 << i;
				found = 1;
			}
		}
		if (!found)
			return 0;
		if (e == NULL)
			return 1;
	}
}

static int
valid_syslog(const char *s)
{
	return strcmp(s, "LOG_USER") == 0 || strcmp(s, "LOG_MAIL") == 0 ||
	    (strncmp(s, "LOG_LOCAL", 9) == 0 && s[9] >= '0' && s[9] <= '7' &&
	    s[10] == '\0');
}

int
account_set(struct account *a, const char *cmd, const char *arg, char *err,
    size_t errlen)
{
	const struct command	*c = NULL;
	char			*s, **sp;
	int			*ip, n;
	size_t			 i;

	for (i = 0; i < NITEMS(commands); i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			c = &commands[i];
			break;
		}
	}
	if (c == NULL) {
		seterr(err, errlen, "unknown command %s", cmd);
		return SET_UNKNOWN;
	}
	sp = STRP(a, c->off);
	ip = INTP(a, c->off);

	switch (c->kind) {
	case K_STR_REQ:
		if (*arg == '\0')
			goto needarg;
		setstr(sp, arg);
		break;
	case K_STR:
		setstr(sp, *arg == '\0' ? NULL : arg);
		break;
	case K_STR_KEEP:
		setstr(sp, arg);
		break;
	case K_FILE:
		s = *arg == '\0' ? NULL : conf_expand_tilde(arg);
		wipe_str(sp);
		*sp = s;
		break;
	case K_BOOL:
	case K_INVBOOL:
		if (*arg == '\0' || strcmp(arg, "on") == 0)
			n = 1;
		else if (strcmp(arg, "off") == 0)
			n = 0;
		else
			goto invalid;
		*ip = c->kind == K_INVBOOL ? !n : n;
		break;
	case K_ADDMISSING:
		if (*arg == '\0' || strcmp(arg, "on") == 0)
			*ip = HDR_AUTO;
		else if (strcmp(arg, "off") == 0)
			*ip = HDR_OFF;
		else
			goto invalid;
		break;
	case K_NOARG_OFF:
		if (*arg != '\0') {
			seterr(err, errlen,
			    "command %s does not take an argument", cmd);
			return SET_NOARG;
		}
		*ip = 0;
		break;
	case K_IGNORE:
		return SET_OK;
	case K_PORT:
		if (*arg == '\0')
			goto needarg;
		if ((n = pos_int(arg)) < 1 || n > 65535)
			goto invalid;
		*ip = n;
		break;
	case K_PROXY_PORT:
		if (*arg == '\0')
			n = 0;
		else if ((n = pos_int(arg)) < 1 || n > 65535)
			goto invalid;
		*ip = n;
		break;
	case K_TIMEOUT:
		if (*arg == '\0')
			goto needarg;
		if (strcmp(arg, "off") == 0)
			n = 0;
		else if ((n = pos_int(arg)) < 1)
			goto invalid;
		*ip = n;
		break;
	case K_DHBITS:
		if (*arg == '\0')
			n = -1;
		else if ((n = pos_int(arg)) < 1)
			goto invalid;
		*ip = n;
		break;
	case K_PROTOCOL:
		if (*arg == '\0')
			goto needarg;
		if (strcmp(arg, "smtp") == 0)
			*ip = PROTO_SMTP;
		else if (strcmp(arg, "lmtp") == 0)
			*ip = PROTO_LMTP;
		else
			goto invalid;
		break;
	case K_AUTH:
		if (*arg == '\0' || strcmp(arg, "on") == 0) {
			setstr(sp, "");
			break;
		}
		if (strcmp(arg, "off") == 0) {
			wipe_str(sp);
			break;
		}
		for (i = 0; i < NITEMS(auth_methods); i++)
			if (strcmp(arg, auth_methods[i]) == 0)
				break;
		if (i == NITEMS(auth_methods))
			goto invalid;
		wipe_str(sp);
		*sp = upper(arg);
		break;
	case K_FPR:
		if (*arg == '\0') {
			explicit_bzero(a->tls_fingerprint,
			    sizeof(a->tls_fingerprint));
			a->tls_fingerprint_len = 0;
			break;
		}
		if ((n = account_parse_fingerprint(arg, a->tls_fingerprint,
		    sizeof(a->tls_fingerprint))) < 0)
			goto invalid;
		a->tls_fingerprint_len = (size_t)n;
		break;
	case K_SYSLOG:
		if (*arg == '\0' || strcmp(arg, "on") == 0)
			setstr(sp, "LOG_USER");
		else if (strcmp(arg, "off") == 0)
			wipe_str(sp);
		else if (valid_syslog(arg))
			setstr(sp, arg);
		else
			goto invalid;
		break;
	case K_DSN_NOTIFY:
		if (*arg == '\0')
			goto needarg;
		if (strcmp(arg, "off") == 0)
			wipe_str(sp);
		else if (valid_dsn_notify(arg)) {
			wipe_str(sp);
			*sp = upper(arg);
		} else
			goto invalid;
		break;
	case K_DSN_RETURN:
		if (*arg == '\0')
			goto needarg;
		if (strcmp(arg, "off") == 0)
			wipe_str(sp);
		else if (strcmp(arg, "headers") == 0)
			setstr(sp, "HDRS");
		else if (strcmp(arg, "full") == 0)
			setstr(sp, "FULL");
		else
			goto invalid;
		break;
	case K_HDR3:
	case K_HDR2:
		if (*arg == '\0' || strcmp(arg, "auto") == 0)
			*ip = HDR_AUTO;
		else if (strcmp(arg, "off") == 0)
			*ip = HDR_OFF;
		else if (c->kind == K_HDR3 && strcmp(arg, "on") == 0)
			*ip = HDR_ON;
		else
			goto invalid;
		break;
	}
	a->mask |= c->bit;
	return SET_OK;

 needarg:
	seterr(err, errlen, "command %s needs an argument", cmd);
	return SET_NEEDARG;
 invalid:
	seterr(err, errlen, "invalid argument %s for command %s", arg, cmd);
	return SET_INVALID;
}

const char *
conf_homedir(void)
{
	static char	 home[PATH_MAX];
	const char	*h;
	struct passwd	*pw;

	if ((h = getenv("HOME")) != NULL && *h != '\0')
		return h;
	if (home[0] == '\0' && (pw = getpwuid(getuid())) != NULL)
		strlcpy(home, pw->pw_dir, sizeof(home));
	return home;
}

const char *
conf_username(void)
{
	static char	 name[256];
	const char	*u;
	struct passwd	*pw;

	if ((u = getenv("USER")) != NULL && *u != '\0')
		return u;
	if ((u = getenv("LOGNAME")) != NULL && *u != '\0')
		return u;
	if ((u = getlogin()) != NULL && *u != '\0')
		return u;
	if (name[0] == '\0') {
		if ((pw = getpwuid(getuid())) != NULL)
			strlcpy(name, pw->pw_name, sizeof(name));
		else
			strlcpy(name, "unknown", sizeof(name));
	}
	return name;
}

/* As msmtp: only a leading '~' is replaced, by $HOME. */
char *
conf_expand_tilde(const char *s)
{
	char	*r;

	if (s[0] != '~')
		return xstrdup(s);
	r = xasprintf("%s%s", conf_homedir(), s + 1);
	return r;
}

void
config_init(struct config *cf)
{
	TAILQ_INIT(&cf->accounts);
	TAILQ_INIT(&cf->notes);
	cf->sysfile = NULL;
	cf->userfile = NULL;
}

static void
list_free(struct accountlist *l)
{
	struct account	*a;

	while ((a = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, a, entry);
		account_free(a);
	}
}

void
config_clear(struct config *cf)
{
	struct conf_note	*n;

	list_free(&cf->accounts);
	while ((n = TAILQ_FIRST(&cf->notes)) != NULL) {
		TAILQ_REMOVE(&cf->notes, n, entry);
		free(n->text);
		free(n);
	}
	free(cf->sysfile);
	free(cf->userfile);
	cf->sysfile = cf->userfile = NULL;
}

void
config_note(struct config *cf, const char *fmt, ...)
{
	struct conf_note	*n;
	va_list			 ap;
	char			 buf[1024];
	int			 len;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal("calloc");
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		fatal("vsnprintf");
	n->text = xstrdup(buf);
	TAILQ_INSERT_TAIL(&cf->notes, n, entry);
}

static struct account *
list_find(struct accountlist *l, const char *id)
{
	struct account	*a;

	TAILQ_FOREACH(a, l, entry)
		if (a->id != NULL && strcmp(a->id, id) == 0)
			return a;
	return NULL;
}

/* Strip blanks at both ends, in place. */
static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

struct parser {
	const char		*name;
	struct accountlist	*list;
	struct account		*defaults;
	struct account		*cur;
	int			 seen_account;	/* account or defaults */
	int			*secrets;
	int			 lineno;
	char			*err;
	size_t			 errlen;
};

static int parse_line(struct parser *, char *, int);

/* Run an eval command and parse its first output line in its place. */
static int
parse_eval(struct parser *p, const char *cmd, int depth)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 linesize = 0;
	ssize_t	 len;
	int	 rc;

	if (depth >= EVAL_MAXDEPTH) {
		seterr(p->err, p->errlen, "%s: line %d: eval nested too deeply",
		    p->name, p->lineno);
		return EX_CONFIG;
	}
	fflush(NULL);
	if ((fp = popen(cmd, "r")) == NULL) {
		seterr(p->err, p->errlen, "%s: cannot read output of '%s'",
		    p->name, cmd);
		return EX_IOERR;
	}
	len = getline(&line, &linesize, fp);
	pclose(fp);
	if (len == -1) {
		free(line);
		seterr(p->err, p->errlen, "%s: cannot read output of '%s'",
		    p->name, cmd);
		return EX_IOERR;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	rc = parse_line(p, line, depth + 1);
	freezero(line, linesize);
	return rc;
}

static int
start_account(struct parser *p, char *arg)
{
	struct account	*a, *parent;
	char		*name, *rest, *tok;

	if ((rest = strchr(arg, ':')) != NULL)
		*rest++ = '\0';
	name = trim(arg);
	if (*name == '\0') {
		seterr(p->err, p->errlen, "%s: line %d: missing account name",
		    p->name, p->lineno);
		return EX_CONFIG;
	}
	if (strchr(name, ',') != NULL) {
		seterr(p->err, p->errlen, "%s: line %d: an account name must "
		    "not contain colons or commas", p->name, p->lineno);
		return EX_CONFIG;
	}
	if (list_find(p->list, name) != NULL) {
		seterr(p->err, p->errlen, "%s: line %d: account %s was already "
		    "defined", p->name, p->lineno, name);
		return EX_CONFIG;
	}
	a = account_dup(p->defaults);
	a->mask = 0;
	free(a->id);
	free(a->conffile);
	a->id = xstrdup(name);
	a->conffile = xstrdup(p->name);
	a->origin = ORIGIN_FILE;
	while (rest != NULL) {
		tok = rest;
		if ((rest = strchr(rest, ',')) != NULL)
			*rest++ = '\0';
		tok = trim(tok);
		if (*tok == '\0') {
			seterr(p->err, p->errlen, "%s: line %d: missing "
			    "account name", p->name, p->lineno);
			account_free(a);
			return EX_CONFIG;
		}
		if ((parent = list_find(p->list, tok)) == NULL) {
			seterr(p->err, p->errlen, "%s: line %d: account %s "
			    "not (yet) defined", p->name, p->lineno, tok);
			account_free(a);
			return EX_CONFIG;
		}
		account_override(a, parent);
	}
	TAILQ_INSERT_TAIL(p->list, a, entry);
	p->cur = a;
	p->seen_account = 1;
	return EX_OK;
}

/*
 * Split a line of the grammar in place into its command and argument,
 * blanks trimmed and one pair of enclosing quotes removed.  Returns 0 for
 * an empty line or a comment.
 */
int
config_split_line(char *line, char **cmdp, char **argp)
{
	char	*cmd, *arg;
	size_t	 len;

	cmd = trim(line);
	if (*cmd == '\0' || *cmd == '#')
		return 0;
	for (arg = cmd; *arg != '\0' && !isspace((unsigned char)*arg); arg++)
		;
	if (*arg != '\0')
		*arg++ = '\0';
	arg = trim(arg);
	len = strlen(arg);
	if (len >= 2 && arg[0] == '"' && arg[len - 1] == '"') {
		arg[len - 1] = '\0';
		arg++;
	}
	*cmdp = cmd;
	*argp = arg;
	return 1;
}

static int
parse_line(struct parser *p, char *line, int depth)
{
	char	*cmd, *arg, msg[512];

	if (!config_split_line(line, &cmd, &arg))
		return EX_OK;

	if (strcmp(cmd, "eval") == 0) {
		if (*arg == '\0') {
			seterr(p->err, p->errlen, "%s: line %d: command eval "
			    "needs an argument", p->name, p->lineno);
			return EX_CONFIG;
		}
		return parse_eval(p, arg, depth);
	}
	if (strcmp(cmd, "defaults") == 0) {
		if (*arg != '\0') {
			seterr(p->err, p->errlen, "%s: line %d: command "
			    "defaults does not take an argument", p->name,
			    p->lineno);
			return EX_CONFIG;
		}
		p->cur = p->defaults;
		p->seen_account = 1;
		return EX_OK;
	}
	if (strcmp(cmd, "account") == 0)
		return start_account(p, arg);

	/* msmtp 1.2 files had no account lines: they are "default". */
	if (!p->seen_account) {
		char	 def[] = "default";
		int	 rc;

		if ((rc = start_account(p, def)) != EX_OK)
			return rc;
	}
	if (account_set(p->cur, cmd, arg, msg, sizeof(msg)) != SET_OK) {
		seterr(p->err, p->errlen, "%s: line %d: %s", p->name,
		    p->lineno, msg);
		return EX_CONFIG;
	}
	if (depth == 0 && strcmp(cmd, "password") == 0)
		*p->secrets = 1;
	return EX_OK;
}

int
config_parse_fp(FILE *fp, const char *name, struct accountlist *list,
    int *secrets, char *err, size_t errlen)
{
	struct parser	 p;
	char		*line = NULL;
	size_t		 linesize = 0;
	ssize_t		 len;
	int		 rc = EX_OK, dummy;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.list = list;
	p.defaults = account_new(name, NULL);
	p.cur = p.defaults;
	p.secrets = secrets != NULL ? secrets : &dummy;
	*p.secrets = 0;
	p.err = err;
	p.errlen = errlen;

	while ((len = getline(&line, &linesize, fp)) != -1) {
		p.lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((size_t)len >= CONF_MAXLINE) {
			seterr(err, errlen, "%s: line longer than %d characters",
			    name, CONF_MAXLINE);
			rc = EX_CONFIG;
			break;
		}
		if ((size_t)len != strlen(line)) {
			seterr(err, errlen, "%s: line %d: line contains a NUL "
			    "character", name, p.lineno);
			rc = EX_CONFIG;
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((rc = parse_line(&p, line, 0)) != EX_OK)
			break;
	}
	if (rc == EX_OK && ferror(fp)) {
		seterr(err, errlen, "%s: input error: %s", name,
		    strerror(errno));
		rc = EX_IOERR;
	}
	if (line != NULL)
		freezero(line, linesize);
	account_free(p.defaults);
	return rc;
}

int
config_check_secure(int fd, const char *name, char *err, size_t errlen)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: %s", name, strerror(errno));
		return EX_IOERR;
	}
	if (st.st_uid != geteuid()) {
		seterr(err, errlen, "%s: contains secrets and therefore must "
		    "be owned by you", name);
		return EX_CONFIG;
	}
	if (st.st_mode & (S_IXUSR | S_IRWXG | S_IRWXO)) {
		seterr(err, errlen, "%s: contains secrets and therefore must "
		    "have no more than user read/write permissions", name);
		return EX_CONFIG;
	}
	return EX_OK;
}

static char *
default_user_file(void)
{
	const char	*home, *xdg;
	char		*path, *xpath;

	home = conf_homedir();
	path = xasprintf("%s/%s", home, CONF_USER_FILE);
	if (access(path, F_OK) == 0)
		return path;
	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && *xdg != '\0')
		xpath = xasprintf("%s/%s", xdg, CONF_XDG_FILE);
	else
		xpath = xasprintf("%s/.config/%s", home, CONF_XDG_FILE);
	if (access(xpath, F_OK) == 0) {
		free(path);
		return xpath;
	}
	free(xpath);
	return path;
}

static int
load_file(struct config *cf, FILE *fp, const char *path, const char *what,
    struct accountlist *list, int check, char *err, size_t errlen)
{
	int	 rc, secrets;

	rc = config_parse_fp(fp, path, list, &secrets, err, errlen);
	if (rc == EX_OK && check && secrets && geteuid() != 0)
		rc = config_check_secure(fileno(fp), path, err, errlen);
	if (rc == EX_OK)
		config_note(cf, "loaded %s configuration file %s", what, path);
	return rc;
}

int
config_load(struct config *cf, const char *userfile, char *err, size_t errlen)
{
	return config_load_paths(cf, CONF_SYSTEM_FILE, userfile, err, errlen);
}

int
config_load_paths(struct config *cf, const char *sysfile, const char *userfile,
    char *err, size_t errlen)
{
	struct accountlist	 sys, user;
	struct account		*a;
	FILE			*fp;
	char			*path;
	int			 rc = EX_OK;

	TAILQ_INIT(&sys);
	TAILQ_INIT(&user);

	if (sysfile != NULL && (fp = fopen(sysfile, "r")) == NULL)
		config_note(cf, "ignoring system configuration file %s: %s",
		    sysfile, strerror(errno));
	else if (sysfile != NULL) {
		rc = load_file(cf, fp, sysfile, "system", &sys, 0, err,
		    errlen);
		fclose(fp);
		if (rc != EX_OK)
			goto out;
		cf->sysfile = xstrdup(sysfile);
	}

	path = userfile != NULL ? xstrdup(userfile) : default_user_file();
	if ((fp = fopen(path, "r")) == NULL) {
		if (userfile != NULL) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			free(path);
			rc = EX_IOERR;
			goto out;
		}
		config_note(cf, "ignoring user configuration file %s: %s",
		    path, strerror(errno));
		free(path);
	} else {
		rc = load_file(cf, fp, path, "user", &user, 1, err, errlen);
		fclose(fp);
		if (rc != EX_OK) {
			free(path);
			goto out;
		}
		cf->userfile = path;
	}

	/* msmtp 1.8.23: system accounts the user did not redefine, first. */
	while ((a = TAILQ_FIRST(&sys)) != NULL) {
		TAILQ_REMOVE(&sys, a, entry);
		if (list_find(&user, a->id) != NULL)
			account_free(a);
		else
			TAILQ_INSERT_TAIL(&cf->accounts, a, entry);
	}
	while ((a = TAILQ_FIRST(&user)) != NULL) {
		TAILQ_REMOVE(&user, a, entry);
		TAILQ_INSERT_TAIL(&cf->accounts, a, entry);
	}
 out:
	list_free(&sys);
	list_free(&user);
	return rc;
}

struct account *
config_find(struct config *cf, const char *id)
{
	return list_find(&cf->accounts, id);
}

static int
from_match(const char *pattern, const char *addr)
{
	if (strpbrk(pattern, "?*[") != NULL)
		return fnmatch(pattern, addr, 0) == 0;
	return strcasecmp(pattern, addr) == 0;
}

/*
 * The first account whose from matches, as a wildcard pattern or equal
 * ignoring case; failing that, for an account without a subaddress of its
 * own, the address with its "+detail" removed.
 */
struct account *
config_find_by_from(struct config *cf, const char *addr)
{
	struct account	*a;
	const char	*plus, *at;
	char		*plain = NULL;

	plus = strchr(addr, '+');
	at = strrchr(addr, '@');
	if (plus != NULL && at != NULL && plus < at)
		plain = xasprintf("%.*s%s", (int)(plus - addr), addr, at);
	TAILQ_FOREACH(a, &cf->accounts, entry) {
		if (a->from == NULL)
			continue;
		if (from_match(a->from, addr))
			break;
		if (plain != NULL && strchr(a->from, '+') == NULL &&
		    from_match(a->from, plain))
			break;
	}
	free(plain);
	return a;
}

static void
not_found(struct config *cf, const char *id, char *err, size_t errlen)
{
	if (cf->sysfile != NULL && cf->userfile != NULL)
		seterr(err, errlen, "account %s not found in %s and %s", id,
		    cf->sysfile, cf->userfile);
	else if (cf->sysfile != NULL || cf->userfile != NULL)
		seterr(err, errlen, "account %s not found in %s", id,
		    cf->sysfile != NULL ? cf->sysfile : cf->userfile);
	else
		seterr(err, errlen, "account %s not found: no configuration "
		    "file available", id);
}

int
config_select(struct config *cf, const struct selector *sel,
    struct account **out, char *err, size_t errlen)
{
	struct account	*a = NULL, *acc;
	const char	*server, *email;

	*out = NULL;
	if (sel->cmdline_host) {
		acc = account_new(NULL, NULL);
		acc->origin = ORIGIN_CMDLINE;
	} else if (sel->account != NULL) {
		if ((a = config_find(cf, sel->account)) == NULL) {
			not_found(cf, sel->account, err, errlen);
			return EX_CONFIG;
		}
		acc = account_dup(a);
	} else {
		if (sel->envelope_from != NULL &&
		    (a = config_find_by_from(cf, sel->envelope_from)) != NULL)
			config_note(cf, "account chosen by envelope from "
			    "address %s: %s", sel->envelope_from, a->id);
		if (a == NULL) {
			config_note(cf, "falling back to default account");
			a = config_find(cf, "default");
		}
		server = getenv("SMTPSERVER");
		email = getenv("EMAIL");
		if (a != NULL)
			acc = account_dup(a);
		else if (server != NULL && (!sel->need_from ||
		    sel->envelope_from != NULL || email != NULL)) {
			acc = account_new(NULL, NULL);
			acc->origin = ORIGIN_ENV;
			setstr(&acc->host, server);
			acc->mask |= ACC_HOST;
			if (email != NULL) {
				setstr(&acc->from, email);
				acc->mask |= ACC_FROM;
			}
		} else {
			not_found(cf, "default", err, errlen);
			return EX_CONFIG;
		}
	}
	if (sel->override != NULL)
		account_override(acc, sel->override);
	if (sel->envelope_from != NULL &&
	    (acc->from == NULL || acc->allow_from_override)) {
		setstr(&acc->from, sel->envelope_from);
		acc->mask |= ACC_FROM;
	}
	*out = acc;
	return EX_OK;
}

static const char *
hostname(void)
{
	static char	 name[256];
	const char	*h;

	if ((h = getenv("HOSTNAME")) != NULL && *h != '\0')
		return h;
	if (gethostname(name, sizeof(name)) == -1)
		strlcpy(name, "localhost", sizeof(name));
	name[sizeof(name) - 1] = '\0';
	return name;
}

static char *
canonical_hostname(void)
{
	struct addrinfo	 hints, *res;
	const char	*h = hostname();
	char		*c;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(h, NULL, &hints, &res) != 0)
		return xstrdup(h);
	c = xstrdup(res->ai_canonname != NULL ? res->ai_canonname : h);
	freeaddrinfo(res);
	return c;
}

static int
mailname(char **out, char *err, size_t errlen)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 len;

	if ((fp = fopen(CONF_MAILNAME, "r")) == NULL) {
		seterr(err, errlen, "%s: %s", CONF_MAILNAME, strerror(errno));
		return EX_CONFIG;
	}
	len = getline(&line, &size, fp);
	fclose(fp);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len <= 0) {
		free(line);
		seterr(err, errlen, "%s: %s", CONF_MAILNAME, strerror(EINVAL));
		return EX_CONFIG;
	}
	*out = line;
	return EX_OK;
}

/* Replace %U (when allowed), %H, %C and %M in one pass. */
static int
expand(char **sp, int user, char *err, size_t errlen)
{
	char		*s = *sp, *r = NULL, *val, *mn = NULL, *canon = NULL;
	const char	*v;
	size_t		 rlen = 0, rsize = 0, vlen, i;
	int		 rc = EX_OK, sub;

	if (s == NULL || strchr(s, '%') == NULL)
		return EX_OK;
	for (i = 0; s[i] != '\0'; i++) {
		v = NULL;
		if (s[i] == '%') {
			switch (s[i + 1]) {
			case 'U':
				if (user)
					v = conf_username();
				break;
			case 'H':
				v = hostname();
				break;
			case 'C':
				if (canon == NULL)
					canon = canonical_hostname();
				v = canon;
				break;
			case 'M':
				if (mn == NULL &&
				    (rc = mailname(&mn, err, errlen)) != EX_OK)
					goto done;
				v = mn;
				break;
			}
		}
		if (v != NULL) {
			i++;
			vlen = strlen(v);
			sub = 1;
		} else {
			v = s + i;
			vlen = 1;
			sub = 0;
		}
		if (rlen + vlen + 1 > rsize) {
			rsize = (rlen + vlen + 1) * 2;
			if ((val = realloc(r, rsize)) == NULL)
				fatal("realloc");
			r = val;
		}
		/* Substituted values become safe for a header or command. */
		if (sub)
			log_sanitize(r + rlen, vlen + 1, v, vlen);
		else
			r[rlen] = *v;
		rlen += vlen;
		r[rlen] = '\0';
	}
	if (r == NULL)
		r = xstrdup("");
	free(*sp);
	*sp = r;
	r = NULL;
 done:
	free(r);
	free(mn);
	free(canon);
	return rc;
}

int
account_finalize(struct account *a, int flags, char *err, size_t errlen)
{
	char	 prefix[512], msg[256];
	int	 rc;

	if (a->auto_from) {
		wipe_str(&a->from);
		if (a->maildomain != NULL && *a->maildomain != '\0')
			a->from = xasprintf("%s@%s", conf_username(),
			    a->maildomain);
		else
			a->from = xstrdup(conf_username());
	}
	if (a->port == 0 && a->protocol == PROTO_SMTP)
		a->port = a->tls && !a->tls_starttls ? 465 : 25;
	if (a->proxy_host != NULL && a->proxy_port == 0)
		a->proxy_port = 1080;
	if ((rc = expand(&a->from, 1, err, errlen)) != EX_OK ||
	    (rc = expand(&a->domain, 0, err, errlen)) != EX_OK)
		return rc;

	msg[0] = '\0';
	if ((a->host == NULL && a->socket == NULL) ||
	    (a->tls && a->host == NULL && a->tls_host_override == NULL))
		strlcpy(msg, "host not set", sizeof(msg));
	else if (a->port == 0)
		strlcpy(msg, "port not set", sizeof(msg));
	else if ((flags & FIN_SENDMAIL) && !(flags & FIN_PRETEND) &&
	    a->from == NULL)
		strlcpy(msg, "envelope-from address is missing", sizeof(msg));
	else if (a->tls_key_file != NULL && a->tls_cert_file == NULL)
		strlcpy(msg, "tls_key_file requires tls_cert_file",
		    sizeof(msg));
	else if (a->tls_cert_file != NULL && a->tls_key_file == NULL)
		strlcpy(msg, "tls_cert_file requires tls_key_file",
		    sizeof(msg));
	else if (a->tls && a->tls_trust_file == NULL &&
	    a->tls_fingerprint_len == 0 && a->tls_certcheck)
		strlcpy(msg, "tls requires either tls_trust_file (highly "
		    "recommended) or tls_fingerprint or a disabled "
		    "tls_certcheck", sizeof(msg));
	else if (a->tls && a->tls_crl_file != NULL &&
	    a->tls_trust_file == NULL)
		strlcpy(msg, "tls_crl_file requires tls_trust_file",
		    sizeof(msg));
	if (msg[0] == '\0')
		return EX_OK;
	prefix[0] = '\0';
	if (a->origin == ORIGIN_FILE && a->id != NULL && a->conffile != NULL)
		snprintf(prefix, sizeof(prefix), "account %s from %s: ",
		    a->id, a->conffile);
	seterr(err, errlen, "%s%s", prefix, msg);
	return EX_CONFIG;
}

static const char *
ns(const char *s)
{
	return s != NULL ? s : "(not set)";
}

static const char *
onoff(int v)
{
	return v ? "on" : "off";
}

static const char *
hdr(int v)
{
	return v == HDR_ON ? "on" : v == HDR_OFF ? "off" : "auto";
}

void
account_print(FILE *fp, const struct account *a, int flags, const char *rmqs)
{
	size_t	 i;

	switch (a->origin) {
	case ORIGIN_CMDLINE:
		fprintf(fp, "using account specified on command line\n");
		break;
	case ORIGIN_ENV:
		fprintf(fp, "using environment variables EMAIL and "
		    "SMTPSERVER\n");
		break;
	default:
		fprintf(fp, "using account %s from %s\n", ns(a->id),
		    ns(a->conffile));
		break;
	}
	fprintf(fp, "host = %s\n", ns(a->host));
	fprintf(fp, "port = %d\n", a->port);
	fprintf(fp, "source ip = %s\n", ns(a->source_ip));
	fprintf(fp, "proxy host = %s\n", ns(a->proxy_host));
	fprintf(fp, "proxy port = %d\n", a->proxy_port);
	fprintf(fp, "socket = %s\n", ns(a->socket));
	if (a->timeout == 0)
		fprintf(fp, "timeout = off\n");
	else
		fprintf(fp, "timeout = %d %s\n", a->timeout,
		    a->timeout == 1 ? "second" : "seconds");
	fprintf(fp, "protocol = %s\n",
	    a->protocol == PROTO_LMTP ? "lmtp" : "smtp");
	fprintf(fp, "domain = %s\n", ns(a->domain));
	fprintf(fp, "auth = %s\n", a->auth == NULL ? "none" :
	    *a->auth == '\0' ? "choose" : a->auth);
	fprintf(fp, "user = %s\n", ns(a->user));
	/* msmtp has run passwordeval by now when authentication is on. */
	fprintf(fp, "password = %s\n", a->password != NULL ||
	    (a->passwordeval != NULL && a->auth != NULL) ? "*" : "(not set)");
	fprintf(fp, "passwordeval = %s\n", ns(a->passwordeval));
	fprintf(fp, "ntlmdomain = %s\n", ns(a->ntlmdomain));
	fprintf(fp, "tls = %s\n", onoff(a->tls));
	fprintf(fp, "tls_starttls = %s\n", onoff(a->tls_starttls));
	fprintf(fp, "tls_trust_file = %s\n", ns(a->tls_trust_file));
	fprintf(fp, "tls_crl_file = %s\n", ns(a->tls_crl_file));
	fprintf(fp, "tls_fingerprint = ");
	if (a->tls_fingerprint_len == 0)
		fprintf(fp, "(not set)");
	for (i = 0; i < a->tls_fingerprint_len; i++)
		fprintf(fp, "%s%02X", i > 0 ? ":" : "", a->tls_fingerprint[i]);
	fprintf(fp, "\n");
	fprintf(fp, "tls_key_file = %s\n", ns(a->tls_key_file));
	fprintf(fp, "tls_cert_file = %s\n", ns(a->tls_cert_file));
	fprintf(fp, "tls_certcheck = %s\n", onoff(a->tls_certcheck));
	if (a->tls_min_dh_prime_bits < 0)
		fprintf(fp, "tls_min_dh_prime_bits = (not set)\n");
	else
		fprintf(fp, "tls_min_dh_prime_bits = %d\n",
		    a->tls_min_dh_prime_bits);
	fprintf(fp, "tls_priorities = %s\n", ns(a->tls_priorities));
	fprintf(fp, "tls_host_override = %s\n", ns(a->tls_host_override));
	if (flags & PRINT_SENDMAIL) {
		fprintf(fp, "auto_from = %s\n", onoff(a->auto_from));
		fprintf(fp, "maildomain = %s\n", ns(a->maildomain));
		fprintf(fp, "from = %s\n", (flags & PRINT_FROM_MAIL) ?
		    "(read from mail)" : ns(a->from));
		fprintf(fp, "allow_from_override = %s\n",
		    onoff(a->allow_from_override));
		fprintf(fp, "set_from_header = %s\n", hdr(a->set_from_header));
		fprintf(fp, "set_date_header = %s\n", hdr(a->set_date_header));
		fprintf(fp, "remove_bcc_headers = %s\n",
		    onoff(a->remove_bcc_headers));
		fprintf(fp, "undisclosed_recipients = %s\n",
		    onoff(a->undisclosed_recipients));
		fprintf(fp, "dsn_notify = %s\n", ns(a->dsn_notify));
		fprintf(fp, "dsn_return = %s\n", ns(a->dsn_return));
		fprintf(fp, "logfile = %s\n", ns(a->logfile));
		fprintf(fp, "logfile_time_format = %s\n",
		    ns(a->logfile_time_format));
		fprintf(fp, "syslog = %s\n", ns(a->syslog));
		fprintf(fp, "aliases = %s\n", ns(a->aliases));
		fprintf(fp, "reading recipients from the command line%s\n",
		    (flags & PRINT_RCPT_MAIL) ? " and the mail" : "");
	}
	if (rmqs != NULL)
		fprintf(fp, "RMQS argument = %s\n", rmqs);
}
