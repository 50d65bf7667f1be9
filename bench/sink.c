/*
 * sink - a fast ESMTP sink on 127.0.0.1 for benchmarks.
 *
 * usage: sink [-l logfile] [-P portfile] [-p port]
 *
 * Accepts any mail and throws the data away.  One process per connection
 * (fork), so a slow client never holds up another.  Speaks EHLO/HELO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT; advertises PIPELINING, SIZE and 8BITMIME and
 * answers a pipelined batch with one write.  Every other command gets 502.
 *
 * -p port      listen on this port (default 0: the kernel picks one)
 * -P portfile  write the port number there once listening
 * -l logfile   append one line per message:
 *                "msg bytes=N data_us=D session_us=S"
 *              bytes: message size as received (CRLF, dot-stuffed, without
 *              the final dot line); data_us: from sending 354 until the end
 *              of data was seen; session_us: from accept until then.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ	(1024 * 1024)

static FILE *logf;

static char out[64 * 1024];
static size_t outlen;

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
reply(const char *s)
{
	size_t n = strlen(s);

	if (outlen + n > sizeof(out))
		return;
	memcpy(out + outlen, s, n);
	outlen += n;
}

static int
flush_out(int fd)
{
	size_t off = 0;
	ssize_t w;

	while (off < outlen) {
		w = write(fd, out + off, outlen - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += w;
	}
	outlen = 0;
	return 0;
}

/*
 * Look for CRLF "." CRLF.  *st counts how much of it has matched so far;
 * it starts at 2 because the data begins at the start of a line.  Returns
 * the offset just past the end-of-data line, or -1 if it is not in p[0..n).
 */
static ssize_t
scan_eod(const char *p, size_t n, int *st)
{
	static const char pat[] = "\r\n.\r\n";
	size_t i = 0;
	const char *q;
	char c;

	while (i < n) {
		if (*st == 0) {
			q = memchr(p + i, '\r', n - i);
			if (q == NULL)
				return -1;
			i = q - p + 1;
			*st = 1;
			continue;
		}
		c = p[i++];
		if (c == pat[*st]) {
			if (++*st == 5)
				return i;
		} else
			*st = (c == '\r') ? 1 : 0;
	}
	return -1;
}

static int
is_cmd(const char *line, const char *cmd)
{
	size_t n = strlen(cmd);

	return strncasecmp(line, cmd, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ' || line[n] == '\r');
}

static void
session(int fd)
{
	static char buf[BUFSZ];
	size_t have = 0, start;
	ssize_t r, end;
	int indata = 0, st = 0;
	long long t_accept = now_us(), t_data = 0, bytes = 0;
	char *line, *nl;

	reply("220 sink ESMTP bench sink\r\n");
	if (flush_out(fd) == -1)
		return;
	for (;;) {
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		have += r;
		start = 0;
		while (start < have) {
			if (indata) {
				end = scan_eod(buf + start, have - start, &st);
				if (end == -1) {
					bytes += have - start;
					/* keep nothing: the state carries over */
					start = have;
					break;
				}
				bytes += end;
				start += end;
				indata = 0;
				if (logf != NULL) {
					long long t = now_us();
					fprintf(logf, "msg bytes=%lld data_us=%lld "
					    "session_us=%lld\n", bytes - 3,
					    t - t_data, t - t_accept);
					fflush(logf);
				}
				reply("250 2.0.0 Ok: discarded\r\n");
				continue;
			}
			nl = memchr(buf + start, '\n', have - start);
			if (nl == NULL)
				break;
			*nl = '\0';
			line = buf + start;
			start = nl + 1 - buf;
			if (is_cmd(line, "EHLO"))
				reply("250-sink\r\n250-PIPELINING\r\n"
				    "250-SIZE 0\r\n250-8BITMIME\r\n"
				    "250 ENHANCEDSTATUSCODES\r\n");
			else if (is_cmd(line, "HELO"))
				reply("250 sink\r\n");
			else if (is_cmd(line, "MAIL") || is_cmd(line, "RCPT") ||
			    is_cmd(line, "RSET") || is_cmd(line, "NOOP"))
				reply("250 2.0.0 Ok\r\n");
			else if (is_cmd(line, "DATA")) {
				reply("354 End data with <CR><LF>.<CR><LF>\r\n");
				indata = 1;
				st = 2;
				bytes = 0;
				/* the clock of the data phase starts with 354 */
				if (flush_out(fd) == -1)
					return;
				t_data = now_us();
			} else if (is_cmd(line, "QUIT")) {
				reply("221 2.0.0 Bye\r\n");
				flush_out(fd);
				return;
			} else
				reply("502 5.5.2 Command not recognized\r\n");
		}
		/* keep an incomplete command line */
		if (start < have) {
			if (start == 0 && have == sizeof(buf)) {
				reply("500 5.5.2 Line too long\r\n");
				flush_out(fd);
				return;
			}
			memmove(buf, buf + start, have - start);
		}
		have -= start;
		/* answer a pipelined batch once all of it has been read */
		if (outlen > 0 && flush_out(fd) == -1)
			return;
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t slen;
	const char *portfile = NULL;
	int ch, s, fd, port = 0, one = 1;
	FILE *f;

	while ((ch = getopt(argc, argv, "l:P:p:")) != -1) {
		switch (ch) {
		case 'l':
			if ((logf = fopen(optarg, "a")) == NULL) {
				perror(optarg);
				return 1;
			}
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: sink [-l logfile] "
			    "[-P portfile] [-p port]\n");
			return 64;
		}
	}
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	signal(SIGPIPE, SIG_IGN);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 64) == -1) {
		perror("bind/listen");
		return 1;
	}
	slen = sizeof(sin);
	getsockname(s, (struct sockaddr *)&sin, &slen);
	if (portfile != NULL) {
		if ((f = fopen(portfile, "w")) == NULL) {
			perror(portfile);
			return 1;
		}
		fprintf(f, "%d\n", ntohs(sin.sin_port));
		fclose(f);
	}
	for (;;) {
		fd = accept(s, NULL, NULL);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		switch (fork()) {
		case -1:
			close(fd);
			break;
		case 0:
			close(s);
			session(fd);
			close(fd);
			_exit(0);
		default:
			close(fd);
		}
	}
}
