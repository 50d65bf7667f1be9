# BSD make build: make(1) on OpenBSD, bmake on Debian.  It builds what the
# GNUmakefile builds, with the same flags; GNU make reads the GNUmakefile.

PREFIX ?=	/usr/local
DESTDIR ?=
BINDIR ?=	${PREFIX}/bin
SBINDIR ?=	${PREFIX}/sbin
# postern's and posternd's role executables, as in the GNUmakefile.
LIBEXECDIR ?=	${PREFIX}/libexec/postern
MANDIR ?=	${PREFIX}/share/man
SYSCONFDIR ?=	/etc
EXAMPLESDIR ?=	${PREFIX}/share/examples/postern
SYSTEMDUNITDIR ?= ${PREFIX}/lib/systemd/system
# The system queue (README): the spool directory, the group of
# postern-drop and the user of the flusher, as in the GNUmakefile.
SPOOL_DIR ?=	/var/spool/postern
SPOOL_GROUP ?=	_postern-spool
QUEUE_USER ?=	_postern-queue

OPSYS !=	uname -s

# Set, not defaulted: sys.mk already gave CFLAGS a value without -O, which
# _FORTIFY_SOURCE needs.
CFLAGS =	-O2 -g
WARNINGS =	-Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
		-Wcast-qual -Wstrict-prototypes -Wmissing-prototypes \
		-Wmissing-declarations -Wwrite-strings -Wundef \
		-Wno-unused-parameter -Wimplicit-fallthrough
.if defined(CI)
.if ${CI} == "true"
WARNINGS +=	-Werror
.endif
.endif
# -U first: dpkg-buildflags may pass a lower level in CPPFLAGS.
HARDEN =	-fstack-protector-strong -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fPIE \
		-fstack-clash-protection
LDFLAGS_H =	-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

# OpenBSD has libtls in base and its own pledge/unveil in place of libbsd
# and libseccomp; only Cyrus SASL comes from packages.
.if ${OPSYS} == "OpenBSD"
PKG_CFLAGS !=	pkg-config --cflags libsasl2 2>/dev/null || true
PKG_LIBS !=	pkg-config --libs libsasl2 2>/dev/null || true
PKG_LIBS +=	-ltls -lssl -lcrypto
SASL_LIBS !=	pkg-config --libs libsasl2 2>/dev/null || true
SASL_LIBS +=	-lcrypto
TLS_LIBS =	-ltls -lssl -lcrypto
BASE_LIBS =
DEPS =		:
.else
PKGS =		libtls libcrypto libbsd-overlay libseccomp libsasl2
PKG_CFLAGS !=	pkg-config --cflags ${PKGS} 2>/dev/null || true
PKG_LIBS !=	pkg-config --libs ${PKGS} 2>/dev/null || true
# Each of postern's executables links only what its role uses.
# libbsd and libseccomp linked in, not mapped, as in the GNUmakefile.
BASE_LIBS !=	echo "-Wl,-Bstatic $$(pkg-config --libs --static \
		    libbsd-overlay libseccomp 2>/dev/null) -Wl,-Bdynamic"
TLS_LIBS !=	pkg-config --libs libtls libcrypto 2>/dev/null || true
SASL_LIBS !=	pkg-config --libs libsasl2 libcrypto 2>/dev/null || true
DEPS =		sh regress/deps.sh
.endif
ALL_CFLAGS =	-std=gnu11 -D_GNU_SOURCE ${CPPFLAGS} ${CFLAGS} ${WARNINGS} ${HARDEN} \
		${PKG_CFLAGS} -Ilib/libpostern \
		-DSYSCONFDIR='"${SYSCONFDIR}"' \
		-DPATH_POSTERN='"${SBINDIR}/postern"' \
		-DPATH_POSTERN_DROP='"${SBINDIR}/postern-drop"' \
		-DPATH_SPOOLDIR='"${SPOOL_DIR}"' \
		-DPATH_POSTERND='"${SBINDIR}/posternd"'
LIBS =		${PKG_LIBS}
# postern's headers for its own files, its unit and sandbox tests.
CLI_INC =	-Iusr.sbin/postern

# Source lists are globbed so that a new file needs no edit here.
LIB_SRCS !=	ls lib/libpostern/*.c 2>/dev/null || true
CLI_SRCS !=	ls usr.sbin/postern/*.c 2>/dev/null | \
		    grep -v -e '/main[a-z_]*\.c$$' -e '/libexec\.c$$' \
		    -e '/tls_absent\.c$$' || true
MAIN_SRCS !=	ls usr.sbin/postern/main*.c 2>/dev/null || true
SRV_SRCS !=	ls usr.sbin/posternd/*.c 2>/dev/null | \
		    grep -v -e '/main[a-z_]*\.c$$' -e '/libexec\.c$$' || true
SRV_MAIN !=	ls usr.sbin/posternd/main*.c 2>/dev/null || true
DROP_SRCS !=	ls usr.sbin/postern-drop/*.c 2>/dev/null || true
UNIT_SRCS !=	ls regress/unit/test_*.c 2>/dev/null || true
# attempt.c is no program: the sandbox tests of both programs link it.
ATTEMPT_OBJ =	regress/sandbox/attempt.o
HELPER_SRCS !=	ls regress/sandbox/*.c 2>/dev/null | \
		    grep -v '/attempt\.c$$' || true
HDRS !=		ls lib/libpostern/*.h usr.sbin/*/*.h regress/*/*.h \
		    2>/dev/null || true

LIB =		lib/libpostern/libpostern.a
CLI_LIB =	usr.sbin/postern/libclient.a
POSTERN =	usr.sbin/postern/postern
# The postern left in the build tree runs the roles built beside it
# (libexec-tree.o); the one make install installs, those of LIBEXECDIR.
POSTERN_INST =	usr.sbin/postern/postern.install
# network-plain: the network process without TLS, for accounts with tls
# off, as in the GNUmakefile.
ROLES =		reader secrets network network-plain
ROLE_BINS =	${ROLES:%=usr.sbin/postern/postern-%}
LIBEXEC_TREE =	usr.sbin/postern/libexec-tree.o
# Compiled again when LIBEXECDIR or the tree's place changes (see the
# GNUmakefile).
LIBEXEC_STAMP =	usr.sbin/postern/libexec.stamp
LIBEXEC_PATHS =	${LIBEXECDIR} ${.CURDIR}
_STAMPED !=	echo '${LIBEXEC_PATHS}' | \
		    cmp -s - ${LIBEXEC_STAMP} 2>/dev/null || \
		    { rm -f usr.sbin/postern/libexec.o ${LIBEXEC_TREE}; \
		    echo '${LIBEXEC_PATHS}' >${LIBEXEC_STAMP}; }; echo
POSTERND =	usr.sbin/posternd/posternd
# posternd's roles as in the GNUmakefile: the listener links neither TLS
# nor libseccomp, the auth process no crypto library.
POSTERND_INST =	usr.sbin/posternd/posternd.install
SRV_ROLES =	session auth
SRV_ROLE_BINS =	${SRV_ROLES:%=usr.sbin/posternd/posternd-%}
SRV_LIBEXEC_TREE = usr.sbin/posternd/libexec-tree.o
SRV_LIBEXEC_STAMP = usr.sbin/posternd/libexec.stamp
_SRV_STAMPED !=	echo '${LIBEXEC_PATHS}' | \
		    cmp -s - ${SRV_LIBEXEC_STAMP} 2>/dev/null || \
		    { rm -f usr.sbin/posternd/libexec.o ${SRV_LIBEXEC_TREE}; \
		    echo '${LIBEXEC_PATHS}' >${SRV_LIBEXEC_STAMP}; }; echo
DROP =		usr.sbin/postern-drop/postern-drop
PROGS =		${POSTERN} ${POSTERN_INST} ${ROLE_BINS} ${DROP}
# posternd is built on Linux only: it uses memfd_create, prctl and /proc.
.if ${OPSYS} == "OpenBSD"
SRV_SRCS =
SRV_MAIN =
# posternd's own unit tests go with it.
UNIT_SRCS :=	${UNIT_SRCS:Nregress/unit/test_command.c:Nregress/unit/test_rfc5321.c:Nregress/unit/test_smtp_session.c:Nregress/unit/test_posternd_proto.c}
.endif
SRV_LIB =
.if !empty(SRV_SRCS)
SRV_LIB =	usr.sbin/posternd/libposternd.a
PROGS +=	${POSTERND}
PROGS +=	${POSTERND_INST} ${SRV_ROLE_BINS}
SRV_OBJS_EXTRA = usr.sbin/posternd/libexec.o ${SRV_LIBEXEC_TREE}
SRV_BASE_LIBS !=	echo "-Wl,-Bstatic $$(pkg-config --libs --static \
		    libbsd-overlay 2>/dev/null) -Wl,-Bdynamic"
.endif
UNIT_BINS =	${UNIT_SRCS:.c=}
HELPER_BINS =	${HELPER_SRCS:.c=}
OBJS =		${LIB_SRCS:.c=.o} ${CLI_SRCS:.c=.o} ${SRV_SRCS:.c=.o} \
		${SRV_MAIN:.c=.o} \
		${DROP_SRCS:.c=.o} \
		${MAIN_SRCS:.c=.o} ${UNIT_SRCS:.c=.o} \
		${HELPER_SRCS:.c=.o} ${ATTEMPT_OBJ} regress/unit/tap.o \
		usr.sbin/postern/libexec.o ${LIBEXEC_TREE} \
		usr.sbin/postern/tls_absent.o
OBJS +=		${SRV_OBJS_EXTRA}

.PHONY: all tests check demo install install-names clean fuzz check-sanitize
all: ${PROGS}
tests: ${UNIT_BINS} ${HELPER_BINS}

.SUFFIXES: .c .o
.c.o:
	${CC} ${ALL_CFLAGS} ${CLI_INC} -c -o ${.TARGET} ${.IMPSRC}

# posternd reaches only the library's headers, not postern's.
.for s in ${SRV_SRCS} ${SRV_MAIN}
${s:.c=.o}: ${s}
	${CC} ${ALL_CFLAGS} -c -o ${.TARGET} ${s}
.endfor

usr.sbin/posternd/libexec.o: usr.sbin/posternd/libexec.c ${SRV_LIBEXEC_STAMP}
	${CC} ${ALL_CFLAGS} -DPATH_LIBEXEC='"${LIBEXECDIR}"' -c -o ${.TARGET} \
	    usr.sbin/posternd/libexec.c

${SRV_LIBEXEC_TREE}: usr.sbin/posternd/libexec.c ${SRV_LIBEXEC_STAMP}
	${CC} ${ALL_CFLAGS} -DPATH_LIBEXEC='"${.CURDIR}/usr.sbin/posternd"' \
	    -c -o ${.TARGET} usr.sbin/posternd/libexec.c

# Any header change rebuilds everything: coarse, but never stale.
${OBJS}: ${HDRS}

${LIB}: ${LIB_SRCS:.c=.o}
	rm -f ${.TARGET} && ar rcs ${.TARGET} ${.ALLSRC}

${CLI_LIB}: ${CLI_SRCS:.c=.o}
	rm -f ${.TARGET} && ar rcs ${.TARGET} ${.ALLSRC}

usr.sbin/postern/libexec.o: usr.sbin/postern/libexec.c ${LIBEXEC_STAMP}
	${CC} ${ALL_CFLAGS} -DPATH_LIBEXEC='"${LIBEXECDIR}"' -c -o ${.TARGET} \
	    usr.sbin/postern/libexec.c

${LIBEXEC_TREE}: usr.sbin/postern/libexec.c ${LIBEXEC_STAMP}
	${CC} ${ALL_CFLAGS} -DPATH_LIBEXEC='"${.CURDIR}/usr.sbin/postern"' \
	    -c -o ${.TARGET} usr.sbin/postern/libexec.c

${POSTERN}: usr.sbin/postern/main.o ${LIBEXEC_TREE} ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${BASE_LIBS}

${POSTERN_INST}: usr.sbin/postern/main.o usr.sbin/postern/libexec.o \
    ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${BASE_LIBS}

usr.sbin/postern/postern-reader: usr.sbin/postern/main_reader.o \
    ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${BASE_LIBS}

usr.sbin/postern/postern-secrets: usr.sbin/postern/main_secrets.o \
    ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${SASL_LIBS} \
	    ${BASE_LIBS}

usr.sbin/postern/postern-network: usr.sbin/postern/main_network.o \
    ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${TLS_LIBS} \
	    ${BASE_LIBS}

usr.sbin/postern/postern-network-plain: usr.sbin/postern/main_network.o \
    usr.sbin/postern/tls_absent.o ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${BASE_LIBS}

${DROP}: ${DROP_SRCS:.c=.o} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${LIBS}

.if !empty(SRV_SRCS)
${SRV_LIB}: ${SRV_SRCS:.c=.o}
	rm -f ${.TARGET} && ar rcs ${.TARGET} ${.ALLSRC}
.endif

# The posternd left in the build tree runs the roles built beside it.
${POSTERND}: usr.sbin/posternd/main.o ${SRV_LIBEXEC_TREE} ${SRV_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${SRV_BASE_LIBS}

${POSTERND_INST}: usr.sbin/posternd/main.o usr.sbin/posternd/libexec.o \
    ${SRV_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${SRV_BASE_LIBS}

usr.sbin/posternd/posternd-session: usr.sbin/posternd/main_session.o \
    ${SRV_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${TLS_LIBS} \
	    ${BASE_LIBS}

usr.sbin/posternd/posternd-auth: usr.sbin/posternd/main_auth.o \
    ${SRV_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${BASE_LIBS}

# The two programs' archives define none of the same symbols.
.for t in ${UNIT_BINS}
${t}: ${t}.o regress/unit/tap.o ${LIBEXEC_TREE} ${CLI_LIB} ${SRV_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${LIBS}
.endfor

.for t in ${HELPER_BINS}
${t}: ${t}.o ${ATTEMPT_OBJ} ${LIBEXEC_TREE} ${CLI_LIB} ${LIB}
	${CC} ${LDFLAGS_H} ${LDFLAGS} -o ${.TARGET} ${.ALLSRC} ${LIBS}
.endfor

# The packages come first: the flags above are read when make starts.
check:
	@${DEPS} build
	@${MAKE} all tests
	@${DEPS} test
	@sh regress/run.sh

demo:
	@${DEPS} build
	@${MAKE} all
	@${DEPS} test
	@bash regress/demo.sh

# libFuzzer harnesses (clang), built in build-fuzz/, each run for
# FUZZ_SECONDS seconds from its seed corpus in regress/fuzz/corpus/.
FUZZ_SECONDS ?=	20
fuzz:
	@${DEPS} fuzz
	@sh regress/fuzz/run.sh ${FUZZ_SECONDS}

# Both programs and the unit tests with ASan and UBSan, built in
# build-sanitize/, under the unit, scenario, posternd and sandbox suites.
check-sanitize:
	@${DEPS} sanitize
	@sh regress/sanitize.sh

# The paths inside the installed samples and units follow the variables.
SUBST =		sed -e 's|@SBINDIR@|${SBINDIR}|g' \
		    -e 's|@SYSCONFDIR@|${SYSCONFDIR}|g' \
		    -e 's|@SYSTEMDUNITDIR@|${SYSTEMDUNITDIR}|g' \
		    -e 's|@QUEUE_USER@|${QUEUE_USER}|g' \
		    -e 's|@SPOOL_GROUP@|${SPOOL_GROUP}|g'

install: all
	install -d ${DESTDIR}${SBINDIR} ${DESTDIR}${LIBEXECDIR} \
	    ${DESTDIR}${MANDIR}/man1 ${DESTDIR}${MANDIR}/man8 \
	    ${DESTDIR}${EXAMPLESDIR}
	install -m 0755 ${POSTERN_INST} ${DESTDIR}${SBINDIR}/postern
	install -m 0755 ${ROLE_BINS} ${DESTDIR}${LIBEXECDIR}/
	install -m 0755 ${DROP} ${DESTDIR}${SBINDIR}/postern-drop
	install -m 0644 usr.sbin/postern-drop/postern-drop.8 \
	    ${DESTDIR}${MANDIR}/man8/
	install -m 0644 usr.sbin/postern/postern.1 ${DESTDIR}${MANDIR}/man1/
	install -m 0644 etc/posternrc.sample etc/postern-queue.timer \
	    ${DESTDIR}${EXAMPLESDIR}/
	${SUBST} etc/postern-queue.service.in \
	    >${DESTDIR}${EXAMPLESDIR}/postern-queue.service
	${SUBST} etc/crontab.postern-queue.in \
	    >${DESTDIR}${EXAMPLESDIR}/crontab.postern-queue
	${SUBST} etc/mailer.conf.in >${DESTDIR}${EXAMPLESDIR}/mailer.conf
	${SUBST} etc/postern-sysqueue.service.in \
	    >${DESTDIR}${EXAMPLESDIR}/postern-sysqueue.service
	install -m 0644 etc/postern-sysqueue.timer ${DESTDIR}${EXAMPLESDIR}/
.if !empty(SRV_SRCS)
	install -d ${DESTDIR}${SYSTEMDUNITDIR}
	install -m 0755 ${POSTERND_INST} ${DESTDIR}${SBINDIR}/posternd
	install -m 0755 ${SRV_ROLE_BINS} ${DESTDIR}${LIBEXECDIR}/
	install -m 0644 usr.sbin/posternd/posternd.8 ${DESTDIR}${MANDIR}/man8/
	${SUBST} etc/posternd.service.in \
	    >${DESTDIR}${SYSTEMDUNITDIR}/posternd.service
	install -m 0644 etc/posternd.socket ${DESTDIR}${SYSTEMDUNITDIR}/
	${SUBST} etc/inetd.conf.posternd.in \
	    >${DESTDIR}${EXAMPLESDIR}/inetd.conf.posternd
.endif

# sendmail, mailq and newaliases as links to postern: for a system where
# postern is the mailer, and kept apart so that make install shadows no
# mailer already installed.  OpenBSD uses mailer.conf instead.
install-names: install
	for n in sendmail mailq newaliases; do \
		ln -sf postern ${DESTDIR}${SBINDIR}/$$n; \
	done

clean:
	rm -f ${SRV_LIBEXEC_STAMP} ${SRV_LIB}
	rm -f ${OBJS} ${LIB} ${CLI_LIB} ${PROGS} ${POSTERND} ${LIBEXEC_STAMP} \
	    ${UNIT_BINS} ${HELPER_BINS}
	rm -rf build-fuzz build-sanitize
