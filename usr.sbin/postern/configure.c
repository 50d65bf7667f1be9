/*
 * --configure=address: find the submission server of the address's domain
 * in DNS (RFC 6186 SRV records, implicit TLS preferred as RFC 8314 asks)
 * and print an account for it, in msmtp's words.  Runs in the parent,
 * the process that resolves names.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>

#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "configure.h"
#include "log.h"

#define SRV_ANSWER_MAX	4096

/*
 * The best SRV target of name: lowest priority, then highest weight, first
 * in the answer.  Returns 0 with host and port, 1 when there is none
 * (no such name, no record, or the "." target that says "no service"),
 * -1 on a resolver failure.
 */
int
configure_srv(const unsigned char *ans, int len, char *host, size_t hostsz,
    int *port)
{
	const unsigned char	*p, *end = ans + len;
	char			 name[NS_MAXDNAME];
	int			 n, qd, an, i, type, rdlen, best = 0;
	unsigned		 prio, weight, bprio = 0, bweight = 0;

	if (len < NS_HFIXEDSZ)
		return -1;
	qd = (ans[4] << 8) | ans[5];
	an = (ans[6] << 8) | ans[7];
	p = ans + NS_HFIXEDSZ;
	for (i = 0; i < qd; i++) {
		if ((n = dn_skipname(p, end)) < 0 || p + n + 4 > end)
			return -1;
		p += n + 4;
	}
	for (i = 0; i < an; i++) {
		if ((n = dn_skipname(p, end)) < 0 || p + n + 10 > end)
			return -1;
		p += n;
		type = (p[0] << 8) | p[1];
		rdlen = (p[8] << 8) | p[9];
		p += 10;
		if (p + rdlen > end)
			return -1;
		if (type == ns_t_srv && rdlen > 6) {
			prio = (unsigned)((p[0] << 8) | p[1]);
			weight = (unsigned)((p[2] << 8) | p[3]);
			if (dn_expand(ans, end, p + 6, name, sizeof(name)) < 0)
				return -1;
			if (!best || prio < bprio ||
			    (prio == bprio && weight > bweight)) {
				best = 1;
				bprio = prio;
				bweight = weight;
				*port = (p[4] << 8) | p[5];
				strlcpy(host, name, hostsz);
			}
		}
		p += rdlen;
	}
	if (!best || host[0] == '\0' || strcmp(host, ".") == 0)
		return 1;
	return 0;
}

static int
lookup(const char *service, const char *domain, char *host, size_t hostsz,
    int *port)
{
	unsigned char	 ans[SRV_ANSWER_MAX];
	char		 name[NS_MAXDNAME];
	int		 len;

	snprintf(name, sizeof(name), "_%s._tcp.%s", service, domain);
	if ((len = res_query(name, ns_c_in, ns_t_srv, ans, sizeof(ans))) < 0)
		return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? 1 : -1;
	return configure_srv(ans, len > (int)sizeof(ans) ? (int)sizeof(ans) :
	    len, host, hostsz, port);
}

/* host is the domain or inside it. */
int
configure_host_matches(const char *host, const char *domain)
{
	size_t	 hl = strlen(host), dl = strlen(domain);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl == dl)
		return strncasecmp(host, domain, dl) == 0;
	return hl > dl && host[hl - dl - 1] == '.' &&
	    strncasecmp(host + hl - dl, domain, dl) == 0;
}

static const char *
user_file(const char *given)
{
	static char	 path[1024], xpath[1024];
	const char	*home = conf_homedir(), *xdg;

	if (given != NULL)
		return given;
	snprintf(path, sizeof(path), "%s/%s", home, CONF_USER_FILE);
	if (access(path, F_OK) == 0)
		return path;
	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && *xdg != '\0')
		snprintf(xpath, sizeof(xpath), "%s/%s", xdg, CONF_XDG_FILE);
	else
		snprintf(xpath, sizeof(xpath), "%s/.config/%s", home,
		    CONF_XDG_FILE);
	return access(xpath, F_OK) == 0 ? xpath : path;
}

int
configure_mode(const char *address, const char *conffile)
{
	char		 local[256], host[NS_MAXDNAME];
	const char	*at, *domain;
	int		 port = 0, r, starttls = 0;
	size_t		 ll;

	if ((at = strrchr(address, '@')) == NULL || at == address ||
	    at[1] == '\0' || (ll = (size_t)(at - address)) >= sizeof(local) ||
	    strpbrk(address, " \t\r\n") != NULL) {
		log_warnx("automatic configuration based on SRV records "
		    "failed: invalid mail address");
		return EX_DATAERR;
	}
	memcpy(local, address, ll);
	local[ll] = '\0';
	domain = at + 1;
	host[0] = '\0';
	if ((r = lookup("submissions", domain, host, sizeof(host),
	    &port)) == 1) {
		starttls = 1;
		r = lookup("submission", domain, host, sizeof(host), &port);
	}
	if (r == 1) {
		log_warnx("automatic configuration based on SRV records "
		    "failed: no SRV records for _submissions._tcp.%s or "
		    "_submission._tcp.%s", domain, domain);
		return EX_NOHOST;
	}
	if (r == -1) {
		log_warnx("automatic configuration based on SRV records "
		    "failed: %s", hstrerror(h_errno));
		return h_errno == TRY_AGAIN ? EX_TEMPFAIL : EX_NOHOST;
	}
	r = (int)strlen(host);
	if (r > 0 && host[r - 1] == '.')
		host[r - 1] = '\0';
	printf("# - copy this to your configuration file %s\n",
	    user_file(conffile));
	if (!configure_host_matches(host, domain))
		printf("# - warning: the host does not match the mail domain; "
		    "please check\n");
	printf("# - add your password to the key ring:\n"
	    "#   secret-tool store --label=msmtp host %s service smtp user %s\n",
	    host, local);
	printf("account %s\nhost %s\nport %d\ntls on\ntls_starttls %s\n"
	    "auth on\nuser %s\nfrom %s\n", address, host, port,
	    starttls ? "on" : "off", local, address);
	return EX_OK;
}
