/* The configuration file parser: the input is a posternrc file. */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * "eval" runs a shell command: here no command ever runs (the fuzzer
 * would run whatever it made up), the output is a fixed line instead.
 * These replace the C library's popen() and pclose() in this program.
 */
FILE	*popen(const char *, const char *);
int	 pclose(FILE *);

static char	 evalout[] = "host eval.example.org\n";

FILE *
popen(const char *cmd, const char *mode)
{
	return fmemopen(evalout, sizeof(evalout) - 1, "r");
}

int
pclose(FILE *fp)
{
	return fclose(fp);
}

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
