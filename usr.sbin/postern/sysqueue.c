/*
 * The system queue.  See sysqueue.h.
 *
 * The user's side never touches the spool: it writes the entry where only
 * it can see it and hands the file to postern-drop on standard input.  The
 * flusher trusts nothing inside a drop file to say who sent it: the owner
 * of the file, which only the kernel sets, is the sender.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parent.h"
#include "spool.h"
#include "sysmode.h"
#include "sysqueue.h"

#define SYSQUEUE_PATH		"/usr/bin:/bin"
#define SYSQUEUE_LIFETIME	(5 * 24 * 3600)
#define SYSQUEUE_STALE		(24 * 3600)

static int	 sending;	/* this process sends one entry for the flusher */

/* ------------------------------------------------------ the user's side */

void
sysqueue_begin(struct send *s)
{
	struct spool_head	 h;
	char			 path[] = "/tmp/postern-entry.XXXXXXXXXX";
	static char		 empty[] = "";

	s->qfd = -1;
	/* Unlinked at once: the entry is this process's until the drop. */
	if ((s->qfd = mkstemp(path)) == -1 || unlink(path) == -1)
		goto fail;
	memset(&h, 0, sizeof(h));
	h.account = s->acc->id;
	h.conffile = empty;
	h.time = (uint64_t)time(NULL);
	h.uid = (uint64_t)getuid();
	h.from = s->from;
	h.rcpts = s->rcpts;
	h.nrcpt = s->nrcpt;
	if (spool_write_head(s->qfd, &h) == -1)
		goto fail;
	s->queueing = 1;
	return;
fail:
	if (s->qfd != -1)
		close(s->qfd);
	s->qfd = -1;
	if (s->cl.queue_only)
		die(EX_TEMPFAIL, "cannot write the queue entry: %s",
		    strerror(errno));
	log_warn("cannot write the queue entry; the mail is not queued");
}

/*
 * The user's own index of their system entries: the drop directory
 * cannot be listed, so postern remembers each ID it dropped, as an empty
 * file.  A name here proves nothing: postern-drop checks the owner.
 */
static const char *
index_dir(void)
{
	static char	 dir[1024];

	snprintf(dir, sizeof(dir), "%s/.local/state/postern/system",
	    conf_homedir());
	return dir;
}

static void
index_add(const char *id)
{
	char	 p[1100], *c;
	int	 fd;

	snprintf(p, sizeof(p), "%s/", index_dir());
	for (c = strchr(p + 1, '/'); c != NULL; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return;
		*c = '/';
	}
	strlcat(p, id, sizeof(p));
	if ((fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) != -1)
		close(fd);
}

static void
index_del(const char *id)
{
	char	 p[1100];

	snprintf(p, sizeof(p), "%s/%s", index_dir(), id);
	unlink(p);
}

/* Run postern-drop: stdin from in, stdout to out (-1: inherited). */
static int
run_drop(char *const argv[], int in, int out)
{
	char	*envp[] = { (char *)(uintptr_t)"PATH=" SYSQUEUE_PATH, NULL };
	pid_t	 pid;
	int	 status;

	fflush(NULL);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if ((in != -1 && dup2(in, STDIN_FILENO) == -1) ||
		    (out != -1 && dup2(out, STDOUT_FILENO) == -1))
			_exit(EX_OSERR);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		execve(PATH_POSTERN_DROP, argv, envp);
		log_warn("%s", PATH_POSTERN_DROP);
		_exit(EX_UNAVAILABLE);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The IDs to look at: root's are all of them, a user's their index. */
static size_t
own_ids(char ***idsp)
{
	char		*argv[] = { (char *)(uintptr_t)"postern-drop",
			    (char *)(uintptr_t)"-l", NULL };
	char		**ids = NULL, *line = NULL;
	char		 path[] = "/tmp/postern-ids.XXXXXXXXXX";
	size_t		 n = 0, linesize = 0;
	struct dirent	*de;
	DIR		*d;
	FILE		*fp;
	int		 fd;

	if (getuid() == 0) {
		if ((fd = mkstemp(path)) == -1 || unlink(path) == -1)
			fatal("mkstemp");
		if (run_drop(argv, -1, fd) == EX_OK &&
		    lseek(fd, 0, SEEK_SET) == 0 &&
		    (fp = fdopen(fd, "r")) != NULL) {
			while (getline(&line, &linesize, fp) > 0) {
				line[strcspn(line, "\n")] = '\0';
				if (!spool_valid_id(line))
					continue;
				if ((ids = reallocarray(ids, n + 1,
				    sizeof(*ids))) == NULL ||
				    (ids[n++] = strdup(line)) == NULL)
					fatal("strdup");
			}
			free(line);
			fclose(fp);
		} else
			close(fd);
	} else if ((d = opendir(index_dir())) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!spool_valid_id(de->d_name))
				continue;
			if ((ids = reallocarray(ids, n + 1, sizeof(*ids))) ==
			    NULL || (ids[n++] = strdup(de->d_name)) == NULL)
				fatal("strdup");
		}
		closedir(d);
	}
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_id);
	*idsp = ids;
	return n;
}

/*
 * After the user's own queue, mailq lists their entries of the system
 * queue, in the same layout; what is gone leaves the index.
 */
void
sysqueue_list(void)
{
	struct spool_head	 h;
	struct stat		 st;
	char			**ids, date[64], err[256];
	char			*argv[] = { (char *)(uintptr_t)"postern-drop",
				    (char *)(uintptr_t)"-s", NULL, NULL };
	char			 path[] = "/tmp/postern-show.XXXXXXXXXX";
	size_t			 n, i, j, count = 0;
	uint64_t		 total = 0;
	time_t			 t;
	int			 fd, r;

	n = own_ids(&ids);
	for (i = 0; i < n; i++) {
		if ((fd = mkstemp(path)) == -1 || unlink(path) == -1)
			fatal("mkstemp");
		strlcpy(path + sizeof(path) - 11, "XXXXXXXXXX", 11);
		argv[2] = ids[i];
		r = run_drop(argv, -1, fd);
		if (r == EX_NOINPUT)
			index_del(ids[i]);
		if (r != EX_OK || lseek(fd, 0, SEEK_SET) != 0 ||
		    fstat(fd, &st) == -1 ||
		    spool_read_head(fd, &h, err, sizeof(err)) == -1) {
			close(fd);
			continue;
		}
		if (count == 0)
			printf("-- system queue --\n-Queue ID-  --Size-- "
			    "----Arrival Time---- -Sender/Recipient-------\n");
		/* Root lists every user's: no control byte reaches a tty. */
		log_scrub(h.from, 0);
		for (j = 0; j < h.nrcpt; j++)
			log_scrub(h.rcpts[j], 0);
		t = (time_t)h.time;
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S", localtime(&t));
		printf("%-10s  %8llu %-20.20s %s\n", ids[i],
		    (unsigned long long)st.st_size, date,
		    *h.from != '\0' ? h.from : "MAILER-DAEMON");
		for (j = 0; j < h.nrcpt; j++)
			printf("%41s%s\n", "", h.rcpts[j]);
		printf("\n");
		count++;
		total += (uint64_t)st.st_size;
		spool_head_free(&h);
		close(fd);
	}
	if (count > 0)
		printf("-- %llu Kbytes in %zu Request%s.\n",
		    (unsigned long long)(total + 1023) / 1024, count,
		    count == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	fflush(stdout);
}

/*
 * --queue-purge of system entries: those of the list (or all) that are the
 * user's own.  Returns how many went.
 */
size_t
sysqueue_purge(const char *list)
{
	char	**ids, *argv[] = { (char *)(uintptr_t)"postern-drop",
		    (char *)(uintptr_t)"-p", NULL, NULL };
	char	 id[SPOOL_IDLEN + 1];
	size_t	 n, i, hits = 0, len;
	int	 all = strcmp(list, "all") == 0;

	n = own_ids(&ids);
	for (i = 0; all && i < n; i++) {
		argv[2] = ids[i];
		if (run_drop(argv, -1, -1) == EX_OK) {
			printf("%s removed\n", ids[i]);
			hits++;
		}
		index_del(ids[i]);
	}
	while (!all && *list != '\0') {
		len = strcspn(list, ",");
		if (len == SPOOL_IDLEN) {
			memcpy(id, list, len);
			id[len] = '\0';
			argv[2] = id;
			if (spool_valid_id(id) && run_drop(argv, -1, -1) ==
			    EX_OK) {
				printf("%s removed\n", id);
				index_del(id);
				hits++;
			}
		}
		list += len;
		list += *list == ',';
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	fflush(stdout);
	return hits;
}

/* postern-drop takes the entry on stdin and prints its queue ID. */
int
sysqueue_commit(struct send *s)
{
	char	*argv[] = { (char *)(uintptr_t)"postern-drop", NULL };
	char	 buf[SPOOL_IDLEN + 2];
	size_t	 got = 0;
	ssize_t	 n;
	int	 p[2], code;

	/* The ID is a line of a few bytes: the pipe holds it until read. */
	if (lseek(s->qfd, 0, SEEK_SET) == -1 || pipe(p) == -1)
		fatal("cannot hand the queue entry over");
	code = run_drop(argv, s->qfd, p[1]);
	close(p[1]);
	while (got < sizeof(buf) && (n = read(p[0], buf + got,
	    sizeof(buf) - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	close(s->qfd);
	s->qfd = -1;
	if (code != EX_OK || got != SPOOL_IDLEN + 1 ||
	    buf[SPOOL_IDLEN] != '\n') {
		log_warnx("%s did not take the queue entry", PATH_POSTERN_DROP);
		return -1;
	}
	buf[SPOOL_IDLEN] = '\0';
	if (!spool_valid_id(buf))
		return -1;
	strlcpy(s->qid, buf, sizeof(s->qid));
	index_add(s->qid);
	return 0;
}

/* ------------------------------------------------------------ flusher */

/* Only the owner of the drop directory may flush it. */
static int
is_flusher(struct stat *dst)
{
	struct stat	 st;

	if (dst == NULL)
		dst = &st;
	return lstat(SYSQUEUE_DROPDIR, dst) == 0 && S_ISDIR(dst->st_mode) &&
	    dst->st_uid == getuid() && (dst->st_mode & 07777) ==
	    SYSQUEUE_DROPMODE;
}

static int
permanent(int code)
{
	return code == EX_DATAERR || code == EX_NOUSER ||
	    code == SYSMODE_REFUSED;
}

static void
set_aside(int dfd, int ffd, const char *name, const char *why)
{
	log_warnx("%s: %s; set aside", name, why);
	if (ffd == -1 || renameat(dfd, name, ffd, name) == -1)
		log_warn("%s: cannot move it to %s", name, SYSQUEUE_FAILEDDIR);
}

/*
 * One entry through a fresh setgid postern, as a send of its owner: the
 * message on its standard input, the envelope as single arguments.
 */
static int
send_one(int fd, const struct spool_head *h, uid_t owner)
{
	char	**argv, uidbuf[32];
	char	*envp[] = { (char *)(uintptr_t)"PATH=" SYSQUEUE_PATH, NULL };
	size_t	 n = 0, i;
	pid_t	 pid;
	int	 p[2], status, r;

	if ((argv = calloc(h->nrcpt + 10, sizeof(*argv))) == NULL)
		fatal("calloc");
	snprintf(uidbuf, sizeof(uidbuf), "%lu", (unsigned long)owner);
	argv[n++] = (char *)(uintptr_t)"postern";
	argv[n++] = (char *)(uintptr_t)SYSQUEUE_SEND_OPT;
	argv[n++] = uidbuf;
	argv[n++] = (char *)(uintptr_t)"--no-queue";
	argv[n++] = (char *)(uintptr_t)"-a";
	argv[n++] = h->account;
	argv[n++] = (char *)(uintptr_t)"-f";
	argv[n++] = h->from;
	argv[n++] = (char *)(uintptr_t)"--";
	for (i = 0; i < h->nrcpt; i++)
		argv[n++] = h->rcpts[i];
	argv[n] = NULL;
	if (pipe(p) == -1)
		fatal("pipe");
	fflush(NULL);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if (dup2(p[0], STDIN_FILENO) == -1)
			_exit(EX_OSERR);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		execve(PATH_POSTERN, argv, envp);
		log_warn("%s", PATH_POSTERN);
		_exit(EX_UNAVAILABLE);
	}
	free(argv);
	close(p[0]);
	/* The entry was checked whole before; a send cut short is retried. */
	r = lseek(fd, h->body_off, SEEK_SET) == -1 ? -1 :
	    spool_read_body(fd, h, p[1], NULL, uidbuf, sizeof(uidbuf));
	close(p[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	if (r != 0)
		return EX_TEMPFAIL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
}

/*
 * One name of the drop directory: a complete entry of a real user, or
 * nothing is done with it.  Returns 1 when it was sent.
 */
static int
take(int dfd, int ffd, const struct stat *dst, const char *name)
{
	struct spool_head	 h;
	struct stat		 st;
	struct passwd		*pw;
	char			 err[256];
	time_t			 now = time(NULL);
	int			 fd, code, sent = 0;

	if (!spool_valid_id(name)) {
		log_warnx("%s: not a queue entry; left alone", name);
		return 0;
	}
	/* A symbolic link is not followed, a FIFO does not block. */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1) {
		log_warn("%s: left alone", name);
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file; left alone", name);
		goto out;
	}
	if (st.st_nlink != 1) {
		log_warnx("%s: %lu links; left alone", name,
		    (unsigned long)st.st_nlink);
		goto out;
	}
	if (st.st_uid == getuid() || st.st_gid != dst->st_gid ||
	    (pw = getpwuid(st.st_uid)) == NULL) {
		log_warnx("%s: owner %lu group %lu is no user of the drop "
		    "directory; left alone", name, (unsigned long)st.st_uid,
		    (unsigned long)st.st_gid);
		goto out;
	}
	if ((st.st_mode & 07777) != 0640) {
		/* An incomplete file: its writer died, or still writes. */
		if ((st.st_mode & 07777) == 0600 &&
		    st.st_mtime + SYSQUEUE_STALE < now &&
		    unlinkat(dfd, name, 0) == 0)
			log_warnx("%s: incomplete since %lld; removed", name,
			    (long long)st.st_mtime);
		goto out;
	}
	if (spool_read_head(fd, &h, err, sizeof(err)) == -1) {
		set_aside(dfd, ffd, name, err);
		goto out;
	}
	if (spool_read_body(fd, &h, -1, NULL, err, sizeof(err)) != 0) {
		set_aside(dfd, ffd, name, err);
		spool_head_free(&h);
		goto out;
	}
	/* The drop's time, which its writer cannot set, bounds its life. */
	if (st.st_mtime + SYSQUEUE_LIFETIME < now) {
		set_aside(dfd, ffd, name, "expired: too long in the queue");
		spool_head_free(&h);
		goto out;
	}
	code = send_one(fd, &h, st.st_uid);
	spool_head_free(&h);
	if (code == EX_OK) {
		if (unlinkat(dfd, name, 0) == -1)
			log_warn("%s: sent, but cannot remove it", name);
		sent = 1;
	} else if (permanent(code)) {
		snprintf(err, sizeof(err), "refused (exit %d)", code);
		set_aside(dfd, ffd, name, err);
	}
out:
	close(fd);
	return sent;
}

int
sysqueue_flush(void)
{
	struct dirent	*de;
	struct stat	 dst;
	DIR		*d;
	int		 dfd, ffd;
	size_t		 sent = 0;

	signal(SIGPIPE, SIG_IGN);
	if (!is_flusher(&dst)) {
		log_warnx("%s: only its owner flushes the system queue, and "
		    "its mode must be %o", SYSQUEUE_DROPDIR, SYSQUEUE_DROPMODE);
		return SYSMODE_REFUSED;
	}
	if ((dfd = open(SYSQUEUE_DROPDIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("%s", SYSQUEUE_DROPDIR);
		return EX_TEMPFAIL;
	}
	/* One flusher at a time; a second one has nothing to do. */
	if (flock(dfd, LOCK_EX | LOCK_NB) == -1) {
		close(dfd);
		return errno == EWOULDBLOCK ? EX_OK : EX_TEMPFAIL;
	}
	ffd = open(SYSQUEUE_FAILEDDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if ((d = fdopendir(dup(dfd))) == NULL)
		fatal("%s", SYSQUEUE_DROPDIR);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sent += take(dfd, ffd, &dst, de->d_name);
	}
	closedir(d);
	if (ffd != -1)
		close(ffd);
	close(dfd);
	if (sent > 0)
		log_warnx("%zu mail%s of the system queue sent", sent,
		    sent == 1 ? "" : "s");
	return EX_OK;
}

/*
 * postern --system-queue-send UID ARGS...: a send the flusher started.
 * Only the flusher may say whose mail it is; everything else is the
 * ordinary command line.
 */
void
sysqueue_send_args(int *argcp, char ***argvp)
{
	struct passwd	*pw;
	const char	*errstr;
	char		**argv = *argvp;
	long long	 uid;

	if (*argcp < 3)
		die(EX_USAGE, "%s needs a uid", SYSQUEUE_SEND_OPT);
	if (!is_flusher(NULL))
		die(SYSMODE_REFUSED, "%s: only the system queue's flusher may "
		    "send for another user", SYSQUEUE_SEND_OPT);
	uid = strtonum(argv[2], 0, UINT_MAX - 1, &errstr);
	if (errstr != NULL || (pw = getpwuid((uid_t)uid)) == NULL)
		die(EX_USAGE, "%s: no such user: %s", SYSQUEUE_SEND_OPT,
		    argv[2]);
	sysmode_set_sender((uid_t)uid);
	sending = 1;
	argv[2] = argv[0];
	*argvp = argv + 2;
	*argcp -= 2;
}

/* What the flusher sends goes only through a system account. */
void
sysqueue_check_account(const struct account *a)
{
	if (sending && !sysmode_is_system(a))
		die(SYSMODE_REFUSED, "the system queue sends only through "
		    "accounts of %s", CONF_SYSTEM_FILE);
}
