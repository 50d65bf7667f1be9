#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmdline.h"
#include "config.h"
#include "tap.h"
#include "version.h"

#define MAXARGS	32

static struct cmdline	 cl;
static char		 err[1024];

/* Parse a NULL-terminated argument list after "postern". */
static int
run(const char *first, ...)
{
	static char	*argv[MAXARGS + 2];
	const char	*s;
	va_list		 ap;
	int		 argc = 0, i;

	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	memset(argv, 0, sizeof(argv));
	argv[argc++] = strdup("postern");
	va_start(ap, first);
	for (s = first; s != NULL && argc < MAXARGS; s = va_arg(ap, const char *))
		argv[argc++] = strdup(s);
	va_end(ap);
	cmdline_free(&cl);
	err[0] = '\0';
	return cmdline_parse(&cl, argc, argv, err, sizeof(err));
}

/* The command line of a program invoked under another name. */
static int
named(const char *name)
{
	char	*argv[2];
	int	 r;

	cmdline_free(&cl);
	err[0] = '\0';
	argv[0] = strdup(name);
	argv[1] = NULL;
	r = cmdline_parse(&cl, 1, argv, err, sizeof(err));
	free(argv[0]);
	return r;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
usage_error(int rc, const char *msg)
{
	if (rc != EX_USAGE || strcmp(err, msg) != 0) {
		printf("# got %d \"%s\"\n", rc, err);
		return 0;
	}
	return 1;
}

static int
nrcpts(void)
{
	struct rcpt	*r;
	int		 n = 0;

	TAILQ_FOREACH(r, &cl.rcpts, entry)
		n++;
	return n;
}

static const char *
rcpt(int i)
{
	struct rcpt	*r;

	TAILQ_FOREACH(r, &cl.rcpts, entry)
		if (i-- == 0)
			return r->addr;
	return NULL;
}

static void
test_modes(void)
{
	ok(run("a@b", NULL) == EX_OK && cl.mode == MODE_SENDMAIL &&
	    nrcpts() == 1 && streq(rcpt(0), "a@b"), "sendmail mode default");
	ok(run("--version", NULL) == EX_OK && cl.mode == MODE_VERSION,
	    "--version");
	ok(run("--help", NULL) == EX_OK && cl.mode == MODE_HELP, "--help");
	ok(run("--help", "--version", NULL) == EX_OK &&
	    cl.mode == MODE_VERSION, "--version wins over --help");
	ok(run("--version", "x@y", NULL) == EX_OK && cl.mode == MODE_VERSION,
	    "--version ignores arguments");
	ok(run("-d0.1", "-P", "x@y", NULL) == EX_OK && cl.mode == MODE_VERSION,
	    "sendmail -d0.1 prints the version");
	ok(run("--debug=0.1", NULL) == EX_OK && cl.mode == MODE_VERSION,
	    "--debug=0.1 prints the version");
	ok(run("-d", "x@y", NULL) == EX_OK && cl.debug && cl.mode ==
	    MODE_SENDMAIL, "-d is debug");
	ok(run("--debug", NULL) == EX_OK && cl.debug, "--debug");
	ok(run("-v", NULL) == EX_OK && cl.debug, "-v is debug");
	ok(run("-P", NULL) == EX_OK && cl.pretend, "-P");
	ok(run("--pretend", NULL) == EX_OK && cl.pretend, "--pretend");
	ok(run("-S", NULL) == EX_OK && cl.mode == MODE_SERVERINFO, "-S");
	ok(run("--serverinfo", NULL) == EX_OK && cl.mode == MODE_SERVERINFO,
	    "--serverinfo");
	ok(run("--rmqs=@example.org", NULL) == EX_OK && cl.mode == MODE_RMQS &&
	    streq(cl.rmqs, "@example.org"), "--rmqs");
	ok(run("--configure=a@example.org", "x", NULL) == EX_OK &&
	    cl.mode == MODE_CONFIGURE && streq(cl.configure,
	    "a@example.org"), "--configure ignores arguments");
	ok(usage_error(run("-S", "x@y", NULL), "too many arguments"),
	    "-S with recipients");
	ok(usage_error(run("--rmqs=h", "x@y", NULL), "too many arguments"),
	    "--rmqs with recipients");
	ok(usage_error(run("-S", "--rmqs=x", NULL),
	    "cannot use both --serverinfo and --rmqs"), "-S and --rmqs");
	ok(run("-C", "/x/rc", "-a", "work", NULL) == EX_OK &&
	    streq(cl.file, "/x/rc") && streq(cl.account, "work"), "-C, -a");
	ok(run("--file=/y", "--account=w", NULL) == EX_OK &&
	    streq(cl.file, "/y") && streq(cl.account, "w"),
	    "--file, --account");
	ok(run("--host=smtp.example", NULL) == EX_OK && cl.host &&
	    streq(cl.override->host, "smtp.example") &&
	    (cl.override->mask & ACC_HOST), "--host");
	ok(usage_error(run("--host=h", "-a", "x", NULL),
	    "cannot use both --host and --account"), "--host and -a");
	ok(run("-t", NULL) == EX_OK && cl.read_recipients, "-t");
	ok(run("--read-recipients", NULL) == EX_OK && cl.read_recipients,
	    "--read-recipients");
	ok(run("--read-envelope-from", NULL) == EX_OK &&
	    cl.read_envelope_from, "--read-envelope-from");
	ok(usage_error(run("-f", "a@b", "--read-envelope-from", NULL),
	    "cannot use both --from and --read-envelope-from"),
	    "-f and --read-envelope-from");
}

static void
test_from(void)
{
	ok(run("-f", "me@example.org", NULL) == EX_OK &&
	    streq(cl.from, "me@example.org"), "-f");
	ok(run("-fme@x", NULL) == EX_OK && streq(cl.from, "me@x"),
	    "-f attached");
	ok(run("--from=me@y", NULL) == EX_OK && streq(cl.from, "me@y"),
	    "--from");
	ok(run("-f", "<>", NULL) == EX_OK && streq(cl.from, ""),
	    "-f '<>' is the null sender");
	ok(run("--from=", NULL) == EX_OK && streq(cl.from, ""),
	    "--from= is the null sender");
	ok(run("-f", "MAILER-DAEMON", NULL) == EX_OK &&
	    streq(cl.from, "MAILER-DAEMON"), "-f MAILER-DAEMON kept");
	ok(cl.override->mask == 0, "-f is not an account setting");
	ok(usage_error(run("-f", "a@b.c>\r\nRCPT TO:<x@y>", NULL),
	    "invalid argument a@b.c>??RCPT TO:<x@y> for --from"),
	    "CR LF in -f refused");
	ok(run("-F", "Jo Q. Public", NULL) == EX_OK &&
	    streq(cl.override->from_full_name, "Jo Q. Public") &&
	    (cl.override->mask & ACC_FROM_FULL_NAME), "-F sets the full name");
	ok(usage_error(run("-F", "Name\nBcc: hidden@x.y", NULL),
	    "invalid argument Name?Bcc: hidden@x.y for -F"),
	    "LF in -F refused");
}

/* Every option that is an account setting, with the field it sets. */
static void
test_settings(void)
{
	struct account	*o;

#define SET(args, cond, what) do {					\
	int	 src = run args;					\
	o = cl.override;						\
	ok(src == EX_OK && (cond), "%s", what);				\
	if (src != EX_OK)						\
		printf("# %s\n", err);					\
} while (0)

	SET(("--port=587", NULL), o->port == 587 && o->mask == ACC_PORT,
	    "--port");
	SET(("--timeout=30", NULL), o->timeout == 30, "--timeout");
	SET(("--timeout=off", NULL), o->timeout == 0 && (o->mask &
	    ACC_TIMEOUT), "--timeout=off");
	SET(("--connect-timeout=7", NULL), o->timeout == 7,
	    "--connect-timeout");
	SET(("--protocol=lmtp", NULL), o->protocol == PROTO_LMTP,
	    "--protocol");
	SET(("--domain=client.example", NULL), streq(o->domain,
	    "client.example"), "--domain");
	SET(("--domain=", NULL), streq(o->domain, ""), "--domain= is empty");
	SET(("--auth", NULL), streq(o->auth, ""), "--auth chooses");
	SET(("--auth=", NULL), streq(o->auth, ""), "--auth= chooses");
	SET(("--auth=off", NULL), o->auth == NULL && (o->mask & ACC_AUTH),
	    "--auth=off");
	SET(("--auth=cram-md5", NULL), streq(o->auth, "CRAM-MD5"),
	    "--auth=cram-md5");
	SET(("--user=u", NULL), streq(o->user, "u"), "--user");
	SET(("--user=", NULL), o->user == NULL && (o->mask & ACC_USER),
	    "--user= unsets");
	SET(("--passwordeval=pass show x", NULL), streq(o->passwordeval,
	    "pass show x"), "--passwordeval");
	SET(("--tls", NULL), o->tls == 1, "--tls");
	SET(("--tls=off", NULL), o->tls == 0 && (o->mask & ACC_TLS),
	    "--tls=off");
	SET(("--tls-starttls=off", NULL), o->tls_starttls == 0,
	    "--tls-starttls=off");
	SET(("--tls-trust-file=/ca", NULL), streq(o->tls_trust_file, "/ca"),
	    "--tls-trust-file");
	SET(("--tls-trust-file=", NULL), o->tls_trust_file == NULL &&
	    (o->mask & ACC_TLS_TRUST_FILE), "--tls-trust-file= unsets");
	SET(("--tls-crl-file=/crl", NULL), streq(o->tls_crl_file, "/crl"),
	    "--tls-crl-file");
	SET(("--tls-fingerprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
	    "EE:FF", NULL), o->tls_fingerprint_len == 16, "--tls-fingerprint");
	SET(("--tls-key-file=/k", NULL), streq(o->tls_key_file, "/k"),
	    "--tls-key-file");
	SET(("--tls-cert-file=/c", NULL), streq(o->tls_cert_file, "/c"),
	    "--tls-cert-file");
	SET(("--tls-certcheck=off", NULL), o->tls_certcheck == 0,
	    "--tls-certcheck=off");
	SET(("--tls-force-sslv3", NULL), o->mask == 0,
	    "--tls-force-sslv3 is ignored");
	SET(("--tls-min-dh-prime-bits=2048", NULL),
	    o->tls_min_dh_prime_bits == 2048, "--tls-min-dh-prime-bits");
	SET(("--tls-priorities=SECURE256", NULL), streq(o->tls_priorities,
	    "SECURE256"), "--tls-priorities");
	SET(("--tls-host-override=h", NULL), streq(o->tls_host_override, "h"),
	    "--tls-host-override");
	SET(("--source-ip=192.0.2.7", NULL), streq(o->source_ip,
	    "192.0.2.7"), "--source-ip");
	SET(("--proxy-host=p", "--proxy-port=9050", NULL),
	    streq(o->proxy_host, "p") && o->proxy_port == 9050,
	    "--proxy-host, --proxy-port");
	SET(("--socket=/run/s", NULL), streq(o->socket, "/run/s"),
	    "--socket");
	SET(("--auto-from", NULL), o->auto_from == 1, "--auto-from");
	SET(("--maildomain=md", NULL), streq(o->maildomain, "md"),
	    "--maildomain");
	SET(("-N", "delay,failure", NULL), streq(o->dsn_notify,
	    "DELAY,FAILURE"), "-N");
	SET(("--dsn-notify=never", NULL), streq(o->dsn_notify, "NEVER"),
	    "--dsn-notify");
	SET(("-R", "full", NULL), streq(o->dsn_return, "FULL"), "-R full");
	SET(("-Rhdrs", NULL), streq(o->dsn_return, "HDRS"),
	    "-R hdrs accepted as on the command line of msmtp");
	SET(("--dsn-return=headers", NULL), streq(o->dsn_return, "HDRS"),
	    "--dsn-return=headers");
	SET(("-Roff", NULL), o->dsn_return == NULL &&
	    (o->mask & ACC_DSN_RETURN), "-R off");
	SET(("--keepbcc", NULL), o->remove_bcc_headers == 0, "--keepbcc");
	SET(("-X", "/var/log/p", NULL), streq(o->logfile, "/var/log/p"), "-X");
	SET(("-X-", NULL), streq(o->logfile, "-"), "-X-");
	SET(("--logfile=", NULL), o->logfile == NULL && (o->mask &
	    ACC_LOGFILE), "--logfile= unsets");
	SET(("--logfile-time-format=%s", NULL), streq(o->logfile_time_format,
	    "%s"), "--logfile-time-format");
	SET(("--syslog", NULL), streq(o->syslog, "LOG_USER"), "--syslog");
	SET(("--syslog=LOG_MAIL", NULL), streq(o->syslog, "LOG_MAIL"),
	    "--syslog=LOG_MAIL");
	SET(("--syslog=off", NULL), o->syslog == NULL && (o->mask &
	    ACC_SYSLOG), "--syslog=off");
	SET(("--aliases=/etc/aliases", NULL), streq(o->aliases, "/etc/aliases"),
	    "--aliases");
	SET(("--set-from-header=on", NULL), o->set_from_header == HDR_ON,
	    "--set-from-header=on");
	SET(("--set-from-header", NULL), o->set_from_header == HDR_AUTO &&
	    (o->mask & ACC_SET_FROM_HEADER), "--set-from-header");
	SET(("--set-date-header=off", NULL), o->set_date_header == HDR_OFF,
	    "--set-date-header=off");
	SET(("--set-msgid-header=off", NULL), o->set_msgid_header == HDR_OFF,
	    "--set-msgid-header=off");
	SET(("--remove-bcc-headers=off", NULL), o->remove_bcc_headers == 0,
	    "--remove-bcc-headers=off");
	SET(("--undisclosed-recipients", NULL), o->undisclosed_recipients == 1,
	    "--undisclosed-recipients");
	SET(("--add-missing-from-header=off", NULL), o->set_from_header ==
	    HDR_OFF, "--add-missing-from-header=off");
	SET(("--add-missing-date-header", NULL), o->set_date_header ==
	    HDR_AUTO && (o->mask & ACC_SET_DATE_HEADER),
	    "--add-missing-date-header");

	setenv("HOME", "/h", 1);
	SET(("--tls-trust-file=~/ca", NULL), streq(o->tls_trust_file,
	    "/h/ca"), "tilde expanded on the command line");
#undef SET
}

static void
test_errors(void)
{
	ok(usage_error(run("--foo", NULL), "unrecognized option '--foo'"),
	    "unknown long option");
	ok(usage_error(run("-r", "x", NULL), "invalid option -- 'r'"),
	    "unknown short option (-r is not -f)");
	ok(run("-q", NULL) == EX_OK && cl.mode == MODE_QFLUSH &&
	    cl.queue_arg == NULL, "-q flushes the queue");
	ok(run("-qIABC", NULL) == EX_OK && cl.mode == MODE_QFLUSH &&
	    strcmp(cl.queue_arg, "ABC") == 0, "-qI<ID> flushes one entry");
	ok(run("-odq", "-F", "Full Name", "a@b", NULL) == EX_OK &&
	    cl.queue_only && cl.argc == 3 && nrcpts() == 1,
	    "-odq queues only; -F's argument stays one argument");
	ok(run("--queue-purge=all", NULL) == EX_OK &&
	    cl.mode == MODE_QPURGE, "--queue-purge");
	ok(usage_error(run("-q", "a@b", NULL), "too many arguments"),
	    "-q takes no recipient");
	ok(usage_error(run("-a", NULL), "option requires an argument -- 'a'"),
	    "missing argument of a short option");
	ok(usage_error(run("--file", NULL),
	    "option '--file' requires an argument"),
	    "missing argument of a long option");
	ok(usage_error(run("--pretend=3", NULL),
	    "option '--pretend' doesn't allow an argument"),
	    "argument to a flag");
	ok(usage_error(run("--port=", NULL), "invalid argument  for --port"),
	    "--port= is invalid");
	ok(usage_error(run("--port=x", NULL), "invalid argument x for --port"),
	    "--port=x");
	ok(usage_error(run("--timeout=0", NULL),
	    "invalid argument 0 for --timeout"), "--timeout=0");
	ok(usage_error(run("--timeout=", NULL),
	    "invalid argument  for --timeout"), "--timeout=");
	ok(usage_error(run("--protocol=x", NULL),
	    "invalid argument x for --protocol"), "--protocol=x");
	ok(usage_error(run("--auth=xx", NULL), "invalid argument xx for --auth"),
	    "--auth=xx");
	ok(usage_error(run("--tls=x", NULL), "invalid argument x for --tls"),
	    "--tls=x");
	ok(usage_error(run("--tls-fingerprint=zz", NULL),
	    "invalid argument zz for --tls-fingerprint"), "bad fingerprint");
	ok(usage_error(run("--syslog=x", NULL),
	    "invalid argument x for --syslog"), "--syslog=x");
	ok(usage_error(run("-Nx", NULL), "invalid argument x for --dsn-notify"),
	    "-N names --dsn-notify");
	ok(usage_error(run("-Rx", NULL), "invalid argument x for --dsn-return"),
	    "-R names --dsn-return");
	ok(usage_error(run("--dsn-return=", NULL),
	    "invalid argument  for --dsn-return"), "--dsn-return=");
	ok(usage_error(run("--set-date-header=on", NULL),
	    "invalid argument on for --set-date-header"),
	    "--set-date-header=on");
	ok(usage_error(run("--proxy-port=0", NULL),
	    "invalid argument 0 for --proxy-port"), "--proxy-port=0");
	ok(run("-bs", NULL) == EX_OK && cl.mode == MODE_SMTP,
	    "-bs: an SMTP session");
	ok(run("-bp", NULL) == EX_OK && cl.mode == MODE_QLIST,
	    "-bp: the queue");
	ok(run("-bi", NULL) == EX_OK && cl.mode == MODE_NEWALIASES,
	    "-bi: the aliases");
	ok(run("-bp", "-bm", NULL) == EX_OK && cl.mode == MODE_SENDMAIL,
	    "the last -b wins");
	ok(usage_error(run("-bx", NULL), "unsupported operation mode bx"),
	    "-bx unsupported");
	ok(usage_error(run("-bp", "x@example.org", NULL),
	    "too many arguments"), "-bp takes no recipient");
	ok(named("newaliases") == EX_OK && cl.mode == MODE_NEWALIASES,
	    "invoked as newaliases: the aliases");
	ok(named("/usr/sbin/sendmail") == EX_OK && cl.mode == MODE_SENDMAIL,
	    "invoked as sendmail: a mail");
	ok(usage_error(run("-bmx", NULL), "unsupported operation mode bmx"),
	    "-bmx unsupported");
	ok(usage_error(run("-b", NULL), "option requires an argument -- 'b'"),
	    "-b needs a mode");
	ok(usage_error(run("--from-full-name=x", NULL),
	    "unrecognized option '--from-full-name=x'"),
	    "--from-full-name is not an option of msmtp 1.8.23");
}

static void
test_ignored(void)
{
	ok(run("-i", "-oi", "-oem", "-odi", "-B8BITMIME", "-bm", "-G", "-h5",
	    "-L", "tag", "-m", "-n", "-O", "opt=val", "-Ax", "-v", "a@b",
	    NULL) == EX_OK && nrcpts() == 1 && streq(rcpt(0), "a@b") &&
	    cl.override->mask == 0, "sendmail flags accepted and ignored");
	ok(run("-o", "x@y", NULL) == EX_OK && nrcpts() == 0,
	    "-o takes an argument, as in msmtp");
	ok(run("-t", "-i", "--", "-x@y", "-P", NULL) == EX_OK &&
	    nrcpts() == 2 && streq(rcpt(0), "-x@y") && streq(rcpt(1), "-P") &&
	    !cl.pretend, "after -- everything is a recipient");
	ok(run("a@b", "-t", NULL) == EX_OK && cl.read_recipients &&
	    nrcpts() == 1, "options after recipients (GNU permutation)");
}

static void
test_recipients(void)
{
	ok(run("a@b,c@d", NULL) == EX_OK && nrcpts() == 2 &&
	    streq(rcpt(0), "a@b") && streq(rcpt(1), "c@d"), "comma split");
	ok(run("Name <a@b>", "x@y", NULL) == EX_OK && nrcpts() == 2 &&
	    streq(rcpt(0), "a@b") && streq(rcpt(1), "x@y"),
	    "display name dropped");
	ok(run("\"q,uoted\" <d@w>, e@v (comment, with comma)", NULL) == EX_OK &&
	    nrcpts() == 2 && streq(rcpt(0), "d@w") && streq(rcpt(1), "e@v"),
	    "quotes and comments");
	ok(run("friends: a@x, b@y;, c@z", NULL) == EX_OK && nrcpts() == 3 &&
	    streq(rcpt(0), "a@x") && streq(rcpt(1), "b@y") &&
	    streq(rcpt(2), "c@z"), "group");
	ok(run("undisclosed-recipients:;", NULL) == EX_OK && nrcpts() == 0,
	    "empty group");
	ok(run(" , ,", NULL) == EX_OK && nrcpts() == 0, "empty elements");
	ok(run("< a@b >", NULL) == EX_OK && nrcpts() == 1 &&
	    streq(rcpt(0), "a@b"), "blanks inside <> dropped");
	ok(run("\"a b\"@c", NULL) == EX_OK && nrcpts() == 1 &&
	    streq(rcpt(0), "\"a b\"@c"), "quoted local part kept");
	ok(run("localuser", NULL) == EX_OK && streq(rcpt(0), "localuser"),
	    "alias without @ kept for the aliases file");
	ok(usage_error(run("a@b\r\nDATA", NULL),
	    "invalid recipient address a@b??DATA"), "CR LF in a recipient");
	ok(usage_error(run("N <a@b\n>", NULL),
	    "invalid recipient address a@b?"), "LF inside <>");
	ok(usage_error(run("N <a@b", NULL), "invalid recipient address N <a@b"),
	    "unclosed <");
}

static char *
capture(void (*fn)(FILE *))
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		exit(1);
	fn(fp);
	fclose(fp);
	return buf;
}

/* Descriptions start at column 32 unless the option text overflows. */
static int
help_layout(const char *h)
{
	const char	*line, *nl, *p;
	size_t		 n;

	for (line = h; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			return 0;
		n = (size_t)(nl - line);
		if (n > 80) {
			printf("# too long: %.*s\n", (int)n, line);
			return 0;
		}
		if (strncmp(line, "  -", 3) == 0) {
			p = strstr(line + 2, "  ");
			if (p == NULL || p > nl)
				continue;
		} else if (strncmp(line, "   ", 3) == 0)
			p = line;
		else
			continue;
		while (*p == ' ')
			p++;
		if (p - line != 31) {
			printf("# column: %.*s\n", (int)n, line);
			return 0;
		}
	}
	return 1;
}

static void
test_output(void)
{
	char	*h, *v, first[64];

	h = capture(cmdline_help);
	ok(strncmp(h, "Usage:\n\nSendmail mode (default):\n  postern [option...]"
	    " [--] recipient...\n", 70) == 0, "help starts as msmtp's");
	ok(strstr(h, "\nGeneral options:\n") && strstr(h,
	    "\nChanging the mode of operation:\n") && strstr(h,
	    "\nConfiguration options:\n") && strstr(h,
	    "\nOptions specific to sendmail mode:\n") && strstr(h,
	    "\nConfiguration mode:\n") && strstr(h,
	    "\nServer information mode:\n") && strstr(h,
	    "\nRemote Message Queue Starting mode:\n"), "help sections");
	ok(strstr(h, "\n  --port=number                set") != NULL,
	    "help descriptions start at column 32");
	ok(strstr(h, "\nAccepted but ignored: -A, -B, -bm, -G, -h, -i, -L, -m, "
	    "-n, -O, -o\n") != NULL, "accepted but ignored line");
	ok(strstr(h, "msmtp") == NULL, "help names postern only");
	ok(help_layout(h), "help layout");
	free(h);

	v = capture(cmdline_version);
	snprintf(first, sizeof(first), "postern version %s\nPlatform: ",
	    POSTERN_VERSION);
	ok(strncmp(v, first, strlen(first)) == 0, "version first lines");
	ok(strstr(v, "\nTLS/SSL library: libtls\n") != NULL, "TLS library");
	ok(strstr(v, "\nAuthentication library: ") != NULL &&
	    strstr(v, "\nSupported authentication methods:\n"
	    "scram-sha-256-plus ") != NULL &&
	    strstr(v, " xoauth2 \nUntested authentication methods") != NULL,
	    "authentication lines, in msmtp's order");
	ok(strstr(v, "\nUntested authentication methods (through Cyrus "
	    "SASL):\nntlm \nIDN support: ") != NULL &&
	    strstr(v, " ntlm ") == NULL, "NTLM is listed apart, as untested");
	ok(strstr(v, "\nKeyring support: Gnome \n") != NULL,
	    "key ring through secret-tool");
	ok(strstr(v, " \nIDN support: ") != NULL,
	    "method list ends with a space, as msmtp");
	ok(strstr(v, "\nSystem configuration file name: " SYSCONFDIR
	    "/posternrc\n") != NULL, "system file name");
	ok(strstr(v, "\nUser configuration file name: /h/.posternrc\n") != NULL,
	    "user file name is absolute");
	free(v);
}

int
main(void)
{
	memset(&cl, 0, sizeof(cl));
	TAILQ_INIT(&cl.rcpts);
	test_modes();
	test_from();
	test_settings();
	test_errors();
	test_ignored();
	test_recipients();
	test_output();
	cmdline_free(&cl);
	return tap_done();
}
