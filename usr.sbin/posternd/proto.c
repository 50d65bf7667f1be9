/*
 * The configurations of proto.h: for each, the encoder and the decoder
 * side by side, so that the order of the fields is written down once.
 * A decoder reads what a peer that may be hostile sent: every field is
 * checked, nothing may follow the last one, and on failure nothing it
 * took is left allocated.  This file needs nothing but the library's
 * ipc.c, so that a unit test can link it alone.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "proto.h"

/* The strings are const for the encoders' sake; the decoder owns its. */
static int
get_str(struct ipc_cur *c, const char **s)
{
	char	*p;

	if (ipc_cur_str(c, &p) == -1)
		return -1;
	*s = p;
	return 0;
}

static void
str_free(const char **s)
{
	free((void *)(uintptr_t)*s);
	*s = NULL;
}

void
z_config_put(struct ipc_buf *b, const struct z_config *z)
{
	ipc_buf_init(b);
	ipc_buf_u32(b, z->flags);
	ipc_buf_u32(b, z->timeout);
	ipc_buf_u32(b, z->session_timeout);
	ipc_buf_u32(b, z->max_recipients);
	ipc_buf_u32(b, z->max_auth_failures);
	ipc_buf_u32(b, z->max_line_length);
	ipc_buf_u64(b, z->max_message_size);
	ipc_buf_str(b, z->domain);
	ipc_buf_u32(b, z->uid);
	ipc_buf_u32(b, z->gid);
	ipc_buf_str(b, z->chroot);
}

int
z_config_get(const struct ipc_msg *m, struct z_config *z)
{
	struct ipc_cur	 c;

	memset(z, 0, sizeof(*z));
	ipc_cur_init(&c, m);
	if (m->fd != -1 ||
	    ipc_cur_u32(&c, &z->flags) == -1 ||
	    ipc_cur_u32(&c, &z->timeout) == -1 ||
	    ipc_cur_u32(&c, &z->session_timeout) == -1 ||
	    ipc_cur_u32(&c, &z->max_recipients) == -1 ||
	    ipc_cur_u32(&c, &z->max_auth_failures) == -1 ||
	    ipc_cur_u32(&c, &z->max_line_length) == -1 ||
	    ipc_cur_u64(&c, &z->max_message_size) == -1 ||
	    get_str(&c, &z->domain) == -1 ||
	    ipc_cur_u32(&c, &z->uid) == -1 ||
	    ipc_cur_u32(&c, &z->gid) == -1 ||
	    get_str(&c, &z->chroot) == -1 ||
	    ipc_cur_end(&c) == -1 ||
	    (z->flags & ~SF_ALL) != 0 || z->domain == NULL ||
	    z->chroot == NULL) {
		z_config_clear(z);
		return -1;
	}
	return 0;
}

void
z_config_clear(struct z_config *z)
{
	str_free(&z->domain);
	str_free(&z->chroot);
}

void
a_config_put(struct ipc_buf *b, const struct a_config *a)
{
	ipc_buf_init(b);
	ipc_buf_str(b, a->user);
	ipc_buf_str(b, a->passwordeval);
	ipc_buf_u32(b, a->delay);
	ipc_buf_u32(b, a->uid);
	ipc_buf_u32(b, a->gid);
	ipc_buf_str(b, a->chroot);
}

int
a_config_get(const struct ipc_msg *m, struct a_config *a)
{
	struct ipc_cur	 c;

	memset(a, 0, sizeof(*a));
	ipc_cur_init(&c, m);
	if (m->fd != -1 ||
	    get_str(&c, &a->user) == -1 ||
	    get_str(&c, &a->passwordeval) == -1 ||
	    ipc_cur_u32(&c, &a->delay) == -1 ||
	    ipc_cur_u32(&c, &a->uid) == -1 ||
	    ipc_cur_u32(&c, &a->gid) == -1 ||
	    get_str(&c, &a->chroot) == -1 ||
	    ipc_cur_end(&c) == -1 ||
	    a->user == NULL || a->chroot == NULL) {
		a_config_clear(a);
		return -1;
	}
	return 0;
}

void
a_config_clear(struct a_config *a)
{
	str_free(&a->user);
	str_free(&a->passwordeval);
	str_free(&a->chroot);
}
