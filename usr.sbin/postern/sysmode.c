/*
 * The system-wide mode: what a setgid start changes.  See sysmode.h.
 *
 * The group is worth exactly one thing, the secrets file.  So every role
 * starts from a clean state it sets itself (the invoking user chose
 * everything a process inherits), the parent, the reader and the network
 * process give the group up before they look at anything the user wrote,
 * and only the secrets process reads the file, for the one account the
 * user chose, before it drops the group and locks itself down.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmdline.h"
#include "config.h"
#include "log.h"
#include "sysmode.h"

#define SYSMODE_PATH	"/usr/bin:/bin"
#define SYSMODE_MINFD	32	/* four children's channels and the body */

#ifdef __linux__
#define not_dumpable()	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
#define secure_mode()	(getauxval(AT_SECURE) != 0)
typedef struct ucred	peercred_t;
#else
/* OpenBSD: a set-id process is never traced nor dumped by its user. */
#define not_dumpable()	0
#define secure_mode()	issetugid()
typedef struct sockpeercred peercred_t;
static int
clearenv(void)
{
	extern char	**environ;
	static char	*empty[1];

	environ = empty;
	return 0;
}
#endif

static int	 sys_pair[2] = { -1, -1 };	/* made with the group */
static int	 sys_on;	/* started setgid, the group was granted */
static int	 sys_denied;	/* installed setgid, the group was not */
static gid_t	 sys_gid = (gid_t)-1;	/* the group of the secrets file */
static gid_t	 user_gid;

/* Names of the accounts of the system configuration file. */
static char	**sys_names;
static size_t	 sys_nnames;
static char	*sys_file;

int
sysmode_active(void)
{
	return sys_on;
}

/* The group this program was started setgid to: that of its role files. */
gid_t
sysmode_group(void)
{
	return sys_gid;
}

static __dead void
refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static __dead void
refuse(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_warnx(fmt, ap);
	va_end(ap);
	exit(SYSMODE_REFUSED);
}

/* Descriptors 0-2 exist (on /dev/null if need be), no other is open. */
static void
clean_fds(int keep)
{
	int	 fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if ((nfd = open("/dev/null", O_RDWR)) != fd)
			_exit(EX_OSERR);
	}
	closefrom(keep);
}

static void
clean_signals(void)
{
	struct sigaction	 sa;
	struct itimerval	 it;
	sigset_t		 set;
	int			 sig;

	sigemptyset(&set);
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
		_exit(EX_OSERR);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* Some numbers belong to the C library: those refuse quietly. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	/* A file size limit ends in a failed write, not a killed process. */
	signal(SIGXFSZ, SIG_IGN);
	memset(&it, 0, sizeof(it));
	if (setitimer(ITIMER_REAL, &it, NULL) == -1 ||
	    setitimer(ITIMER_VIRTUAL, &it, NULL) == -1 ||
	    setitimer(ITIMER_PROF, &it, NULL) == -1)
		_exit(EX_OSERR);
}

static void
clean_limits(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		_exit(EX_OSERR);
	/* Soft limits go up to what the user may not lower further. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_FSIZE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < SYSMODE_MINFD)
		fatalx("at least %d file descriptors are needed, the limit "
		    "is %llu", SYSMODE_MINFD, (unsigned long long)rl.rlim_cur);
}

/*
 * glibc's secure mode removes LD_* and a few more, but keeps HOME, TZ,
 * OPENSSL_CONF, SSL_CERT_FILE, SASL_PATH, KRB5_CONFIG and others that
 * name files a library would read with the group: nothing is kept.
 */
static void
clean_env(void)
{
	if (clearenv() != 0 || setenv("PATH", SYSMODE_PATH, 1) == -1)
		_exit(EX_OSERR);
}

void
sysmode_prologue(enum role r)
{
	struct stat	 st;
	gid_t		 rg, eg, sg;

	if (getresgid(&rg, &eg, &sg) == -1)
		_exit(EX_OSERR);
	if (rg == eg) {
		/*
		 * Installed setgid, yet the group was not granted: under
		 * no-new-privileges, on a nosuid mount or under a tracer.
		 * Only a system account needs the group; that is refused
		 * when it is chosen.
		 */
		if (stat("/proc/self/exe", &st) == 0 &&
		    (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) &&
		    st.st_gid != eg)
			sys_denied = 1;
		return;
	}
	clean_fds(r == ROLE_PARENT ? STDERR_FILENO + 1 : FD_EXE + 1);
	clean_signals();
	umask(077);
	if (chdir("/") == -1)
		_exit(EX_OSERR);
	clean_limits();
	if (not_dumpable() == -1)
		_exit(EX_OSERR);
	clean_env();
	/* The loader honoured LD_* unless the kernel said "secure". */
	if (!secure_mode())
		fatalx("started setgid but not in secure mode");
	sys_on = 1;
	sys_gid = eg;
	user_gid = rg;
	/*
	 * The channel to the secrets process is made while the parent
	 * still has the group: the kernel records it as the channel's
	 * credentials, and the secrets process reads the file only for a
	 * peer that had the group.  Nobody else can make one.
	 */
	if (r == ROLE_PARENT &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sys_pair) == -1)
		fatal("socketpair");
	if (r != ROLE_SECRETS)
		sysmode_drop_group();
}

/* The channel for the secrets process, once; -1 when there is none. */
int
sysmode_channel(int sp[2])
{
	if (sys_pair[0] == -1)
		return -1;
	sp[0] = sys_pair[0];
	sp[1] = sys_pair[1];
	sys_pair[0] = sys_pair[1] = -1;
	return 0;
}

/* Was the channel to the parent made by a process with the group? */
static int
parent_had_group(void)
{
	peercred_t	 uc;
	socklen_t	 len = sizeof(uc);

	if (getsockopt(FD_PARENT, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc))
		return 0;
	return uc.gid == sys_gid && uc.uid == getuid() && uc.pid == getppid();
}

/*
 * Give the group up for good: real, effective and saved.  A credential
 * change makes the process dumpable again on some kernels: not here.
 */
void
sysmode_drop_group(void)
{
	gid_t	 rg, eg, sg;

	if (!sys_on)
		return;
	if (setresgid(user_gid, user_gid, user_gid) == -1)
		fatal("setresgid");
	if (getresgid(&rg, &eg, &sg) == -1 || rg != user_gid ||
	    eg != user_gid || sg != user_gid)
		fatalx("the group was not dropped");
	if (setegid(sys_gid) != -1)
		fatalx("the group can be regained");
	if (not_dumpable() == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
}

/* ------------------------------------------------------------ parent */

static void
add_name(const char *id)
{
	char	**n;

	if ((n = reallocarray(sys_names, sys_nnames + 1, sizeof(*n))) == NULL)
		fatal("reallocarray");
	sys_names = n;
	if ((sys_names[sys_nnames++] = strdup(id)) == NULL)
		fatal("strdup");
}

static int
is_sys_name(const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < sys_nnames; i++)
		if (strcmp(sys_names[i], id) == 0)
			return 1;
	return 0;
}

/*
 * The system configuration, read as the invoking user: it must be root's
 * alone, and it holds neither a secret nor a command to run.  Its account
 * names are remembered; they are the system accounts.
 */
int
sysmode_load_system(const char *path, char *err, size_t errlen)
{
	struct accountlist	 list;
	struct account		*a;
	struct stat		 st;
	FILE			*fp;
	char			*line = NULL, *cmd, *arg;
	size_t			 linesize = 0;
	int			 rc, lineno = 0;

	if (!sys_on && !sys_denied)
		return EX_OK;
	if ((fp = fopen(path, "re")) == NULL)
		return EX_OK;
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		fclose(fp);
		snprintf(err, errlen, "%s: must be a regular file owned by "
		    "root and writable only by root", path);
		return EX_CONFIG;
	}
	while (getline(&line, &linesize, fp) != -1) {
		lineno++;
		if (config_split_line(line, &cmd, &arg) &&
		    (strcmp(cmd, "eval") == 0 || strcmp(cmd, "password") == 0 ||
		    strcmp(cmd, "passwordeval") == 0)) {
			free(line);
			fclose(fp);
			snprintf(err, errlen, "%s: line %d: eval, password and "
			    "passwordeval are not allowed here; passwords "
			    "belong in %s", path, lineno, PATH_SECRETS);
			return EX_CONFIG;
		}
	}
	free(line);
	rewind(fp);
	TAILQ_INIT(&list);
	rc = config_parse_fp(fp, path, &list, NULL, err, errlen);
	fclose(fp);
	while ((a = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, a, entry);
		if (rc == EX_OK)
			add_name(a->id);
		account_free(a);
	}
	if (rc == EX_OK && (sys_file = strdup(path)) == NULL)
		fatal("strdup");
	return rc;
}

/* No account of the user's files may carry a system account's name. */
void
sysmode_check_config(const struct config *cf)
{
	const struct account	*a;

	if (sys_file == NULL)
		return;
	TAILQ_FOREACH(a, &cf->accounts, entry)
		if (is_sys_name(a->id) && (a->conffile == NULL ||
		    strcmp(a->conffile, sys_file) != 0 ||
		    (cf->userfile != NULL &&
		    strcmp(cf->userfile, sys_file) == 0)))
			refuse("%s: account %s belongs to the system "
			    "configuration and cannot be defined here",
			    a->conffile != NULL ? a->conffile : "",
			    a->id);
}

/* --host reads no file: with -a naming a system account, it is refused. */
void
sysmode_check_host(const struct cmdline *cl)
{
	if (sys_file != NULL && cl->host && cl->account != NULL &&
	    is_sys_name(cl->account))
		refuse("account %s is a system account: --host is not allowed "
		    "with it", cl->account);
}

int
sysmode_is_system(const struct account *a)
{
	return sys_file != NULL && a != NULL && a->origin == ORIGIN_FILE &&
	    a->conffile != NULL && strcmp(a->conffile, sys_file) == 0 &&
	    is_sys_name(a->id);
}

/* What the user may not change for a system account, and its option. */
static const struct {
	uint64_t	 bit;
	const char	*option;
} refused_opts[] = {
	{ ACC_HOST,			"--host" },
	{ ACC_PORT,			"--port" },
	{ ACC_SOURCE_IP,		"--source-ip" },
	{ ACC_PROXY_HOST,		"--proxy-host" },
	{ ACC_PROXY_PORT,		"--proxy-port" },
	{ ACC_SOCKET,			"--socket" },
	{ ACC_PROTOCOL,			"--protocol" },
	{ ACC_AUTH,			"--auth" },
	{ ACC_USER,			"--user" },
	{ ACC_PASSWORD,			"a password" },
	{ ACC_PASSWORDEVAL,		"--passwordeval" },
	{ ACC_NTLMDOMAIN,		"--ntlmdomain" },
	{ ACC_TLS,			"--tls" },
	{ ACC_TLS_STARTTLS,		"--tls-starttls" },
	{ ACC_TLS_TRUST_FILE,		"--tls-trust-file" },
	{ ACC_TLS_CRL_FILE,		"--tls-crl-file" },
	{ ACC_TLS_FINGERPRINT,		"--tls-fingerprint" },
	{ ACC_TLS_KEY_FILE,		"--tls-key-file" },
	{ ACC_TLS_CERT_FILE,		"--tls-cert-file" },
	{ ACC_TLS_CERTCHECK,		"--tls-certcheck" },
	{ ACC_TLS_MIN_DH_PRIME_BITS,	"--tls-min-dh-prime-bits" },
	{ ACC_TLS_PRIORITIES,		"--tls-priorities" },
	{ ACC_TLS_HOST_OVERRIDE,	"--tls-host-override" },
};

/*
 * A system account: everything that could send the dialogue elsewhere or
 * show it is refused here, before anything connects.
 */
void
sysmode_check_options(const struct cmdline *cl, const struct account *a)
{
	const char	*opt = NULL;
	size_t		 i;

	if (!sysmode_is_system(a))
		return;
	if (sys_denied)
		refuse("account %s needs the group of %s, and setgid programs "
		    "do not get it here (no-new-privileges, a nosuid mount "
		    "or a tracer): send through posternd on 127.0.0.1:25 "
		    "instead", a->id, PATH_SECRETS);
	if (cl->file != NULL)
		opt = "-C";
	else if (cl->debug)
		opt = "--debug";
	else if (cl->mode == MODE_SERVERINFO)
		opt = "--serverinfo";
	for (i = 0; opt == NULL && cl->override != NULL &&
	    i < sizeof(refused_opts) / sizeof(refused_opts[0]); i++)
		if (cl->override->mask & refused_opts[i].bit)
			opt = refused_opts[i].option;
	if (opt != NULL)
		refuse("account %s is a system account: %s is not allowed "
		    "with it", a->id, opt);
	if (a->passwordeval != NULL || a->password != NULL)
		refuse("account %s is a system account: its password belongs "
		    "in %s", a->id, PATH_SECRETS);
}

static uid_t	 sender_uid = (uid_t)-1;
static char	 sender_name[64];

/*
 * The system queue's flusher sends each entry for the owner of its file:
 * then the trace and the log name that user, not the flusher.
 */
void
sysmode_set_sender(uid_t uid)
{
	sender_uid = uid;
	sender_name[0] = '\0';
}

/* The uid the log and the trace give: the invoking user's. */
uid_t
sysmode_uid(void)
{
	return sender_uid != (uid_t)-1 ? sender_uid : getuid();
}

/* The invoking user's name, as the log and the trace give it. */
const char *
sysmode_user(void)
{
	char		*name = sender_name;
	struct passwd	*pw;
	size_t		 i;

	if (name[0] != '\0')
		return name;
	strlcpy(name, "?", sizeof(sender_name));
	if ((pw = getpwuid(sysmode_uid())) != NULL)
		strlcpy(name, pw->pw_name, sizeof(sender_name));
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("._-", name[i]) == NULL)
			name[i] = '?';
	return name;
}

/*
 * A trace field, as Postfix's pickup writes for local submissions: the
 * relay sees which local user sent the mail, and the field goes on top,
 * above anything the user wrote.
 */
char *
sysmode_trace(const char *date)
{
	char	*s, h[256];
	size_t	 i;

	if (gethostname(h, sizeof(h)) == -1 || h[0] == '\0')
		strlcpy(h, "localhost", sizeof(h));
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i] != '\0'; i++)
		if (!isalnum((unsigned char)h[i]) && strchr(".-", h[i]) == NULL)
			h[i] = '-';
	if (asprintf(&s, "Received: by %s (postern, from userid %lu %s); %s",
	    h, (unsigned long)sysmode_uid(), sysmode_user(), date) == -1)
		fatal("asprintf");
	return s;
}

/* ----------------------------------------------------------- secrets */

static void
wipe(char **p)
{
	if (*p != NULL)
		freezero(*p, strlen(*p) + 1);
	*p = NULL;
}

void
sysmode_secret_free(struct sys_secret *e)
{
	wipe(&e->user);
	wipe(&e->password);
	wipe(&e->auth);
}

/* The directory of the file: root's, and nobody else may write to it. */
static int
check_dir(char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;

	strlcpy(dir, PATH_SECRETS, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: must be a directory owned by root "
		    "and writable only by root", dir);
		return -1;
	}
	return 0;
}

static int
parse_secrets(char *buf, const char *id, struct sys_secret *e, char *err,
    size_t errlen)
{
	char	*line, *next, *cmd, *arg;
	int	 lineno = 0, mine = 0, found = 0;

	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* The configuration's own grammar, with fewer commands. */
		if (!config_split_line(line, &cmd, &arg))
			continue;
		/* Messages name the line and the command, never a value. */
		if (strcmp(cmd, "account") == 0) {
			if (*arg == '\0' || strpbrk(arg, ":,") != NULL) {
				snprintf(err, errlen, "%s: line %d: account "
				    "needs one name, without inheritance",
				    PATH_SECRETS, lineno);
				return EX_CONFIG;
			}
			mine = strcmp(arg, id) == 0;
			if (mine && found++) {
				snprintf(err, errlen, "%s: line %d: account "
				    "%s was already defined", PATH_SECRETS,
				    lineno, id);
				return EX_CONFIG;
			}
			continue;
		}
		if (strcmp(cmd, "user") != 0 && strcmp(cmd, "password") != 0 &&
		    strcmp(cmd, "auth") != 0) {
			snprintf(err, errlen, "%s: line %d: only account, user, "
			    "password and auth lines are allowed",
			    PATH_SECRETS, lineno);
			return EX_CONFIG;
		}
		if (!mine)
			continue;
		if (strcmp(cmd, "user") == 0) {
			wipe(&e->user);
			e->user = strdup(arg);
		} else if (strcmp(cmd, "password") == 0) {
			wipe(&e->password);
			e->password = strdup(arg);
		} else {
			wipe(&e->auth);
			e->auth = strdup(arg);
		}
		if ((strcmp(cmd, "user") == 0 && e->user == NULL) ||
		    (strcmp(cmd, "password") == 0 && e->password == NULL) ||
		    (strcmp(cmd, "auth") == 0 && e->auth == NULL))
			fatal("strdup");
	}
	if (!found || e->password == NULL) {
		snprintf(err, errlen, "%s: no password for account %s",
		    PATH_SECRETS, id);
		return EX_CONFIG;
	}
	return EX_OK;
}

/*
 * Read the entry of account id from the secrets file.  The file must be a
 * regular file of root and the group, mode 0640, one link, not a symbolic
 * link; every other entry is wiped with the rest of the buffer.
 */
int
sysmode_read_secret(const char *id, struct sys_secret *e, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, rc;

	memset(e, 0, sizeof(*e));
	if (!sys_on) {
		snprintf(err, errlen, "%s: the system account %s needs "
		    "postern installed setgid", PATH_SECRETS, id);
		return SYSMODE_REFUSED;
	}
	if (!parent_had_group()) {
		snprintf(err, errlen, "%s: not started by postern",
		    PATH_SECRETS);
		return SYSMODE_REFUSED;
	}
	if (check_dir(err, errlen) == -1)
		return EX_CONFIG;
	if ((fd = open(PATH_SECRETS, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", PATH_SECRETS, strerror(errno));
		return EX_CONFIG;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    st.st_gid != sys_gid || (st.st_mode & 07777) != 0640 ||
	    st.st_nlink != 1 || st.st_size >= SECRETS_MAXSIZE) {
		close(fd);
		snprintf(err, errlen, "%s: must be a regular file of root and "
		    "the group of postern, mode 0640, with one link, smaller "
		    "than %d bytes", PATH_SECRETS, SECRETS_MAXSIZE);
		return EX_CONFIG;
	}
	if ((buf = calloc(1, SECRETS_MAXSIZE)) == NULL)
		fatal("calloc");
	while (len < SECRETS_MAXSIZE - 1 &&
	    (n = read(fd, buf + len, SECRETS_MAXSIZE - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", PATH_SECRETS,
			    strerror(errno));
			close(fd);
			freezero(buf, SECRETS_MAXSIZE);
			return EX_IOERR;
		}
		len += (size_t)n;
	}
	close(fd);
	if (memchr(buf, '\0', len) != NULL) {
		freezero(buf, SECRETS_MAXSIZE);
		snprintf(err, errlen, "%s: contains a NUL character",
		    PATH_SECRETS);
		return EX_CONFIG;
	}
	rc = parse_secrets(buf, id, e, err, errlen);
	freezero(buf, SECRETS_MAXSIZE);
	if (rc != EX_OK)
		sysmode_secret_free(e);
	return rc;
}
