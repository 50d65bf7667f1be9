/*
 * posternd's command parser and SMTP state machine: the input is what a
 * client sends.  The first two bytes choose the configuration and how
 * many bytes each read returns.
 */
#include <stddef.h>
#include <stdint.h>

#include "posternd.h"
#include "proto.h"
#include "session.h"
#include "smtpd_io.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sconf	 cf = { 0 };

	if (len < 2)
		return 0;
	cf.flags = data[0] & (SF_AUTH | SF_TLS | SF_TLS_IMPLICIT | SF_CRLF |
	    SF_DASH_RCPT);
	cf.timeout = 300;
	cf.session_timeout = 1800;
	cf.max_recipients = 1 + (data[0] >> 5);
	cf.max_auth_failures = 3;
	cf.max_line_length = 998;
	cf.max_message_size = (data[1] & 0x80) ? 0 : 64 + data[1] * 16;
	cf.domain = "mx.example.org";
	cf.peer = (data[1] & 0x40) ? "192.0.2.1" : "";
	smtpd_run(&cf, data + 2, len - 2, 1 + (data[1] & 0x3f) * 37);
	return 0;
}
