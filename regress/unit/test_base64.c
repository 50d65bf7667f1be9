#include <string.h>

#include "base64.h"
#include "tap.h"

static const struct {
	const char	*plain;
	const char	*enc;
} vec[] = {
	/* RFC 4648 section 10 */
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static const char *bad[] = {
	"Zg=", "Z", "Zm9vY", "Zg==Zg==", "Zm 9v", "Zm9v\n", "Zm9v!", "====",
	"Zh==", "Zm9=", "=Zm9", "Zm=v",
};

int
main(void)
{
	char		 buf[256];
	unsigned char	 bin[256], all[256];
	ssize_t		 n;
	size_t		 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = base64_encode(buf, sizeof(buf), vec[i].plain,
		    strlen(vec[i].plain));
		ok(n == (ssize_t)strlen(vec[i].enc) && strcmp(buf, vec[i].enc)
		    == 0, "encode \"%s\"", vec[i].plain);
		n = base64_decode(bin, sizeof(bin), vec[i].enc,
		    strlen(vec[i].enc));
		ok(n == (ssize_t)strlen(vec[i].plain) &&
		    memcmp(bin, vec[i].plain, n) == 0, "decode \"%s\"",
		    vec[i].enc);
	}
	ok(base64_decode(bin, sizeof(bin), "Zm9vYg", 6) == 4 &&
	    memcmp(bin, "foob", 4) == 0, "unpadded input accepted");
	ok(base64_decode(bin, sizeof(bin), "Zm9vYmE", 7) == 5,
	    "unpadded 2-byte tail accepted");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(base64_decode(bin, sizeof(bin), bad[i], strlen(bad[i])) == -1,
		    "invalid input %zu rejected", i);

	ok(base64_encode(buf, 8, "foobar", 6) == -1,
	    "encode refuses a short buffer");
	ok(base64_encode(buf, 9, "foobar", 6) == 8, "exact buffer suffices");
	ok(base64_decode(bin, 5, "Zm9vYmFy", 8) == -1,
	    "decode refuses a short buffer");
	ok(base64_decode(bin, 6, "Zm9vYmFy", 8) == 6, "exact decode buffer");

	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	n = base64_encode(buf, sizeof(buf), all, 100);
	ok(n == 136, "100 bytes encode to 136 characters");
	ok(base64_decode(bin, sizeof(bin), buf, n) == 100 &&
	    memcmp(bin, all, 100) == 0, "all byte values round-trip");
	/* AUTH PLAIN response for "\0bob\0s3cret", as in msmtp's transcript. */
	n = base64_encode(buf, sizeof(buf), "\0bob\0s3cret", 11);
	ok(n > 0 && strcmp(buf, "AGJvYgBzM2NyZXQ=") == 0, "SASL PLAIN vector");
	return tap_done();
}
