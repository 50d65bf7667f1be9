#include <stddef.h>

#include "utf8.h"

/* Length of the well-formed sequence of 2 to 4 bytes at s, else 0. */
size_t
utf8_seqlen(const unsigned char *s, size_t n)
{
	size_t		 len, i;
	unsigned int	 cp;

	if (n == 0 || s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else {
		len = 4;
		cp = s[0] & 0x07;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * 1 when the n bytes at s are ASCII and well-formed UTF-8 with no control
 * character, C0, DEL or C1, else 0.
 */
int
utf8_text(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, k;

	for (i = 0; i < n; i += k) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return 0;
			k = 1;
			continue;
		}
		if ((k = utf8_seqlen(p + i, n - i)) == 0 ||
		    (k == 2 && UTF8_IS_C1(p + i)))
			return 0;
	}
	return 1;
}
