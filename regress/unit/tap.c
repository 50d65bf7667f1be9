#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static int	 ntests, nfailed;

int
tap_ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

int
tap_done(void)
{
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
