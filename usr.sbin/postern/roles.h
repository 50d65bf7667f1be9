#ifndef POSTERN_ROLES_H
#define POSTERN_ROLES_H

#include "proto.h"

const char *role_name(enum role);
void	sandbox_lockdown(enum role);

#endif
