/*
 * The command line of postern, compatible with msmtp 1.8.23 and with the
 * sendmail flags that programs pass.
 *
 * cmdline_parse() only parses: it reads no file and prints nothing.  It
 * returns a sysexits(3) code (EX_OK, or EX_USAGE with msmtp's message,
 * without the program name, in err); cmdline_free() releases what it
 * allocated, whatever it returned.  An ambiguous abbreviation of a long
 * option is reported as unrecognized.  Then the caller:
 *  - MODE_VERSION, MODE_HELP: cmdline_version() / cmdline_help() on stdout,
 *    exit 0 without reading a configuration;
 *  - otherwise builds a struct selector from the result (see config.h):
 *	sel.account = cl.account;  sel.cmdline_host = cl.host;
 *	sel.envelope_from = cl.from (or the mail's From: with
 *	    cl.read_envelope_from);
 *	sel.need_from = cl.mode == MODE_SENDMAIL;  sel.override = cl.override;
 *  - in sendmail mode reports "no recipients found" (EX_USAGE) itself
 *    when neither cl.rcpts nor, with -t, the mail give a recipient.
 *
 * A control character in -f or a recipient, or a CR or LF in -F, is
 * refused with EX_USAGE: msmtp would put it on the SMTP command line or
 * into a header.
 */
#ifndef POSTERN_CMDLINE_H
#define POSTERN_CMDLINE_H

#include <sys/queue.h>
#include <stddef.h>
#include <stdio.h>

#define MODE_SENDMAIL		0
#define MODE_SERVERINFO		1	/* -S, --serverinfo */
#define MODE_RMQS		2	/* --rmqs=host|@domain|#queue */
#define MODE_CONFIGURE		3	/* --configure=address */
#define MODE_VERSION		4	/* --version, -d0.1 */
#define MODE_HELP		5	/* --help */
#define MODE_QFLUSH		6	/* -q, -qI, --queue-flush */
#define MODE_QLIST		7	/* -bp, mailq, --queue-list */
#define MODE_QSHOW		8	/* --queue-show=ID */
#define MODE_QPURGE		9	/* --queue-purge=ID,...|all */
#define MODE_QRETRY		10	/* --queue-retry=ID,...|all */
#define MODE_NEWALIASES		11	/* -bi, invoked as newaliases */
#define MODE_SMTP		12	/* -bs: one SMTP session on stdin/stdout */

/* cmdline.queue */
#define QUEUE_CONFIG		0	/* as the account's queue command says */
#define QUEUE_ON		1	/* --queue */
#define QUEUE_OFF		2	/* --no-queue */

struct rcpt {
	TAILQ_ENTRY(rcpt) entry;
	char		*addr;		/* bare address, without <> */
};
TAILQ_HEAD(rcptlist, rcpt);

struct account;

struct cmdline {
	int		 mode;		/* MODE_* */
	int		 pretend;	/* -P */
	int		 debug;		/* -d, -v, --debug */
	char		*file;		/* -C: replaces the user file */
	char		*account;	/* -a */
	int		 host;		/* --host: no file is read at all */
	char		*from;		/* -f; "" for -f '<>' */
	int		 read_recipients;	/* -t */
	int		 read_envelope_from;
	char		*rmqs;		/* --rmqs argument */
	char		*configure;	/* --configure argument */
	/* Account settings given as options, marked in override->mask. */
	struct account	*override;
	struct rcptlist	 rcpts;		/* from the arguments, in order */

	int		 queue;		/* QUEUE_* */
	int		 queue_only;	/* -odq, --queue-only: never connect */
	int		 due;		/* --due: only entries whose time came */
	char		*queue_dir;	/* --queue-dir */
	char		*queue_arg;	/* IDs to flush, show, purge, retry;
					   the --queue-list format */
	/* The arguments given, kept in a queue entry for a later flush. */
	char		**argv;
	int		 argc;		/* the options, without the operands */
};

int	cmdline_parse(struct cmdline *, int argc, char *argv[], char *err,
	    size_t errlen);
void	cmdline_free(struct cmdline *);
/*
 * Append the addresses of one argument ("a@b, Name <c@d>, group: e@f;")
 * to list; comments and display names are dropped.
 */
int	cmdline_add_recipients(struct rcptlist *, const char *arg, char *err,
	    size_t errlen);
void	cmdline_help(FILE *);
void	cmdline_version(FILE *);

#endif
