/*
 * The delivery command: its argument vector is parsed once at start-up,
 * without a shell, and each message only fills in the sender (%F, inside
 * one argument) and appends the recipients.  command_spawn() is how the
 * listener starts any program: the command, and its own child roles.
 */
#ifndef POSTERND_COMMAND_H
#define POSTERND_COMMAND_H

#include <sys/types.h>
#include <spawn.h>
#include <stddef.h>

struct command {
	char		*path;		/* absolute, what execve runs */
	char	       **words;		/* the template; words[0] as given */
	size_t		 nwords;
	ssize_t		 fword;		/* the word holding %F, or -1 */
	int		 dashdash;	/* the template ends with "--" */
	char	       **envp;
	int		 setuser;	/* switch to uid/gid/groups */
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;
	int		 ngroups;
};

int	 command_parse(struct command *, const char *, const char *,
	    char *, size_t);
void	 command_free(struct command *);
int	 command_user(struct command *, const char *, char *, size_t);
char   **command_argv(const struct command *, const char *, char *const *,
	    size_t);
void	 command_argv_free(char **);
pid_t	 command_start(const struct command *, char **, int, int, int);
int	 command_spawn(pid_t *, const char *,
	    const posix_spawn_file_actions_t *, short, char *const [],
	    char *const []);

#endif
