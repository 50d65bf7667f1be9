/*
 * postern-reader: the reader process of postern (reader.c), which reads
 * the mail on standard input, hands its envelope to the parent and its
 * body to the network process.  Started by postern (proc.c) alone.
 */
#include "log.h"
#include "proto.h"
#include "reader.h"
#include "roles.h"
#include "sysmode.h"

int
main(int argc, char *argv[])
{
	/* Started setgid, it first cleans what it inherited. */
	sysmode_prologue(ROLE_READER);
	log_init(argc > 0 ? argv[0] : "postern", 0);
	if (argc != 1)
		fatalx("the reader process is started by postern alone");
	role_tie_to_parent();
	return reader_main();
}
