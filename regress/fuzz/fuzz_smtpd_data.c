/*
 * posternd's DATA state machine: the input is what a client sends after
 * DATA.  smtpd_io.c checks every delivered message against the input:
 * exactly the dot-unstuffed lines before the first lone ".", nothing
 * after it, no bare CR or LF, never over the size limit.  The first byte
 * chooses the line ends, the limits and the read size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posternd.h"
#include "proto.h"
#include "session.h"
#include "smtpd_io.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	 prefix[] = "EHLO client.example.org\r\n"
			    "MAIL FROM:<a@example.org>\r\n"
			    "RCPT TO:<b@example.org>\r\n"
			    "DATA\r\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sconf	 cf = { 0 };
	unsigned char	*buf;

	if (len < 1)
		return 0;
	cf.flags = (data[0] & 1) ? SF_CRLF : 0;
	cf.timeout = 300;
	cf.session_timeout = 1800;
	cf.max_recipients = 100;
	cf.max_auth_failures = 3;
	cf.max_line_length = (data[0] & 2) ? 40 : 998;
	cf.max_message_size = (data[0] & 4) ? 0 : 32 + (data[0] >> 3) * 8;
	cf.domain = "mx.example.org";
	cf.peer = "192.0.2.1";
	if ((buf = malloc(sizeof(prefix) - 1 + len - 1)) == NULL)
		abort();
	memcpy(buf, prefix, sizeof(prefix) - 1);
	memcpy(buf + sizeof(prefix) - 1, data + 1, len - 1);
	smtpd_run(&cf, buf, sizeof(prefix) - 1 + len - 1,
	    1 + (data[0] >> 3) * 97);
	free(buf);
	return 0;
}
