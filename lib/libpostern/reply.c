#include <string.h>

#include "reply.h"

void
reply_init(struct reply *r)
{
	r->code = 0;
	r->error = REPLY_OK;
	r->done = 0;
	r->nlines = 0;
	r->len = 0;
	r->text[0] = '\0';
}

static int
reply_fail(struct reply *r, int error)
{
	r->error = error;
	return REPLY_ERROR;
}

/*
 * Add one line, given without its CRLF or LF.  Returns REPLY_MORE while a
 * continuation ("DDD-") is expected, REPLY_DONE after the last line
 * ("DDD "), REPLY_ERROR (and sets r->error) otherwise.  A reply that has
 * failed or is complete accepts no more lines.
 */
int
reply_add_line(struct reply *r, const char *line, size_t len)
{
	int	 code;
	size_t	 i;

	if (r->error != REPLY_OK)
		return REPLY_ERROR;
	if (r->done)
		return reply_fail(r, REPLY_EINVALID);
	if (len > REPLY_LINE_MAX)
		return reply_fail(r, REPLY_ELONG);
	if (r->nlines >= REPLY_LINES_MAX)
		return reply_fail(r, REPLY_ELINES);
	if (len < 4)
		return reply_fail(r, REPLY_EINVALID);
	for (i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return reply_fail(r, REPLY_EINVALID);
	if (line[3] != ' ' && line[3] != '-')
		return reply_fail(r, REPLY_EINVALID);
	/* A NUL or CR would let a server hide text from logs and checks. */
	for (i = 4; i < len; i++)
		if (line[i] == '\0' || line[i] == '\r' || line[i] == '\n')
			return reply_fail(r, REPLY_EINVALID);
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines == 0)
		r->code = code;
	else if (code != r->code)
		return reply_fail(r, REPLY_EMISMATCH);

	if (r->nlines > 0)
		r->text[r->len++] = '\n';
	memcpy(r->text + r->len, line, len);
	r->len += len;
	r->text[r->len] = '\0';
	r->nlines++;
	if (line[3] == ' ') {
		r->done = 1;
		return REPLY_DONE;
	}
	return REPLY_MORE;
}

/* Line i of a reply (code included), its length in *lenp. */
const char *
reply_line(const struct reply *r, size_t idx, size_t *lenp)
{
	const char	*p, *end, *nl;
	size_t		 i;

	if (idx >= r->nlines)
		return NULL;
	p = r->text;
	end = r->text + r->len;
	for (i = 0; i < idx; i++) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return NULL;
		p = nl + 1;
	}
	nl = memchr(p, '\n', end - p);
	*lenp = (nl != NULL ? nl : end) - p;
	return p;
}

/* msmtp's wording for each class, so scripts that match on it keep working. */
const char *
reply_strerror(int error)
{
	switch (error) {
	case REPLY_OK:
		return "no error";
	case REPLY_EEMPTY:
		return "the server sent an empty reply";
	case REPLY_ELINES:
		return "Rejecting server reply that is longer than 50 lines.";
	case REPLY_EINVALID:
	case REPLY_ELONG:
	case REPLY_EMISMATCH:
	default:
		return "the server sent an invalid reply";
	}
}
