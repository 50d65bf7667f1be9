#include <sys/types.h>
#include <sys/utsname.h>

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "version.h"

enum {
	OPT_VERSION = 256,
	OPT_HELP,
	OPT_RMQS,
	OPT_CONFIGURE,
	OPT_HOST,
	OPT_READ_ENVELOPE_FROM,
	OPT_QUEUE,
	OPT_NO_QUEUE,
	OPT_QUEUE_ONLY,
	OPT_QUEUE_FLUSH,
	OPT_QUEUE_LIST,
	OPT_QUEUE_SHOW,
	OPT_QUEUE_PURGE,
	OPT_QUEUE_RETRY,
	OPT_QUEUE_DIR,
	OPT_DUE,
	OPT_SETTING = 512	/* + index in settings[] */
};

/* Options that are account settings, parsed by account_set(). */
static const struct setting {
	const char	*name;
	int		 has_arg;
	const char	*cmd;
	int		 shortopt;
} settings[] = {
	{ "port",			required_argument, "port", 0 },
	{ "timeout",			required_argument, "timeout", 0 },
	{ "connect-timeout",		required_argument, "connect_timeout", 0 },
	{ "protocol",			required_argument, "protocol", 0 },
	{ "domain",			required_argument, "domain", 0 },
	{ "auth",			optional_argument, "auth", 0 },
	{ "user",			required_argument, "user", 0 },
	{ "passwordeval",		required_argument, "passwordeval", 0 },
	{ "tls",			optional_argument, "tls", 0 },
	{ "tls-starttls",		optional_argument, "tls_starttls", 0 },
	{ "tls-trust-file",		required_argument, "tls_trust_file", 0 },
	{ "tls-crl-file",		required_argument, "tls_crl_file", 0 },
	{ "tls-fingerprint",		required_argument, "tls_fingerprint", 0 },
	{ "tls-key-file",		required_argument, "tls_key_file", 0 },
	{ "tls-cert-file",		required_argument, "tls_cert_file", 0 },
	{ "tls-certcheck",		optional_argument, "tls_certcheck", 0 },
	{ "tls-force-sslv3",		optional_argument, "tls_force_sslv3", 0 },
	{ "tls-min-dh-prime-bits",	required_argument, "tls_min_dh_prime_bits", 0 },
	{ "tls-priorities",		required_argument, "tls_priorities", 0 },
	{ "tls-host-override",		required_argument, "tls_host_override", 0 },
	{ "source-ip",			required_argument, "source_ip", 0 },
	{ "proxy-host",			required_argument, "proxy_host", 0 },
	{ "proxy-port",			required_argument, "proxy_port", 0 },
	{ "socket",			required_argument, "socket", 0 },
	{ "auto-from",			optional_argument, "auto_from", 0 },
	{ "maildomain",			required_argument, "maildomain", 0 },
	{ "dsn-notify",			required_argument, "dsn_notify", 'N' },
	{ "dsn-return",			required_argument, "dsn_return", 'R' },
	{ "keepbcc",			optional_argument, "keepbcc", 0 },
	{ "logfile",			required_argument, "logfile", 'X' },
	{ "logfile-time-format",	required_argument, "logfile_time_format", 0 },
	{ "syslog",			optional_argument, "syslog", 0 },
	{ "aliases",			required_argument, "aliases", 0 },
	{ "set-from-header",		optional_argument, "set_from_header", 0 },
	{ "set-date-header",		optional_argument, "set_date_header", 0 },
	{ "set-msgid-header",		optional_argument, "set_msgid_header", 0 },
	{ "remove-bcc-headers",		optional_argument, "remove_bcc_headers", 0 },
	{ "undisclosed-recipients",	optional_argument, "undisclosed_recipients", 0 },
	{ "add-missing-from-header",	optional_argument, "add_missing_from_header", 0 },
	{ "add-missing-date-header",	optional_argument, "add_missing_date_header", 0 },
};

#define NSETTINGS	(sizeof(settings) / sizeof(settings[0]))

static const struct option fixed_options[] = {
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ "pretend",		no_argument,		NULL, 'P' },
	{ "debug",		optional_argument,	NULL, 'd' },
	{ "serverinfo",		no_argument,		NULL, 'S' },
	{ "rmqs",		required_argument,	NULL, OPT_RMQS },
	{ "configure",		required_argument,	NULL, OPT_CONFIGURE },
	{ "file",		required_argument,	NULL, 'C' },
	{ "account",		required_argument,	NULL, 'a' },
	{ "host",		required_argument,	NULL, OPT_HOST },
	{ "from",		required_argument,	NULL, 'f' },
	{ "read-recipients",	no_argument,		NULL, 't' },
	{ "read-envelope-from",	no_argument,		NULL, OPT_READ_ENVELOPE_FROM },
	{ "queue",		no_argument,		NULL, OPT_QUEUE },
	{ "no-queue",		no_argument,		NULL, OPT_NO_QUEUE },
	{ "queue-only",		no_argument,		NULL, OPT_QUEUE_ONLY },
	{ "queue-flush",	optional_argument,	NULL, OPT_QUEUE_FLUSH },
	{ "queue-list",		optional_argument,	NULL, OPT_QUEUE_LIST },
	{ "queue-show",		required_argument,	NULL, OPT_QUEUE_SHOW },
	{ "queue-purge",	required_argument,	NULL, OPT_QUEUE_PURGE },
	{ "queue-retry",	required_argument,	NULL, OPT_QUEUE_RETRY },
	{ "queue-dir",		required_argument,	NULL, OPT_QUEUE_DIR },
	{ "due",		no_argument,		NULL, OPT_DUE },
};

#define NFIXED		(sizeof(fixed_options) / sizeof(fixed_options[0]))

/* Leading ':' so that a missing argument is told from an unknown option. */
static const char optstring[] = ":Pd::SC:a:f:N:R:X:tA:B:b:F:Gh:iL:mnO:o:q::v";

static void
replace(char **p, const char *s)
{
	char	*n = xstrdup(s);

	free(*p);
	*p = n;
}

static int
has_cntrl(const char *s, int crlf_only)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			return 1;
		if (!crlf_only && (iscntrl((unsigned char)*s)))
			return 1;
	}
	return 0;
}

/* A value for a message: control characters shown as '?'. */
static const char *
visible(const char *s, char *buf, size_t bufsz)
{
	return log_sanitize(buf, bufsz, s, strlen(s));
}

static int
add_rcpt(struct rcptlist *list, const char *addr, size_t len, char *err,
    size_t errlen)
{
	struct rcpt	*r;
	char		*a, vis[512];

	/* Blanks around the address, inside <> too, are not part of it. */
	while (len > 0 && (addr[0] == ' ' || addr[0] == '\t')) {
		addr++;
		len--;
	}
	while (len > 0 && (addr[len - 1] == ' ' || addr[len - 1] == '\t'))
		len--;
	if (len == 0)
		return EX_OK;
	if ((a = strndup(addr, len)) == NULL)
		fatal("strndup");
	if (has_cntrl(a, 0)) {
		seterr(err, errlen, "invalid recipient address %s",
		    visible(a, vis, sizeof(vis)));
		free(a);
		return EX_USAGE;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->addr = a;
	TAILQ_INSERT_TAIL(list, r, entry);
	return EX_OK;
}

/*
 * A small RFC 5322 address-list reader: commas separate addresses outside
 * quotes, comments and angle brackets; "<...>" holds the address and the
 * rest is a display name; "name:" opens a group that ";" closes.
 */
int
cmdline_add_recipients(struct rcptlist *list, const char *arg, char *err,
    size_t errlen)
{
	char		*bare, vis[512];
	const char	*p, *angle = NULL, *angle_end = NULL;
	size_t		 n = 0;
	int		 depth = 0, quoted = 0, rc;

	if ((bare = malloc(strlen(arg) + 1)) == NULL)
		fatal("malloc");
	for (p = arg;; p++) {
		if (*p == '\0' || (!quoted && depth == 0 &&
		    (angle == NULL || angle_end != NULL) &&
		    (*p == ',' || *p == ';'))) {
			if (angle != NULL && angle_end == NULL) {
				seterr(err, errlen, "invalid recipient "
				    "address %s", visible(arg, vis,
				    sizeof(vis)));
				free(bare);
				return EX_USAGE;
			}
			if (angle != NULL)
				rc = add_rcpt(list, angle + 1,
				    (size_t)(angle_end - angle - 1), err,
				    errlen);
			else
				rc = add_rcpt(list, bare, n, err, errlen);
			if (rc != EX_OK) {
				free(bare);
				return rc;
			}
			if (*p == '\0')
				break;
			angle = angle_end = NULL;
			n = 0;
			continue;
		}
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				bare[n++] = *p++;
			else if (*p == '"')
				quoted = 0;
			bare[n++] = *p;
			continue;
		}
		if (depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			continue;
		}
		if (angle != NULL) {
			if (angle_end == NULL && *p == '>')
				angle_end = p;
			continue;
		}
		switch (*p) {
		case '(':
			depth++;
			break;
		case '"':
			quoted = 1;
			bare[n++] = *p;
			break;
		case '<':
			angle = p;
			break;
		case ':':
			/* A group: what came before is its name. */
			n = 0;
			break;
		case ' ':
		case '\t':
			break;
		default:
			bare[n++] = *p;
			break;
		}
	}
	free(bare);
	return EX_OK;
}

static struct option *
build_options(void)
{
	static struct option	 opts[NFIXED + NSETTINGS + 1];
	size_t			 i;

	if (opts[0].name != NULL)
		return opts;
	for (i = 0; i < NFIXED; i++)
		opts[i] = fixed_options[i];
	for (i = 0; i < NSETTINGS; i++) {
		opts[NFIXED + i].name = settings[i].name;
		opts[NFIXED + i].has_arg = settings[i].has_arg;
		opts[NFIXED + i].flag = NULL;
		opts[NFIXED + i].val = OPT_SETTING + (int)i;
	}
	return opts;
}

static int
apply_setting(struct cmdline *cl, const struct setting *s, const char *arg,
    char *err, size_t errlen)
{
	char	 vis[512];

	if (arg == NULL)
		arg = "";
	/* The command line also spells "headers" as sendmail does. */
	if (strcmp(s->cmd, "dsn_return") == 0 && strcmp(arg, "hdrs") == 0)
		arg = "headers";
	if (account_set(cl->override, s->cmd, arg, NULL, 0) != SET_OK) {
		seterr(err, errlen, "invalid argument %s for --%s",
		    visible(arg, vis, sizeof(vis)), s->name);
		return EX_USAGE;
	}
	return EX_OK;
}

static const struct setting *
setting_by_short(int c)
{
	size_t	 i;

	for (i = 0; i < NSETTINGS; i++)
		if (settings[i].shortopt == c)
			return &settings[i];
	return NULL;
}

static void
option_error(int c, int optc, char *argv[], char *err, size_t errlen)
{
	const char	*arg = argv[optind - 1];

	if (c == ':') {
		if (optc != 0 && strncmp(arg, "--", 2) != 0)
			seterr(err, errlen, "option requires an argument -- "
			    "'%c'", optc);
		else
			seterr(err, errlen, "option '%s' requires an argument",
			    arg);
		return;
	}
	if (strncmp(arg, "--", 2) == 0) {
		char	 name[128];
		size_t	 n = strcspn(arg, "=");

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, arg, n);
		name[n] = '\0';
		if (optc != 0)
			seterr(err, errlen, "option '%s' doesn't allow an "
			    "argument", name);
		else
			seterr(err, errlen, "unrecognized option '%s'", arg);
	} else
		seterr(err, errlen, "invalid option -- '%c'", optc);
}

int
cmdline_parse(struct cmdline *cl, int argc, char *argv[], char *err,
    size_t errlen)
{
	struct option		*opts = build_options();
	const struct setting	*s;
	const char		*name;
	char			 vis[512];
	int			 c, i, rc, version = 0, help = 0;
	int			 serverinfo = 0, qmode = -1;

	memset(cl, 0, sizeof(*cl));
	cl->argv = argv + 1;
	cl->argc = argc > 0 ? argc - 1 : 0;
	TAILQ_INIT(&cl->rcpts);
	cl->override = account_new(NULL, NULL);
	cl->mode = MODE_SENDMAIL;
	/* The names every system's mailer answers to, as links to postern. */
	name = argc > 0 && argv[0] != NULL ? argv[0] : "";
	if (strrchr(name, '/') != NULL)
		name = strrchr(name, '/') + 1;
	/* mailq, msmtpq and msmtp-queue are rewritten by queue_argv0(). */
	if (strcmp(name, "newaliases") == 0)
		cl->mode = MODE_NEWALIASES;

#ifdef __GLIBC__
	optind = 0;
#else
	optreset = 1;
	optind = 1;
#endif
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (c) {
		case OPT_VERSION:
			version = 1;
			break;
		case OPT_HELP:
			help = 1;
			break;
		case 'P':
			cl->pretend = 1;
			break;
		case 'd':
			cl->debug = 1;
			/* sendmail -d0.1 prints the version. */
			if (optarg != NULL && strcmp(optarg, "0.1") == 0)
				version = 1;
			break;
		case 'v':
			cl->debug = 1;
			break;
		case 'S':
			serverinfo = 1;
			break;
		case OPT_RMQS:
			replace(&cl->rmqs, optarg);
			break;
		case OPT_CONFIGURE:
			replace(&cl->configure, optarg);
			break;
		case 'C':
			replace(&cl->file, optarg);
			break;
		case 'a':
			replace(&cl->account, optarg);
			break;
		case OPT_HOST:
			cl->host = 1;
			replace(&cl->override->host, optarg);
			cl->override->mask |= ACC_HOST;
			break;
		case 'f':
			if (has_cntrl(optarg, 0)) {
				seterr(err, errlen, "invalid argument %s for "
				    "--from", visible(optarg, vis,
				    sizeof(vis)));
				return EX_USAGE;
			}
			replace(&cl->from, strcmp(optarg, "<>") == 0 ? "" :
			    optarg);
			break;
		case 'F':
			if (has_cntrl(optarg, 1)) {
				seterr(err, errlen, "invalid argument %s for "
				    "-F", visible(optarg, vis, sizeof(vis)));
				return EX_USAGE;
			}
			account_set(cl->override, "from_full_name", optarg,
			    NULL, 0);
			break;
		case 't':
			cl->read_recipients = 1;
			break;
		case OPT_READ_ENVELOPE_FROM:
			cl->read_envelope_from = 1;
			break;
		case 'N':
		case 'R':
		case 'X':
			s = setting_by_short(c);
			if ((rc = apply_setting(cl, s, optarg, err, errlen)) !=
			    EX_OK)
				return rc;
			break;
		case 'b':
			/* The last -b wins. */
			qmode = -1;
			if (strcmp(optarg, "m") == 0)
				cl->mode = MODE_SENDMAIL;
			else if (strcmp(optarg, "p") == 0)
				qmode = MODE_QLIST;
			else if (strcmp(optarg, "i") == 0)
				cl->mode = MODE_NEWALIASES;
			else if (strcmp(optarg, "s") == 0)
				cl->mode = MODE_SMTP;
			else {
				seterr(err, errlen, "unsupported operation "
				    "mode b%s", visible(optarg, vis,
				    sizeof(vis)));
				return EX_USAGE;
			}
			break;
		case 'A':
		case 'B':
		case 'G':
		case 'h':
		case 'i':
		case 'L':
		case 'm':
		case 'n':
		case 'O':
			/* sendmail options msmtp accepts and ignores */
			break;
		case 'o':
			/* sendmail's deliver-in-queue mode; the rest ignored */
			if (strcmp(optarg, "dq") == 0)
				cl->queue_only = 1;
			break;
		case 'q':
			/* -q, -q30m (the interval is cron's job), -qI<ID> */
			qmode = MODE_QFLUSH;
			if (optarg != NULL && optarg[0] == 'I')
				replace(&cl->queue_arg, optarg + 1);
			break;
		case OPT_QUEUE:
			cl->queue = QUEUE_ON;
			break;
		case OPT_NO_QUEUE:
			cl->queue = QUEUE_OFF;
			break;
		case OPT_QUEUE_ONLY:
			cl->queue_only = 1;
			break;
		case OPT_QUEUE_FLUSH:
		case OPT_QUEUE_LIST:
		case OPT_QUEUE_SHOW:
		case OPT_QUEUE_PURGE:
		case OPT_QUEUE_RETRY:
			qmode = c == OPT_QUEUE_FLUSH ? MODE_QFLUSH :
			    c == OPT_QUEUE_LIST ? MODE_QLIST :
			    c == OPT_QUEUE_SHOW ? MODE_QSHOW :
			    c == OPT_QUEUE_PURGE ? MODE_QPURGE : MODE_QRETRY;
			if (optarg != NULL)
				replace(&cl->queue_arg, optarg);
			break;
		case OPT_QUEUE_DIR:
			replace(&cl->queue_dir, optarg);
			break;
		case OPT_DUE:
			cl->due = 1;
			break;
		case ':':
		case '?':
			option_error(c, optopt, argv, err, errlen);
			return EX_USAGE;
		default:
			if (c < OPT_SETTING || c >= OPT_SETTING + (int)NSETTINGS)
				fatalx("getopt_long returned %d", c);
			s = &settings[c - OPT_SETTING];
			if ((rc = apply_setting(cl, s, optarg, err, errlen)) !=
			    EX_OK)
				return rc;
			break;
		}
	}

	/* getopt has moved the operands (recipients) to the end. */
	cl->argc = optind > 0 ? optind - 1 : 0;
	if (cl->argc > 0 && strcmp(argv[optind - 1], "--") == 0)
		cl->argc--;
	if (version) {
		cl->mode = MODE_VERSION;
		return EX_OK;
	}
	if (help) {
		cl->mode = MODE_HELP;
		return EX_OK;
	}
	if (cl->configure != NULL) {
		cl->mode = MODE_CONFIGURE;
		return EX_OK;
	}
	if (serverinfo && cl->rmqs != NULL) {
		seterr(err, errlen, "cannot use both --serverinfo and --rmqs");
		return EX_USAGE;
	}
	if (qmode != -1) {
		if (serverinfo || cl->rmqs != NULL) {
			seterr(err, errlen, "cannot combine queue commands "
			    "with --serverinfo or --rmqs");
			return EX_USAGE;
		}
		cl->mode = qmode;
		if (optind < argc) {
			seterr(err, errlen, "too many arguments");
			return EX_USAGE;
		}
		return EX_OK;
	}
	if (serverinfo)
		cl->mode = MODE_SERVERINFO;
	else if (cl->rmqs != NULL)
		cl->mode = MODE_RMQS;
	if (cl->host && cl->account != NULL) {
		seterr(err, errlen, "cannot use both --host and --account");
		return EX_USAGE;
	}
	if (cl->from != NULL && cl->read_envelope_from) {
		seterr(err, errlen, "cannot use both --from and "
		    "--read-envelope-from");
		return EX_USAGE;
	}
	if (cl->mode != MODE_SENDMAIL && optind < argc) {
		seterr(err, errlen, "too many arguments");
		return EX_USAGE;
	}
	for (i = optind; i < argc; i++)
		if ((rc = cmdline_add_recipients(&cl->rcpts, argv[i], err,
		    errlen)) != EX_OK)
			return rc;
	return EX_OK;
}

void
cmdline_free(struct cmdline *cl)
{
	struct rcpt	*r;

	while ((r = TAILQ_FIRST(&cl->rcpts)) != NULL) {
		TAILQ_REMOVE(&cl->rcpts, r, entry);
		free(r->addr);
		free(r);
	}
	free(cl->file);
	free(cl->account);
	free(cl->from);
	free(cl->rmqs);
	free(cl->configure);
	free(cl->queue_dir);
	free(cl->queue_arg);
	account_free(cl->override);
	memset(cl, 0, sizeof(*cl));
}

void
cmdline_help(FILE *fp)
{
	fputs(
"Usage:\n"
"\n"
"Sendmail mode (default):\n"
"  postern [option...] [--] recipient...\n"
"  postern [option...] -t [--] [recipient...]\n"
"  Read a mail on standard input and deliver it to an SMTP or LMTP server.\n"
"Configuration mode:\n"
"  postern --configure=mailadress\n"
"  Print a configuration for the address, found through DNS.\n"
"Server information mode:\n"
"  postern [option...] --serverinfo\n"
"  Print what a server supports.\n"
"Remote Message Queue Starting mode:\n"
"  postern [option...] --rmqs=host|@domain|#queue\n"
"  Ask a server to start delivering a queue (ETRN).\n"
"Queue mode:\n"
"  postern [option...] -q [--due] | -bp | --queue-list[=json|failed]\n"
"  Send, list or manage the mail kept while it could not be sent.\n"
"\n"
"General options:\n"
"  --version                    print the version and exit\n"
"  --help                       print this help and exit\n"
"  -P, --pretend                print the configuration in effect and exit\n"
"  -d, --debug                  print the configuration and the session\n"
"Changing the mode of operation:\n"
"  --configure=mailaddress      print a configuration for the address\n"
"  -S, --serverinfo             print what the server supports\n"
"  --rmqs=host|@domain|#queue   ask the server to start a queue\n"
"  -q, --queue-flush[=ID,...]   send the queued mail now (-qI<ID>: one)\n"
"  --due                        with -q: only what is due\n"
"  -bp, --queue-list[=json|failed] list the queue\n"
"  --queue-show=ID              print a queued mail\n"
"  --queue-purge=ID,...|all     remove queued mail\n"
"  --queue-retry=ID,...|all     put failed mail back into the queue\n"
"Configuration options:\n"
"  -C, --file=filename          read this user configuration file\n"
"  -a, --account=id             use this account rather than \"default\";\n"
"                               the options below change its settings\n"
"  --host=hostname              use this server and the command line only;\n"
"                               no configuration file is read\n"
"  --port=number                set the port\n"
"  --source-ip=[IP]             set/unset the local address to bind to\n"
"  --proxy-host=[IP|hostname]   set/unset a SOCKS proxy\n"
"  --proxy-port=[number]        set/unset the proxy port\n"
"  --socket=[socketname]        set/unset a local socket to connect to\n"
"  --timeout=(off|seconds)      set/unset the network timeout\n"
"  --protocol=(smtp|lmtp)       choose the protocol\n"
"  --domain=string              set the argument of EHLO or LHLO\n"
"  --auth[=(on|off|method)]     turn authentication on or off, or choose\n"
"                               its method\n"
"  --user=[username]            set/unset the user name to log in with\n"
"  --passwordeval=[eval]        set/unset a command printing the password\n"
"  --tls[=(on|off)]             turn TLS on or off\n"
"  --tls-starttls[=(on|off)]    use STARTTLS (on) or TLS from the start\n"
"  --tls-trust-file=[file]      set/unset the trusted CA file\n"
"  --tls-crl-file=[file]        set/unset the revocation list file\n"
"  --tls-fingerprint=[f]        set/unset the trusted certificate fingerprint\n"
"  --tls-certcheck[=(on|off)]   turn server certificate checks on or off\n"
"  --tls-key-file=[file]        set/unset the client key file\n"
"  --tls-cert-file=[file]       set/unset the client certificate file\n"
"  --tls-priorities=[prios]     set/unset the TLS protocols and ciphers\n"
"  --tls-host-override=[host]   set/unset the name to verify instead of host\n"
"  --tls-min-dh-prime-bits=[b]  set/unset the smallest DH prime accepted\n"
"Options specific to sendmail mode:\n"
"  --auto-from[=(on|off)]       derive the envelope-from from the user name\n"
"  -f, --from=address           set the envelope-from address\n"
"  --maildomain=[domain]        set/unset the domain for --auto-from\n"
"  -N, --dsn-notify=(off|cond)  set/unset when a DSN is wanted\n"
"  -R, --dsn-return=(off|ret)   set/unset how much a DSN returns\n"
"  -X, --logfile=[file]         set/unset the log file\n"
"  --logfile-time-format=[fmt]  set/unset the strftime() format of the log\n"
"  --syslog[=(on|off|facility)] turn syslog on or off, or choose the facility\n"
"  -t, --read-recipients        add the recipients of the mail's headers\n"
"  --read-envelope-from         take the envelope-from from the mail\n"
"  --aliases=[file]             set/unset the aliases file\n"
"  --set-from-header[=(auto|on|off)] choose when to add a From header\n"
"  --set-date-header[=(auto|off)] choose when to add a Date header\n"
"  --set-msgid-header[=(auto|off)] choose when to add a Message-ID header\n"
"  --remove-bcc-headers[=(on|off)] remove Bcc headers or keep them\n"
"  --undisclosed-recipients[=(on|off)] replace To, Cc and Bcc with\n"
"                               To: undisclosed-recipients:;\n"
"  --queue, --no-queue          queue the mail if it cannot go now, or not\n"
"  -odq, --queue-only           queue the mail without connecting\n"
"  --queue-dir=dir              the queue directory\n"
"  --                           end of options\n"
"Accepted but ignored: -A, -B, -bm, -G, -h, -i, -L, -m, -n, -O, -o\n",
	    fp);
}

void
cmdline_version(FILE *fp)
{
	struct utsname	 u;
	char		 machine[128] = "unknown", system[128] = "unknown";
	char		*p;

	if (uname(&u) == 0) {
		strlcpy(machine, u.machine, sizeof(machine));
		strlcpy(system, u.sysname, sizeof(system));
		for (p = system; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	fprintf(fp, "postern version %s\n", POSTERN_VERSION);
	fprintf(fp, "Platform: %s-%s\n", machine, system);
	fprintf(fp, "TLS/SSL library: %s\n", POSTERN_TLS_LIBRARY);
	fprintf(fp, "Authentication library: %s\n", POSTERN_AUTH_LIBRARY);
	fprintf(fp, "Supported authentication methods:\n%s\n",
	    POSTERN_AUTH_METHODS);
	fprintf(fp, "Untested authentication methods (through Cyrus SASL):\n"
	    "%s\n", POSTERN_AUTH_UNTESTED);
	fprintf(fp, "IDN support: disabled\n");
	fprintf(fp, "NLS: disabled\n");
	/* The key ring is read through secret-tool, as msmtp's GNOME one. */
	fprintf(fp, "Keyring support: Gnome \n");
	fprintf(fp, "System configuration file name: %s\n", CONF_SYSTEM_FILE);
	fprintf(fp, "User configuration file name: %s/%s\n", conf_homedir(),
	    CONF_USER_FILE);
	fprintf(fp, "\n");
	fprintf(fp, "Copyright (C) 2026 The postern authors.\n");
	fprintf(fp, "This is free software; see the LICENSE file for the "
	    "conditions under which\nit may be copied.  There is NO "
	    "WARRANTY, to the extent permitted by law.\n");
}
