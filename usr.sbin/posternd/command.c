#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "capture.h"
#include "command.h"
#include "log.h"

#define CMD_PATH	"/usr/local/bin:/usr/bin:/bin"

static int
add_word(struct command *c, const char *w, size_t len)
{
	char	**nw;

	if ((nw = reallocarray(c->words, c->nwords + 2, sizeof(*nw))) == NULL)
		return -1;
	c->words = nw;
	if ((nw[c->nwords] = strndup(w, len)) == NULL)
		return -1;
	nw[++c->nwords] = NULL;
	return 0;
}

/*
 * Split the command as a shell would split words, quotes and backslashes
 * included, and refuse everything else a shell would interpret: msmtpd
 * ran this string with popen(), posternd runs no shell at all, so a
 * redirection or a substitution cannot silently become an argument.
 */
static int
split(struct command *c, const char *s, char *err, size_t errsz)
{
	char	*w;
	size_t	 len = 0;
	int	 inword = 0;

	if ((w = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (;;) {
		if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
			if (inword && add_word(c, w, len) == -1)
				goto fail;
			inword = 0;
			len = 0;
			if (*s++ == '\0')
				break;
			continue;
		}
		if (!inword && (*s == '#' || *s == '~'))
			goto shell;
		inword = 1;
		if (*s == '\'') {
			for (s++; *s != '\'' && *s != '\0'; s++)
				w[len++] = *s;
			if (*s++ == '\0')
				goto unbalanced;
		} else if (*s == '"') {
			for (s++; *s != '"' && *s != '\0'; s++) {
				if (*s == '$' || *s == '`')
					goto shell;
				if (*s == '\\' && s[1] != '\0' &&
				    strchr("\"\\$`", s[1]) != NULL)
					s++;
				w[len++] = *s;
			}
			if (*s++ == '\0')
				goto unbalanced;
		} else if (*s == '\\') {
			if (s[1] == '\0')
				goto unbalanced;
			w[len++] = s[1];
			s += 2;
		} else if (strchr("|&;<>()$`*?[", *s) != NULL) {
			goto shell;
		} else
			w[len++] = *s++;
	}
	free(w);
	return 0;
shell:
	snprintf(err, errsz, "--command: '%c' needs a shell, and posternd "
	    "runs none: put the pipeline into a script", *s);
	free(w);
	return -1;
unbalanced:
	snprintf(err, errsz, "--command: unbalanced quote or backslash");
fail:
	free(w);
	return -1;
}

static char *
search_path(const char *name, const char *selfdir)
{
	char		 buf[4096];
	char		*path, *p;
	const char	*env, *dir;

	if (selfdir != NULL && snprintf(buf, sizeof(buf), "%s/%s", selfdir,
	    name) < (int)sizeof(buf) && access(buf, X_OK) == 0)
		return realpath(buf, NULL);
	if ((env = getenv("PATH")) == NULL)
		env = CMD_PATH;
	if ((path = strdup(env)) == NULL)
		return NULL;
	for (p = path; (dir = strsep(&p, ":")) != NULL;) {
		if (*dir == '\0')
			dir = ".";
		if (snprintf(buf, sizeof(buf), "%s/%s", dir, name) >=
		    (int)sizeof(buf))
			continue;
		if (access(buf, X_OK) == 0) {
			free(path);
			return realpath(buf, NULL);
		}
	}
	free(path);
	return NULL;
}

static int
add_env(char ***envp, size_t *n, const char *name, const char *value)
{
	char	**ne;

	if (value == NULL)
		return 0;
	if ((ne = reallocarray(*envp, *n + 2, sizeof(*ne))) == NULL)
		return -1;
	*envp = ne;
	if (asprintf(&ne[*n], "%s=%s", name, value) == -1)
		return -1;
	ne[++*n] = NULL;
	return 0;
}

/* Everything command_parse and command_user allocated; c is zeroed. */
void
command_free(struct command *c)
{
	size_t	 i;

	for (i = 0; c->words != NULL && i < c->nwords; i++)
		free(c->words[i]);
	free(c->words);
	for (i = 0; c->envp != NULL && c->envp[i] != NULL; i++)
		free(c->envp[i]);
	free(c->envp);
	free(c->path);
	free(c->groups);
	memset(c, 0, sizeof(*c));
	c->fword = -1;
}

/*
 * Parse the command.  selfdir is where posternd itself lives: the default
 * command names postern, installed beside it.  On failure nothing stays
 * allocated.
 */
int
command_parse(struct command *c, const char *cmd, const char *selfdir,
    char *err, size_t errsz)
{
	struct passwd	*pw;
	size_t		 i, n = 0;
	const char	*home, *user;

	memset(c, 0, sizeof(*c));
	c->fword = -1;
	if (split(c, cmd, err, errsz) == -1)
		goto fail;
	if (c->nwords == 0) {
		snprintf(err, errsz, "--command: empty command");
		goto fail;
	}
	for (i = 0; i < c->nwords; i++)
		if (strstr(c->words[i], "%F") != NULL) {
			c->fword = (ssize_t)i;
			break;
		}
	c->dashdash = c->nwords > 1 &&
	    strcmp(c->words[c->nwords - 1], "--") == 0;
	if (strchr(c->words[0], '/') != NULL)
		c->path = realpath(c->words[0], NULL);
	else
		c->path = search_path(c->words[0], selfdir);
	if (c->path == NULL || access(c->path, X_OK) == -1) {
		snprintf(err, errsz, "--command: cannot find %s: %s",
		    c->words[0], strerror(errno ? errno : ENOENT));
		goto fail;
	}

	/* The environment: where to look, and whose home. */
	pw = getpwuid(getuid());
	home = getenv("HOME");
	if (home == NULL && pw != NULL)
		home = pw->pw_dir;
	user = pw != NULL ? pw->pw_name : getenv("USER");
	if (add_env(&c->envp, &n, "PATH", CMD_PATH) == -1 ||
	    add_env(&c->envp, &n, "HOME", home) == -1 ||
	    add_env(&c->envp, &n, "USER", user) == -1 ||
	    add_env(&c->envp, &n, "LOGNAME", user) == -1 ||
	    add_env(&c->envp, &n, "TZ", getenv("TZ")) == -1)
		goto nomem;
	if (c->envp == NULL && (c->envp = calloc(1, sizeof(char *))) == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errsz, "--command: out of memory");
fail:
	command_free(c);
	return -1;
}

/* Run the command as another user (only root can). */
int
command_user(struct command *c, const char *name, char *err, size_t errsz)
{
	struct passwd	*pw;
	size_t		 i, n = 0;
	int		 ng = 64;

	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errsz, "--command-user: no user %s", name);
		return -1;
	}
	if (pw->pw_uid == getuid())
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errsz, "--command-user: only root can run the "
		    "command as %s", name);
		return -1;
	}
	c->setuser = 1;
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	for (;;) {
		free(c->groups);
		if ((c->groups = reallocarray(NULL, (size_t)ng,
		    sizeof(gid_t))) == NULL)
			return -1;
		c->ngroups = ng;
		if (getgrouplist(pw->pw_name, pw->pw_gid, c->groups,
		    &c->ngroups) != -1)
			break;
		if (ng >= 65536)
			return -1;
		ng *= 2;
	}
	for (i = 0; c->envp[i] != NULL; i++)
		free(c->envp[i]);
	free(c->envp);
	c->envp = NULL;
	if (add_env(&c->envp, &n, "PATH", CMD_PATH) == -1 ||
	    add_env(&c->envp, &n, "HOME", pw->pw_dir) == -1 ||
	    add_env(&c->envp, &n, "USER", pw->pw_name) == -1 ||
	    add_env(&c->envp, &n, "LOGNAME", pw->pw_name) == -1 ||
	    add_env(&c->envp, &n, "TZ", getenv("TZ")) == -1)
		return -1;
	return 0;
}

/*
 * The argument vector for one message: the template with the first %F
 * replaced by the sender inside its word, then every recipient as an
 * argument of its own.
 */
char **
command_argv(const struct command *c, const char *from, char *const *rcpts,
    size_t nrcpt)
{
	char		**argv;
	const char	 *p;
	size_t		  i, n = 0;

	if ((argv = calloc(c->nwords + nrcpt + 1, sizeof(*argv))) == NULL)
		return NULL;
	for (i = 0; i < c->nwords; i++, n++) {
		if ((ssize_t)i == c->fword) {
			p = strstr(c->words[i], "%F");
			if (asprintf(&argv[n], "%.*s%s%s",
			    (int)(p - c->words[i]), c->words[i], from,
			    p + 2) == -1) {
				argv[n] = NULL;
				goto fail;
			}
		} else if ((argv[n] = strdup(c->words[i])) == NULL)
			goto fail;
	}
	for (i = 0; i < nrcpt; i++, n++)
		if ((argv[n] = strdup(rcpts[i])) == NULL)
			goto fail;
	argv[n] = NULL;
	return argv;
fail:
	command_argv_free(argv);
	return NULL;
}

void
command_argv_free(char **argv)
{
	size_t	 i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/*
 * The signals a program the listener starts gets back at their default:
 * those the listener catches (its handlers must never run in a child
 * that shares its memory, and exec resets them only at the end) or
 * ignores, and those posternd was started with ignored, which exec would
 * hand on (a command's alarm() would never ring).
 */
static void
signals_changed(sigset_t *set)
{
	struct sigaction	 sa;
	int			 sig;

	sigemptyset(set);
	/* The listener's own, even before it has set them up. */
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGPIPE);
	sigaddset(set, SIGHUP);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(set, sig);
}

/*
 * Read once: what posternd was started with does not change, and the
 * listener's own are in the set whenever it is read.
 */
static const sigset_t *
signals_to_reset(void)
{
	static sigset_t	 set;
	static int	 done;

	if (!done) {
		signals_changed(&set);
		done = 1;
	}
	return &set;
}

/*
 * In a child about to exec: the signals of set back at their default,
 * then none blocked.  System calls only.
 */
static int
signals_reset(const sigset_t *set)
{
	struct sigaction	 sa;
	sigset_t		 none;
	int			 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) == 1 &&
		    sigaction(sig, &sa, NULL) == -1)
			return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * dup2, but also when from already is to: dup2 then does nothing, and
 * the descriptor would keep its close-on-exec flag.
 */
static int
fd_move(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) == -1 ? -1 : 0;
}

/*
 * Close every descriptor above STDERR_FILENO without allocating (a child
 * sharing the listener's memory cannot call malloc): close_range, and on
 * kernels without it (before 5.9) or under a filter that refuses it, the
 * numbers /proc/self/fd lists, read into a buffer on the stack.  Only
 * without /proc every number below the descriptor limit, which can be
 * slow.
 */
static int
close_above_stderr(void)
{
#ifdef __linux__
	_Alignas(8) char	 buf[1024];
	struct dirent64		*d;
	struct rlimit		 rl;
	ssize_t			 n, off;
	long			 fd;
	int			 dfd, closed;
	char			*p;

	if (syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, 0) == 0)
		return 0;
	n = -1;
	if ((dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		do {
			closed = 0;
			if (lseek(dfd, 0, SEEK_SET) == -1)
				break;
			while ((n = getdents64(dfd, buf, sizeof(buf))) > 0) {
				for (off = 0; off < n; off += d->d_reclen) {
					d = (struct dirent64 *)(buf + off);
					for (fd = 0, p = d->d_name; *p >= '0' &&
					    *p <= '9' && fd <= INT_MAX; p++)
						fd = fd * 10 + (*p - '0');
					if (p == d->d_name || *p != '\0' ||
					    fd <= STDERR_FILENO ||
					    fd > INT_MAX || fd == dfd)
						continue;
					(void)close((int)fd);
					closed = 1;
				}
			}
		} while (closed && n == 0);
		(void)close(dfd);
		if (n == 0)
			return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	for (fd = STDERR_FILENO + 1; (rlim_t)fd < rl.rlim_cur && fd < INT_MAX;
	    fd++)
		(void)close((int)fd);
	return 0;
#else
	/* A system call on OpenBSD. */
	closefrom(STDERR_FILENO + 1);
	return 0;
#endif
}

/* The user switch needs fork: posix_spawn cannot drop privileges. */
static pid_t
start_as_user(const struct command *c, char **argv, int in, int null,
    int errfd)
{
	const sigset_t	*reset = signals_to_reset();
	pid_t		 pid;

	if ((pid = fork()) != 0)
		return pid;
	if (setsid() == -1 || signals_reset(reset) == -1)
		_exit(EX_OSERR);
	if (setgroups((size_t)c->ngroups, c->groups) == -1 ||
	    setresgid(c->gid, c->gid, c->gid) == -1 ||
	    setresuid(c->uid, c->uid, c->uid) == -1)
		_exit(EX_OSERR);
	if (errfd == -1)
		errfd = null;
	if (fd_move(in, STDIN_FILENO) == -1 ||
	    fd_move(null, STDOUT_FILENO) == -1 ||
	    fd_move(errfd, STDERR_FILENO) == -1 ||
	    close_above_stderr() == -1)
		_exit(EX_OSERR);
	execve(c->path, argv, c->envp);
	_exit(EXIT_NOEXEC);
}

/*
 * posix_spawn (a vfork underneath, which spares the listener's pages a
 * fork's copy-on-write) with the signal state a new program expects:
 * nothing blocked, nothing ignored (signals_to_reset()).  flags adds to
 * the attributes.  Returns 0 or an errno value, as posix_spawn does.
 */
int
command_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, short flags, char *const argv[],
    char *const envp[])
{
	posix_spawnattr_t	 sa;
	sigset_t		 none;
	int			 rc;

	sigemptyset(&none);
	if ((rc = posix_spawnattr_init(&sa)) != 0)
		return rc;
	rc = posix_spawnattr_setflags(&sa, (short)(flags |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&sa, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&sa, signals_to_reset());
	if (rc == 0)
		rc = posix_spawn(pid, path, fa, &sa, argv, envp);
	posix_spawnattr_destroy(&sa);
	return rc;
}

#ifdef __linux__
/*
 * What the child of command_start() needs; it lives in the listener's
 * memory, which the child shares until its execve.
 */
struct start {
	const struct command	*c;
	char			**argv;
	const sigset_t		*reset;		/* back to the default */
	int			 in, out, err;
	int			 error;		/* errno of a failed start */
};

/*
 * The child's own stack.  The listener is single-threaded and stopped
 * until the child has executed the command or exited (CLONE_VFORK), so
 * one stack serves every delivery; being in bss, its pages are faulted in
 * once, where posix_spawn maps and unmaps a fresh stack for each child
 * (the unmap flushes the TLB of every CPU the listener ran on).
 */
static _Alignas(16) unsigned char start_stack[32768];

/*
 * In the child, on start_stack, sharing the listener's memory but not its
 * signal handlers (no CLONE_SIGHAND): put the listener's caught and
 * ignored signals back to the default while every signal is still
 * blocked, so that no handler of the listener ever runs here, then
 * unblock them all, set up the descriptors and run the command.  Only
 * system calls: no allocation, no stdio, nothing that takes a lock.  A
 * failed start returns (clone's wrapper then ends the child) rather than
 * calling _exit, which AddressSanitizer would take for a jump off a stack
 * it does not know.
 */
static int
start_child(void *arg)
{
	struct start	*st = arg;

	if (signals_reset(st->reset) == -1 || setsid() == -1 ||
	    fd_move(st->in, STDIN_FILENO) == -1 ||
	    fd_move(st->out, STDOUT_FILENO) == -1 ||
	    fd_move(st->err, STDERR_FILENO) == -1 ||
	    close_above_stderr() == -1)
		goto fail;
	execve(st->c->path, st->argv, st->c->envp);
fail:
	st->error = errno;
	return EXIT_NOEXEC;
}

/*
 * A vfork on a stack of our own: the listener's pages are shared, not
 * copied, and the listener waits until the command runs.  Every signal
 * is blocked across the clone so that none is handled in the child
 * before its handlers are reset.  Returns the pid, or -1 with errno set
 * (the failed child reaped).
 */
static pid_t
start_vfork(const struct command *c, char **argv, int in, int out, int err)
{
	struct start	 st = { c, argv, signals_to_reset(), in, out, err, 0 };
	sigset_t	 all, old;
	pid_t		 pid;
	int		 saved;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) == -1)
		return -1;
	pid = clone(start_child, start_stack + sizeof(start_stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &st);
	saved = errno;
	if (pid != -1 && st.error != 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		saved = st.error;
		pid = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}
#endif

/*
 * Start the command in a session and process group of its own (so a
 * time-out can stop everything it started) with the message on stdin,
 * stdout on /dev/null and stderr where posternd's own goes.  Nothing else
 * stays open.  in and null (/dev/null) are above STDERR_FILENO; errfd
 * may be STDERR_FILENO itself.
 */
pid_t
command_start(const struct command *c, char **argv, int in, int errfd,
    int null)
{
#ifndef __linux__
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 rc;
#endif

	if (c->setuser)
		return start_as_user(c, argv, in, null, errfd);
#ifdef __linux__
	return start_vfork(c, argv, in, null, errfd == -1 ? null : errfd);
#else
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		errno = rc;
		return -1;
	}
	rc = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, null, STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, errfd == -1 ? null :
		    errfd, STDERR_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa,
		    STDERR_FILENO + 1);
	if (rc == 0)
		rc = command_spawn(&pid, c->path, &fa, POSIX_SPAWN_SETSID, argv,
		    c->envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
#endif
}
