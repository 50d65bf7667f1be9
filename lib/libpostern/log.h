/*
 * Diagnostics shared by every process.  Messages go to stderr prefixed with
 * the program name, as msmtp does ("postern: message").  Children name their
 * role so a user can tell which process spoke.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

void	log_init(const char *, int);
void	log_procname(const char *);
const char *log_progname(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog_warnx(const char *, va_list);
__dead void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
__dead void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Replace control characters with '?' (msmtp's rule for logs and stderr):
 * C0, DEL, C1 encoded in UTF-8 and raw bytes 0x80 to 0x9f outside UTF-8.
 */
char	*log_sanitize(char *, size_t, const char *, size_t);
/* The same in place; with a non-zero second argument, newlines stay. */
void	 log_scrub(char *, int);

#endif
