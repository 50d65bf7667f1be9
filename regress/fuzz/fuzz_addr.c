/* The address parser: address lists, envelope checks, SMTP paths. */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct addr_list	 l;
	struct addr		*a;
	char			*s, buf[600];

	addr_list_init(&l);
	(void)addr_parse_list(&l, (const char *)data, len);
	TAILQ_FOREACH(a, &l, entry) {
		if (addr_valid_envelope(a->spec)) {
			(void)addr_reverse_path(buf, sizeof(buf), a->spec);
			(void)addr_forward_path(buf, sizeof(buf), a->spec);
		}
	}
	addr_list_free(&l);
	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	if (addr_valid_envelope(s)) {
		(void)addr_reverse_path(buf, sizeof(buf), s);
		(void)addr_forward_path(buf, sizeof(buf), s);
	}
	addr_list_init(&l);
	(void)addr_list_add(&l, s);
	addr_list_free(&l);
	free(s);
	return 0;
}
