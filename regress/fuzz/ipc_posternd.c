/* Message shapes of posternd (usr.sbin/posternd/proto.h). */
#include "ipc_shapes.h"
#include "proto.h"

const char *
ipc_shape_posternd(uint32_t type)
{
	switch (type) {
	case MSG_Z_CONFIG:	return "uuuuuuqsuus";
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
	case MSG_A_CONFIG:	return "ssuuus";
	case MSG_A_SESSION:
	case MSG_A_READY:	return "";
	case MSG_A_ERROR:	return "s";
	case MSG_A_CHECK:	return "bbb";
	case MSG_A_ANSWER:	return "u";
	}
	return NULL;
}
