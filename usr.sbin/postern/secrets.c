/*
 * The secrets process: the only process that holds the account's password
 * for the whole session.  It takes its configuration from the parent once,
 * runs passwordeval while it still may, locks itself down, stops listening
 * to the parent, and then answers the network process one AUTH step at a
 * time.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "base64.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "roles.h"
#include "secrets.h"

#define EVAL_MAXOUT	(64 * 1024)	/* OAuth tokens can be long */
#define EVAL_TIMEOUT	60		/* seconds */

struct secrets {
	char		*host;
	char		*user;
	char		*password;
	char		*auth;		/* "" = choose automatically */
	uint32_t	 flags;
	char		 mech[32];
	int		 step;
};

static struct ipc	 peer;

static void
send_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_fail(int code, const char *fmt, ...)
{
	struct ipc_buf	 b;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, msg);
	if (ipc_compose_buf(&peer, MSG_AUTH_FAIL, -1, &b) == -1 ||
	    ipc_flush(&peer) == -1)
		fatal("secrets: send");
}

/*
 * Run passwordeval: the command comes from the user's own configuration
 * and is meant for a shell, as in msmtp.  Its stdin is /dev/null, its
 * output is bounded, and it gets a time limit so a hung command cannot
 * hang the send.
 */
static char *
password_eval(const char *cmd, char *err, size_t errsz)
{
	char		*out;
	size_t		 len = 0;
	int		 p[2], status, fd;
	pid_t		 pid;
	ssize_t		 n;
	struct pollfd	 pfd;
	time_t		 deadline = time(NULL) + EVAL_TIMEOUT;

	if ((out = malloc(EVAL_MAXOUT + 1)) == NULL)
		fatal("malloc");
	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    dup2(p[1], STDOUT_FILENO) == -1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		int left = (int)(deadline - time(NULL));

		if (left <= 0 || poll(&pfd, 1, left * 1000) == 0) {
			kill(pid, SIGKILL);
			snprintf(err, errsz, "cannot read output of '%s': "
			    "timed out after %d seconds", cmd, EVAL_TIMEOUT);
			goto fail;
		}
		n = read(p[0], out + len, EVAL_MAXOUT - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errsz, "cannot read output of '%s': %s",
			    cmd, strerror(errno));
			kill(pid, SIGKILL);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == EVAL_MAXOUT) {
			kill(pid, SIGKILL);
			snprintf(err, errsz, "cannot read output of '%s': "
			    "more than %d bytes", cmd, EVAL_MAXOUT);
			goto fail;
		}
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errsz, "cannot read output of '%s'", cmd);
		freezero(out, EVAL_MAXOUT + 1);
		return NULL;
	}
	/* msmtp drops one trailing line end. */
	if (len > 0 && out[len - 1] == '\n')
		len--;
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	if (memchr(out, '\0', len) != NULL) {
		snprintf(err, errsz, "cannot read output of '%s': "
		    "it contains a NUL byte", cmd);
		freezero(out, EVAL_MAXOUT + 1);
		return NULL;
	}
	return out;
fail:
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	freezero(out, EVAL_MAXOUT + 1);
	return NULL;
}

static void
read_config(struct ipc *parent, struct secrets *s)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	struct ipc_buf	 b;
	char		*eval, err[1024];

	if (ipc_recv(parent, &m) != 1)
		fatalx("secrets: no configuration from the parent");
	if (m.hdr.type != MSG_S_CONFIG)
		fatalx("secrets: unexpected message %u", m.hdr.type);
	ipc_cur_init(&c, &m);
	if (ipc_cur_str(&c, &s->host) == -1 ||
	    ipc_cur_str(&c, &s->user) == -1 ||
	    ipc_cur_str(&c, &s->password) == -1 ||
	    ipc_cur_str(&c, &eval) == -1 ||
	    ipc_cur_str(&c, &s->auth) == -1 ||
	    ipc_cur_u32(&c, &s->flags) == -1 ||
	    ipc_cur_end(&c) == -1)
		fatalx("secrets: bad configuration message");
	/* The message buffer held the password: wipe it. */
	explicit_bzero(parent->rbuf, sizeof(parent->rbuf));
	if (s->auth == NULL)
		s->auth = strdup("");
	if (s->password == NULL && eval != NULL) {
		if ((s->password = password_eval(eval, err,
		    sizeof(err))) == NULL) {
			ipc_buf_init(&b);
			ipc_buf_u32(&b, EX_CONFIG);
			ipc_buf_str(&b, err);
			if (ipc_compose_buf(parent, MSG_S_ERROR, -1, &b) == -1 ||
			    ipc_flush(parent) == -1)
				fatal("secrets: send");
			exit(0);
		}
	}
	free(eval);
}

/* Mechanisms tried, in order, when the configuration says only "auth on". */
static const char *auto_tls[] = { "PLAIN", "CRAM-MD5", "LOGIN", NULL };

static int
offered(const char *list, const char *mech)
{
	char		 buf[1024], *p, *w;

	strlcpy(buf, list, sizeof(buf));
	for (p = buf; (w = strsep(&p, " ")) != NULL; )
		if (strcasecmp(w, mech) == 0)
			return 1;
	return 0;
}

static int
supported(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 ||
	    strcasecmp(mech, "LOGIN") == 0 ||
	    strcasecmp(mech, "CRAM-MD5") == 0;
}

static char *
b64(const void *p, size_t len)
{
	char	*out;
	size_t	 sz = BASE64_ENCODE_SIZE(len);

	if ((out = malloc(sz)) == NULL)
		fatal("malloc");
	if (base64_encode(out, sz, p, len) == -1)
		fatalx("base64_encode");
	return out;
}

static void
send_str2(uint32_t type, const char *a, const char *bstr)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_str(&b, a);
	if (type == MSG_AUTH_MECH)
		ipc_buf_str(&b, bstr);
	if (ipc_compose_buf(&peer, type, -1, &b) == -1 ||
	    ipc_flush(&peer) == -1)
		fatal("secrets: send");
	explicit_bzero(&b, sizeof(b));
}

static void
auth_start(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur		 c;
	char			*mechs, *resp = NULL, *buf;
	const unsigned char	*cb;
	size_t			 cblen, ul, pl;
	uint32_t		 tls;
	int			 i;

	ipc_cur_init(&c, m);
	if (ipc_cur_str(&c, &mechs) == -1 || mechs == NULL ||
	    ipc_cur_u32(&c, &tls) == -1 ||
	    ipc_cur_bytes(&c, &cb, &cblen) == -1 || ipc_cur_end(&c) == -1)
		fatalx("secrets: bad AUTH_START");
	if (*mechs == '\0') {
		send_fail(EX_UNAVAILABLE,
		    "the server does not support authentication");
		goto out;
	}
	if (*s->auth != '\0') {
		strlcpy(s->mech, s->auth, sizeof(s->mech));
		for (i = 0; s->mech[i] != '\0'; i++)
			s->mech[i] = (char)toupper((unsigned char)s->mech[i]);
		if (!supported(s->mech)) {
			send_fail(EX_UNAVAILABLE, "support for authentication "
			    "method %s is not compiled in", s->mech);
			goto out;
		}
		if (!offered(mechs, s->mech)) {
			send_fail(EX_UNAVAILABLE, "the server does not support "
			    "authentication method %s", s->mech);
			goto out;
		}
	} else {
		s->mech[0] = '\0';
		/* Password mechanisms only inside TLS, as in msmtp. */
		for (i = 0; tls && auto_tls[i] != NULL; i++)
			if (offered(mechs, auto_tls[i])) {
				strlcpy(s->mech, auto_tls[i], sizeof(s->mech));
				break;
			}
		if (s->mech[0] == '\0') {
			send_fail(EX_UNAVAILABLE, tls ?
			    "cannot find a usable authentication method" :
			    "cannot use a secure authentication method");
			goto out;
		}
	}
	if (s->user == NULL || *s->user == '\0') {
		send_fail(EX_UNAVAILABLE, "authentication method %s needs a "
		    "user name", s->mech);
		goto out;
	}
	if (s->password == NULL) {
		send_fail(EX_UNAVAILABLE, "authentication method %s needs a "
		    "password", s->mech);
		goto out;
	}
	s->step = 0;
	if (strcmp(s->mech, "PLAIN") == 0) {
		ul = strlen(s->user);
		pl = strlen(s->password);
		if ((buf = malloc(ul + pl + 2)) == NULL)
			fatal("malloc");
		buf[0] = '\0';
		memcpy(buf + 1, s->user, ul);
		buf[ul + 1] = '\0';
		memcpy(buf + ul + 2, s->password, pl);
		resp = b64(buf, ul + pl + 2);
		freezero(buf, ul + pl + 2);
	}
	send_str2(MSG_AUTH_MECH, s->mech, resp);
	if (resp != NULL)
		freezero(resp, strlen(resp));
out:
	free(mechs);
}

/*
 * CRAM-MD5 (RFC 2195): the user name and the HMAC-MD5 of the challenge,
 * keyed with the password.  The password itself never leaves this process.
 */
static char *
cram_md5(struct secrets *s, const char *chal)
{
	unsigned char	 raw[1024], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		*out, *resp;
	size_t		 ul = strlen(s->user), i;
	ssize_t		 n;

	if ((n = base64_decode(raw, sizeof(raw), chal, strlen(chal))) < 0)
		return NULL;
	if (HMAC(EVP_md5(), s->password, (int)strlen(s->password), raw,
	    (size_t)n, mac, &maclen) == NULL)
		return NULL;
	if ((out = malloc(ul + 1 + 2 * maclen + 1)) == NULL)
		fatal("malloc");
	memcpy(out, s->user, ul);
	out[ul] = ' ';
	for (i = 0; i < maclen; i++)
		snprintf(out + ul + 1 + 2 * i, 3, "%02x", mac[i]);
	explicit_bzero(mac, sizeof(mac));
	resp = b64(out, ul + 1 + 2 * maclen);
	freezero(out, ul + 1 + 2 * maclen + 1);
	return resp;
}

static void
auth_challenge(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	char		*chal, *resp;
	const char	*v;

	ipc_cur_init(&c, m);
	if (ipc_cur_str(&c, &chal) == -1 || chal == NULL ||
	    ipc_cur_end(&c) == -1)
		fatalx("secrets: bad AUTH_CHALLENGE");
	if (strcmp(s->mech, "CRAM-MD5") == 0 && s->step++ == 0) {
		resp = cram_md5(s, chal);
		free(chal);
		if (resp == NULL) {
			send_fail(EX_PROTOCOL, "authentication failed "
			    "(method %s)", s->mech);
			return;
		}
		send_str2(MSG_AUTH_RESPONSE, resp, NULL);
		freezero(resp, strlen(resp));
		return;
	}
	free(chal);
	/* LOGIN: the user name, then the password; nothing more. */
	if (strcmp(s->mech, "LOGIN") != 0 || s->step > 1) {
		send_fail(EX_NOPERM, "authentication failed (method %s)",
		    s->mech);
		return;
	}
	v = s->step++ == 0 ? s->user : s->password;
	resp = b64(v, strlen(v));
	send_str2(MSG_AUTH_RESPONSE, resp, NULL);
	freezero(resp, strlen(resp));
}

static void
auth_result(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	uint32_t	 code;
	char		*text;

	ipc_cur_init(&c, m);
	if (ipc_cur_u32(&c, &code) == -1 || ipc_cur_str(&c, &text) == -1 ||
	    ipc_cur_end(&c) == -1)
		fatalx("secrets: bad AUTH_RESULT");
	free(text);
	if (code == 235) {
		if (ipc_send(&peer, MSG_AUTH_OK, -1, NULL, 0) == -1)
			fatal("secrets: send");
	} else if (code >= 400 && code < 500)
		send_fail(EX_TEMPFAIL, "authentication failed (method %s)",
		    s->mech);
	else
		send_fail(EX_NOPERM, "authentication failed (method %s)",
		    s->mech);
}

int
secrets_main(void)
{
	struct ipc	 parent;
	struct ipc_msg	 m;
	struct secrets	 s;
	int		 r;

	log_procname("secrets");
	memset(&s, 0, sizeof(s));
	ipc_init(&parent, FD_PARENT);
	ipc_init(&peer, FD_PEER);
	read_config(&parent, &s);
	/*
	 * libcrypto reads its configuration and loads its providers on
	 * first use: make that happen while files may still be opened.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    EVP_get_digestbyname("MD5") == NULL ||
	    HMAC(EVP_md5(), "k", 1, (const unsigned char *)"d", 1, NULL,
	    NULL) == NULL)
		fatalx("secrets: cannot initialise libcrypto");
	sandbox_lockdown(ROLE_SECRETS);
	if (ipc_send(&parent, MSG_S_READY, -1, NULL, 0) == -1)
		fatal("secrets: send");
	/* From here on the parent has nothing more to say. */
	ipc_clear(&parent);
	close(FD_PARENT);

	while ((r = ipc_recv(&peer, &m)) == 1) {
		switch (m.hdr.type) {
		case MSG_AUTH_START:
			auth_start(&s, &m);
			break;
		case MSG_AUTH_CHALLENGE:
			auth_challenge(&s, &m);
			break;
		case MSG_AUTH_RESULT:
			auth_result(&s, &m);
			break;
		default:
			fatalx("secrets: unexpected message %u", m.hdr.type);
		}
	}
	if (r == -1)
		fatal("secrets: receive");
	if (s.password != NULL)
		freezero(s.password, strlen(s.password));
	ipc_clear(&peer);
	return 0;
}
