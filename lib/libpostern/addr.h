/*
 * Mail addresses: RFC 5322 address-list parsing (headers and command-line
 * recipients) and RFC 5321 envelope checks.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <sys/queue.h>
#include <stddef.h>

struct addr {
	TAILQ_ENTRY(addr)	 entry;
	char			*spec;		/* local@domain or a local name */
};
TAILQ_HEAD(addr_list, addr);

/* Longest envelope address accepted (RFC 5321 limits a path to 256). */
#define ADDR_MAXLEN	1024

void	 addr_list_init(struct addr_list *);
void	 addr_list_free(struct addr_list *);
int	 addr_list_add(struct addr_list *, const char *);
size_t	 addr_list_count(const struct addr_list *);

/*
 * Append the addr-specs of an address-list (an unfolded header field body
 * or a command-line argument) to the list.  Display names, comments, group
 * names and source routes are dropped; quoted local parts are kept quoted.
 * Control characters inside an address become '_'.  Returns the number of
 * addresses added, or -1 if memory ran out.
 */
int	 addr_parse_list(struct addr_list *, const char *, size_t);

/* 1 if the address may be used in MAIL FROM / RCPT TO, else 0. */
int	 addr_valid_envelope(const char *);

/* "<addr>" for MAIL FROM; "" and MAILER-DAEMON give "<>". 0 or -1. */
int	 addr_reverse_path(char *, size_t, const char *);
/* "<addr>" for RCPT TO; the address must not be empty.  0 or -1. */
int	 addr_forward_path(char *, size_t, const char *);

#endif
