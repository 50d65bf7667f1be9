#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sha256.h"
#include "spool.h"

#define HDR_LEN		9	/* type byte and 64-bit length */
#define IOBUF		(64 * 1024)

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static int
full_write(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns the bytes read: fewer than len only at end of file. */
static ssize_t
full_read(int fd, void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 got = 0;
	ssize_t		 n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int
mkdir_0700(int at, const char *name)
{
	if (mkdirat(at, name, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
mkdir_p(const char *path)
{
	char	 buf[4096], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
opendir_at(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
}

int
spool_open(struct spool *sp, const char *path, int create, char *err,
    size_t errsz)
{
	static const char *subs[] = { "tmp", "queue", "failed", "state" };
	int	*fds[4];
	struct stat st;
	int	 i;

	memset(sp, 0, sizeof(*sp));
	sp->dirfd = sp->tmpfd = sp->queuefd = sp->failedfd = sp->statefd =
	    sp->lockfd = -1;
	fds[0] = &sp->tmpfd;
	fds[1] = &sp->queuefd;
	fds[2] = &sp->failedfd;
	fds[3] = &sp->statefd;
	if ((sp->path = strdup(path)) == NULL)
		goto fail;
	if (create && mkdir_p(path) == -1)
		goto fail;
	if ((sp->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fstat(sp->dirfd, &st) == -1)
		goto fail;
	if (st.st_uid != getuid()) {
		seterr(err, errsz, "queue directory %s: not owned by the user",
		    path);
		spool_close(sp);
		return -1;
	}
	/* 0700 whatever the umask was when it was made. */
	if ((st.st_mode & 077) != 0 && fchmod(sp->dirfd, 0700) == -1)
		goto fail;
	for (i = 0; i < 4; i++) {
		if (create && mkdir_0700(sp->dirfd, subs[i]) == -1)
			goto fail;
		if ((*fds[i] = opendir_at(sp->dirfd, subs[i])) == -1)
			goto fail;
	}
	return 0;
fail:
	seterr(err, errsz, "queue directory %s: %s", path, strerror(errno));
	spool_close(sp);
	return -1;
}

void
spool_close(struct spool *sp)
{
	int	*fds[] = { &sp->dirfd, &sp->tmpfd, &sp->queuefd, &sp->failedfd,
		    &sp->statefd, &sp->lockfd };
	size_t	 i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	free(sp->path);
	sp->path = NULL;
}

/*
 * flock(2), not a pid file: the kernel drops it when the holder dies,
 * kill -9 included, so nothing stale is ever left behind.
 */
int
spool_lock(struct spool *sp, int wait)
{
	if (sp->lockfd == -1 && (sp->lockfd = openat(sp->dirfd, "lock",
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		return -1;
	while (flock(sp->lockfd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EINTR)
			continue;
		return -1;
	}
	return 0;
}

void
spool_unlock(struct spool *sp)
{
	if (sp->lockfd != -1)
		flock(sp->lockfd, LOCK_UN);
}

/* Names sort by arrival: microseconds since the epoch, then random. */
void
spool_newid(char id[SPOOL_IDLEN + 1])
{
	struct timeval	 tv;
	uint64_t	 us;

	gettimeofday(&tv, NULL);
	us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	snprintf(id, SPOOL_IDLEN + 1, "%016llX%08X", (unsigned long long)us,
	    arc4random());
}

int
spool_valid_id(const char *id)
{
	size_t	 i;

	for (i = 0; i < SPOOL_IDLEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'A' && id[i] <= 'F')))
			return 0;
	return id[i] == '\0';
}

int
spool_create(struct spool *sp, char id[SPOOL_IDLEN + 1])
{
	int	 fd, tries;

	for (tries = 0; tries < 10; tries++) {
		spool_newid(id);
		fd = openat(sp->tmpfd, id, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* On disk before it is visible, and visible only once complete. */
int
spool_commit(struct spool *sp, const char *id, int fd)
{
	if (fsync(fd) == -1 ||
	    renameat(sp->tmpfd, id, sp->queuefd, id) == -1 ||
	    fsync(sp->queuefd) == -1)
		return -1;
	return 0;
}

void
spool_discard(struct spool *sp, const char *id)
{
	unlinkat(sp->tmpfd, id, 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_list(struct spool *sp, int which, char ***ids, size_t *n)
{
	struct dirent	*de;
	DIR		*d;
	char		**v = NULL, **nv;
	size_t		 cnt = 0;
	int		 fd;

	*ids = NULL;
	*n = 0;
	if ((fd = dup(which == SPOOL_FAILED ? sp->failedfd : sp->queuefd)) ==
	    -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!spool_valid_id(de->d_name))
			continue;
		if ((nv = reallocarray(v, cnt + 1, sizeof(*v))) == NULL ||
		    (nv[cnt] = strdup(de->d_name)) == NULL) {
			if (nv != NULL)
				v = nv;
			spool_list_free(v, cnt);
			closedir(d);
			return -1;
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*ids = v;
	*n = cnt;
	return 0;
}

void
spool_list_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
spool_openentry(struct spool *sp, int which, const char *id)
{
	if (!spool_valid_id(id)) {
		errno = ENOENT;
		return -1;
	}
	return openat(which == SPOOL_FAILED ? sp->failedfd : sp->queuefd, id,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int
spool_remove(struct spool *sp, const char *id)
{
	if (unlinkat(sp->queuefd, id, 0) == -1 && errno != ENOENT)
		return -1;
	unlinkat(sp->statefd, id, 0);
	return 0;
}

int
spool_move(struct spool *sp, const char *id, int from, int to)
{
	int	 f = from == SPOOL_FAILED ? sp->failedfd : sp->queuefd;
	int	 t = to == SPOOL_FAILED ? sp->failedfd : sp->queuefd;

	if (renameat(f, id, t, id) == -1 || fsync(t) == -1)
		return -1;
	return 0;
}

/* A tmp/ file this old belongs to a submission that died. */
void
spool_sweep_tmp(struct spool *sp, time_t age)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	time_t		 now = time(NULL);
	int		 fd;

	if ((fd = dup(sp->tmpfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (spool_valid_id(de->d_name) &&
		    fstatat(sp->tmpfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0 && st.st_mtime + age < now)
			unlinkat(sp->tmpfd, de->d_name, 0);
	closedir(d);
}

int
spool_status_read(struct spool *sp, const char *id, struct spool_status *s)
{
	char		 buf[1024], *line, *p, *v;
	ssize_t		 n;
	int		 fd;

	memset(s, 0, sizeof(*s));
	if ((fd = openat(sp->statefd, id, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = full_read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (line = strsep(&p, "\n")) != NULL; ) {
		if ((v = strchr(line, '=')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "attempts") == 0)
			s->attempts = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(line, "last") == 0)
			s->last = (time_t)strtoll(v, NULL, 10);
		else if (strcmp(line, "next") == 0)
			s->next = (time_t)strtoll(v, NULL, 10);
		else if (strcmp(line, "error") == 0)
			strlcpy(s->error, v, sizeof(s->error));
	}
	return 0;
}

int
spool_status_write(struct spool *sp, const char *id,
    const struct spool_status *s)
{
	char	 buf[1024], tmp[SPOOL_IDLEN + 8], err[sizeof(s->error)];
	size_t	 i;
	int	 fd, len, r = 0;

	for (i = 0; s->error[i] != '\0' && i < sizeof(err) - 1; i++)
		err[i] = (unsigned char)s->error[i] < 0x20 ? ' ' : s->error[i];
	err[i] = '\0';
	len = snprintf(buf, sizeof(buf), "attempts=%u\nlast=%lld\nnext=%lld\n"
	    "error=%s\n", s->attempts, (long long)s->last, (long long)s->next,
	    err);
	snprintf(tmp, sizeof(tmp), ".%s.new", id);
	if ((fd = openat(sp->statefd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		return -1;
	if (full_write(fd, buf, (size_t)len) == -1)
		r = -1;
	if (close(fd) == -1)
		r = -1;
	if (r == 0 && renameat(sp->statefd, tmp, sp->statefd, id) == -1)
		r = -1;
	if (r == -1)
		unlinkat(sp->statefd, tmp, 0);
	return r;
}

/* Envelope text: printable, no CR, LF, NUL or other control. */
int
spool_field_ok(const char *s, int allow_tab)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && !(allow_tab && *p == '\t')) || *p == 0x7f)
			return 0;
	return 1;
}

static void
put_hdr(unsigned char *h, int type, uint64_t len)
{
	int	 i;

	h[0] = (unsigned char)type;
	for (i = 0; i < 8; i++)
		h[1 + i] = (unsigned char)(len >> (56 - 8 * i));
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct wbuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 err;
};

static void
wb_add(struct wbuf *w, const void *d, size_t len)
{
	unsigned char	*n;
	size_t		 cap;

	if (w->err)
		return;
	if (w->len + len > w->cap) {
		cap = (w->len + len) * 2;
		if ((n = realloc(w->p, cap)) == NULL) {
			w->err = 1;
			return;
		}
		w->p = n;
		w->cap = cap;
	}
	memcpy(w->p + w->len, d, len);
	w->len += len;
}

static void
wb_rec(struct wbuf *w, int type, const void *d, size_t len)
{
	unsigned char	 h[HDR_LEN];

	put_hdr(h, type, len);
	wb_add(w, h, sizeof(h));
	wb_add(w, d, len);
}

static void
wb_str(struct wbuf *w, int type, const char *s)
{
	wb_rec(w, type, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static void
wb_u64(struct wbuf *w, int type, uint64_t v)
{
	unsigned char	 b[8];

	b[0] = (unsigned char)(v >> 56);
	b[1] = (unsigned char)(v >> 48);
	b[2] = (unsigned char)(v >> 40);
	b[3] = (unsigned char)(v >> 32);
	b[4] = (unsigned char)(v >> 24);
	b[5] = (unsigned char)(v >> 16);
	b[6] = (unsigned char)(v >> 8);
	b[7] = (unsigned char)v;
	wb_rec(w, type, b, 8);
}

int
spool_write_head(int fd, const struct spool_head *h)
{
	struct wbuf	 w;
	struct sha256	 c;
	unsigned char	 sum[SHA256_LEN];
	size_t		 i;
	int		 r;

	memset(&w, 0, sizeof(w));
	wb_add(&w, SPOOL_MAGIC, SPOOL_MAGICLEN);
	wb_str(&w, SREC_ACCOUNT, h->account);
	wb_str(&w, SREC_CONFFILE, h->conffile);
	for (i = 0; i < h->argc; i++)
		wb_str(&w, SREC_ARG, h->argv[i]);
	wb_u64(&w, SREC_TIME, h->time);
	wb_u64(&w, SREC_UID, h->uid);
	wb_str(&w, SREC_FROM, h->from);
	for (i = 0; i < h->nrcpt; i++)
		wb_str(&w, SREC_RCPT, h->rcpts[i]);
	if (h->notice)
		wb_rec(&w, SREC_NOTICE, "", 0);
	if (w.err) {
		free(w.p);
		errno = ENOMEM;
		return -1;
	}
	sha256_init(&c);
	sha256_update(&c, w.p, w.len);
	sha256_final(&c, sum);
	wb_rec(&w, SREC_HEADSUM, sum, sizeof(sum));
	r = w.err ? -1 : full_write(fd, w.p, w.len);
	free(w.p);
	return r;
}

static int
add_str(char ***v, size_t *n, char *s)
{
	char	**nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

void
spool_head_free(struct spool_head *h)
{
	size_t	 i;

	free(h->account);
	free(h->conffile);
	free(h->from);
	for (i = 0; i < h->argc; i++)
		free(h->argv[i]);
	free(h->argv);
	for (i = 0; i < h->nrcpt; i++)
		free(h->rcpts[i]);
	free(h->rcpts);
	memset(h, 0, sizeof(*h));
}

#define BAD(...)	do { seterr(err, errsz, __VA_ARGS__); goto bad; } while (0)

int
spool_read_head(int fd, struct spool_head *h, char *err, size_t errsz)
{
	struct sha256	 c;
	unsigned char	 hdr[HDR_LEN], sum[SHA256_LEN], magic[SPOOL_MAGICLEN];
	char		*s;
	uint64_t	 len;
	off_t		 off;
	int		 type, have_time = 0, have_uid = 0, have_from = 0;
	int		 have_acc = 0, have_conf = 0;
	ssize_t		 n;

	memset(h, 0, sizeof(*h));
	if (lseek(fd, 0, SEEK_SET) == -1)
		BAD("seek: %s", strerror(errno));
	sha256_init(&c);
	if ((n = full_read(fd, magic, sizeof(magic))) != sizeof(magic) ||
	    memcmp(magic, SPOOL_MAGIC, SPOOL_MAGICLEN) != 0)
		BAD("not a queue entry");
	sha256_update(&c, magic, sizeof(magic));
	off = SPOOL_MAGICLEN;
	for (;;) {
		if (full_read(fd, hdr, sizeof(hdr)) != sizeof(hdr))
			BAD("truncated at offset %lld", (long long)off);
		type = hdr[0];
		len = get_u64(hdr + 1);
		if (type == SREC_HEADSUM) {
			if (len != SHA256_LEN ||
			    full_read(fd, sum, sizeof(sum)) != sizeof(sum))
				BAD("truncated checksum");
			{
				unsigned char	 want[SHA256_LEN];

				sha256_final(&c, want);
				if (memcmp(want, sum, sizeof(sum)) != 0)
					BAD("bad checksum of the envelope");
			}
			break;
		}
		sha256_update(&c, hdr, sizeof(hdr));
		if (len > SPOOL_FIELD_MAX)
			BAD("record of %llu bytes at offset %lld",
			    (unsigned long long)len, (long long)off);
		if ((s = malloc(len + 1)) == NULL)
			BAD("out of memory");
		if (full_read(fd, s, len) != (ssize_t)len) {
			free(s);
			BAD("truncated at offset %lld", (long long)off);
		}
		sha256_update(&c, s, len);
		s[len] = '\0';
		off += HDR_LEN + (off_t)len;
		switch (type) {
		case SREC_TIME:
		case SREC_UID:
			if (len != 8 || (type == SREC_TIME ? have_time++ :
			    have_uid++)) {
				free(s);
				BAD("bad number record");
			}
			if (type == SREC_TIME)
				h->time = get_u64((unsigned char *)s);
			else
				h->uid = get_u64((unsigned char *)s);
			free(s);
			continue;
		case SREC_NOTICE:
			free(s);
			if (len != 0 || h->notice++)
				BAD("bad notice record");
			continue;
		default:
			break;
		}
		if (strlen(s) != len) {
			free(s);
			BAD("NUL in record %d", type);
		}
		switch (type) {
		case SREC_ACCOUNT:
		case SREC_CONFFILE:
		case SREC_FROM:
			if (!spool_field_ok(s, type == SREC_CONFFILE) ||
			    (type == SREC_ACCOUNT ? have_acc++ :
			    type == SREC_CONFFILE ? have_conf++ :
			    have_from++)) {
				free(s);
				BAD("bad record %d", type);
			}
			*(type == SREC_ACCOUNT ? &h->account :
			    type == SREC_CONFFILE ? &h->conffile : &h->from) = s;
			break;
		case SREC_ARG:
			if (!spool_field_ok(s, 1) || h->argc >= SPOOL_ARG_MAX ||
			    add_str(&h->argv, &h->argc, s) == -1) {
				free(s);
				BAD("bad argument record");
			}
			break;
		case SREC_RCPT:
			if (!spool_field_ok(s, 0) || *s == '\0' ||
			    h->nrcpt >= SPOOL_RCPT_MAX ||
			    add_str(&h->rcpts, &h->nrcpt, s) == -1) {
				free(s);
				BAD("bad recipient record");
			}
			break;
		default:
			free(s);
			BAD("unknown record %d", type);
		}
	}
	if (!have_time || !have_uid || !have_from || !have_acc || !have_conf ||
	    h->nrcpt == 0)
		BAD("incomplete envelope");
	if ((h->body_off = lseek(fd, 0, SEEK_CUR)) == -1)
		BAD("seek: %s", strerror(errno));
	return 0;
bad:
	spool_head_free(h);
	return -1;
}

int
spool_body_begin(int fd, off_t *start)
{
	unsigned char	 h[HDR_LEN];

	if ((*start = lseek(fd, 0, SEEK_END)) == -1)
		return -1;
	put_hdr(h, SREC_BODY, 0);
	return full_write(fd, h, sizeof(h));
}

int
spool_body_end(int fd, off_t start, int out, int *outbroken)
{
	struct sha256	 c;
	unsigned char	 h[HDR_LEN], sum[SHA256_LEN], *buf;
	off_t		 end;
	uint64_t	 left;
	ssize_t		 n;

	*outbroken = out == -1;
	if ((end = lseek(fd, 0, SEEK_END)) == -1 || end < start + HDR_LEN)
		return -1;
	left = (uint64_t)(end - start - HDR_LEN);
	put_hdr(h, SREC_BODY, left);
	if (lseek(fd, start, SEEK_SET) == -1 ||
	    full_write(fd, h, sizeof(h)) == -1)
		return -1;
	if ((buf = malloc(IOBUF)) == NULL)
		return -1;
	sha256_init(&c);
	while (left > 0) {
		n = full_read(fd, buf, left < IOBUF ? (size_t)left : IOBUF);
		if (n <= 0) {
			free(buf);
			return -1;
		}
		sha256_update(&c, buf, (size_t)n);
		if (!*outbroken && full_write(out, buf, (size_t)n) == -1)
			*outbroken = 1;
		left -= (uint64_t)n;
	}
	free(buf);
	sha256_final(&c, sum);
	put_hdr(h, SREC_END, sizeof(sum));
	if (lseek(fd, end, SEEK_SET) == -1 ||
	    full_write(fd, h, sizeof(h)) == -1 ||
	    full_write(fd, sum, sizeof(sum)) == -1)
		return -1;
	return 0;
}

int
spool_read_body(int fd, const struct spool_head *h, int out, uint64_t *lenp,
    char *err, size_t errsz)
{
	struct sha256	 c;
	unsigned char	 hdr[HDR_LEN], sum[SHA256_LEN], want[SHA256_LEN];
	unsigned char	*buf = NULL, extra;
	uint64_t	 len, left;
	ssize_t		 n;
	int		 broken = 0;

	if (lseek(fd, h->body_off, SEEK_SET) == -1)
		BAD("seek: %s", strerror(errno));
	if (full_read(fd, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    hdr[0] != SREC_BODY)
		BAD("no message");
	left = len = get_u64(hdr + 1);
	if ((buf = malloc(IOBUF)) == NULL)
		BAD("out of memory");
	sha256_init(&c);
	while (left > 0) {
		n = full_read(fd, buf, left < IOBUF ? (size_t)left : IOBUF);
		if (n <= 0)
			BAD("message truncated");
		sha256_update(&c, buf, (size_t)n);
		if (out != -1 && !broken && full_write(out, buf, (size_t)n) ==
		    -1)
			broken = 1;
		left -= (uint64_t)n;
	}
	if (full_read(fd, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    hdr[0] != SREC_END || get_u64(hdr + 1) != SHA256_LEN ||
	    full_read(fd, sum, sizeof(sum)) != sizeof(sum))
		BAD("no end record");
	if (full_read(fd, &extra, 1) != 0)
		BAD("data after the end record");
	sha256_final(&c, want);
	if (memcmp(want, sum, sizeof(sum)) != 0)
		BAD("bad checksum of the message");
	free(buf);
	if (lenp != NULL)
		*lenp = len;
	return broken ? -2 : 0;
bad:
	free(buf);
	return -1;
}
