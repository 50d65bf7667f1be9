/*
 * posternd-session: the session server of posternd (session_server.c),
 * which forks one session per connection (session.c, smtp_session.c,
 * tls_server.c).  The only executable of posternd that links libtls.
 * Started by the listener (proc.c) alone.
 */
#include "posternd.h"

int
main(int argc, char *argv[])
{
	role_start(ROLE_SERVER, argc, argv);
	/* Each session overwrites argv[2] with its own role name. */
	return session_server_main(argv[2]);
}
