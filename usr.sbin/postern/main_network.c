/*
 * postern-network: the network process of postern (network.c), which
 * speaks SMTP (and TLS) on the socket the parent connected.  Started by
 * postern (proc.c) alone.
 */
#include "log.h"
#include "proto.h"
#include "network.h"
#include "roles.h"
#include "sysmode.h"

int
main(int argc, char *argv[])
{
	/* Started setgid, it first cleans what it inherited. */
	sysmode_prologue(ROLE_NETWORK);
	log_init(argc > 0 ? argv[0] : "postern", 0);
	if (argc != 1)
		fatalx("the network process is started by postern alone");
	role_tie_to_parent();
	return network_main();
}
