/*
 * The delivery command of bench/posternd.sh, the same for posternd and
 * msmtpd: read the message to the end, count it, exit 0.  Arguments
 * (-f SENDER -- RECIPIENT...) are ignored; COUNT_FILE is set at build time
 * because posternd hands its command a minimal environment.
 */
#include <fcntl.h>
#include <unistd.h>

#ifndef COUNT_FILE
#define COUNT_FILE	"/dev/null"
#endif

int
main(void)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 fd;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		;
	if (n == -1)
		return 74;
	if ((fd = open(COUNT_FILE, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1 ||
	    write(fd, "x\n", 2) != 2)
		return 74;
	close(fd);
	return 0;
}
