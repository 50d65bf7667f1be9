/* Message shapes and decoders of postern (usr.sbin/postern/proto.h). */
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ipc_shapes.h"
#include "proto.h"
#include "rfc5322.h"
#include "smtp_client.h"

const char *
ipc_shape_postern(uint32_t type)
{
	switch (type) {
	case MSG_R_START:	return "uu";
	case MSG_R_HDR_FROM:	return "s";
	case MSG_R_HDR_RCPT:	return "s";
	case MSG_R_HDR_DONE:	return "";
	case MSG_R_DONE:	return "qq";
	case MSG_R_ERROR:	return "us";
	case MSG_S_READY:	return "";
	case MSG_S_ERROR:	return "us";
	case MSG_N_CA:
	case MSG_N_CRL:
	case MSG_N_CERT:
	case MSG_N_KEY:		return "b";
	case MSG_N_FROM:
	case MSG_N_RCPT:	return "s";
	case MSG_N_SOCKET:
	case MSG_N_BODY_OK:
	case MSG_N_BODY_ABORT:	return "";
	case MSG_N_RCPT_STATUS:	return "uus";
	case MSG_N_INFO:	return "s";
	case MSG_N_RESULT:	return "uuuqss";
	case MSG_AUTH_START:	return "sub";
	case MSG_AUTH_CHALLENGE: return "s";
	case MSG_AUTH_RESULT:	return "us";
	case MSG_AUTH_MECH:	return "ss";
	case MSG_AUTH_RESPONSE:	return "s";
	case MSG_AUTH_OK:	return "";
	case MSG_AUTH_FAIL:	return "us";
	}
	return NULL;
}

/* A string a decoder kept cannot be longer than the payload it came in. */
static void
fits(const char *s, const struct ipc_msg *m)
{
	if (s != NULL && strlen(s) >= m->datalen)
		abort();
}

/*
 * What a decoder accepts must keep the promises of proto.h; clearing it
 * must free everything (LeakSanitizer watches).
 */
int
ipc_decode_postern(const struct ipc_msg *m)
{
	struct r_output	 o;
	struct s_config	 s;
	struct n_config	 n;

	switch (m->hdr.type) {
	case MSG_R_OUTPUT:
		if (r_output_get(m, &o) == -1)
			return 1;
		if (o.from == NULL || (o.flags & ~R_OUT_ALL) != 0 ||
		    o.set_from > RFC5322_SET_ON || o.set_date > RFC5322_SET_ON ||
		    o.set_msgid > RFC5322_SET_ON)
			abort();
		fits(o.from, m);
		fits(o.full_name, m);
		fits(o.msgid_host, m);
		fits(o.trace, m);
		r_output_clear(&o);
		if (o.from != NULL || o.trace != NULL)
			abort();
		return 1;
	case MSG_S_CONFIG:
		if (s_config_get(m, &s) == -1)
			return 1;
		if (s.host == NULL || s.port > 65535 || (s.system != NULL &&
		    (s.password != NULL || s.passwordeval != NULL)))
			abort();
		fits(s.host, m);
		fits(s.password, m);
		fits(s.system, m);
		s_config_clear(&s);
		if (s.host != NULL || s.password != NULL)
			abort();
		return 1;
	case MSG_N_CONFIG:
		if (n_config_get(m, &n) == -1)
			return 1;
		if (n.domain == NULL || n.servername == NULL ||
		    n.protocol > SMTP_PROTO_LMTP || n.tls > SMTP_TLS_IMPLICIT ||
		    n.auth > SMTP_AUTH_MECH || (n.flags & ~N_ALL) != 0 ||
		    n.proxy_port > 65535 || n.mode > N_MODE_BATCH ||
		    (n.mode == N_MODE_RMQS && n.etrn == NULL))
			abort();
		fits(n.domain, m);
		fits(n.servername, m);
		fits(n.proxy_host, m);
		fits(n.etrn, m);
		n_config_clear(&n);
		if (n.domain != NULL || n.etrn != NULL)
			abort();
		return 1;
	}
	return 0;
}
