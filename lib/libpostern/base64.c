#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Encode len bytes of src into dst, NUL-terminated.  Returns the length of
 * the text, or -1 if dst is too small.
 */
ssize_t
base64_encode(char *dst, size_t dstsz, const void *src, size_t len)
{
	const unsigned char	*s = src;
	size_t			 i, o = 0;
	uint32_t		 v;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 2 || dstsz < BASE64_ENCODE_SIZE(len))
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		dst[o++] = b64chars[v >> 18 & 0x3f];
		dst[o++] = b64chars[v >> 12 & 0x3f];
		dst[o++] = b64chars[v >> 6 & 0x3f];
		dst[o++] = b64chars[v & 0x3f];
	}
	if (i < len) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		dst[o++] = b64chars[v >> 18 & 0x3f];
		dst[o++] = b64chars[v >> 12 & 0x3f];
		dst[o++] = i + 1 < len ? b64chars[v >> 6 & 0x3f] : '=';
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

static int
b64value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode len characters of src into dst.  Padding may be left out, but
 * where present it must be complete and last; characters outside the
 * alphabet, whitespace included, and non-zero bits in the last character
 * are errors, so every byte string has exactly one accepted encoding.
 * Returns the number of bytes, or -1 on invalid input or a short dst.
 */
ssize_t
base64_decode(void *dst, size_t dstsz, const char *src, size_t len)
{
	unsigned char	*d = dst;
	size_t		 i, o = 0, n, pad = 0;
	uint32_t	 v = 0;
	int		 c;

	while (pad < len && pad < 2 && src[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return -1;
	n = len - pad;
	if (n % 4 == 1)
		return -1;
	if (dstsz < n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0))
		return -1;
	for (i = 0; i < n; i++) {
		if ((c = b64value((unsigned char)src[i])) == -1)
			return -1;
		v = v << 6 | (uint32_t)c;
		if (i % 4 == 3) {
			d[o++] = v >> 16 & 0xff;
			d[o++] = v >> 8 & 0xff;
			d[o++] = v & 0xff;
			v = 0;
		}
	}
	switch (n % 4) {
	case 2:
		if (v & 0xf)
			return -1;
		d[o++] = v >> 4 & 0xff;
		break;
	case 3:
		if (v & 0x3)
			return -1;
		d[o++] = v >> 10 & 0xff;
		d[o++] = v >> 2 & 0xff;
		break;
	}
	return o;
}
