/*
 * The secrets process: the only process that holds the account's password
 * for the whole session.  It takes its configuration from the parent once,
 * finds the password (passwordeval, the keyring, netrc, the terminal) and
 * sets up Cyrus SASL while it still may, locks itself down, stops
 * listening to the parent, and then answers the network process one AUTH
 * step at a time.  For SCRAM, CRAM-MD5 and DIGEST-MD5 only proofs leave
 * this process, never the password.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sasl_client.h"
#include "ipc.h"
#include "log.h"
#include "passeval.h"
#include "util.h"
#include "password.h"
#include "proto.h"
#include "roles.h"
#include "secrets.h"
#include "sysmode.h"

struct secrets {
	char		*host;
	char		*user;
	char		*password;
	char		*auth;		/* "" = choose automatically */
	char		*realm;
	uint32_t	 port;
	struct auth	*sasl;
	int		 started;
};

static struct ipc	 peer;

static void
send_fail(int code, const char *msg)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, msg);
	if (ipc_compose_buf(&peer, MSG_AUTH_FAIL, -1, &b) == -1 ||
	    ipc_flush(&peer) == -1)
		fatal("secrets: send");
}

static __dead void
parent_error(struct ipc *parent, int code, const char *msg)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, msg);
	if (ipc_compose_buf(parent, MSG_S_ERROR, -1, &b) == -1 ||
	    ipc_flush(parent) == -1)
		fatal("secrets: send");
	exit(EX_OK);
}

/*
 * A system account: its user, password and mechanism come from the secrets
 * file, the only file this process opens with the group.  A mechanism named
 * there is the only one used, whatever the parent or the network process
 * ask: with a challenge-response one the password never leaves.
 */
static void
system_secret(struct ipc *parent, struct secrets *s, const char *id)
{
	struct sys_secret	 e;
	char			 err[1024];
	int			 rc;

	if ((rc = sysmode_read_secret(id, &e, err, sizeof(err))) != EX_OK) {
		sysmode_drop_group();
		parent_error(parent, rc, err);
	}
	wipe_str(&s->user);
	s->user = e.user;
	s->password = e.password;
	if (e.auth != NULL) {
		wipe_str(&s->auth);
		s->auth = e.auth;
	}
}

static void
read_config(struct ipc *parent, struct secrets *s)
{
	struct ipc_msg	 m;
	struct s_config	 sc;
	char		*eval, *sysacc, err[1024];

	if (ipc_recv(parent, &m) != 1)
		fatalx("secrets: no configuration from the parent");
	if (m.hdr.type != MSG_S_CONFIG || m.fd != -1)
		fatalx("secrets: unexpected message %u", m.hdr.type);
	if (s_config_get(&m, &sc) == -1)
		fatalx("secrets: bad configuration message");
	s->host = sc.host;
	s->user = sc.user;
	s->password = sc.password;
	eval = sc.passwordeval;
	s->auth = sc.auth;
	s->port = sc.port;
	s->realm = sc.ntlmdomain;
	sysacc = sc.system;
	/* The message buffer held the password: wipe it. */
	explicit_bzero(parent->rbuf, sizeof(parent->rbuf));
	if (sysacc != NULL)
		system_secret(parent, s, sysacc);
	/* Started setgid: nothing below may use the group. */
	sysmode_drop_group();
	if (s->auth == NULL && (s->auth = strdup("")) == NULL)
		fatal("strdup");
	/* msmtp: passwordeval runs whenever auth is on and no password. */
	if (s->password == NULL && eval != NULL &&
	    (s->password = password_eval(eval, 0, PASSWORD_EVAL_TIMEOUT,
	    PASSWORD_MAX, err, sizeof(err))) == NULL)
		parent_error(parent, EX_CONFIG, err);
	free(eval);
	/*
	 * Then what msmtp asks for during AUTH, asked now because there is
	 * no later: the keyring, netrc and the terminal.  Only when the
	 * method may need a password and there is a user to look up, and
	 * never for a system account: its password is in the file or nowhere.
	 */
	if (sysacc == NULL && s->password == NULL &&
	    auth_needs_password(s->auth) &&
	    s->user != NULL && *s->user != '\0')
		s->password = password_find(s->host, s->user, NULL);
	free(sysacc);
}

/*
 * Whatever libcrypto and Cyrus would load on first use is loaded now:
 * libcrypto's configuration and digests (SCRAM's PBKDF2, HMAC), Cyrus's
 * plugins, and the SASL connection (a name lookup).
 */
static void
prepare(struct ipc *parent, struct secrets *s)
{
	struct auth_conf	 ac;
	unsigned char		 out[32];
	char			 err[512];

	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    EVP_get_digestbyname("MD5") == NULL ||
	    HMAC(EVP_md5(), "k", 1, (const unsigned char *)"d", 1, NULL,
	    NULL) == NULL ||
	    PKCS5_PBKDF2_HMAC("k", 1, (const unsigned char *)"s", 1, 1,
	    EVP_sha1(), sizeof(out), out) != 1 ||
	    PKCS5_PBKDF2_HMAC("k", 1, (const unsigned char *)"s", 1, 1,
	    EVP_sha256(), sizeof(out), out) != 1)
		fatalx("secrets: cannot initialise libcrypto");
	err[0] = '\0';
	if (auth_library_init(err, sizeof(err)) == -1)
		parent_error(parent, EX_SOFTWARE, err);
	memset(&ac, 0, sizeof(ac));
	ac.host = s->host;
	ac.port = (int)s->port;
	ac.user = s->user;
	ac.password = s->password;
	ac.realm = s->realm;
	ac.mech = s->auth;
	/* A Cyrus failure here is reported when a mechanism needs it. */
	s->sasl = auth_new(&ac, err, sizeof(err));
}

/*
 * What MIT krb5 opens again on every GSSAPI step, after lockdown: the
 * Kerberos configuration (KRB5_CONFIG, or /etc/krb5.conf and its usual
 * include directory), the GSS mechanism list, and the credential cache
 * (KRB5CCNAME, or /tmp/krb5cc_UID).  Only a cache in a file or a
 * directory has a path to allow: any other kind is refused now.
 */
#define GSS_MAXPATHS	16

static void
gssapi_paths(struct ipc *parent, char **paths)
{
	const char	*conf, *cc;
	char		*list, *p, *tok, msg[256];
	size_t		 n = 0;

	conf = getenv("KRB5_CONFIG");
	if (conf == NULL || *conf == '\0')
		conf = "/etc/krb5.conf:/etc/krb5.conf.d";
	if ((list = strdup(conf)) == NULL)
		fatal("strdup");
	for (p = list; (tok = strsep(&p, ":")) != NULL; )
		if (*tok != '\0' && n < GSS_MAXPATHS - 3 &&
		    (paths[n++] = strdup(tok)) == NULL)
			fatal("strdup");
	free(list);
	if ((paths[n++] = strdup("/etc/gss")) == NULL)
		fatal("strdup");
	cc = getenv("KRB5CCNAME");
	if (cc == NULL || *cc == '\0') {
		if (asprintf(&paths[n], "/tmp/krb5cc_%u",
		    (unsigned)getuid()) == -1)
			fatal("asprintf");
		n++;
	} else {
		if (strncmp(cc, "FILE:", 5) == 0)
			cc += 5;
		else if (strncmp(cc, "DIR:", 4) == 0)
			cc += *(cc + 4) == ':' ? 5 : 4;
		if (*cc != '/') {
			snprintf(msg, sizeof(msg), "GSSAPI: the credential "
			    "cache must be a file or a directory (FILE: or "
			    "DIR:), not %.64s", getenv("KRB5CCNAME"));
			parent_error(parent, EX_CONFIG, msg);
		}
		if ((paths[n++] = strdup(cc)) == NULL)
			fatal("strdup");
	}
	paths[n] = NULL;
}

static void
send_mech(const char *mech, const char *initial)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_str(&b, mech);
	ipc_buf_str(&b, initial);
	if (ipc_compose_buf(&peer, MSG_AUTH_MECH, -1, &b) == -1 ||
	    ipc_flush(&peer) == -1)
		fatal("secrets: send");
	explicit_bzero(&b, sizeof(b));
}

static void
send_response(const char *resp)
{
	struct ipc_buf	 b;

	ipc_buf_init(&b);
	ipc_buf_str(&b, resp);
	if (ipc_compose_buf(&peer, MSG_AUTH_RESPONSE, -1, &b) == -1 ||
	    ipc_flush(&peer) == -1)
		fatal("secrets: send");
	explicit_bzero(&b, sizeof(b));
}

static void
auth_start(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur		 c;
	const unsigned char	*cb;
	char			*mechs, *initial = NULL, mech[32], err[512];
	size_t			 cblen;
	uint32_t		 tls;
	int			 code;

	ipc_cur_init(&c, m);
	if (ipc_cur_str(&c, &mechs) == -1 || mechs == NULL ||
	    ipc_cur_u32(&c, &tls) == -1 || tls > 1 ||
	    ipc_cur_bytes(&c, &cb, &cblen) == -1 || ipc_cur_end(&c) == -1 ||
	    s->started++)
		fatalx("secrets: bad AUTH_START");
	if (auth_begin(s->sasl, mechs, (int)tls, cblen > 0 ? cb : NULL, cblen,
	    mech, sizeof(mech), &initial, &code, err, sizeof(err)) == -1)
		send_fail(code, err);
	else
		send_mech(mech, initial);
	wipe_str(&initial);
	free(mechs);
}

static void
auth_challenge(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	char		*chal, *resp = NULL, err[512];
	int		 code;

	ipc_cur_init(&c, m);
	if (ipc_cur_str(&c, &chal) == -1 || chal == NULL ||
	    ipc_cur_end(&c) == -1 || !s->started)
		fatalx("secrets: bad AUTH_CHALLENGE");
	if (auth_step(s->sasl, chal, &resp, &code, err, sizeof(err)) == -1)
		send_fail(code, err);
	else
		send_response(resp);
	wipe_str(&resp);
	free(chal);
}

static void
auth_result(struct secrets *s, struct ipc_msg *m)
{
	struct ipc_cur	 c;
	uint32_t	 reply;
	char		*text, err[512];
	int		 code;

	ipc_cur_init(&c, m);
	if (ipc_cur_u32(&c, &reply) == -1 || ipc_cur_str(&c, &text) == -1 ||
	    ipc_cur_end(&c) == -1 || !s->started)
		fatalx("secrets: bad AUTH_RESULT");
	free(text);
	if (auth_end(s->sasl, (int)reply, &code, err, sizeof(err)) == -1)
		send_fail(code, err);
	else if (ipc_send(&peer, MSG_AUTH_OK, -1, NULL, 0) == -1)
		fatal("secrets: send");
}

int
secrets_main(void)
{
	/* Static, not on the stack: only the pages used are touched. */
	static struct ipc	 parent;
	static struct secrets	 s;
	struct ipc_msg	 m;
	char		*gss[GSS_MAXPATHS];
	int		 r;

	log_procname("secrets");
	ipc_init(&parent, FD_PARENT);
	ipc_init(&peer, FD_PEER);
	read_config(&parent, &s);
	prepare(&parent, &s);
	if (strcasecmp(s.auth, "GSSAPI") == 0) {
		gssapi_paths(&parent, gss);
		sandbox_lockdown_gssapi((const char *const *)gss);
	} else
		sandbox_lockdown(ROLE_SECRETS);
	if (ipc_send(&parent, MSG_S_READY, -1, NULL, 0) == -1)
		fatal("secrets: send");
	/* From here on the parent has nothing more to say. */
	ipc_clear(&parent);
	close(FD_PARENT);

	while ((r = ipc_recv(&peer, &m)) == 1) {
		if (m.fd != -1)
			fatalx("secrets: unexpected descriptor");
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
	auth_free(s.sasl);
	wipe_str(&s.password);
	ipc_clear(&peer);
	return EX_OK;
}
