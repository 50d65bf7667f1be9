/*
 * The mechanics of locking a process down, and one piece of policy.  Each
 * program keeps its roles' tables in its own sandbox_linux.c /
 * sandbox_openbsd.c, one table per role; but every Linux table adds to
 * sandbox_common (sandbox.c), what the C library needs to run at all and
 * the use of descriptors a process was given, and that table is policy
 * shared by every sandboxed role of both programs.  A role's whole
 * authority is sandbox_common plus its own table (a rule there without
 * argument replaces the common rules for the same call): an auditor reads
 * both, and a call added to sandbox_common is granted to every role.
 */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#define SB_NOARG	-1

/*
 * Allow system call nr; when arg is not SB_NOARG, only if
 * (argument[arg] & mask) == value.  With a non-zero fail, the call is not
 * made but fails with that errno: for calls the C library makes on its own
 * and copes with failing, where allowing them would give more than needed.
 * A rule without argument in a role's own table replaces the common
 * table's rules for the same call.
 */
struct sb_rule {
	int		 nr;
	int		 arg;
	uint64_t	 mask;
	uint64_t	 value;
	int		 fail;
};

#define SB_ALLOW(name)	{ SCMP_SYS(name), SB_NOARG, 0, 0, 0 }
#define SB_ARGEQ(name, a, m, v) { SCMP_SYS(name), (a), (m), (v), 0 }
#define SB_FAIL(name, e) { SCMP_SYS(name), SB_NOARG, 0, 0, (e) }

extern const struct sb_rule	sandbox_common[];
extern const size_t		sandbox_ncommon;

/*
 * A build with AddressSanitizer (make check-sanitize) adds to every table
 * what the sanitizer runtime itself calls; a normal build never does.
 */
#if defined(__SANITIZE_ADDRESS__) && !defined(SB_SANITIZER)
#define SB_SANITIZER	1
#endif
#ifdef SB_SANITIZER
extern const struct sb_rule	sandbox_sanitizer[];
extern const size_t		sandbox_nsanitizer;
#endif

void	sandbox_harden(void);
void	sandbox_closefrom(int);
void	sandbox_leak_check(void);
void	sandbox_filter(const char *, const struct sb_rule *, size_t,
	    const struct sb_rule *, size_t);

int	sandbox_landlock(const char *, const char *const *);

/*
 * The same filter in two steps: built once, then loaded, possibly by many
 * processes forked after it was built (posternd's sessions), each of them
 * sparing the work of compiling it.  Load after sandbox_harden().
 */
struct sb_prog;
struct sb_prog *sandbox_filter_build(const char *, const struct sb_rule *,
	    size_t, const struct sb_rule *, size_t);
void	sandbox_filter_load(const char *, const struct sb_prog *);

#endif
