/* The aliases file: parse it, then expand a few recipients through it. */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>

#include "addr.h"
#include "aliases.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct aliases		*al;
	struct addr_list	 l;
	char			 err[256];

	if ((al = aliases_parse((const char *)data, len)) == NULL)
		return 0;
	addr_list_init(&l);
	(void)addr_list_add(&l, "root");
	(void)addr_list_add(&l, "cron");
	(void)addr_list_add(&l, "joe@example.com");
	if (aliases_needed(&l))
		(void)aliases_expand(al, &l, err, sizeof(err));
	(void)aliases_find(al, "default");
	addr_list_free(&l);
	aliases_free(al);
	return 0;
}
