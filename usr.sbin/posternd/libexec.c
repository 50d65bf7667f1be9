/*
 * Where posternd finds its role executables, fixed when building: the
 * installed program gets LIBEXECDIR, the one left in the build tree gets
 * the build tree, so that it runs the roles built beside it.  Nothing at
 * run time changes it.
 */
#include "posternd.h"

#ifndef PATH_LIBEXEC
#define PATH_LIBEXEC	"/usr/local/libexec/postern"
#endif

const char	posternd_libexec[] = PATH_LIBEXEC;
