/*
 * The configurations of posternd's protocol (usr.sbin/posternd/proto.c),
 * linked alone with the library: what an encoder writes its decoder reads
 * back field for field, and a decoder refuses every prefix of a good
 * payload, a byte more, a descriptor, and what may not be.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "../../usr.sbin/posternd/proto.h"
#include "tap.h"

static struct ipc_buf	 b;

static void
as_msg(const struct ipc_buf *buf, size_t len, struct ipc_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->data = buf->data;
	m->datalen = len;
}

static int
same(const char *a, const char *b2)
{
	if (a == NULL || b2 == NULL)
		return a == b2;
	return strcmp(a, b2) == 0;
}

/* Every proper prefix fails, and so does one byte more. */
#define REFUSES_CUTS(type, get, clear) do {				\
	struct ipc_msg	 m_;						\
	type		 v_;						\
	size_t		 n_;						\
	int		 bad_ = 0;					\
	for (n_ = 0; n_ < b.len; n_++) {				\
		as_msg(&b, n_, &m_);					\
		if (get(&m_, &v_) != -1) {				\
			bad_++;						\
			clear(&v_);					\
		}							\
	}								\
	ok(bad_ == 0, #type ": each of the %zu prefixes refused", b.len); \
	b.data[b.len] = 0;						\
	as_msg(&b, b.len + 1, &m_);					\
	ok(get(&m_, &v_) == -1, #type ": a trailing byte refused");	\
	as_msg(&b, b.len, &m_);						\
	m_.fd = 0;							\
	ok(get(&m_, &v_) == -1, #type ": a descriptor refused");	\
} while (0)

static void
z_default(struct z_config *z)
{
	memset(z, 0, sizeof(*z));
	z->flags = SF_AUTH | SF_TLS | SF_CHROOT | SF_LOG;
	z->timeout = 300;
	z->session_timeout = 1800;
	z->max_recipients = 100;
	z->max_auth_failures = 3;
	z->max_line_length = 65536;
	z->max_message_size = 10240000ULL << 12;
	z->domain = "mx.example.org";
	z->uid = 65534;
	z->gid = 4294967294U;
	z->chroot = "/var/empty";
}

static int
z_refused(const struct z_config *in)
{
	struct z_config	 out;
	struct ipc_msg	 m;

	z_config_put(&b, in);
	as_msg(&b, b.len, &m);
	if (z_config_get(&m, &out) == 0) {
		z_config_clear(&out);
		return 0;
	}
	return 1;
}

static void
test_z_config(void)
{
	struct z_config	 in, out;
	struct ipc_msg	 m;

	z_default(&in);
	z_config_put(&b, &in);
	ok(!b.overflow, "z_config: encoded");
	as_msg(&b, b.len, &m);
	ok(z_config_get(&m, &out) == 0, "z_config: decoded");
	ok(out.flags == in.flags && out.timeout == in.timeout &&
	    out.session_timeout == in.session_timeout &&
	    out.max_recipients == in.max_recipients &&
	    out.max_auth_failures == in.max_auth_failures &&
	    out.max_line_length == in.max_line_length &&
	    out.uid == in.uid && out.gid == in.gid,
	    "z_config: 32-bit numbers round-trip");
	ok(out.max_message_size == in.max_message_size,
	    "z_config: a size over 32 bits round-trips");
	ok(same(out.domain, in.domain) && same(out.chroot, in.chroot),
	    "z_config: strings round-trip");
	z_config_clear(&out);
	ok(out.domain == NULL && out.chroot == NULL, "z_config: cleared");
	REFUSES_CUTS(struct z_config, z_config_get, z_config_clear);

	z_default(&in);
	in.chroot = "";
	in.flags = 0;
	z_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(z_config_get(&m, &out) == 0 && same(out.chroot, ""),
	    "z_config: no chroot is \"\", not NULL");
	z_config_clear(&out);

	z_default(&in);
	in.chroot = NULL;
	ok(z_refused(&in), "z_config: a NULL chroot refused");
	z_default(&in);
	in.domain = NULL;
	ok(z_refused(&in), "z_config: no domain refused");
	z_default(&in);
	in.flags = SF_ALL + 1;
	ok(z_refused(&in), "z_config: an unknown flag refused");
}

static void
a_default(struct a_config *a)
{
	memset(a, 0, sizeof(*a));
	a->user = "alice";
	a->passwordeval = "cat /run/secret";
	a->delay = 1000;
	a->uid = 65534;
	a->gid = 65534;
	a->chroot = "";
}

static int
a_refused(const struct a_config *in)
{
	struct a_config	 out;
	struct ipc_msg	 m;

	a_config_put(&b, in);
	as_msg(&b, b.len, &m);
	if (a_config_get(&m, &out) == 0) {
		a_config_clear(&out);
		return 0;
	}
	return 1;
}

static void
test_a_config(void)
{
	struct a_config	 in, out;
	struct ipc_msg	 m;

	a_default(&in);
	a_config_put(&b, &in);
	ok(!b.overflow, "a_config: encoded");
	as_msg(&b, b.len, &m);
	ok(a_config_get(&m, &out) == 0, "a_config: decoded");
	ok(same(out.user, "alice") && same(out.passwordeval,
	    in.passwordeval) && out.delay == 1000 && out.uid == 65534 &&
	    out.gid == 65534 && same(out.chroot, ""),
	    "a_config: every field round-trips");
	a_config_clear(&out);
	ok(out.user == NULL && out.passwordeval == NULL, "a_config: cleared");
	REFUSES_CUTS(struct a_config, a_config_get, a_config_clear);

	in.passwordeval = NULL;
	in.chroot = "/var/empty";
	a_config_put(&b, &in);
	as_msg(&b, b.len, &m);
	ok(a_config_get(&m, &out) == 0 && out.passwordeval == NULL &&
	    same(out.chroot, "/var/empty"), "a_config: no passwordeval "
	    "(the terminal) and a chroot");
	a_config_clear(&out);

	a_default(&in);
	in.user = NULL;
	ok(a_refused(&in), "a_config: no user refused");
	a_default(&in);
	in.chroot = NULL;
	ok(a_refused(&in), "a_config: a NULL chroot refused");
}

/* A NUL inside the user name, written by hand, is refused. */
static void
test_embedded_nul(void)
{
	struct a_config	 a;
	struct ipc_msg	 m;

	a_default(&a);
	a_config_put(&b, &a);
	b.data[4 + 2] = '\0';
	as_msg(&b, b.len, &m);
	ok(a_config_get(&m, &a) == -1, "a_config: a NUL inside a string "
	    "refused");
}

int
main(void)
{
	test_z_config();
	test_a_config();
	test_embedded_nul();
	return tap_done();
}
