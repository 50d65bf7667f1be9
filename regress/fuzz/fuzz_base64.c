/* base64: decoding anything, and encode/decode round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char	*dec, *back;
	char		*enc;
	size_t		 esz = BASE64_ENCODE_SIZE(len) + 1;
	ssize_t		 n, m;

	if ((dec = malloc(BASE64_DECODE_SIZE(len) + 1)) == NULL ||
	    (enc = malloc(esz)) == NULL || (back = malloc(len + 1)) == NULL)
		abort();
	(void)base64_decode(dec, BASE64_DECODE_SIZE(len),
	    (const char *)data, len);
	if ((n = base64_encode(enc, esz, data, len)) < 0)
		abort();
	if ((m = base64_decode(back, len + 1, enc, (size_t)n)) < 0 ||
	    (size_t)m != len || memcmp(back, data, len) != 0)
		abort();
	free(dec);
	free(enc);
	free(back);
	return 0;
}
