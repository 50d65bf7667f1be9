/*
 * posternd's delivery command: the command line split without a shell,
 * and the argument vector built for each message.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../usr.sbin/posternd/command.h"
#include "tap.h"

static char	 err[512];

static int
parse(struct command *c, const char *cmd)
{
	err[0] = '\0';
	return command_parse(c, cmd, NULL, err, sizeof(err));
}

/* argv equals the NULL-terminated list of words given. */
static int
argv_is(char **argv, ...)
{
	va_list		 ap;
	const char	*w;
	size_t		 i = 0;
	int		 same = 1;

	va_start(ap, argv);
	while ((w = va_arg(ap, const char *)) != NULL) {
		if (argv[i] == NULL || strcmp(argv[i], w) != 0)
			same = 0;
		if (argv[i] != NULL)
			i++;
	}
	va_end(ap);
	return same && argv[i] == NULL;
}

int
main(void)
{
	struct command	 c;
	char		 r1[] = "a@example.org", r2[] = "b@example.net";
	char		 r3[] = "x y@example.org";
	char		*rcpts[] = { r1, r2 }, *odd[] = { r3 };
	char		**argv;

	ok(parse(&c, "/bin/cat -f %F --") == 0, "absolute command parses");
	ok(strcmp(c.path, "/bin/cat") == 0 || strstr(c.path, "/cat") != NULL,
	    "path resolved");
	ok(c.nwords == 4 && c.fword == 2 && c.dashdash, "words, %%F, --");
	argv = command_argv(&c, "s@example.org", rcpts, 2);
	ok(argv != NULL && argv_is(argv, "/bin/cat", "-f", "s@example.org",
	    "--", "a@example.org", "b@example.net", NULL),
	    "sender in place of %%F, recipients appended");
	command_argv_free(argv);
	argv = command_argv(&c, "s@example.org", odd, 1);
	ok(argv != NULL && argv_is(argv, "/bin/cat", "-f", "s@example.org",
	    "--", "x y@example.org", NULL),
	    "a recipient with a space stays one argument");
	command_argv_free(argv);
	command_free(&c);

	ok(parse(&c, "cat '--from=%F' -- ") == 0, "command found in PATH");
	argv = command_argv(&c, "", rcpts, 1);
	ok(argv != NULL && argv_is(argv, "cat", "--from=", "--",
	    "a@example.org", NULL), "%%F inside a word, empty sender");
	command_argv_free(argv);
	command_free(&c);

	ok(parse(&c, "/bin/cat \"a b\" c\\ d 'e\"f'") == 0, "quotes");
	argv = command_argv(&c, "s", NULL, 0);
	ok(argv != NULL && argv_is(argv, "/bin/cat", "a b", "c d", "e\"f",
	    NULL), "quotes and backslashes split as a shell would");
	ok(c.fword == -1 && !c.dashdash, "no %%F, no --");
	command_argv_free(argv);
	command_free(&c);

	ok(parse(&c, "/bin/cat %F | tee x") == -1 &&
	    strstr(err, "needs a shell") != NULL, "a pipe is refused");
	ok(parse(&c, "/bin/cat > x") == -1, "a redirection is refused");
	ok(parse(&c, "/bin/cat $HOME") == -1, "a variable is refused");
	ok(parse(&c, "/bin/cat \"`id`\"") == -1,
	    "a substitution inside double quotes is refused");
	ok(parse(&c, "/bin/cat ~/x") == -1, "a tilde is refused");
	ok(parse(&c, "/bin/cat 'x") == -1 && strstr(err, "unbalanced") !=
	    NULL, "an unbalanced quote is refused");
	ok(parse(&c, "   ") == -1 && strstr(err, "empty") != NULL,
	    "an empty command is refused");
	ok(parse(&c, "/nonexistent/posternd-test-cmd") == -1 &&
	    strstr(err, "cannot find") != NULL, "a missing program is refused");
	ok(c.words == NULL && c.path == NULL && c.envp == NULL,
	    "a refused command leaves nothing allocated");
	return tap_done();
}
