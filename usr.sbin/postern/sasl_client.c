/*
 * SMTP AUTH for the secrets process.  Cyrus SASL is set up here before the
 * process locks itself down (plugins from the system directory only, the
 * connection created while name lookups may still happen); afterwards it
 * only computes.  The mechanism is chosen here, in msmtp's order, never
 * by Cyrus, and the SCRAM exchange is checked where Cyrus 2.1.28 does not
 * check it (iteration count) and where the protocol lets a server cheat
 * (a 235 before its signature was verified).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "sasl_client.h"
#include "base64.h"
#include "log.h"
#include "util.h"

#define CB(f)	((int (*)(void))(void (*)(void))(f))

enum mech_kind {
	MECH_CYRUS,
	MECH_EXTERNAL,
	MECH_XOAUTH2,
	MECH_OAUTHBEARER
};

/* In msmtp's order of preference when the configuration says "auth on". */
static const char *order_tls[] = {
	"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
	"SCRAM-SHA-1", "PLAIN", "CRAM-MD5", "DIGEST-MD5", "LOGIN", "NTLM",
	NULL
};
/* Without TLS only what never shows the server the password. */
static const char *order_clear[] = { "SCRAM-SHA-256", "SCRAM-SHA-1", NULL };

/* The Cyrus plugins that may be loaded, and nothing else. */
static const char *plugins[] = {
	"libscram.so", "libplain.so", "liblogin.so", "libcrammd5.so",
	"libdigestmd5.so", "libntlm.so", "libgssapiv2.so", NULL
};

/* Where Debian, other Linux systems and OpenBSD install them. */
#if defined(__x86_64__)
#define MULTIARCH	"x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH	"aarch64-linux-gnu"
#elif defined(__i386__)
#define MULTIARCH	"i386-linux-gnu"
#else
#define MULTIARCH	"unknown"
#endif
static const char *plugin_dirs[] = {
#ifdef SASL_PLUGIN_DIR
	SASL_PLUGIN_DIR,
#endif
	"/usr/lib/" MULTIARCH "/sasl2",
	"/usr/lib64/sasl2",
	"/usr/lib/sasl2",
	"/usr/local/lib/sasl2",
	NULL
};

struct auth {
	struct auth_conf	 conf;
	sasl_conn_t		*conn;
	sasl_callback_t		 cbs[5];
	sasl_secret_t		*secret;
	size_t			 secretsz;
	sasl_channel_binding_t	 cb;
	unsigned char		 cbdata[64];
	char			 mech[32];
	enum mech_kind		 kind;
	int			 step;
	int			 done;		/* our side finished cleanly */
	int			 failed;	/* the server reported an error */
	/* GSSAPI needs files and the KDC: its first step runs early. */
	int			 pre_rc;
	char			*pre_out;
	unsigned		 pre_len;
	char			 error[256];	/* Cyrus's last words */
};

static const char	*plugin_dir;
static char		 sasl_lasterr[256];
static int		 library_ready;

/*
 * Every random byte a Cyrus plugin asks for (SCRAM and DIGEST-MD5 nonces)
 * comes from the kernel.  Cyrus would seed a 48-bit jrand48 pool from
 * /dev/urandom on first use, which is after lockdown, when open() is
 * fatal.  These definitions take the place of the library's (the plugins
 * reach them through a pointer libsasl2 resolves dynamically);
 * auth_library_init() checks that they did.
 */
void
sasl_rand(sasl_rand_t *rpool, char *buf, unsigned len)
{
	size_t	 n;

	while (len > 0) {
		n = len > 256 ? 256 : len;
		if (getentropy(buf, n) == -1)
			fatal("getentropy");
		buf += n;
		len -= (unsigned)n;
	}
}

void
sasl_churn(sasl_rand_t *rpool, const char *data, unsigned len)
{
}

static int
g_getpath(void *ctx, const char **path)
{
	*path = plugin_dir;
	return SASL_OK;
}

static int
g_getconfpath(void *ctx, char **path)
{
	if ((*path = strdup(plugin_dir)) == NULL)
		return SASL_NOMEM;
	return SASL_OK;
}

/* Only the listed plugins, only from the directory chosen above. */
static int
g_verifyfile(void *ctx, const char *file, sasl_verify_type_t type)
{
	const char	*base;
	size_t		 i, dl = strlen(plugin_dir);

	if (type != SASL_VRFY_PLUGIN || strncmp(file, plugin_dir, dl) != 0 ||
	    file[dl] != '/')
		return SASL_CONTINUE;
	base = file + dl + 1;
	for (i = 0; plugins[i] != NULL; i++)
		if (strcmp(base, plugins[i]) == 0)
			return SASL_OK;
	return SASL_CONTINUE;
}

/* Kept for error messages; never anything at the level that has passwords. */
static int
g_log(void *ctx, int level, const char *msg)
{
	if (level <= SASL_LOG_WARN && msg != NULL)
		log_sanitize(sasl_lasterr, sizeof(sasl_lasterr), msg,
		    strlen(msg));
	return SASL_OK;
}

static sasl_callback_t global_cbs[] = {
	{ SASL_CB_GETPATH, CB(g_getpath), NULL },
	{ SASL_CB_GETCONFPATH, CB(g_getconfpath), NULL },
	{ SASL_CB_VERIFYFILE, CB(g_verifyfile), NULL },
	{ SASL_CB_LOG, CB(g_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

/*
 * Once per process, before lockdown: load the plugins.  Environment
 * variables (SASL_PATH, SASL_CONF_PATH) are never consulted because the
 * callbacks above answer first.
 */
int
auth_library_init(char *err, size_t errsz)
{
	struct stat	 st;
	size_t		 i;
	int		 rc;

	plugin_dir = "/nonexistent";
	for (i = 0; plugin_dirs[i] != NULL; i++)
		if (stat(plugin_dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			plugin_dir = plugin_dirs[i];
			break;
		}
	if ((void *)(uintptr_t)dlsym(RTLD_DEFAULT, "sasl_rand") !=
	    (void *)(uintptr_t)sasl_rand) {
		snprintf(err, errsz, "Cyrus SASL: cannot replace its random "
		    "source");
		return -1;
	}
	if ((rc = sasl_client_init(global_cbs)) != SASL_OK) {
		snprintf(err, errsz, "Cyrus SASL: %s",
		    sasl_errstring(rc, NULL, NULL));
		return -1;
	}
	library_ready = 1;
	return 0;
}

static int
cyrus_has(const char *mech)
{
	const char	**l;
	char		  base[32];
	size_t		  n;

	if (!library_ready)
		return 0;
	strlcpy(base, mech, sizeof(base));
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, "-PLUS") == 0) {
		if (strncmp(base, "SCRAM-", 6) != 0)
			return 0;
		base[n - 5] = '\0';
	}
	if ((l = sasl_global_listmech()) == NULL)
		return 0;
	for (; *l != NULL; l++)
		if (strcasecmp(*l, base) == 0)
			return 1;
	return 0;
}

static int
mech_supported(const char *mech)
{
	if (strcmp(mech, "EXTERNAL") == 0 || strcmp(mech, "XOAUTH2") == 0 ||
	    strcmp(mech, "OAUTHBEARER") == 0)
		return 1;
	if (strcmp(mech, "ANONYMOUS") == 0)
		return 0;
	return cyrus_has(mech);
}

static int
offered(const char *list, const char *mech)
{
	size_t		 n = strlen(mech);
	const char	*p = list;

	while ((p = strstr(p, mech)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

static int
is_plus(const char *mech)
{
	size_t	 n = strlen(mech);

	return n > 5 && strcmp(mech + n - 5, "-PLUS") == 0;
}

/* msmtp asks neither for EXTERNAL nor for GSSAPI. */
int
auth_needs_password(const char *mech)
{
	return mech == NULL || (strcasecmp(mech, "EXTERNAL") != 0 &&
	    strcasecmp(mech, "GSSAPI") != 0);
}

/*
 * The automatic choice: the first mechanism in msmtp's order that the
 * server offers and we have; -PLUS only with channel binding data, and
 * without TLS nothing that would show the server the password.
 */
const char *
auth_choose(const char *list, int tls, int cbind, int (*have)(const char *))
{
	const char	**o = tls ? order_tls : order_clear;

	for (; *o != NULL; o++) {
		if (is_plus(*o) && !cbind)
			continue;
		if (offered(list, *o) && have(*o))
			return *o;
	}
	return NULL;
}

/*
 * The iteration count of a SCRAM server-first-message (RFC 5802 5.1):
 * "r=..,s=..,i=N", N decimal without leading zeros.  -1 when the message
 * is malformed or carries a mandatory extension.
 */
int
auth_scram_iterations(const char *msg, size_t len, unsigned long *iter)
{
	const char	*p = msg, *end = msg + len, *e;
	unsigned long	 v = 0;
	int		 seen_r = 0, seen_s = 0;

	if (memchr(msg, '\0', len) != NULL)
		return -1;
	while (p < end) {
		if ((e = memchr(p, ',', (size_t)(end - p))) == NULL)
			e = end;
		if (e - p < 2 || p[1] != '=')
			return -1;
		switch (p[0]) {
		case 'r':
			seen_r = 1;
			break;
		case 's':
			seen_s = 1;
			break;
		case 'i':
			if (!seen_r || !seen_s || e - p < 3 || e - p > 12 ||
			    p[2] == '0')
				return -1;
			for (p += 2; p < e; p++) {
				if (!isdigit((unsigned char)*p))
					return -1;
				v = v * 10 + (unsigned long)(*p - '0');
			}
			*iter = v;
			return 0;
		default:
			/* m= or anything else before i= */
			return -1;
		}
		p = e + 1;
	}
	return -1;
}

/* RFC 5801 saslname: ',' and '=' escaped. */
static void
gs2_name(char *out, size_t outsz, const char *in)
{
	size_t	 n = 0;

	for (; *in != '\0' && n + 4 < outsz; in++) {
		if (*in == ',' || *in == '=') {
			n += (size_t)snprintf(out + n, outsz - n, "=%s",
			    *in == ',' ? "2C" : "3D");
		} else
			out[n++] = *in;
	}
	out[n] = '\0';
}

/*
 * The OAuth 2.0 client responses: Google's XOAUTH2 and OAUTHBEARER
 * (RFC 7628 3.1).  The result holds the token: freezero it.
 */
char *
auth_oauth(const char *mech, const char *user, const char *token, int port,
    const char *host)
{
	char	*out, name[1024];
	int	 r;

	if (strcmp(mech, "XOAUTH2") == 0)
		r = asprintf(&out, "user=%s\001auth=Bearer %s\001\001", user,
		    token);
	else {
		gs2_name(name, sizeof(name), user);
		r = asprintf(&out, "n,a=%s,\001host=%s\001port=%d\001"
		    "auth=Bearer %s\001\001", name, host, port, token);
	}
	if (r == -1)
		fatal("asprintf");
	return out;
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

/* Cyrus keeps its output buffers; the ones that held credentials are wiped. */
static void
wipe_out(const char *out, unsigned len)
{
	if (out != NULL && len > 0)
		explicit_bzero((void *)(uintptr_t)out, len);
}

static int
cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct auth	*a = ctx;

	switch (id) {
	case SASL_CB_AUTHNAME:
		/* Always ours: Cyrus would fall back to $USER. */
		*result = a->conf.user != NULL ? a->conf.user : "";
		break;
	case SASL_CB_USER:
		*result = "";		/* no authorization identity */
		break;
	default:
		return SASL_FAIL;
	}
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct auth	*a = ctx;

	if (id != SASL_CB_PASS || a->secret == NULL)
		return SASL_FAIL;
	*psecret = a->secret;
	return SASL_OK;
}

static int
cb_realm(void *ctx, int id, const char **avail, const char **result)
{
	struct auth	*a = ctx;

	if (a->conf.realm != NULL)
		*result = a->conf.realm;
	else
		*result = avail != NULL && avail[0] != NULL ? avail[0] : "";
	return SASL_OK;
}

static void
cyrus_error(struct auth *a, int rc)
{
	const char	*d = a->conn != NULL ? sasl_errdetail(a->conn) : NULL;

	if (d == NULL || *d == '\0')
		d = sasl_errstring(rc, NULL, NULL);
	log_sanitize(a->error, sizeof(a->error), d, strlen(d));
}

/*
 * Per session, before lockdown: Cyrus looks up this host's name when the
 * connection is created, so it is created now.  No security layer is ever
 * negotiated (max_ssf 0): TLS protects the session, and the network
 * process could not speak a SASL layer anyway.
 */
struct auth *
auth_new(const struct auth_conf *conf, char *err, size_t errsz)
{
	struct auth			*a;
	sasl_security_properties_t	 sp;
	size_t				 pl;
	int				 rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->conf = *conf;
	if (a->conf.mech == NULL)
		a->conf.mech = "";
	if (conf->password != NULL) {
		pl = strlen(conf->password);
		a->secretsz = sizeof(sasl_secret_t) + pl + 1;
		if ((a->secret = calloc(1, a->secretsz)) == NULL)
			fatal("calloc");
		a->secret->len = pl;
		memcpy(a->secret->data, conf->password, pl);
	}
	a->cbs[0] = (sasl_callback_t){ SASL_CB_AUTHNAME, CB(cb_simple), a };
	a->cbs[1] = (sasl_callback_t){ SASL_CB_USER, CB(cb_simple), a };
	a->cbs[2] = (sasl_callback_t){ SASL_CB_PASS, CB(cb_pass), a };
	a->cbs[3] = (sasl_callback_t){ SASL_CB_GETREALM, CB(cb_realm), a };
	a->cbs[4] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	a->pre_rc = SASL_NOTDONE;
	if (!library_ready) {
		strlcpy(a->error, "not initialised", sizeof(a->error));
		return a;
	}
	if ((rc = sasl_client_new("smtp", conf->host, NULL, NULL, a->cbs, 0,
	    &a->conn)) != SASL_OK) {
		a->conn = NULL;
		cyrus_error(a, rc);
		snprintf(err, errsz, "Cyrus SASL: %s", a->error);
		return a;
	}
	memset(&sp, 0, sizeof(sp));
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	if (sasl_setprop(a->conn, SASL_SEC_PROPS, &sp) != SASL_OK)
		fatalx("Cyrus SASL: cannot set security properties");
	if (strcasecmp(a->conf.mech, "GSSAPI") == 0 && cyrus_has("GSSAPI")) {
		const char	*out = NULL, *m;
		unsigned	 len = 0;

		a->pre_rc = sasl_client_start(a->conn, "GSSAPI", NULL, &out,
		    &len, &m);
		if (a->pre_rc == SASL_OK || a->pre_rc == SASL_CONTINUE) {
			if (out != NULL)
				a->pre_out = b64(out, len);
			a->pre_len = len;
		} else
			cyrus_error(a, a->pre_rc);
	}
	return a;
}

static int
fail(int *code, char *err, size_t errsz, int c, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(int *code, char *err, size_t errsz, int c, const char *fmt, ...)
{
	va_list	 ap;

	*code = c;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static int
cyrus_begin(struct auth *a, const char *offer, const unsigned char *cb,
    size_t cblen, char **initial, int *code, char *err, size_t errsz)
{
	char		 list[80], base[32], plus[40];
	const char	*out = NULL, *m = NULL;
	unsigned	 len = 0;
	int		 rc, scram = strncmp(a->mech, "SCRAM-", 6) == 0;

	if (a->conn == NULL)
		return fail(code, err, errsz, EX_SOFTWARE, "Cyrus SASL: %s",
		    a->error);
	strlcpy(base, a->mech, sizeof(base));
	if (is_plus(base))
		base[strlen(base) - 5] = '\0';
	if (strcmp(a->mech, "GSSAPI") == 0) {
		if (a->pre_rc != SASL_OK && a->pre_rc != SASL_CONTINUE)
			return fail(code, err, errsz, EX_NOPERM,
			    "authentication failed (method GSSAPI): %s",
			    a->error);
		a->done = a->pre_rc == SASL_OK;
		if (a->pre_out != NULL) {
			*initial = a->pre_out;
			a->pre_out = NULL;
		}
		return 0;
	}
	/*
	 * Channel binding goes to SCRAM only.  -PLUS: the one mechanism,
	 * and Cyrus sends "p=".  Plain SCRAM while we could bind and the
	 * server offered no -PLUS: the name twice, so Cyrus sees a
	 * negotiation without -PLUS and sends "y" (RFC 5802 6), which lets
	 * a server that does support -PLUS detect a tampered list.  When
	 * the user named plain SCRAM although -PLUS is offered: "n".
	 */
	snprintf(plus, sizeof(plus), "%s-PLUS", base);
	if (scram && !is_plus(a->mech) && offered(offer, plus))
		cblen = 0;
	if (scram && cb != NULL && cblen > 0 && cblen <= sizeof(a->cbdata)) {
		memcpy(a->cbdata, cb, cblen);
		a->cb.name = "tls-server-end-point";
		a->cb.critical = 0;
		a->cb.len = cblen;
		a->cb.data = a->cbdata;
		if (sasl_setprop(a->conn, SASL_CHANNEL_BINDING, &a->cb) !=
		    SASL_OK)
			return fail(code, err, errsz, EX_SOFTWARE,
			    "Cyrus SASL: cannot set the channel binding");
		if (is_plus(a->mech))
			strlcpy(list, a->mech, sizeof(list));
		else
			snprintf(list, sizeof(list), "%s %s", a->mech,
			    a->mech);
	} else if (is_plus(a->mech))
		return fail(code, err, errsz, EX_UNAVAILABLE, "authentication "
		    "method %s needs TLS channel binding", a->mech);
	else
		strlcpy(list, a->mech, sizeof(list));
	rc = sasl_client_start(a->conn, list, NULL, &out, &len, &m);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		cyrus_error(a, rc);
		return fail(code, err, errsz, EX_SOFTWARE, "Cyrus SASL: %s",
		    a->error);
	}
	if (m == NULL || strcasecmp(m, base) != 0) {
		wipe_out(out, len);
		return fail(code, err, errsz, EX_SOFTWARE, "Cyrus SASL chose "
		    "%s instead of %s", m != NULL ? m : "nothing", base);
	}
	/* The GS2 header must say what we decided. */
	if (scram && (out == NULL || len < 2 ||
	    out[0] != (is_plus(a->mech) ? 'p' : cblen > 0 ? 'y' : 'n'))) {
		wipe_out(out, len);
		return fail(code, err, errsz, EX_SOFTWARE, "Cyrus SASL: "
		    "unexpected channel binding flag in the SCRAM exchange");
	}
	a->done = rc == SASL_OK;
	if (out != NULL) {
		*initial = b64(out, len);
		wipe_out(out, len);
	}
	return 0;
}

/*
 * The mechanism and the initial response for the offered list (post-TLS
 * EHLO).  No secret is used unless every check has passed.
 */
int
auth_begin(struct auth *a, const char *list, int tls,
    const unsigned char *cb, size_t cblen, char *mech, size_t mechsz,
    char **initial, int *code, char *err, size_t errsz)
{
	const char	*m;
	char		*resp;
	size_t		 i;

	*initial = NULL;
	if (*list == '\0')
		return fail(code, err, errsz, EX_UNAVAILABLE,
		    "the server does not support authentication");
	if (*a->conf.mech != '\0') {
		strlcpy(a->mech, a->conf.mech, sizeof(a->mech));
		for (i = 0; a->mech[i] != '\0'; i++)
			a->mech[i] = (char)toupper((unsigned char)a->mech[i]);
		if (!mech_supported(a->mech))
			return fail(code, err, errsz, EX_UNAVAILABLE,
			    "support for authentication method %s is not "
			    "compiled in", a->mech);
		if (!offered(list, a->mech))
			return fail(code, err, errsz, EX_UNAVAILABLE,
			    "the server does not support authentication "
			    "method %s", a->mech);
	} else {
		if ((m = auth_choose(list, tls, cb != NULL && cblen > 0,
		    cyrus_has)) == NULL)
			return fail(code, err, errsz, EX_UNAVAILABLE, tls ?
			    "cannot find a usable authentication method" :
			    "cannot use a secure authentication method");
		strlcpy(a->mech, m, sizeof(a->mech));
	}
	strlcpy(mech, a->mech, mechsz);
	if (auth_needs_password(a->mech) &&
	    (a->conf.user == NULL || *a->conf.user == '\0'))
		return fail(code, err, errsz, EX_UNAVAILABLE, "authentication "
		    "method %s needs a user name", a->mech);
	if (auth_needs_password(a->mech) && a->conf.password == NULL)
		return fail(code, err, errsz, EX_UNAVAILABLE, "authentication "
		    "method %s needs a password", a->mech);
	a->step = 0;
	if (strcmp(a->mech, "EXTERNAL") == 0)
		a->kind = MECH_EXTERNAL;
	else if (strcmp(a->mech, "XOAUTH2") == 0)
		a->kind = MECH_XOAUTH2;
	else if (strcmp(a->mech, "OAUTHBEARER") == 0) {
		a->kind = MECH_OAUTHBEARER;
		resp = auth_oauth(a->mech, a->conf.user, a->conf.password,
		    a->conf.port, a->conf.host);
		*initial = b64(resp, strlen(resp));
		wipe_str(&resp);
		a->done = 1;
	} else {
		a->kind = MECH_CYRUS;
		return cyrus_begin(a, list, cb, cblen, initial, code, err,
		    errsz);
	}
	return 0;
}

/* One 334 challenge (base64, possibly empty); the response in base64. */
int
auth_step(struct auth *a, const char *chal, char **response, int *code,
    char *err, size_t errsz)
{
	unsigned char	*raw;
	const char	*out = NULL;
	char		*resp;
	size_t		 cl = strlen(chal), rawsz = BASE64_DECODE_SIZE(cl) + 1;
	ssize_t		 n;
	unsigned long	 iter;
	unsigned	 len = 0;
	int		 rc, step = a->step++;

	*response = NULL;
	if ((raw = malloc(rawsz)) == NULL)
		fatal("malloc");
	if ((n = base64_decode(raw, rawsz - 1, chal, cl)) < 0) {
		free(raw);
		return fail(code, err, errsz, EX_PROTOCOL, "authentication "
		    "failed (method %s): the server sent invalid base64",
		    a->mech);
	}
	raw[n] = '\0';
	switch (a->kind) {
	case MECH_EXTERNAL:
		if (step != 0)
			break;
		/* The user name, if any, is the authorization identity. */
		*response = b64(a->conf.user != NULL ? a->conf.user : "",
		    a->conf.user != NULL ? strlen(a->conf.user) : 0);
		a->done = 1;
		free(raw);
		return 0;
	case MECH_XOAUTH2:
		if (step == 0) {
			resp = auth_oauth(a->mech, a->conf.user,
			    a->conf.password, a->conf.port, a->conf.host);
			*response = b64(resp, strlen(resp));
			wipe_str(&resp);
			a->done = 1;
			free(raw);
			return 0;
		}
		/* An error report in JSON: acknowledge it, the 535 follows. */
		if (step == 1) {
			a->done = 0;
			a->failed = 1;
			*response = b64("", 0);
			free(raw);
			return 0;
		}
		break;
	case MECH_OAUTHBEARER:
		if (step == 0) {
			a->done = 0;
			a->failed = 1;
			*response = b64("\001", 1);
			free(raw);
			return 0;
		}
		break;
	case MECH_CYRUS:
		if (a->done)
			break;
		if (strncmp(a->mech, "SCRAM-", 6) == 0 && step == 0) {
			if (auth_scram_iterations((char *)raw, (size_t)n,
			    &iter) == -1) {
				free(raw);
				return fail(code, err, errsz, EX_PROTOCOL,
				    "authentication failed (method %s): "
				    "invalid SCRAM server-first-message",
				    a->mech);
			}
			if (iter < AUTH_SCRAM_MIN_ITER) {
				free(raw);
				return fail(code, err, errsz, EX_NOPERM,
				    "authentication failed (method %s): "
				    "iteration count %lu is below %d",
				    a->mech, iter, AUTH_SCRAM_MIN_ITER);
			}
		}
		rc = sasl_client_step(a->conn, (const char *)raw,
		    (unsigned)n, NULL, &out, &len);
		free(raw);
		if (rc != SASL_OK && rc != SASL_CONTINUE) {
			wipe_out(out, len);
			cyrus_error(a, rc);
			return fail(code, err, errsz, EX_NOPERM, "authentication "
			    "failed (method %s): %s", a->mech,
			    rc == SASL_BADSERV ? "the server could not prove "
			    "that it knows the password" : a->error);
		}
		a->done = rc == SASL_OK;
		*response = b64(out != NULL ? out : "", out != NULL ? len : 0);
		wipe_out(out, len);
		return 0;
	}
	free(raw);
	return fail(code, err, errsz, EX_NOPERM, "authentication failed "
	    "(method %s): unexpected challenge", a->mech);
}

/*
 * The server's final reply.  235 counts only when our side of the
 * exchange is complete: a SCRAM server that says 235 without a verified
 * signature has not shown that it knows the password.
 */
int
auth_end(struct auth *a, int reply, int *code, char *err, size_t errsz)
{
	if (reply == 235 && a->done && !a->failed)
		return 0;
	if (reply == 235)
		return fail(code, err, errsz, EX_NOPERM, "authentication "
		    "failed (method %s): the server accepted before the "
		    "exchange was complete", a->mech);
	return fail(code, err, errsz, reply >= 400 && reply < 500 ?
	    EX_TEMPFAIL : EX_NOPERM, "authentication failed (method %s)",
	    a->mech);
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->conn != NULL)
		sasl_dispose(&a->conn);
	if (a->secret != NULL)
		freezero(a->secret, a->secretsz);
	wipe_str(&a->pre_out);
	freezero(a, sizeof(*a));
}
