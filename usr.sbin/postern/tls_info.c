/*
 * The TLS session and certificate blocks of msmtp's --serverinfo and
 * --debug output: formatting only, so that the network executable built
 * without TLS (tls_absent.c) links it too.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tls_client.h"

static size_t
hexcolon(char *buf, size_t bufsz, const unsigned char *md, size_t len)
{
	size_t	 i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < len && o + 4 <= bufsz; i++)
		o += snprintf(buf + o, bufsz - o, "%s%02X", i ? ":" : "",
		    md[i]);
	return o;
}

static void
timestr(char *buf, size_t bufsz, long long t)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		strlcpy(buf, "(unknown)", bufsz);
}

/*
 * The "TLS session parameters" and "TLS certificate information" blocks of
 * msmtp's --serverinfo and --debug output.  Returns the length snprintf
 * would have written.
 */
size_t
tls_peer_info_format(const struct tls_peer_info *info, char *buf,
    size_t bufsz)
{
	char		 version[16], sha256[100], sha1[64], nb[64], na[64];
	const char	*v = info->version;
	int		 n;

	/* "TLSv1.3" is written "TLS1.3" in msmtp's session description. */
	if (strncmp(v, "TLSv", 4) == 0)
		snprintf(version, sizeof(version), "TLS%s", v + 4);
	else
		strlcpy(version, v, sizeof(version));
	hexcolon(sha256, sizeof(sha256), info->sha256, sizeof(info->sha256));
	hexcolon(sha1, sizeof(sha1), info->sha1, sizeof(info->sha1));
	timestr(nb, sizeof(nb), info->notbefore);
	timestr(na, sizeof(na), info->notafter);
	n = snprintf(buf, bufsz,
	    "TLS session parameters:\n"
	    "    (%s)-(%s)-(%d bits)\n"
	    "TLS certificate information:\n"
	    "    Subject:\n"
	    "        %s\n"
	    "    Issuer:\n"
	    "        %s\n"
	    "    Validity:\n"
	    "        Activation time: %s\n"
	    "        Expiration time: %s\n"
	    "    Fingerprints:\n"
	    "        SHA256: %s\n"
	    "        SHA1 (deprecated): %s\n",
	    version, info->cipher, info->strength, info->subject,
	    info->issuer, nb, na, sha256, sha1);
	return n < 0 ? 0 : (size_t)n;
}
