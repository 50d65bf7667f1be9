/*
 * Accounts and configuration files, compatible with msmtp 1.8.23.
 *
 * Sequence used by the parent process:
 *
 *	config_init(&cf);
 *	if (!cmdline.host)                  (--host: no file is read at all)
 *		rc = config_load(&cf, cmdline.file, err, sizeof(err));
 *	rc = config_select(&cf, &sel, &acc, err, sizeof(err));
 *	rc = account_finalize(acc, flags, err, sizeof(err));
 *	if (pretend || debug)
 *		account_print(stdout, acc, pflags, rmqs);
 *
 * Every function that can fail returns a sysexits(3) code (EX_OK on
 * success) and writes msmtp's message without the program name into err;
 * none prints or exits.  The notes of cf (the "loaded ..." and "falling back
 * ..." lines of msmtp) are collected whether the call failed or not, and
 * are printed on stdout before the message with --pretend or --debug.
 *
 * Where postern knowingly differs from msmtp 1.8.23, it follows later msmtp
 * releases or closes a hole: "user+tag@dom" also matches a wildcard from
 * (msmtp bug #132, fixed in 1.8.25); from_full_name and the SCRAM -PLUS
 * methods are accepted (msmtp >= 1.8.24); an empty allow_from_override is
 * "on" like every other switch; the permission rule is checked with fstat()
 * on the file that was read, not stat() on its name; an eval line may
 * produce another eval only 16 levels deep.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR		"/etc"
#endif
#define CONF_SYSTEM_FILE	SYSCONFDIR "/posternrc"
#define CONF_USER_FILE		".posternrc"	/* in $HOME */
#define CONF_XDG_FILE		"postern/config" /* in $XDG_CONFIG_HOME */
#define CONF_MAILNAME		SYSCONFDIR "/mailname"
#define CONF_MAXLINE		500	/* longest line of a file, newline included */

/* Bits of account.mask: which settings were given explicitly. */
#define ACC_HOST			(1ULL << 0)
#define ACC_PORT			(1ULL << 1)
#define ACC_SOURCE_IP			(1ULL << 2)
#define ACC_PROXY_HOST			(1ULL << 3)
#define ACC_PROXY_PORT			(1ULL << 4)
#define ACC_SOCKET			(1ULL << 5)
#define ACC_TIMEOUT			(1ULL << 6)
#define ACC_PROTOCOL			(1ULL << 7)
#define ACC_DOMAIN			(1ULL << 8)
#define ACC_AUTH			(1ULL << 9)
#define ACC_USER			(1ULL << 10)
#define ACC_PASSWORD			(1ULL << 11)
#define ACC_PASSWORDEVAL		(1ULL << 12)
#define ACC_NTLMDOMAIN			(1ULL << 13)
#define ACC_TLS				(1ULL << 14)
#define ACC_TLS_STARTTLS		(1ULL << 15)
#define ACC_TLS_TRUST_FILE		(1ULL << 16)
#define ACC_TLS_CRL_FILE		(1ULL << 17)
#define ACC_TLS_FINGERPRINT		(1ULL << 18)
#define ACC_TLS_KEY_FILE		(1ULL << 19)
#define ACC_TLS_CERT_FILE		(1ULL << 20)
#define ACC_TLS_CERTCHECK		(1ULL << 21)
#define ACC_TLS_MIN_DH_PRIME_BITS	(1ULL << 22)
#define ACC_TLS_PRIORITIES		(1ULL << 23)
#define ACC_TLS_HOST_OVERRIDE		(1ULL << 24)
#define ACC_FROM			(1ULL << 25)
#define ACC_FROM_FULL_NAME		(1ULL << 26)
#define ACC_AUTO_FROM			(1ULL << 27)
#define ACC_MAILDOMAIN			(1ULL << 28)
#define ACC_ALLOW_FROM_OVERRIDE		(1ULL << 29)
#define ACC_SET_FROM_HEADER		(1ULL << 30)
#define ACC_SET_DATE_HEADER		(1ULL << 31)
#define ACC_SET_MSGID_HEADER		(1ULL << 32)
#define ACC_REMOVE_BCC_HEADERS		(1ULL << 33)
#define ACC_UNDISCLOSED_RECIPIENTS	(1ULL << 34)
#define ACC_DSN_NOTIFY			(1ULL << 35)
#define ACC_DSN_RETURN			(1ULL << 36)
#define ACC_LOGFILE			(1ULL << 37)
#define ACC_LOGFILE_TIME_FORMAT		(1ULL << 38)
#define ACC_SYSLOG			(1ULL << 39)
#define ACC_ALIASES			(1ULL << 40)
#define ACC_QUEUE			(1ULL << 41)
#define ACC_QUEUE_DIR			(1ULL << 42)
#define ACC_QUEUE_LIFETIME		(1ULL << 43)
#define ACC_QUEUE_NOTIFY		(1ULL << 44)

#define PROTO_SMTP		0
#define PROTO_LMTP		1

/* set_from_header, set_date_header, set_msgid_header */
#define HDR_AUTO		0
#define HDR_ON			1
#define HDR_OFF			2

/* Where the account came from; decides the "using ..." line. */
#define ORIGIN_FILE		0	/* an account of a configuration file */
#define ORIGIN_CMDLINE		1	/* --host */
#define ORIGIN_ENV		2	/* EMAIL and SMTPSERVER */

#define FPR_MAXLEN		32	/* SHA-256 */

/*
 * One account.  A NULL string is "not set".  Strings are allocated; the
 * password is wiped when the account is freed.
 */
struct account {
	TAILQ_ENTRY(account) entry;
	char		*id;
	char		*conffile;	/* file that defined it, or NULL */
	int		 origin;	/* ORIGIN_* */
	uint64_t	 mask;		/* ACC_* bits set explicitly */

	char		*host;
	int		 port;		/* 0: derived by account_finalize() */
	char		*source_ip;
	char		*proxy_host;
	int		 proxy_port;	/* 0: 1080 once a proxy is set */
	char		*socket;
	int		 timeout;	/* seconds, 0 = off */
	int		 protocol;	/* PROTO_* */
	char		*domain;	/* EHLO argument, default "localhost" */
	char		*auth;		/* NULL = off, "" = choose, or "PLAIN" ... */
	char		*user;
	char		*password;
	char		*passwordeval;
	char		*ntlmdomain;
	int		 tls;
	int		 tls_starttls;
	char		*tls_trust_file;	/* default "system"; NULL = none */
	char		*tls_crl_file;
	unsigned char	 tls_fingerprint[FPR_MAXLEN];
	size_t		 tls_fingerprint_len;	/* 0, 16 (MD5), 20 (SHA-1), 32 */
	char		*tls_key_file;
	char		*tls_cert_file;
	int		 tls_certcheck;
	int		 tls_min_dh_prime_bits;	/* -1 = not set */
	char		*tls_priorities;
	char		*tls_host_override;

	char		*from;		/* "" is the null sender */
	char		*from_full_name;
	int		 auto_from;
	char		*maildomain;
	int		 allow_from_override;
	int		 set_from_header;	/* HDR_* */
	int		 set_date_header;	/* HDR_AUTO or HDR_OFF */
	int		 set_msgid_header;	/* HDR_AUTO or HDR_OFF */
	int		 remove_bcc_headers;
	int		 undisclosed_recipients;
	char		*dsn_notify;	/* NULL = off, else e.g. "FAILURE,DELAY" */
	char		*dsn_return;	/* NULL = off, "HDRS" or "FULL" */
	char		*logfile;	/* "-" = stdout */
	char		*logfile_time_format;
	char		*syslog;	/* NULL = off, else "LOG_USER" ... */
	char		*aliases;
	int		 queue;		/* queue on temporary failure */
	char		*queue_dir;	/* NULL: the default spool */
	char		*queue_lifetime;	/* "5d", "12h"...; NULL: 5 days */
	int		 queue_notify;	/* notice to the sender on failure */
};
TAILQ_HEAD(accountlist, account);

struct conf_note {
	TAILQ_ENTRY(conf_note) entry;
	char		*text;
};
TAILQ_HEAD(conf_notes, conf_note);

struct config {
	struct accountlist accounts;	/* system-only accounts, then user ones */
	struct conf_notes notes;	/* lines for --pretend and --debug */
	char		*sysfile;	/* loaded system file, or NULL */
	char		*userfile;	/* loaded user file, or NULL */
};

/* Account selection: what the command line and the mail say. */
struct selector {
	const char	*account;	/* -a ID, or NULL */
	int		 cmdline_host;	/* --host: the override is the account */
	const char	*envelope_from;	/* -f, or From: with --read-envelope-from */
	int		 need_from;	/* sendmail mode: EMAIL or -f is needed */
	const struct account *override;	/* command-line settings, or NULL */
};

/* account_set() results; the message in err is msmtp's line message. */
#define SET_OK			0
#define SET_UNKNOWN		1	/* unknown command X */
#define SET_NEEDARG		2	/* command X needs an argument */
#define SET_NOARG		3	/* command X does not take an argument */
#define SET_INVALID		4	/* invalid argument V for command X */

/* account_finalize() flags */
#define FIN_SENDMAIL		0x01	/* sendmail mode: a from is required */
#define FIN_PRETEND		0x02	/* --pretend: a missing from is fine */

/* account_print() flags */
#define PRINT_SENDMAIL		0x01	/* print the sendmail-mode settings */
#define PRINT_FROM_MAIL		0x02	/* --read-envelope-from */
#define PRINT_RCPT_MAIL		0x04	/* -t */

struct account	*account_new(const char *conffile, const char *id);
struct account	*account_dup(const struct account *);
void		 account_free(struct account *);
/* Copy into dst every setting whose bit is set in src->mask. */
void		 account_override(struct account *dst, const struct account *src);
/*
 * Apply one configuration command ("host", "tls_starttls", ...) with its
 * argument (never NULL; "" is the empty argument) and record it in the
 * mask.  File names are tilde-expanded.  Shared by the file parser and
 * the command line so that both accept exactly the same values.
 */
int		 account_set(struct account *, const char *cmd, const char *arg,
		    char *err, size_t errlen);
/* Parse "AA:BB:..." (32, 20 or 16 bytes); returns the length or -1. */
int		 account_parse_fingerprint(const char *, unsigned char *,
		    size_t);

void		 config_init(struct config *);
void		 config_clear(struct config *);
void		 config_note(struct config *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* One line of the grammar: its command and argument; 0 if blank. */
int		 config_split_line(char *, char **, char **);
/*
 * Parse one file into list (appended), as msmtp's parser does.  *secrets
 * is set when the file itself contains a password command.  Errors:
 * EX_CONFIG "FILE: line N: ...", EX_IOERR for eval failures.
 */
int		 config_parse_fp(FILE *, const char *name,
		    struct accountlist *list, int *secrets, char *err, size_t);
/*
 * Read the system file, then the user file (userfile from -C, or the
 * default one when NULL), with msmtp's permission rule for the user file.
 */
int		 config_load(struct config *, const char *userfile, char *err,
		    size_t);
/* The same with another system file, or none when sysfile is NULL. */
int		 config_load_paths(struct config *, const char *sysfile,
		    const char *userfile, char *err, size_t);
/* Insecure user file containing a password?  EX_OK, EX_CONFIG or EX_IOERR. */
int		 config_check_secure(int fd, const char *name, char *err,
		    size_t);
struct account	*config_find(struct config *, const char *id);
struct account	*config_find_by_from(struct config *, const char *addr);
/*
 * Choose the account as msmtp does (-a, --host, envelope-from, "default",
 * EMAIL and SMTPSERVER), return a copy with the command-line settings
 * applied and, when allowed, the envelope-from as from.
 */
int		 config_select(struct config *, const struct selector *,
		    struct account **, char *err, size_t);
/*
 * Derive the defaults (port, proxy port), apply auto_from, expand
 * %U %H %C %M in from and domain, and check the account (EX_CONFIG).
 */
int		 account_finalize(struct account *, int flags, char *err,
		    size_t);
/* msmtp 1.8.23's --pretend block, the "using account" line first. */
void		 account_print(FILE *, const struct account *, int flags,
		    const char *rmqs);

/* Helpers shared with the command line. */
char		*conf_expand_tilde(const char *);
const char	*conf_homedir(void);
const char	*conf_username(void);

#endif
