#ifndef POSTERN_PARENT_H
#define POSTERN_PARENT_H

int	parent_main(int, char *[]);

#endif
