#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "posternd.h"
#include "version.h"

enum {
	OPT_VERSION = 256,
	OPT_HELP,
	OPT_INETD,
	OPT_INTERFACE,
	OPT_PORT,
	OPT_LOG,
	OPT_COMMAND,
	OPT_AUTH,
	OPT_TLS_CERT_FILE,
	OPT_TLS_KEY_FILE,
	OPT_TLS_STARTTLS,
	OPT_DOMAIN,
	OPT_USER,
	OPT_CHROOT,
	OPT_COMMAND_USER,
	OPT_CRLF,
	OPT_TIMEOUT,
	OPT_SESSION_TIMEOUT,
	OPT_COMMAND_TIMEOUT,
	OPT_MAX_SESSIONS,
	OPT_MAX_RECIPIENTS,
	OPT_MAX_AUTH_FAILURES,
	OPT_MAX_LINE_LENGTH,
	OPT_MAX_MESSAGE_SIZE,
	OPT_AUTH_DELAY,
};

static const struct option longopts[] = {
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ "inetd",		no_argument,		NULL, OPT_INETD },
	{ "interface",		required_argument,	NULL, OPT_INTERFACE },
	{ "port",		required_argument,	NULL, OPT_PORT },
	{ "log",		required_argument,	NULL, OPT_LOG },
	{ "command",		required_argument,	NULL, OPT_COMMAND },
	{ "auth",		required_argument,	NULL, OPT_AUTH },
	{ "tls-cert-file",	required_argument,	NULL, OPT_TLS_CERT_FILE },
	{ "tls-key-file",	required_argument,	NULL, OPT_TLS_KEY_FILE },
	{ "tls-starttls",	required_argument,	NULL, OPT_TLS_STARTTLS },
	{ "domain",		required_argument,	NULL, OPT_DOMAIN },
	{ "user",		required_argument,	NULL, OPT_USER },
	{ "chroot",		required_argument,	NULL, OPT_CHROOT },
	{ "command-user",	required_argument,	NULL, OPT_COMMAND_USER },
	{ "crlf",		no_argument,		NULL, OPT_CRLF },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "session-timeout",	required_argument,	NULL, OPT_SESSION_TIMEOUT },
	{ "command-timeout",	required_argument,	NULL, OPT_COMMAND_TIMEOUT },
	{ "max-sessions",	required_argument,	NULL, OPT_MAX_SESSIONS },
	{ "max-recipients",	required_argument,	NULL, OPT_MAX_RECIPIENTS },
	{ "max-auth-failures",	required_argument,	NULL, OPT_MAX_AUTH_FAILURES },
	{ "max-line-length",	required_argument,	NULL, OPT_MAX_LINE_LENGTH },
	{ "max-message-size",	required_argument,	NULL, OPT_MAX_MESSAGE_SIZE },
	{ "auth-delay",		required_argument,	NULL, OPT_AUTH_DELAY },
	{ NULL,			0,			NULL, 0 }
};

static void
version(void)
{
	printf("posternd version %s\n"
	    "TLS library: %s\n"
	    "Copyright (C) the postern authors.\n"
	    "This is free software.  You may redistribute copies of it "
	    "under the terms of\nthe ISC license.\n"
	    "There is NO WARRANTY, to the extent permitted by law.\n",
	    POSTERN_VERSION, POSTERN_TLS_LIBRARY);
}

static void
usage(void)
{
	printf("Usage: posternd [option...]\n"
	    "Options:\n"
	    "  --version                 print version\n"
	    "  --help                    print help\n"
	    "  --inetd                   start single SMTP session on "
	    "stdin/stdout\n"
	    "  --interface=ip            listen on ip instead of 127.0.0.1\n"
	    "  --port=number             listen on port number instead of "
	    "25\n"
	    "  --log=none|syslog|FILE    do not log anything (default)\n"
	    "                            or log to syslog or log to the "
	    "given file\n"
	    "  --command=cmd             pipe mails to cmd instead of "
	    "postern -f %%F --\n"
	    "  --auth=user[,passwordeval] require authentication with this "
	    "user name;\n"
	    "                            the password will be retrieved "
	    "from the given\n"
	    "                            passwordeval command or, if none "
	    "is given,\n"
	    "                            from a prompt\n"
	    "  --tls-cert-file=file      certificate chain (PEM): offer "
	    "TLS\n"
	    "  --tls-key-file=file       private key (PEM) of the "
	    "certificate\n"
	    "  --tls-starttls=on|off     on: STARTTLS (default); off: TLS "
	    "from the start\n"
	    "  --domain=name             name in the greeting and Received "
	    "(localhost)\n"
	    "  --user=user               sessions run as user when started "
	    "as root\n"
	    "                            (" POSTERND_USER ", else "
	    POSTERND_USER_FALLBACK ")\n"
	    "  --chroot=dir              empty directory for the sessions ("
	    PATH_CHROOT ")\n"
	    "  --command-user=user       run the command as user (default: "
	    "posternd's)\n"
	    "  --crlf                    pipe mails with CRLF line ends\n"
	    "  --timeout=secs            per command (%d)\n"
	    "  --session-timeout=secs    per session (%d)\n"
	    "  --command-timeout=secs    per delivery command (%d)\n"
	    "  --max-sessions=n          concurrent sessions (%d)\n"
	    "  --max-recipients=n        per message (%d)\n"
	    "  --max-auth-failures=n     per session (%d)\n"
	    "  --max-line-length=n       in a message, CRLF included (%d)\n"
	    "  --max-message-size=n      bytes, 0 for no limit (%llu)\n"
	    "  --auth-delay=ms           after a failed authentication "
	    "(%d)\n",
	    DEF_TIMEOUT, DEF_SESSION_TIMEOUT, DEF_COMMAND_TIMEOUT,
	    DEF_MAX_SESSIONS, DEF_MAX_RECIPIENTS, DEF_MAX_AUTH_FAILURES,
	    DEF_MAX_LINE_LENGTH, (unsigned long long)DEF_MAX_MESSAGE_SIZE,
	    DEF_AUTH_DELAY);
}

static __dead void usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static __dead void
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "posternd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(EX_USAGE);
}

static unsigned long long
number(const char *name, const char *s, unsigned long long min,
    unsigned long long max)
{
	const char		*errstr;
	long long		 v;

	v = strtonum(s, (long long)min, (long long)max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "posternd: invalid argument %s for --%s: %s\n",
		    s, name, errstr);
		exit(EX_USAGE);
	}
	return (unsigned long long)v;
}

static int
parse_options(int argc, char *argv[], struct conf *c)
{
	char	*p;
	int	 ch, idx;

	memset(c, 0, sizeof(*c));
	c->interface = "127.0.0.1";
	c->port = "25";
	c->logmode = LOGTO_NONE;
	c->tls_starttls = 1;
	c->domain = "localhost";
	c->chroot = PATH_CHROOT;
	c->timeout = DEF_TIMEOUT;
	c->session_timeout = DEF_SESSION_TIMEOUT;
	c->command_timeout = DEF_COMMAND_TIMEOUT;
	c->max_sessions = DEF_MAX_SESSIONS;
	c->max_recipients = DEF_MAX_RECIPIENTS;
	c->max_auth_failures = DEF_MAX_AUTH_FAILURES;
	c->max_line_length = DEF_MAX_LINE_LENGTH;
	c->max_message_size = DEF_MAX_MESSAGE_SIZE;
	c->auth_delay = DEF_AUTH_DELAY;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		if (ch == '?') {
			if (optopt >= OPT_VERSION)
				usage_error("option '%s' requires an argument",
				    argv[optind - 1]);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (optarg != NULL && *optarg == '\0')
			usage_error("option '--%s' requires non-empty argument",
			    longopts[idx].name);
		switch (ch) {
		case OPT_VERSION:
			version();
			exit(EX_OK);
		case OPT_HELP:
			usage();
			exit(EX_OK);
		case OPT_INETD:
			c->inetd = 1;
			break;
		case OPT_INTERFACE:
			c->interface = optarg;
			break;
		case OPT_PORT:
			number("port", optarg, 1, 65535);
			c->port = optarg;
			break;
		case OPT_LOG:
			if (strcmp(optarg, "none") == 0)
				c->logmode = LOGTO_NONE;
			else if (strcmp(optarg, "syslog") == 0)
				c->logmode = LOGTO_SYSLOG;
			else {
				c->logmode = LOGTO_FILE;
				c->logfile = optarg;
			}
			break;
		case OPT_COMMAND:
			c->command = optarg;
			break;
		case OPT_AUTH:
			c->auth_user = optarg;
			if ((p = strchr(optarg, ',')) != NULL) {
				*p++ = '\0';
				c->auth_eval = p;
			}
			if (*c->auth_user == '\0')
				usage_error("%s", "--auth: empty user name");
			break;
		case OPT_TLS_CERT_FILE:
			c->tls_cert_file = optarg;
			break;
		case OPT_TLS_KEY_FILE:
			c->tls_key_file = optarg;
			break;
		case OPT_TLS_STARTTLS:
			if (strcmp(optarg, "on") == 0)
				c->tls_starttls = 1;
			else if (strcmp(optarg, "off") == 0)
				c->tls_starttls = 0;
			else
				usage_error("invalid argument %s for "
				    "--tls-starttls", optarg);
			break;
		case OPT_DOMAIN:
			if (!rfc5321_domain(optarg, strlen(optarg)))
				usage_error("invalid domain %s", optarg);
			c->domain = optarg;
			break;
		case OPT_USER:
			c->user = optarg;
			break;
		case OPT_CHROOT:
			c->chroot = optarg;
			break;
		case OPT_COMMAND_USER:
			c->command_user = optarg;
			break;
		case OPT_CRLF:
			c->crlf = 1;
			break;
		case OPT_TIMEOUT:
			c->timeout = number("timeout", optarg, 1, 86400);
			break;
		case OPT_SESSION_TIMEOUT:
			c->session_timeout = number("session-timeout", optarg,
			    1, 7 * 86400);
			break;
		case OPT_COMMAND_TIMEOUT:
			c->command_timeout = number("command-timeout", optarg,
			    1, 7 * 86400);
			break;
		case OPT_MAX_SESSIONS:
			c->max_sessions = number("max-sessions", optarg, 1,
			    65536);
			break;
		case OPT_MAX_RECIPIENTS:
			c->max_recipients = number("max-recipients", optarg,
			    1, 100000);
			break;
		case OPT_MAX_AUTH_FAILURES:
			c->max_auth_failures = number("max-auth-failures",
			    optarg, 1, 1000);
			break;
		case OPT_MAX_LINE_LENGTH:
			c->max_line_length = number("max-line-length", optarg,
			    80, 100 * 1024 * 1024);
			break;
		case OPT_MAX_MESSAGE_SIZE:
			c->max_message_size = number("max-message-size",
			    optarg, 0, LLONG_MAX);
			break;
		case OPT_AUTH_DELAY:
			c->auth_delay = number("auth-delay", optarg, 0, 60000);
			break;
		default:
			usage_error("%s", "invalid option");
		}
	}
	if (optind < argc)
		usage_error("%s", "too many arguments");
	if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL))
		usage_error("%s", "--tls-cert-file and --tls-key-file go "
		    "together");
	return 0;
}

/*
 * The listener.  The session server (which forks the sessions) and the
 * auth process are executables of their own, posternd-session and
 * posternd-auth (proc.c); this one takes no role argument.
 */
int
main(int argc, char *argv[])
{
	struct conf	 conf;

	log_init("posternd", 0);
	parse_options(argc, argv, &conf);
	return listener_main(&conf);
}
