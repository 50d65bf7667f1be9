/*
 * Where the secrets process finds a password, in msmtp's order: the
 * configuration (password, passwordeval), the keyring, ~/.netrc and the
 * system netrc, and last a prompt on the terminal.  Everything here opens
 * files or runs programs, so it all happens before the process locks
 * itself down.  Every string returned is malloc'ed and is to be freed
 * with freezero(p, strlen(p) + 1).
 */
#ifndef POSTERN_PASSWORD_H
#define POSTERN_PASSWORD_H

#include <stddef.h>

#define PASSWORD_EVAL_TIMEOUT	60	/* seconds */
#define PASSWORD_MAX		(64 * 1024)	/* OAuth tokens can be long */

char	*password_keyring(const char *, const char *);
char	*password_netrc(const char *, const char *, const char *);
char	*password_prompt(const char *, const char *);
char	*password_find(const char *, const char *, const char *);

#endif
