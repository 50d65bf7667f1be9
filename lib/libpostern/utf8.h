/*
 * UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * past U+10FFFF.  The C1 controls U+0080 to U+009F are well-formed UTF-8
 * (two bytes, 0xc2 then 0x80 to 0x9f) but act on a terminal as their raw
 * bytes do on one in 8-bit mode: text shown or sent refuses both.
 */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>

/* Is the well-formed sequence at p (of utf8_seqlen() == 2) a C1 control? */
#define UTF8_IS_C1(p)	((p)[0] == 0xc2 && (p)[1] < 0xa0)

size_t	utf8_seqlen(const unsigned char *, size_t);
int	utf8_text(const char *, size_t);

#endif
