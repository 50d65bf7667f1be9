/* Message shapes of postern (usr.sbin/postern/proto.h). */
#include "ipc_shapes.h"
#include "proto.h"

const char *
ipc_shape_postern(uint32_t type)
{
	switch (type) {
	case MSG_R_START:	return "uu";
	case MSG_R_OUTPUT:	return "uuuussqqs";
	case MSG_R_HDR_FROM:	return "s";
	case MSG_R_HDR_RCPT:	return "s";
	case MSG_R_HDR_DONE:	return "";
	case MSG_R_DONE:	return "qq";
	case MSG_R_ERROR:	return "us";
	case MSG_S_CONFIG:	return "sssssus";
	case MSG_S_READY:	return "";
	case MSG_S_ERROR:	return "us";
	case MSG_N_CONFIG:	return "uuuuussssssssuus";
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
