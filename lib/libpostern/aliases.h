/*
 * msmtp's aliases file: "name: addr, addr" lines, '#' comments, a
 * "default" entry for unknown local names, recursive expansion.  The
 * parent reads the file; expansion touches the envelope only.
 */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdio.h>

#include "addr.h"

#define ALIASES_MAXDEPTH	16	/* msmtp's limit on nested aliases */
#define ALIASES_MAXFILE		(16 * 1024 * 1024)

struct alias {
	TAILQ_ENTRY(alias)	 entry;
	char			*name;
	struct addr_list	 targets;
};
TAILQ_HEAD(alias_list, alias);

struct aliases {
	struct alias_list	 list;
	/*
	 * A parse error, kept because msmtp reports it only when a
	 * recipient needs the file.
	 */
	char			 error[256];
};

struct aliases	*aliases_parse(const char *, size_t);
struct aliases	*aliases_read(FILE *);
void		 aliases_free(struct aliases *);
const struct alias *aliases_find(const struct aliases *, const char *);
int		 aliases_needed(const struct addr_list *);
int		 aliases_expand(const struct aliases *, struct addr_list *,
		    char *, size_t);

#endif
