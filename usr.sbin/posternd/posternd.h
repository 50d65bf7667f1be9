/*
 * posternd: what the roles share.  The options the listener parsed, the
 * entry point of each role, and the RFC 5321 checks that the session and
 * the listener both apply (validate at every boundary).
 */
#ifndef POSTERND_H
#define POSTERND_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "iowait.h"
#include "proto.h"

#ifndef PATH_CHROOT
#define PATH_CHROOT		"/var/empty"
#endif
#define POSTERND_USER		"_posternd"
#define POSTERND_USER_FALLBACK	"nobody"

#define DEF_TIMEOUT		300	/* RFC 5321 4.5.3.2: minutes, not seconds */
#define DEF_SESSION_TIMEOUT	1800
#define DEF_COMMAND_TIMEOUT	600
#define DEF_MAX_SESSIONS	256
#define DEF_MAX_RECIPIENTS	100	/* RFC 5321 4.5.3.1.8: at least 100 */
#define DEF_MAX_AUTH_FAILURES	3
#define DEF_MAX_LINE_LENGTH	65536
#define DEF_MAX_MESSAGE_SIZE	10240000ULL
#define DEF_AUTH_DELAY		1000	/* ms */

#define TLS_FILE_MAX		(1024 * 1024)	/* certificate chain, key */
#define CMD_LINE_MAX		2048	/* a command line, CRLF included */
#define MAILBOX_MAX		254	/* RFC 5321 4.5.3.1.3: path <= 256 */

enum log_mode {
	LOGTO_NONE,
	LOGTO_SYSLOG,
	LOGTO_FILE,
};

struct conf {
	int		 inetd;
	const char	*interface;
	const char	*port;
	enum log_mode	 logmode;
	const char	*logfile;
	const char	*command;
	const char	*auth_user;
	const char	*auth_eval;	/* NULL: ask on the terminal */
	const char	*tls_cert_file;
	const char	*tls_key_file;
	int		 tls_starttls;	/* 0: implicit TLS */
	const char	*domain;
	const char	*user;		/* sessions, when started as root */
	const char	*chroot;
	const char	*command_user;
	int		 crlf;
	unsigned int	 timeout;
	unsigned int	 session_timeout;
	unsigned int	 command_timeout;
	unsigned int	 max_sessions;
	unsigned int	 max_recipients;
	unsigned int	 max_auth_failures;
	unsigned int	 max_line_length;
	unsigned int	 auth_delay;
	uint64_t	 max_message_size;
};

int	listener_main(struct conf *);
int	session_server_main(char *);
int	auth_main(void);

/* roles.c: every role executable */
const char *role_name(enum role);
void	role_start(enum role, int, char *[]);
void	role_tie_to_listener(void);

/* proc.c: the listener starts the others */
extern const char	posternd_libexec[];	/* libexec.c */

void	proc_init(int);
pid_t	proc_spawn(enum role, int, int, int);

void	sandbox_prepare(enum role);
void	sandbox_lockdown(enum role);

/* rfc5321.c */
#define PATH_NULLOK	0x1	/* "<>" allowed (MAIL FROM) */
#define PATH_LOCALOK	0x2	/* a local part without domain allowed */

int	rfc5321_path(const char *, int, char *, size_t, const char **);
int	rfc5321_mailbox(const char *, int);
int	rfc5321_domain(const char *, size_t);
int	rfc5321_literal(const char *, size_t);

#endif
