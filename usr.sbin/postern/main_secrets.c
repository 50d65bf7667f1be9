/*
 * postern-secrets: the secrets process of postern (secrets.c), which holds
 * the account's credential and answers each AUTH step.  Started by
 * postern (proc.c) alone.
 */
#include "log.h"
#include "proto.h"
#include "secrets.h"
#include "roles.h"
#include "sysmode.h"

int
main(int argc, char *argv[])
{
	/* Started setgid, it first cleans what it inherited. */
	sysmode_prologue(ROLE_SECRETS);
	log_init(argc > 0 ? argv[0] : "postern", 0);
	if (argc != 1)
		fatalx("the secrets process is started by postern alone");
	role_tie_to_parent();
	return secrets_main();
}
