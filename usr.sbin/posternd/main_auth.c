/*
 * posternd-auth: the auth process of posternd (auth.c), the only holder
 * of the expected credential.  Started by the listener (proc.c) alone.
 */
#include "posternd.h"

int
main(int argc, char *argv[])
{
	role_start(ROLE_AUTH, argc, argv);
	return auth_main();
}
