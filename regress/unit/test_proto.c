/*
 * The large payloads of postern's protocol (usr.sbin/postern/proto.c):
 * what an encoder writes its decoder reads back field for field, and a
 * decoder refuses every prefix of a good payload, a byte more, a
 * descriptor, and each value out of range.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "proto.h"
#include "rfc5322.h"
#include "smtp_client.h"
#include "tap.h"

static struct ipc_buf	 b;

static void
as_msg(const struct ipc_buf *buf, size_t len, struct ipc_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->data = buf->data;
	m->datalen = len;
}

static int
same(const char *a, const char *b2)
{
	if (a == NULL || b2 == NULL)
		return a == b2;
	return strcmp(a, b2) == 0;
}

/* Every proper prefix fails, and so does one byte more. */
#define REFUSES_CUTS(type, get, clear) do {				\
	struct ipc_msg	 m_;						\
	type		 v_;						\
	size_t		 n_;						\
	int		 bad_ = 0;					\
	for (n_ = 0; n_ < b.len; n_++) {				\
		as_msg(&b, n_, &m_);					\
		if (get(&m_, &v_) != -1) {				\
			bad_++;						\
			clear(&v_);					\
		}							\
	}								\
	ok(bad_ == 0, #type ": each of the %zu prefixes refused", b.len); \
	b.data[b.len] = 0;						\
	as_msg(&b, b.len + 1, &m_);					\
	ok(get(&m_, &v_) == -1, #type ": a trailing byte refused");	\
	as_msg(&b, b.len, &m_);						\
	m_.fd = 0;							\
	ok(get(&m_, &v_) == -1, #type ": a descriptor refused");	\
} while (0)

static void
test_r_output(void)
{
	struct r_output	 in, out;
	struct ipc_msg	 m;

	memset(&in, 0, sizeof(in));
	in.flags = R_OUT_REMOVE_BCC | R_OUT_SPOOL;
	in.set_from = RFC5322_SET_ON;
	in.set_date = RFC5322_SET_AUTO;
	in.set_msgid = RFC5322_SET_OFF;
	in.from = (char []){ "alice@example.org" };
	in.full_name = (char []){ "" };
	in.date = 1764939600;
	in.gmtoff = -5 * 3600;
	in.msgid_host = (char []){ "example.org" };
	in.trace = NULL;
	r_output_put(&b, &in);
	ok(!b.overflow, "r_output: encoded");
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == 0, "r_output: decoded");
	ok(out.flags == in.flags && out.set_from == in.set_from &&
	    out.set_date == in.set_date && out.set_msgid == in.set_msgid &&
	    out.date == in.date, "r_output: numbers round-trip");
	ok(out.gmtoff == -5 * 3600, "r_output: a negative UTC offset "
	    "round-trips");
	ok(same(out.from, in.from) && same(out.full_name, "") &&
	    same(out.msgid_host, in.msgid_host) && out.trace == NULL,
	    "r_output: strings round-trip, empty and NULL kept apart");
	r_output_clear(&out);
	ok(out.from == NULL && out.trace == NULL, "r_output: cleared");

	in.trace = (char []){ "Received: from user 1000 by host;" };
	in.full_name = NULL;
	r_output_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == 0 && same(out.trace, in.trace) &&
	    out.full_name == NULL, "r_output: a trace field round-trips");
	r_output_clear(&out);
	REFUSES_CUTS(struct r_output, r_output_get, r_output_clear);

	in.from = NULL;
	r_output_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == -1, "r_output: no envelope from "
	    "refused");
	in.from = (char []){ "a@b" };
	in.set_from = RFC5322_SET_ON + 1;
	r_output_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == -1, "r_output: set_from out of range");
	in.set_from = RFC5322_SET_OFF;
	in.set_msgid = 7;
	r_output_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == -1, "r_output: set_msgid out of range");
	in.set_msgid = RFC5322_SET_OFF;
	in.flags = 0x80;
	r_output_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(r_output_get(&m, &out) == -1, "r_output: an unknown flag refused");
}

static void
test_s_config(void)
{
	struct s_config	 in, out;
	struct ipc_msg	 m;

	memset(&in, 0, sizeof(in));
	in.host = (char []){ "mail.example.org" };
	in.user = (char []){ "alice" };
	in.password = (char []){ "sesame" };
	in.passwordeval = NULL;
	in.auth = (char []){ "" };
	in.port = 587;
	in.ntlmdomain = NULL;
	in.system = NULL;
	s_config_put(&b, &in);
	ok(!b.overflow, "s_config: encoded");
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == 0, "s_config: decoded");
	ok(same(out.host, in.host) && same(out.user, in.user) &&
	    same(out.password, in.password) && out.passwordeval == NULL &&
	    same(out.auth, "") && out.port == 587 && out.ntlmdomain == NULL &&
	    out.system == NULL, "s_config: every field round-trips");
	s_config_clear(&out);
	ok(out.password == NULL && out.host == NULL, "s_config: cleared");
	REFUSES_CUTS(struct s_config, s_config_get, s_config_clear);

	in.password = NULL;
	in.passwordeval = (char []){ "pass show mail" };
	in.auth = NULL;
	in.ntlmdomain = (char []){ "DOMAIN" };
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == 0 && out.password == NULL &&
	    same(out.passwordeval, in.passwordeval) && out.auth == NULL &&
	    same(out.ntlmdomain, "DOMAIN"), "s_config: passwordeval, no "
	    "auth, NTLM domain");
	s_config_clear(&out);

	in.system = (char []){ "relay" };
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == -1, "s_config: a system account with a "
	    "passwordeval refused");
	in.passwordeval = NULL;
	in.password = (char []){ "x" };
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == -1, "s_config: a system account with a "
	    "password refused");
	in.password = NULL;
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == 0 && same(out.system, "relay"),
	    "s_config: a system account alone");
	s_config_clear(&out);
	in.port = 65536;
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == -1, "s_config: port 65536 refused");
	in.port = 25;
	in.host = NULL;
	s_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(s_config_get(&m, &out) == -1, "s_config: no host refused");
}

/* Static: the decoded copies are compared after this returns. */
static char	 nc_domain[] = "client.example.org";
static char	 nc_servername[] = "mail.example.org";
static char	 nc_dsn_notify[] = "FAILURE,DELAY";
static char	 nc_dsn_return[] = "HDRS";
static char	 nc_auth_mech[] = "SCRAM-SHA-256";
static char	 nc_fingerprint[] = "AB:CD";
static char	 nc_priorities[] = "NORMAL";
static char	 nc_proxy_host[] = "mail.example.org";

static void
n_default(struct n_config *n)
{
	memset(n, 0, sizeof(*n));
	n->protocol = SMTP_PROTO_LMTP;
	n->tls = SMTP_TLS_STARTTLS;
	n->flags = N_TLS_CERTCHECK | N_KEEP;
	n->timeout = 30;
	n->auth = SMTP_AUTH_MECH;
	n->domain = nc_domain;
	n->servername = nc_servername;
	n->dsn_notify = nc_dsn_notify;
	n->dsn_return = nc_dsn_return;
	n->auth_mech = nc_auth_mech;
	n->fingerprint = nc_fingerprint;
	n->priorities = nc_priorities;
	n->proxy_host = nc_proxy_host;
	n->proxy_port = 465;
	n->mode = N_MODE_SEND;
	n->etrn = NULL;
}

static int
n_refused(const struct n_config *in)
{
	struct n_config	 out;
	struct ipc_msg	 m;

	n_config_put(&b, in);
	as_msg(&b, b.len, &m);
	if (n_config_get(&m, &out) == 0) {
		n_config_clear(&out);
		return 0;
	}
	return 1;
}

static void
test_n_config(void)
{
	struct n_config	 in, out;
	struct ipc_msg	 m;

	n_default(&in);
	n_config_put(&b, &in);
	ok(!b.overflow, "n_config: encoded");
	as_msg(&b, b.len, &m);
	ok(n_config_get(&m, &out) == 0, "n_config: decoded");
	ok(out.protocol == in.protocol && out.tls == in.tls &&
	    out.flags == in.flags && out.timeout == in.timeout &&
	    out.auth == in.auth && out.proxy_port == in.proxy_port &&
	    out.mode == in.mode, "n_config: numbers round-trip");
	ok(same(out.domain, in.domain) && same(out.servername,
	    in.servername) && same(out.dsn_notify, in.dsn_notify) &&
	    same(out.dsn_return, in.dsn_return) && same(out.auth_mech,
	    in.auth_mech) && same(out.fingerprint, in.fingerprint) &&
	    same(out.priorities, in.priorities) && same(out.proxy_host,
	    in.proxy_host) && out.etrn == NULL,
	    "n_config: strings round-trip");
	n_config_clear(&out);
	ok(out.domain == NULL && out.proxy_host == NULL, "n_config: cleared");
	REFUSES_CUTS(struct n_config, n_config_get, n_config_clear);

	n_default(&in);
	in.mode = N_MODE_RMQS;
	in.etrn = (char []){ "@example.org" };
	in.dsn_notify = in.dsn_return = in.auth_mech = NULL;
	in.fingerprint = in.priorities = in.proxy_host = NULL;
	in.proxy_port = 0;
	n_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(n_config_get(&m, &out) == 0 && same(out.etrn, "@example.org") &&
	    out.proxy_host == NULL && out.dsn_notify == NULL,
	    "n_config: --rmqs with NULL strings round-trips");
	n_config_clear(&out);

	in.etrn = NULL;
	ok(n_refused(&in), "n_config: --rmqs without argument refused");
	n_default(&in);
	in.mode = N_MODE_BATCH + 1;
	ok(n_refused(&in), "n_config: unknown mode refused");
	n_default(&in);
	in.protocol = SMTP_PROTO_LMTP + 1;
	ok(n_refused(&in), "n_config: unknown protocol refused");
	n_default(&in);
	in.tls = SMTP_TLS_IMPLICIT + 1;
	ok(n_refused(&in), "n_config: unknown TLS mode refused");
	n_default(&in);
	in.auth = SMTP_AUTH_MECH + 1;
	ok(n_refused(&in), "n_config: unknown auth mode refused");
	n_default(&in);
	in.flags = 0x100;
	ok(n_refused(&in), "n_config: unknown flag refused");
	n_default(&in);
	in.timeout = 86401;
	ok(n_refused(&in), "n_config: timeout over a day refused");
	n_default(&in);
	in.proxy_port = 65536;
	ok(n_refused(&in), "n_config: proxy port 65536 refused");
	n_default(&in);
	in.domain = NULL;
	ok(n_refused(&in), "n_config: no domain refused");
	n_default(&in);
	in.servername = NULL;
	ok(n_refused(&in), "n_config: no server name refused");
}

/* A string with a NUL inside, written by hand: each decoder refuses it. */
static void
test_embedded_nul(void)
{
	struct n_config	 n;
	struct ipc_msg	 m;
	size_t		 i;

	n_default(&n);
	n.domain = (char []){ "abc" };
	n_config_put(&b, &n);
	/* The domain follows five u32 and its own length. */
	i = 5 * 4 + 4 + 1;
	b.data[i] = '\0';
	as_msg(&b, b.len, &m);
	ok(n_config_get(&m, &n) == -1, "n_config: a NUL inside a string "
	    "refused");
}

int
main(void)
{
	test_r_output();
	test_s_config();
	test_n_config();
	test_embedded_nul();
	return tap_done();
}
