#include "parent.h"
#include "proto.h"
#include "sysmode.h"

/*
 * The parent.  Its children are programs of their own, each linked only
 * with what its role needs (main_reader.c, main_secrets.c,
 * main_network.c): this one links neither TLS nor SASL.
 */
int
main(int argc, char *argv[])
{
	/* Started setgid, it first cleans what it inherited. */
	sysmode_prologue(ROLE_PARENT);
	return parent_main(argc, argv);
}
