#ifndef POSTERN_NETWORK_H
#define POSTERN_NETWORK_H

int	network_main(void);

#endif
