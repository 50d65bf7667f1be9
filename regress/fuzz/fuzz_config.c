/* The configuration file parser: the input is a posternrc file. */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct accountlist	 l;
	struct account		*a;
	char			 err[512];
	int			 secrets = 0;
	FILE			*fp;

	if ((fp = fmemopen((void *)(uintptr_t)data, len, "r")) == NULL)
		return 0;
	TAILQ_INIT(&l);
	(void)config_parse_fp(fp, "rc", &l, &secrets, err, sizeof(err));
	fclose(fp);
	while ((a = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, a, entry);
		account_free(a);
	}
	return 0;
}
