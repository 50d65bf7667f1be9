/*
 * postern-drop: put one entry into the system queue.
 *
 * Installed setgid to a group of its own (_postern-spool), which may
 * create files in the drop directory (1730) but not list it.  It reads one
 * entry in the spool format from standard input, writes it to a new file
 * of the invoking user (0600 while it is written), checks it whole, and
 * marks it complete (0640) only then; it prints the entry's ID.  What the
 * entry says about its sender does not matter: the flusher attributes it
 * to the file's owner.  With -s ID or -p ID it shows or removes one entry
 * of the invoking user's own; with -l, for root alone, it lists them all.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "sysqueue.h"

#ifdef __linux__
#define not_dumpable()	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
#define secure_mode()	(getauxval(AT_SECURE) != 0)
#else
#define not_dumpable()	0
#define secure_mode()	issetugid()
static int
clearenv(void)
{
	extern char	**environ;
	static char	*empty[1];

	environ = empty;
	return 0;
}
#endif

static char	 path[sizeof(SYSQUEUE_DROPDIR) + SPOOL_IDLEN + 2];

static __dead void
fail(int code, const char *what)
{
	if (path[0] != '\0')
		unlink(path);
	log_warnx("%s", what);
	exit(code);
}

/* The invoking user chose everything inherited: start clean. */
static void
prologue(void)
{
	struct sigaction	 sa;
	struct itimerval	 it;
	struct rlimit		 rl = { 0, 0 };
	sigset_t		 set;
	int			 sig, fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			_exit(EX_OSERR);
	closefrom(STDERR_FILENO + 1);
	sigemptyset(&set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	memset(&it, 0, sizeof(it));
	if (sigprocmask(SIG_SETMASK, &set, NULL) == -1 ||
	    setitimer(ITIMER_REAL, &it, NULL) == -1 ||
	    setitimer(ITIMER_VIRTUAL, &it, NULL) == -1 ||
	    setitimer(ITIMER_PROF, &it, NULL) == -1 ||
	    setrlimit(RLIMIT_CORE, &rl) == -1 || not_dumpable() == -1 ||
	    chdir("/") == -1 || clearenv() != 0)
		_exit(EX_OSERR);
	umask(077);
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_FSIZE, &rl);
	}
}

/*
 * -s ID: copy the invoking user's own entry to standard output.
 * -p ID: remove it.  An entry of another user is "no such entry", as is
 * one that does not exist; root may see and remove any.  The sticky
 * directory lets the kernel refuse the removal of another's file too.
 */
static int
entry(int op, const char *id)
{
	struct stat	 st;
	char		 buf[65536];
	ssize_t		 n;
	int		 fd;

	if (!spool_valid_id(id))
		fail(EX_USAGE, "not a queue ID");
	snprintf(path, sizeof(path), "%s/%s", SYSQUEUE_DROPDIR, id);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != getuid() && getuid() != 0)) {
		log_warnx("%s: no such entry in the system queue", id);
		return EX_NOINPUT;
	}
	if (op == 'p') {
		if (unlink(path) == -1) {
			log_warnx("%s: cannot remove it", id);
			return EX_NOPERM;
		}
		return EX_OK;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDOUT_FILENO, buf, (size_t)n) != n)
			return EX_IOERR;
	return n == 0 ? EX_OK : EX_IOERR;
}

/* -l: every ID, for root alone: the group cannot list the directory. */
static int
list(void)
{
	struct dirent	*de;
	DIR		*d;

	if (getuid() != 0 || (d = opendir(SYSQUEUE_DROPDIR)) == NULL) {
		log_warnx("only root lists the system queue");
		return EX_NOPERM;
	}
	while ((de = readdir(d)) != NULL)
		if (spool_valid_id(de->d_name))
			printf("%s\n", de->d_name);
	closedir(d);
	return fflush(stdout) == EOF ? EX_IOERR : EX_OK;
}

int
main(int argc, char *argv[])
{
	struct spool_head	 h;
	struct stat		 st;
	char			 id[SPOOL_IDLEN + 1], buf[65536], err[256];
	long long		 total = 0;
	ssize_t			 n;
	int			 fd;

	prologue();
	log_init("postern-drop", 0);
	if (argc == 3 && (strcmp(argv[1], "-s") == 0 ||
	    strcmp(argv[1], "-p") == 0))
		return entry(argv[1][1], argv[2]);
	if (argc == 2 && strcmp(argv[1], "-l") == 0)
		return list();
	if (argc != 1)
		fail(EX_USAGE, "usage: postern-drop <entry | -s ID | -p ID | -l");
	if (getegid() == getgid())
		fail(EX_NOPERM, "not installed setgid: the drop directory is "
		    "closed to users");
	if (!secure_mode())
		fail(EX_NOPERM, "started setgid but not in secure mode");
	if (lstat(SYSQUEUE_DROPDIR, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    (st.st_mode & 07777) != SYSQUEUE_DROPMODE ||
	    st.st_gid != getegid())
		fail(EX_CONFIG, SYSQUEUE_DROPDIR ": must be a directory of "
		    "this program's group, mode 1730");

	spool_newid(id);
	snprintf(path, sizeof(path), "%s/%s", SYSQUEUE_DROPDIR, id);
	/* Nobody can read it, the flusher included, until it is complete. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		path[0] = '\0';
		fail(EX_TEMPFAIL, "cannot create an entry in the system queue");
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fail(EX_IOERR, "cannot read the entry");
		if ((total += n) > SYSQUEUE_MAXSIZE)
			fail(EX_DATAERR, "the entry is too large");
		if (write(fd, buf, (size_t)n) != n)
			fail(EX_TEMPFAIL, "cannot write the entry");
	}
	explicit_bzero(buf, sizeof(buf));
	if (lseek(fd, 0, SEEK_SET) == -1)
		fail(EX_IOERR, "lseek");
	if (spool_read_head(fd, &h, err, sizeof(err)) == -1 ||
	    spool_read_body(fd, &h, -1, NULL, err, sizeof(err)) != 0)
		fail(EX_DATAERR, "not a valid queue entry");
	spool_head_free(&h);
	if (fsync(fd) == -1 || fchmod(fd, 0640) == -1 || fsync(fd) == -1)
		fail(EX_TEMPFAIL, "cannot commit the entry");
	close(fd);
	printf("%s\n", id);
	if (fflush(stdout) == EOF)
		fail(EX_IOERR, "cannot print the queue ID");
	return EX_OK;
}
