/*
 * The listener's start-up: its descriptors, the sockets it listens on (or
 * those inetd or systemd hand it), the key pair, the chroot, and the two
 * roles it starts before the first connection, the auth process and the
 * session server.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "ipc.h"
#include "log.h"
#include "listener.h"
#include "proto.h"


static unsigned char		*cert, *key;
static size_t			 certlen, keylen;

/* Say where we listen, from the sockets themselves: systemd may pass any. */
void
log_listening(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 host[NI_MAXHOST], serv[NI_MAXSERV];
	int			 i;

	for (i = 0; i < L.nlisten; i++) {
		len = sizeof(ss);
		if (getsockname(L.listenfd[i], (struct sockaddr *)&ss,
		    &len) == -1 || getnameinfo((struct sockaddr *)&ss, len,
		    host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			continue;
		plog(0, LOG_INFO, "listening on %s port %s", host, serv);
	}
}


static void
listen_sockets(void)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*e;
	int		 fd, on = 1, r, i, n;

	/* systemd socket activation: LISTEN_FDS sockets from fd 3. */
	if ((e = getenv("LISTEN_PID")) != NULL &&
	    strtol(e, NULL, 10) == (long)getpid() &&
	    (e = getenv("LISTEN_FDS")) != NULL) {
		n = (int)strtol(e, NULL, 10);
		if (n < 1 || n > MAX_LISTEN)
			fatalx("LISTEN_FDS=%s: expected 1 to %d sockets", e,
			    MAX_LISTEN);
		for (i = 0; i < n; i++) {
			fd = 3 + i;
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
			    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
				fatal("LISTEN_FDS socket %d", fd);
			L.listenfd[L.nlisten++] = fd;
		}
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(L.conf->interface, L.conf->port, &hints, &res)) != 0)
		fatalx("cannot use interface %s port %s: %s", L.conf->interface,
		    L.conf->port, gai_strerror(r));
	for (ai = res; ai != NULL && L.nlisten < MAX_LISTEN; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) == -1)
			fatal("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1)
			fatal("setsockopt");
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
			fatal("cannot listen on %s port %s", L.conf->interface,
			    L.conf->port);
		if (listen(fd, SOMAXCONN) == -1)
			fatal("listen");
		L.listenfd[L.nlisten++] = fd;
	}
	freeaddrinfo(res);
}


static unsigned char *
read_file(const char *path, size_t *lenp)
{
	unsigned char	*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("cannot open %s", path);
	if ((buf = malloc(TLS_FILE_MAX)) == NULL)
		fatal("malloc");
	while ((n = read(fd, buf + len, TLS_FILE_MAX - len)) > 0)
		if ((len += (size_t)n) == TLS_FILE_MAX)
			fatalx("%s: larger than %d bytes", path, TLS_FILE_MAX);
	if (n == -1)
		fatal("cannot read %s", path);
	close(fd);
	*lenp = len;
	return buf;
}


/*
 * Read the key pair for the session server, which alone parses it (and
 * stops the daemon at start-up when it is wrong): the listener links no
 * TLS library.
 */
static void
load_tls(void)
{
	cert = read_file(L.conf->tls_cert_file, &certlen);
	key = read_file(L.conf->tls_key_file, &keylen);
}


/* Where sessions are locked in: it must exist, be empty and be L.root's. */
static void
check_chroot(void)
{
	struct passwd	*pw;
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	const char	*user = L.conf->user;

	if (user == NULL)
		user = getpwnam(POSTERND_USER) != NULL ? POSTERND_USER :
		    POSTERND_USER_FALLBACK;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("--user: no user %s", user);
	if (pw->pw_uid == 0)
		fatalx("--user: sessions may not run as L.root");
	L.s_uid = pw->pw_uid;
	L.s_gid = pw->pw_gid;
	if (stat(L.conf->chroot, &st) == -1 && errno == ENOENT &&
	    strcmp(L.conf->chroot, PATH_CHROOT) == 0)
		(void)mkdir(L.conf->chroot, 0755);
	if (stat(L.conf->chroot, &st) == -1)
		fatal("--chroot %s", L.conf->chroot);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("--chroot %s: must be a directory owned by L.root and "
		    "writable by nobody else", L.conf->chroot);
	if ((d = opendir(L.conf->chroot)) == NULL)
		fatal("--chroot %s", L.conf->chroot);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			fatalx("--chroot %s: must be empty", L.conf->chroot);
	closedir(d);
}


static void
start_auth(void)
{
	struct a_config	 ac;
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	char		*err = NULL;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	if ((L.authpid = proc_spawn(ROLE_AUTH, sp[1], L.devnull, 1)) == -1)
		fatal("cannot start the auth process");
	close(sp[1]);
	ipc_init(&L.authipc, sp[0]);
	memset(&ac, 0, sizeof(ac));
	ac.user = L.conf->auth_user;
	ac.passwordeval = L.conf->auth_eval;
	ac.delay = L.conf->auth_delay;
	ac.uid = (uint32_t)L.s_uid;
	ac.gid = (uint32_t)L.s_gid;
	ac.chroot = L.root ? L.conf->chroot : "";
	a_config_put(&b, &ac);
	if (ipc_compose_buf(&L.authipc, MSG_A_CONFIG, -1, &b) == -1 ||
	    ipc_flush(&L.authipc) == -1)
		fatal("auth process");
	if (ipc_recv(&L.authipc, &m) != 1)
		fatalx("auth process ended during start-up");
	ipc_cur_init(&c, &m);
	switch (m.hdr.type) {
	case MSG_A_READY:
		if (ipc_cur_end(&c) == -1)
			fatalx("auth process: bad message");
		break;
	case MSG_A_ERROR:
		if (ipc_cur_str(&c, &err) == -1 || err == NULL ||
		    ipc_cur_end(&c) == -1)
			fatalx("auth process: bad message");
		fatalx("%s", err);
	default:
		fatalx("auth process: unexpected message %u", m.hdr.type);
	}
	if (m.fd != -1)
		fatalx("auth process: unexpected descriptor");
	fcntl(L.authipc.fd, F_SETFL, O_NONBLOCK);
}


/*
 * The session server: what every session shares goes to it once, the
 * private key included (each session holds it anyway, to answer TLS);
 * the listener then forgets the key.
 */
static void
start_server(void)
{
	struct z_config	 zc;
	struct ipc_buf	 b;
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	uint32_t	 flags = 0;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	if ((L.srvpid = proc_spawn(ROLE_SERVER, sp[1], L.devnull, 0)) == -1)
		fatal("cannot start the session server");
	close(sp[1]);
	ipc_init(&L.srvipc, sp[0]);

	if (L.conf->auth_user != NULL)
		flags |= SF_AUTH;
	if (cert != NULL)
		flags |= SF_TLS;
	if (cert != NULL && !L.conf->tls_starttls)
		flags |= SF_TLS_IMPLICIT;
	if (L.conf->crlf)
		flags |= SF_CRLF;
	if (delivery_dashdash())
		flags |= SF_DASH_RCPT;
	if (L.root)
		flags |= SF_CHROOT;
	if (L.conf->logmode != LOGTO_NONE)
		flags |= SF_LOG;
	memset(&zc, 0, sizeof(zc));
	zc.flags = flags;
	zc.timeout = L.conf->timeout;
	zc.session_timeout = L.conf->session_timeout;
	zc.max_recipients = L.conf->max_recipients;
	zc.max_auth_failures = L.conf->max_auth_failures;
	zc.max_line_length = L.conf->max_line_length;
	zc.max_message_size = L.conf->max_message_size;
	zc.domain = L.conf->domain;
	zc.uid = (uint32_t)L.s_uid;
	zc.gid = (uint32_t)L.s_gid;
	zc.chroot = L.root ? L.conf->chroot : "";
	z_config_put(&b, &zc);
	if (ipc_compose_buf(&L.srvipc, MSG_Z_CONFIG, -1, &b) == -1)
		fatal("ipc_compose");
	if (cert != NULL) {
		if (blob_send(&L.srvipc, MSG_Z_CERT, cert, certlen) == -1 ||
		    blob_send(&L.srvipc, MSG_Z_KEY, key, keylen) == -1)
			fatal("ipc_compose");
		freezero(key, keylen);
		free(cert);
		key = cert = NULL;
	}
	if (ipc_compose(&L.srvipc, MSG_Z_GO, 0, -1, NULL, 0) == -1 ||
	    ipc_flush(&L.srvipc) == -1)
		fatal("session server");
	if (ipc_recv(&L.srvipc, &m) != 1)
		fatalx("session server ended during start-up");
	ipc_cur_init(&c, &m);
	if (m.hdr.type != MSG_Z_READY || m.fd != -1 || ipc_cur_end(&c) == -1)
		fatalx("session server: unexpected message %u", m.hdr.type);
}


/*
 * Everything before the first connection, in order: /dev/null and the
 * role executables opened once, the delivery command parsed, the chroot and the
 * key pair checked, the log opened, the sockets bound, the auth process
 * and the session server started.
 */
void
listener_setup(struct conf *c)
{
	char		 self[PATH_MAX], *selfdir = NULL;
	ssize_t		 len;
	int		 fd, null;

	L.conf = c;
	L.root = geteuid() == 0;
	L.logfd = -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    (L.devnull = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		fatal("/dev/null");
	close(fd);

	/* Children are fresh images of their executables, opened now. */
	proc_init(c->auth_user != NULL);
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[len] = '\0';
		selfdir = dirname(self);
	}

	delivery_init(c->command != NULL ? c->command : "postern -f %F --",
	    selfdir, c->command_user);
	if (L.root)
		check_chroot();
	if (c->tls_cert_file != NULL)
		load_tls();

	if (c->logmode == LOGTO_SYSLOG)
		openlog("posternd", LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (c->logmode == LOGTO_FILE &&
	    (L.logfd = open(c->logfile, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1)
		fatal("cannot open log file %s", c->logfile);
	tzset();

	if (!c->inetd)
		listen_sockets();
	if (c->auth_user != NULL)
		start_auth();

	/*
	 * From here on every new descriptor is above those a child gets
	 * (FD_PARENT to FD_AUTH), so spawning a child never overwrites one
	 * of its own sources.
	 */
	for (fd = 0; fd < 10; fd++)
		if (fcntl(fd, F_GETFD) == -1 && (dup2(L.devnull, fd) == -1 ||
		    (fd > STDERR_FILENO && fcntl(fd, F_SETFD, FD_CLOEXEC) ==
		    -1)))
			fatal("dup2");

	/* Under inetd, stderr may be the client: never write there. */
	if (c->inetd) {
		if ((null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, STDERR_FILENO) == -1)
			fatal("/dev/null");
		close(null);
	}
	if (chdir("/") == -1)
		fatal("chdir /");
	start_server();
}
