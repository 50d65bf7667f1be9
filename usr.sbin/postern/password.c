/*
 * Password sources of the secrets process, in msmtp's order and with its
 * semantics.  They run before the process locks itself down: after that
 * it can neither open a file nor start a program.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"
#include "password.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define NETRC_MAX	(1024 * 1024)
#define TOKEN_MAX	4096

/* msmtp links libsecret; we run its command-line client from a fixed path. */
static const char *secret_tools[] = {
	"/usr/bin/secret-tool",
	"/usr/local/bin/secret-tool",
	NULL
};

static void
wipe(char *p, size_t len)
{
	if (p != NULL)
		freezero(p, len);
}

/* As capture_run(), but a program that cannot be started is fatal. */
static int
run_capture(struct capture *c, const char *path, char *const argv[],
    int flags, int timeout)
{
	int	 rc;

	if ((rc = capture_run(c, path, argv, flags, timeout,
	    PASSWORD_MAX)) == CAPTURE_ESTART)
		fatal("%s", c->err);
	return rc;
}

/*
 * The keyring, through secret-tool, with the attributes msmtp stores
 * (host, service smtp, user) and then those of libsecret's network
 * schema that msmtp also reads (user, protocol smtp, server).  A missing
 * tool, session bus or entry just means "not there".
 */
char *
password_keyring(const char *host, const char *user)
{
	char		*argv1[] = { (char *)(uintptr_t)"secret-tool",
			    (char *)(uintptr_t)"lookup",
			    (char *)(uintptr_t)"host", (char *)(uintptr_t)host,
			    (char *)(uintptr_t)"service",
			    (char *)(uintptr_t)"smtp",
			    (char *)(uintptr_t)"user", (char *)(uintptr_t)user,
			    NULL };
	char		*argv2[] = { (char *)(uintptr_t)"secret-tool",
			    (char *)(uintptr_t)"lookup",
			    (char *)(uintptr_t)"user", (char *)(uintptr_t)user,
			    (char *)(uintptr_t)"protocol",
			    (char *)(uintptr_t)"smtp",
			    (char *)(uintptr_t)"server", (char *)(uintptr_t)host,
			    NULL };
	char *const	*argvs[] = { argv1, argv2 };
	struct capture	 c;
	const char	*tool = NULL;
	size_t		 i;

	for (i = 0; secret_tools[i] != NULL; i++)
		if (access(secret_tools[i], X_OK) == 0) {
			tool = secret_tools[i];
			break;
		}
	if (tool == NULL || getenv("DBUS_SESSION_BUS_ADDRESS") == NULL)
		return NULL;
	for (i = 0; i < 2; i++) {
		if (run_capture(&c, tool, argvs[i], CAPTURE_QUIET,
		    PASSWORD_EVAL_TIMEOUT) != 0)
			continue;
		if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 &&
		    c.len > 0 && memchr(c.out, '\0', c.len) == NULL)
			return c.out;
		wipe(c.out, PASSWORD_MAX + 1);
	}
	return NULL;
}

/* Next netrc token: white space separated, or "quoted" with \ escapes. */
static int
netrc_token(const char **pp, char *tok, size_t toksz)
{
	const char	*p = *pp;
	size_t		 n = 0;

	while (*p != '\0' && isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < toksz)
				tok[n++] = *p;
		}
		if (*p == '"')
			p++;
	} else
		for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < toksz)
				tok[n++] = *p;
		}
	tok[n] = '\0';
	*pp = p;
	return 1;
}

/*
 * Look up "machine HOST login USER password P" (or a "default" entry)
 * in one netrc file.  As msmtp, the file's permissions are not checked.
 */
char *
password_netrc(const char *path, const char *host, const char *user)
{
	char		*text, *tok, *result = NULL, *pw = NULL, *login = NULL;
	const char	*p;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, in_entry = 0, matches = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((text = malloc(NETRC_MAX + 1)) == NULL ||
	    (tok = malloc(TOKEN_MAX)) == NULL)
		fatal("malloc");
	while (len < NETRC_MAX && (n = read(fd, text + len,
	    NETRC_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	p = text;
	for (;;) {
		int more = netrc_token(&p, tok, TOKEN_MAX);

		/* An entry ends where the next one (or the file) begins. */
		if (!more || strcmp(tok, "machine") == 0 ||
		    strcmp(tok, "default") == 0 || strcmp(tok, "macdef") == 0) {
			if (in_entry && matches && pw != NULL &&
			    (login == NULL || strcmp(login, user) == 0)) {
				result = pw;
				pw = NULL;
				break;
			}
			wipe(pw, strlen(pw != NULL ? pw : "") + 1);
			free(login);
			pw = login = NULL;
			in_entry = matches = 0;
		}
		if (!more)
			break;
		if (strcmp(tok, "machine") == 0) {
			if (!netrc_token(&p, tok, TOKEN_MAX))
				break;
			in_entry = 1;
			matches = strcasecmp(tok, host) == 0;
		} else if (strcmp(tok, "default") == 0)
			in_entry = matches = 1;
		else if (strcmp(tok, "macdef") == 0) {
			/* A macro runs to the next empty line. */
			const char *e = strstr(p, "\n\n");

			p = e != NULL ? e + 2 : p + strlen(p);
		} else if (strcmp(tok, "login") == 0) {
			if (!netrc_token(&p, tok, TOKEN_MAX))
				break;
			free(login);
			if ((login = strdup(tok)) == NULL)
				fatal("strdup");
		} else if (strcmp(tok, "password") == 0) {
			if (!netrc_token(&p, tok, TOKEN_MAX))
				break;
			wipe(pw, strlen(pw != NULL ? pw : "") + 1);
			if ((pw = strdup(tok)) == NULL)
				fatal("strdup");
		} else if (strcmp(tok, "account") == 0)
			(void)netrc_token(&p, tok, TOKEN_MAX);
	}
	wipe(pw, strlen(pw != NULL ? pw : "") + 1);
	free(login);
	freezero(tok, TOKEN_MAX);
	freezero(text, NETRC_MAX + 1);
	return result;
}

/* As getpass(3) in msmtp: only from a terminal, never from stdin. */
char *
password_prompt(const char *host, const char *user)
{
	char	 prompt[512], *buf, *pw;

	snprintf(prompt, sizeof(prompt), "password for %s at %s: ", user,
	    host);
	if ((buf = malloc(TOKEN_MAX)) == NULL)
		fatal("malloc");
	if (readpassphrase(prompt, buf, TOKEN_MAX, RPP_REQUIRE_TTY) == NULL) {
		freezero(buf, TOKEN_MAX);
		return NULL;
	}
	pw = strdup(buf);
	freezero(buf, TOKEN_MAX);
	if (pw == NULL)
		fatal("strdup");
	return pw;
}

static const char *
home_dir(void)
{
	const char	*h;
	struct passwd	*pw;

	if ((h = getenv("HOME")) != NULL && *h != '\0')
		return h;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_dir;
	return NULL;
}

/*
 * What msmtp does when an authentication method needs a password and the
 * configuration gave none.  sysnetrc NULL means SYSCONFDIR/netrc.
 */
char *
password_find(const char *host, const char *user, const char *sysnetrc)
{
	char		 path[1024];
	const char	*home;
	char		*pw;

	if ((pw = password_keyring(host, user)) != NULL)
		return pw;
	if ((home = home_dir()) != NULL &&
	    snprintf(path, sizeof(path), "%s/.netrc", home) <
	    (int)sizeof(path) &&
	    (pw = password_netrc(path, host, user)) != NULL)
		return pw;
	if ((pw = password_netrc(sysnetrc != NULL ? sysnetrc :
	    SYSCONFDIR "/netrc", host, user)) != NULL)
		return pw;
	return password_prompt(host, user);
}
