#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parent.h"
#include "proc.h"
#include "roles.h"

#include "network.h"
#include "reader.h"
#include "secrets.h"
#include "sysmode.h"

/*
 * One binary, four roles.  The parent re-executes this file for each child
 * with a role argument that no user-facing option can collide with.
 */
int
main(int argc, char *argv[])
{
	enum role	 r = ROLE_PARENT;
	int		 child;

	/* Started setgid, every role first cleans what it inherited. */
	child = argc == 3 && strcmp(argv[1], ROLE_FLAG) == 0 &&
	    proc_role(argv[2], &r) == 0;
	sysmode_prologue(child ? r : ROLE_PARENT);
	if (argc == 3 && strcmp(argv[1], ROLE_FLAG) == 0) {
		log_init(argv[0], 0);
		if (!child)
			fatalx("unknown role %s", argv[2]);
		switch (r) {
		case ROLE_READER:
			return reader_main();
		case ROLE_SECRETS:
			return secrets_main();
		case ROLE_NETWORK:
			return network_main();
		default:
			fatalx("unknown role %s", argv[2]);
		}
	}
	return parent_main(argc, argv);
}
