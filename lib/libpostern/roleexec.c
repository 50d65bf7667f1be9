#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "roleexec.h"

/*
 * Who may own a role executable: root, or whoever owns the running
 * program (installed at path; a build tree runs its roles from where they
 * were built).  A role is trusted exactly as much as the program that
 * starts it.
 */
uid_t
roleexec_owner(const char *path)
{
	struct stat	 st;

	if (stat("/proc/self/exe", &st) == -1 && stat(path, &st) == -1)
		return 0;
	return st.st_uid;
}

/*
 * Open dir/name and check it: a regular file that only its owner may
 * change, that owner root or owner.  Fatal otherwise.  The descriptor is
 * close-on-exec and at 10 or above, out of the way of those children are
 * given; st is what it is, for the caller's own checks.
 */
int
roleexec_open(const char *dir, const char *name, uid_t owner,
    struct stat *st)
{
	char	 path[PATH_MAX];
	int	 fd, nfd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		fatalx("%s/%s: path too long", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		fatal("cannot open %s", path);
	if (fstat(fd, st) == -1)
		fatal("%s", path);
	if (!S_ISREG(st->st_mode) ||
	    (st->st_uid != 0 && st->st_uid != owner) ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("%s: must be a regular file of root (or of this "
		    "program's owner) that no one else may write", path);
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("fcntl");
	close(fd);
	return nfd;
}
