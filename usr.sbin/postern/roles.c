/*
 * The names of the roles, apart from proc.c: every executable names its
 * role in its messages, and only the parent starts processes.
 */
#include "roles.h"

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_PARENT:
		return "parent";
	case ROLE_READER:
		return "reader";
	case ROLE_SECRETS:
		return "secrets";
	case ROLE_NETWORK:
		return "network";
	}
	return "unknown";
}
