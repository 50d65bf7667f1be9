/*
 * postern-drop: put one entry into the system queue.
 *
 * Installed setgid to a group of its own (_postern-spool), which may
 * create files in the drop directory (1730) but not list it.  It reads one
 * entry in the spool format from standard input, writes it to a new file
 * of the invoking user (0600 while it is written), checks it whole, and
 * marks it complete (0640) only then; it prints the entry's ID.  What the
 * entry says about its sender does not matter: the flusher attributes it
 * to the file's owner.  It reads no file by name but the directory, and
 * takes no option.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

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
	if (argc != 1)
		fail(EX_USAGE, "usage: postern-drop <entry");
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
