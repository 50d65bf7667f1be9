/*
 * The reader process: the only one that parses the message.  It locks
 * itself down before it reads the first byte of stdin, tells the parent
 * what the header says, and, once the parent has chosen the account,
 * streams the message with CRLF line ends into the pipe to the network
 * process.  Its last word to the parent says whether the message ended
 * cleanly: only then is the final dot sent.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "reader.h"
#include "rfc5322.h"
#include "roles.h"
#include "spool.h"

/*
 * The channel and every payload builder (struct ipc_buf) are static: 64
 * KiB or more each on the stack would be touched whole by the stack probes
 * at every start, for the few bytes a message uses.
 */
static struct ipc	 parent;

static void
send_buf(uint32_t type, struct ipc_buf *b)
{
	if (ipc_compose_buf(&parent, type, -1, b) == -1 ||
	    ipc_flush(&parent) == -1)
		fatal("reader: send");
}

static void
send_str(uint32_t type, const char *s)
{
	static struct ipc_buf b;

	ipc_buf_init(&b);
	ipc_buf_str(&b, s);
	send_buf(type, &b);
}

static __dead void
fail(int code, const char *msg)
{
	static struct ipc_buf b;

	ipc_buf_init(&b);
	ipc_buf_u32(&b, (uint32_t)code);
	ipc_buf_str(&b, msg);
	send_buf(MSG_R_ERROR, &b);
	exit(EX_OK);
}

static void
recv_msg(struct ipc_msg *m, uint32_t type)
{
	int	 r;

	if ((r = ipc_recv(&parent, m)) == 0)
		exit(EX_OK);	/* the parent gave up: nothing to do */
	if (r == -1)
		fatal("reader: receive");
	if (m->hdr.type != type)
		fatalx("reader: unexpected message %u", m->hdr.type);
}

static void
report_header(struct rfc5322_msg *msg, uint32_t flags)
{
	struct addr_list	 rcpts;
	struct addr		*a;
	static struct ipc_buf	 b;
	char			*from = NULL;
	int			 r;

	if (flags & R_EXTRACT_FROM) {
		if ((r = rfc5322_envelope_from(msg, &from)) != EX_OK)
			fail(r, msg->errstr);
		if (from != NULL)
			send_str(MSG_R_HDR_FROM, from);
		free(from);
	}
	if (flags & R_EXTRACT_RCPT) {
		addr_list_init(&rcpts);
		if ((r = rfc5322_recipients(msg, &rcpts)) != EX_OK)
			fail(r, msg->errstr);
		TAILQ_FOREACH(a, &rcpts, entry)
			send_str(MSG_R_HDR_RCPT, a->spec);
		addr_list_free(&rcpts);
	}
	ipc_buf_init(&b);
	send_buf(MSG_R_HDR_DONE, &b);
}

/*
 * Write the message into the queue entry the parent created, then send it
 * from there.  A body pipe the network process stopped reading (it failed
 * before DATA) does not stop the entry: the parent may still commit it.
 */
static void
spool_message(struct rfc5322_msg *msg, const struct rfc5322_opts *opts,
    struct rfc5322_stats *st)
{
	struct ipc_msg	 m;
	struct ipc_cur	 c;
	uint32_t	 flags;
	off_t		 start;
	int		 fd, r, broken;

	recv_msg(&m, MSG_R_SPOOL);
	ipc_cur_init(&c, &m);
	if (m.fd == -1 || ipc_cur_u32(&c, &flags) == -1 ||
	    ipc_cur_end(&c) == -1)
		fatalx("reader: bad MSG_R_SPOOL");
	fd = m.fd;
	if (spool_body_begin(fd, &start) == -1)
		fail(EX_TEMPFAIL, "cannot write the queue entry");
	if ((r = rfc5322_write(msg, opts, fd, st)) != EX_OK) {
		/* A full disk is a temporary failure, not the mail's fault. */
		if (r == EX_IOERR)
			r = EX_TEMPFAIL;
		fail(r, msg->errstr);
	}
	if (spool_body_end(fd, start, (flags & R_SPOOL_SEND) ? FD_BODY : -1,
	    &broken) == -1)
		fail(EX_TEMPFAIL, "cannot write the queue entry");
	close(fd);
	if (flags & R_SPOOL_SEND)
		close(FD_BODY);
}

static int
recv_fd(uint32_t type)
{
	struct ipc_msg	 m;

	recv_msg(&m, type);
	if (m.fd == -1)
		fatalx("reader: message %u without a descriptor", type);
	return m.fd;
}

/*
 * Queue flush: for each entry the parent opened, check it whole while
 * streaming its message into that entry's pipe.  Only a complete entry
 * whose checksums match earns MSG_R_DONE, and only then is the dot sent.
 */
static __dead void
flush_entries(int first)
{
	struct spool_head	 h;
	struct ipc_msg		 m;
	static struct ipc_buf	 b;
	char			 err[256];
	uint64_t		 len = 0;
	int			 fd = first, out, r;

	for (;;) {
		out = recv_fd(MSG_R_PIPE);
		if (spool_read_head(fd, &h, err, sizeof(err)) == -1)
			r = -1;
		else {
			r = spool_read_body(fd, &h, out, &len, err,
			    sizeof(err));
			spool_head_free(&h);
		}
		close(fd);
		if (close(out) == -1 && r == 0)
			r = -2;
		ipc_buf_init(&b);
		if (r == 0) {
			ipc_buf_u64(&b, len);
			ipc_buf_u64(&b, len);
			send_buf(MSG_R_DONE, &b);
		} else {
			ipc_buf_u32(&b, r == -1 ? EX_DATAERR : EX_IOERR);
			ipc_buf_str(&b, r == -1 ? err :
			    "the network process stopped reading");
			send_buf(MSG_R_ERROR, &b);
		}
		if ((r = ipc_recv(&parent, &m)) == 0)
			exit(EX_OK);
		if (r == -1)
			fatal("reader: receive");
		if (m.hdr.type != MSG_R_ENTRY || m.fd == -1)
			fatalx("reader: unexpected message %u", m.hdr.type);
		fd = m.fd;
	}
}

int
reader_main(void)
{
	struct rfc5322_msg	 msg;
	struct rfc5322_opts	 opts;
	struct rfc5322_stats	 st;
	struct ipc_msg		 m;
	struct ipc_cur		 c;
	static struct ipc_buf	 b;
	struct r_output		 out;
	uint32_t		 flags, maxhdr;
	int			 r;

	log_procname("reader");
	/* A network process that stops reading must not kill us silently. */
	signal(SIGPIPE, SIG_IGN);
	ipc_init(&parent, FD_PARENT);
	/* Time zone data is a file: load it while files may be opened. */
	tzset();
	sandbox_lockdown(ROLE_READER);

	if ((r = ipc_recv(&parent, &m)) == 0)
		exit(EX_OK);
	if (r == -1)
		fatal("reader: receive");
	if (m.hdr.type == MSG_R_ENTRY && m.fd != -1 && m.datalen == 0)
		flush_entries(m.fd);
	if (m.hdr.type != MSG_R_START || m.fd != -1)
		fatalx("reader: unexpected message %u", m.hdr.type);
	ipc_cur_init(&c, &m);
	if (ipc_cur_u32(&c, &flags) == -1 || ipc_cur_u32(&c, &maxhdr) == -1 ||
	    ipc_cur_end(&c) == -1)
		fatalx("reader: bad MSG_R_START");

	rfc5322_init(&msg, STDIN_FILENO);
	/* The parent may only lower the library's own limit. */
	if (maxhdr > 0 && maxhdr < msg.maxheader)
		msg.maxheader = maxhdr;
	if ((r = rfc5322_read_header(&msg)) != EX_OK)
		fail(r, msg.errstr);
	report_header(&msg, flags);

	recv_msg(&m, MSG_R_OUTPUT);
	if (r_output_get(&m, &out) == -1)
		fatalx("reader: bad MSG_R_OUTPUT");
	memset(&opts, 0, sizeof(opts));
	opts.remove_bcc = (out.flags & R_OUT_REMOVE_BCC) != 0;
	opts.undisclosed = (out.flags & R_OUT_UNDISCLOSED) != 0;
	opts.set_from = out.set_from;
	opts.set_date = out.set_date;
	opts.set_msgid = out.set_msgid;
	opts.envelope_from = out.from;
	opts.full_name = out.full_name;
	opts.date = (time_t)out.date;
	opts.gmtoff = (long)out.gmtoff;
	opts.msgid_host = out.msgid_host;
	opts.trace = out.trace;

	if (out.flags & R_OUT_SPOOL) {
		spool_message(&msg, &opts, &st);
		goto done;
	}
	if ((r = rfc5322_write(&msg, &opts, FD_BODY, &st)) != EX_OK) {
		close(FD_BODY);
		fail(r, msg.errstr);
	}
	if (close(FD_BODY) == -1)
		fail(EX_IOERR, "cannot write the mail to the network process");
done:
	ipc_buf_init(&b);
	ipc_buf_u64(&b, st.bytes);
	ipc_buf_u64(&b, st.mailsize);
	send_buf(MSG_R_DONE, &b);
	rfc5322_clear(&msg);
	return EX_OK;
}
