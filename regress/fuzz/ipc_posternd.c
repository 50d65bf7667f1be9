/* Message shapes and decoders of posternd (usr.sbin/posternd/proto.h). */
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ipc_shapes.h"
#include "proto.h"

const char *
ipc_shape_posternd(uint32_t type)
{
	switch (type) {
	case MSG_Z_CERT:
	case MSG_Z_KEY:		return "b";
	case MSG_Z_GO:
	case MSG_Z_READY:
	case MSG_Z_AUTH:
	case MSG_Z_CLIENT:
	case MSG_Z_CLIENT_OUT:	return "";
	case MSG_Z_FORK:	return "s";
	case MSG_Z_FORKED:	return "u";
	case MSG_S_LOG:		return "us";
	case MSG_S_FROM:
	case MSG_S_RCPT:	return "s";
	case MSG_S_DATA_END:	return "q";
	case MSG_S_DATA_ABORT:
	case MSG_S_DATA_FD:	return "";
	case MSG_S_RESULT:	return "us";
	case MSG_A_SESSION:	return "s";
	case MSG_A_READY:	return "";
	case MSG_A_ERROR:	return "s";
	case MSG_A_CHECK:	return "bbb";
	case MSG_A_ANSWER:	return "u";
	}
	return NULL;
}

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
ipc_decode_posternd(const struct ipc_msg *m)
{
	struct z_config	 z;
	struct a_config	 a;

	switch (m->hdr.type) {
	case MSG_Z_CONFIG:
		if (z_config_get(m, &z) == -1)
			return 1;
		if (z.domain == NULL || z.chroot == NULL ||
		    (z.flags & ~SF_ALL) != 0)
			abort();
		fits(z.domain, m);
		fits(z.chroot, m);
		z_config_clear(&z);
		if (z.domain != NULL || z.chroot != NULL)
			abort();
		return 1;
	case MSG_A_CONFIG:
		if (a_config_get(m, &a) == -1)
			return 1;
		if (a.user == NULL || a.chroot == NULL)
			abort();
		fits(a.user, m);
		fits(a.passwordeval, m);
		fits(a.chroot, m);
		a_config_clear(&a);
		if (a.user != NULL || a.passwordeval != NULL)
			abort();
		return 1;
	}
	return 0;
}
