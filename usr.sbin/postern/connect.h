#ifndef POSTERN_CONNECT_H
#define POSTERN_CONNECT_H

#include <stddef.h>

struct conn_info {
	char	 canon[256];		/* canonical name, for --serverinfo */
	char	 addr[64];		/* numeric address connected to */
};

int	connect_tcp(const char *, int, const char *, int, struct conn_info *,
	    char *, size_t);
int	connect_unix(const char *, int, char *, size_t);

#endif
