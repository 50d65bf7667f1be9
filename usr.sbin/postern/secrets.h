#ifndef POSTERN_SECRETS_H
#define POSTERN_SECRETS_H

int	secrets_main(void);

#endif
