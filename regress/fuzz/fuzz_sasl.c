/*
 * The SASL client steps: the input is what a server sends during AUTH,
 * one challenge per line (raw; the harness encodes it in base64 as the
 * server would, and also tries each line as base64 text as it came).
 * "@N" in a challenge is replaced by the client's SCRAM nonce so that
 * the exchange can get past the nonce check.  The first byte chooses
 * the mechanism; the last line's first three bytes are the final reply
 * code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sasl_client.h"
#include "base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const mechs[] = { "SCRAM-SHA-256", "SCRAM-SHA-1",
	"PLAIN", "LOGIN", "CRAM-MD5", "EXTERNAL", "XOAUTH2", "OAUTHBEARER",
	"DIGEST-MD5", "" };

static char	 nonce[256];

static void
find_nonce(const char *b64)
{
	unsigned char	 raw[1024];
	ssize_t		 n;
	const char	*r;
	size_t		 k;

	nonce[0] = '\0';
	if (b64 == NULL || (n = base64_decode(raw, sizeof(raw) - 1, b64,
	    strlen(b64))) < 0)
		return;
	raw[n] = '\0';
	if ((r = strstr((char *)raw, ",r=")) == NULL)
		return;
	r += 3;
	k = strcspn(r, ",");
	if (k >= sizeof(nonce))
		return;
	memcpy(nonce, r, k);
	nonce[k] = '\0';
}

/* The line with "@N" replaced, in base64. */
static char *
challenge(const uint8_t *p, size_t n)
{
	char	*raw, *out;
	size_t	 i, o = 0, nl = strlen(nonce);

	if ((raw = malloc(n * (nl + 1) + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (p[i] == '@' && i + 1 < n && p[i + 1] == 'N') {
			memcpy(raw + o, nonce, nl);
			o += nl;
			i++;
		} else
			raw[o++] = (char)p[i];
	}
	if ((out = malloc(BASE64_ENCODE_SIZE(o) + 1)) == NULL ||
	    base64_encode(out, BASE64_ENCODE_SIZE(o) + 1, raw, o) < 0)
		abort();
	free(raw);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int		 ready;
	struct auth_conf	 conf;
	struct auth		*a;
	char			 err[512], mech[64], *init = NULL, *resp, *chal;
	const uint8_t		*nl;
	size_t			 n;
	int			 code, reply = 535, r;

	if (!ready) {
		if (auth_library_init(err, sizeof(err)) == -1)
			abort();
		ready = 1;
	}
	if (len < 1 || len > 8192)
		return 0;
	memset(&conf, 0, sizeof(conf));
	conf.host = "mx.example.org";
	conf.port = 587;
	conf.user = "user";
	conf.password = "pencil";
	conf.mech = mechs[data[0] % (sizeof(mechs) / sizeof(mechs[0]))];
	if ((a = auth_new(&conf, err, sizeof(err))) == NULL)
		return 0;
	r = auth_begin(a, "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN CRAM-MD5 "
	    "EXTERNAL XOAUTH2 OAUTHBEARER DIGEST-MD5", data[0] & 0x80, NULL,
	    0, mech, sizeof(mech), &init, &code, err, sizeof(err));
	if (r == 0)
		find_nonce(init);
	free(init);
	data++;
	len--;
	while (r == 0 && len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (nl == NULL) {
			if (n >= 3)
				reply = (data[0] % 10) * 100 +
				    (data[1] % 10) * 10 + data[2] % 10;
			break;
		}
		chal = challenge(data, n);
		resp = NULL;
		r = auth_step(a, chal, &resp, &code, err, sizeof(err));
		free(chal);
		free(resp);
		data += n + 1;
		len -= n + 1;
	}
	if (r == 0)
		(void)auth_end(a, reply, &code, err, sizeof(err));
	auth_free(a);
	return 0;
}
