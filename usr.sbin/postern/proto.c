/*
 * The large payloads of proto.h: for each, the encoder and the decoder
 * side by side, so that the order of the fields is written down once.
 * A decoder reads what a peer that may be hostile sent: every field is
 * checked, nothing may follow the last one, and on failure nothing it
 * took is left allocated.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "proto.h"
#include "rfc5322.h"
#include "smtp_client.h"

#define TIMEOUT_MAX	86400

static void
str_free(char **s)
{
	free(*s);
	*s = NULL;
}

static void
str_wipe(char **s)
{
	if (*s != NULL)
		freezero(*s, strlen(*s));
	*s = NULL;
}

void
r_output_put(struct ipc_buf *b, const struct r_output *o)
{
	ipc_buf_init(b);
	ipc_buf_u32(b, o->flags);
	ipc_buf_u32(b, o->set_from);
	ipc_buf_u32(b, o->set_date);
	ipc_buf_u32(b, o->set_msgid);
	ipc_buf_str(b, o->from);
	ipc_buf_str(b, o->full_name);
	ipc_buf_u64(b, o->date);
	ipc_buf_u64(b, (uint64_t)o->gmtoff);
	ipc_buf_str(b, o->msgid_host);
	ipc_buf_str(b, o->trace);
}

int
r_output_get(const struct ipc_msg *m, struct r_output *o)
{
	struct ipc_cur	 c;
	uint64_t	 off;

	memset(o, 0, sizeof(*o));
	ipc_cur_init(&c, m);
	if (m->fd != -1 ||
	    ipc_cur_u32(&c, &o->flags) == -1 ||
	    ipc_cur_u32(&c, &o->set_from) == -1 ||
	    ipc_cur_u32(&c, &o->set_date) == -1 ||
	    ipc_cur_u32(&c, &o->set_msgid) == -1 ||
	    ipc_cur_str(&c, &o->from) == -1 ||
	    ipc_cur_str(&c, &o->full_name) == -1 ||
	    ipc_cur_u64(&c, &o->date) == -1 ||
	    ipc_cur_u64(&c, &off) == -1 ||
	    ipc_cur_str(&c, &o->msgid_host) == -1 ||
	    ipc_cur_str(&c, &o->trace) == -1 ||
	    ipc_cur_end(&c) == -1 ||
	    (o->flags & ~R_OUT_ALL) != 0 ||
	    o->set_from > RFC5322_SET_ON || o->set_date > RFC5322_SET_ON ||
	    o->set_msgid > RFC5322_SET_ON || o->from == NULL) {
		r_output_clear(o);
		return -1;
	}
	o->gmtoff = (int64_t)off;
	return 0;
}

void
r_output_clear(struct r_output *o)
{
	str_free(&o->from);
	str_free(&o->full_name);
	str_free(&o->msgid_host);
	str_free(&o->trace);
}

/* The password passes through b: the caller wipes it after sending. */
void
s_config_put(struct ipc_buf *b, const struct s_config *s)
{
	ipc_buf_init(b);
	ipc_buf_str(b, s->host);
	ipc_buf_str(b, s->user);
	ipc_buf_str(b, s->password);
	ipc_buf_str(b, s->passwordeval);
	ipc_buf_str(b, s->auth);
	ipc_buf_u32(b, s->port);
	ipc_buf_str(b, s->ntlmdomain);
	ipc_buf_str(b, s->system);
}

int
s_config_get(const struct ipc_msg *m, struct s_config *s)
{
	struct ipc_cur	 c;

	memset(s, 0, sizeof(*s));
	ipc_cur_init(&c, m);
	if (m->fd != -1 ||
	    ipc_cur_str(&c, &s->host) == -1 ||
	    ipc_cur_str(&c, &s->user) == -1 ||
	    ipc_cur_str(&c, &s->password) == -1 ||
	    ipc_cur_str(&c, &s->passwordeval) == -1 ||
	    ipc_cur_str(&c, &s->auth) == -1 ||
	    ipc_cur_u32(&c, &s->port) == -1 ||
	    ipc_cur_str(&c, &s->ntlmdomain) == -1 ||
	    ipc_cur_str(&c, &s->system) == -1 ||
	    ipc_cur_end(&c) == -1 ||
	    s->host == NULL || s->port > 65535 ||
	    (s->system != NULL && (s->password != NULL ||
	    s->passwordeval != NULL))) {
		s_config_clear(s);
		return -1;
	}
	return 0;
}

/* Every field is wiped: which ones are secret depends on the account. */
void
s_config_clear(struct s_config *s)
{
	str_wipe(&s->host);
	str_wipe(&s->user);
	str_wipe(&s->password);
	str_wipe(&s->passwordeval);
	str_wipe(&s->auth);
	str_wipe(&s->ntlmdomain);
	str_wipe(&s->system);
}

void
n_config_put(struct ipc_buf *b, const struct n_config *n)
{
	ipc_buf_init(b);
	ipc_buf_u32(b, n->protocol);
	ipc_buf_u32(b, n->tls);
	ipc_buf_u32(b, n->flags);
	ipc_buf_u32(b, n->timeout);
	ipc_buf_u32(b, n->auth);
	ipc_buf_str(b, n->domain);
	ipc_buf_str(b, n->servername);
	ipc_buf_str(b, n->dsn_notify);
	ipc_buf_str(b, n->dsn_return);
	ipc_buf_str(b, n->auth_mech);
	ipc_buf_str(b, n->fingerprint);
	ipc_buf_str(b, n->priorities);
	ipc_buf_str(b, n->proxy_host);
	ipc_buf_u32(b, n->proxy_port);
	ipc_buf_u32(b, n->mode);
	ipc_buf_str(b, n->etrn);
}

int
n_config_get(const struct ipc_msg *m, struct n_config *n)
{
	struct ipc_cur	 c;

	memset(n, 0, sizeof(*n));
	ipc_cur_init(&c, m);
	if (m->fd != -1 ||
	    ipc_cur_u32(&c, &n->protocol) == -1 ||
	    ipc_cur_u32(&c, &n->tls) == -1 ||
	    ipc_cur_u32(&c, &n->flags) == -1 ||
	    ipc_cur_u32(&c, &n->timeout) == -1 ||
	    ipc_cur_u32(&c, &n->auth) == -1 ||
	    ipc_cur_str(&c, &n->domain) == -1 ||
	    ipc_cur_str(&c, &n->servername) == -1 ||
	    ipc_cur_str(&c, &n->dsn_notify) == -1 ||
	    ipc_cur_str(&c, &n->dsn_return) == -1 ||
	    ipc_cur_str(&c, &n->auth_mech) == -1 ||
	    ipc_cur_str(&c, &n->fingerprint) == -1 ||
	    ipc_cur_str(&c, &n->priorities) == -1 ||
	    ipc_cur_str(&c, &n->proxy_host) == -1 ||
	    ipc_cur_u32(&c, &n->proxy_port) == -1 ||
	    ipc_cur_u32(&c, &n->mode) == -1 ||
	    ipc_cur_str(&c, &n->etrn) == -1 ||
	    ipc_cur_end(&c) == -1 ||
	    n->protocol > SMTP_PROTO_LMTP || n->tls > SMTP_TLS_IMPLICIT ||
	    (n->flags & ~N_ALL) != 0 || n->timeout > TIMEOUT_MAX ||
	    n->auth > SMTP_AUTH_MECH || n->domain == NULL ||
	    n->servername == NULL || n->proxy_port > 65535 ||
	    n->mode > N_MODE_BATCH ||
	    (n->mode == N_MODE_RMQS && n->etrn == NULL)) {
		n_config_clear(n);
		return -1;
	}
	return 0;
}

void
n_config_clear(struct n_config *n)
{
	str_free(&n->domain);
	str_free(&n->servername);
	str_free(&n->dsn_notify);
	str_free(&n->dsn_return);
	str_free(&n->auth_mech);
	str_free(&n->fingerprint);
	str_free(&n->priorities);
	str_free(&n->proxy_host);
	str_free(&n->etrn);
}
