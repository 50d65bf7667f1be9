/*
 * The system-wide mode: postern installed setgid to a group (_postern)
 * that alone may read the relay secrets file.
 *
 * Every executable (postern and its three role executables, installed
 * setgid alike) calls sysmode_prologue() first thing.  When the file was
 * not started setgid it returns at once and nothing below applies.  Started
 * setgid, every role gets a clean start (descriptors, signals, timers,
 * umask, directory, core limit, environment); the parent, the reader and
 * the network process drop the group at once; the secrets process keeps
 * it only to read the one entry it needs from SECRETS_FILE.
 *
 * Accounts of the system configuration file are system accounts: the
 * invoking user cannot redefine them, nor point them elsewhere with an
 * option, nor have their dialogue shown.
 *
 * A system account's mail that cannot go out now goes to the system
 * queue (sysqueue.h), never to the user's home.
 */
#ifndef POSTERN_SYSMODE_H
#define POSTERN_SYSMODE_H

#include <sys/types.h>

#include <stddef.h>

#include "proto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR		"/etc"
#endif
/* Fixed when building; nothing at run time can change it. */
#ifndef PATH_SECRETS
#define PATH_SECRETS		SYSCONFDIR "/postern/secrets"
#endif
#define SECRETS_MAXSIZE		(64 * 1024)

/* Exit code of every refusal of this mode: EX_NOPERM. */
#define SYSMODE_REFUSED		77

struct cmdline;
struct config;
struct account;

/* One account's entry of the secrets file. */
struct sys_secret {
	char	*user;
	char	*password;
	char	*auth;		/* NULL: any mechanism; else the only one */
};

void	 sysmode_prologue(enum role);
int	 sysmode_active(void);
gid_t	 sysmode_group(void);
void	 sysmode_drop_group(void);
int	 sysmode_channel(int sp[2]);

/* Parent. */
int	 sysmode_load_system(const char *path, char *err, size_t errlen);
void	 sysmode_check_config(const struct config *);
void	 sysmode_check_host(const struct cmdline *);
int	 sysmode_is_system(const struct account *);
void	 sysmode_check_options(const struct cmdline *, const struct account *);
char	*sysmode_trace(const char *date);
const char *sysmode_user(void);
void	 sysmode_set_sender(uid_t);
uid_t	 sysmode_uid(void);

/* Secrets process. */
int	 sysmode_read_secret(const char *id, struct sys_secret *, char *err,
	    size_t errlen);
void	 sysmode_secret_free(struct sys_secret *);

#endif
