/*
 * The header parser: the input is a message as postern reads it, then it
 * is written out with every rewrite option on.
 */
#include <sys/mman.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "rfc5322.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const unsigned char rnd[16] = "0123456789abcdef";
	struct rfc5322_msg	 m;
	struct rfc5322_opts	 o;
	struct rfc5322_stats	 st;
	struct addr_list	 l;
	char			*from = NULL;
	int			 ifd, ofd;

	if (len < 1)
		return 0;
	if ((ifd = memfd_create("in", 0)) == -1 ||
	    (ofd = memfd_create("out", 0)) == -1)
		abort();
	if (write(ifd, data + 1, len - 1) != (ssize_t)(len - 1) ||
	    lseek(ifd, 0, SEEK_SET) != 0)
		abort();
	rfc5322_init(&m, ifd);
	m.bufsize = 1 + (data[0] & 0x3f) * 31;
	m.maxheader = 4096;
	if (rfc5322_read_header(&m) == EX_OK) {
		addr_list_init(&l);
		(void)rfc5322_recipients(&m, &l);
		addr_list_free(&l);
		if (rfc5322_envelope_from(&m, &from) == 0)
			free(from);
		memset(&o, 0, sizeof(o));
		o.remove_bcc = data[0] & 0x40;
		o.set_from = (data[0] & 0x80) ? RFC5322_SET_ON :
		    RFC5322_SET_AUTO;
		o.set_date = RFC5322_SET_AUTO;
		o.set_msgid = RFC5322_SET_AUTO;
		o.undisclosed = data[0] & 0x40;
		o.envelope_from = "a@example.org";
		o.full_name = "J\xc3\xb6rg \"x\" <y>";
		o.date = 1700000000;
		o.msgid_host = "example.org";
		o.msgid_random = rnd;
		(void)rfc5322_write(&m, &o, ofd, &st);
	}
	rfc5322_clear(&m);
	close(ifd);
	close(ofd);
	return 0;
}
