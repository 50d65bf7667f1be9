#ifndef POSTERN_READER_H
#define POSTERN_READER_H

int	reader_main(void);

#endif
