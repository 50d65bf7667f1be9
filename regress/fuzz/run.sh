#!/bin/sh
# Build the libFuzzer harnesses with clang and run each for a while.
# usage: run.sh [-b|-r] [seconds] [harness ...]
#   -b		build only
#   -r		run only, with what was built before
#   seconds	per harness (default 20); 0 only replays the seed corpus
# The build goes to build-fuzz/ beside the sources, the normal build is not
# touched.  Each harness starts from its seed corpus in regress/fuzz/corpus/;
# what it finds goes to build-fuzz/corpus/ and crashes to build-fuzz/crash/.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
B=${FUZZ_BUILD:-$top/build-fuzz}
build_only=0 run_only=0
[ "${1:-}" = -b ] && { build_only=1; shift; }
[ "${1:-}" = -r ] && { run_only=1; shift; }
secs=${1:-20}
[ $# -gt 0 ] && shift
CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found" >&2; exit 1; }
PKGS="libtls libcrypto libbsd-overlay libsasl2"
pkgc=$(pkg-config --cflags $PKGS) || exit 1
pkgl=$(pkg-config --libs $PKGS) || exit 1
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN \
 -fsanitize=fuzzer-no-link -DFUZZING -Wall -Wno-unused-parameter $pkgc \
 -Ilib/libpostern \
 -DSYSCONFDIR=\"/etc\" -DPATH_POSTERN=\"/usr/local/sbin/postern\""

all="config rfc5322 addr reply ipc smtpd_cmd smtpd_data base64 aliases sasl"
o() { echo "$B/obj/$(echo "$1" | tr / _ | sed 's/\.c$/.o/')"; }

build() {
mkdir -p "$B/obj" || exit 1
# Compile what changed: objects in build-fuzz/obj, named after the path.
list=$B/sources
: >"$list"
for f in lib/libpostern/*.c usr.sbin/postern/*.c usr.sbin/posternd/*.c \
    regress/fuzz/*.c; do
	case "$f" in */sandbox_openbsd.c) continue ;; esac
	o=$B/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')
	if [ ! -f "$o" ] || [ -n "$(find "$f" lib/libpostern usr.sbin \
	    regress/fuzz -name '*.[ch]' -newer "$o" 2>/dev/null | head -1)" ]
	then
		# Both programs have a proto.h: each file sees its own.
		case "$f" in
		regress/fuzz/*smtpd*|regress/fuzz/*posternd*)
			inc=usr.sbin/posternd ;;
		*)	inc=usr.sbin/postern ;;
		esac
		echo "$f $o -I$inc" >>"$list"
	fi
done
export CC CFLAGS
if [ -s "$list" ]; then
	xargs -P "$JOBS" -L 1 sh -c 'echo "cc $0"; $CC $CFLAGS $2 -c -o "$1" "$0"' \
	    <"$list" || { echo "fuzz: build failed" >&2; exit 1; }
fi
rm -f "$B/libpostern.a" "$B/libclient.a" "$B/libserver.a"
ar rcs "$B/libpostern.a" $(for f in lib/libpostern/*.c; do o "$f"; done)
ar rcs "$B/libclient.a" $(for f in usr.sbin/postern/*.c; do
	case "$f" in */main.c|*/main_*.c|*/sandbox_openbsd.c) continue ;; esac; o "$f"; done)
# posternd's objects minus its main()s and session.c (smtpd_io.c stands in).
ar rcs "$B/libserver.a" $(for f in usr.sbin/posternd/*.c; do
	case "$f" in */main.c|*/main_*.c|*/session.c) continue ;; esac; o "$f"; done)

for h in $all; do
	extra=
	case "$h" in
	smtpd_*) extra="$(o regress/fuzz/smtpd_io.c) $B/libserver.a" ;;
	ipc)	extra="$(o regress/fuzz/ipc_postern.c) $(o regress/fuzz/ipc_posternd.c) $(o usr.sbin/posternd/proto.c)" ;;
	esac
	$CC $SAN -fsanitize=fuzzer -o "$B/fuzz_$h" "$(o regress/fuzz/fuzz_$h.c)" \
	    $extra "$B/libclient.a" "$B/libpostern.a" $pkgl -lseccomp \
	    || { echo "fuzz: cannot link fuzz_$h" >&2; exit 1; }
done
}

[ $run_only = 1 ] || build
[ $build_only = 1 ] && exit 0

[ $# -gt 0 ] && all="$*"
# Leaks of the libraries' own plugins are theirs (lsan.supp says which).
export LSAN_OPTIONS="suppressions=$top/regress/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fail=0
for h in $all; do
	seeds=regress/fuzz/corpus/$h
	mkdir -p "$B/corpus/$h" "$B/crash/$h"
	echo "== fuzz_$h: $secs s"
	if [ "$secs" = 0 ]; then
		set -- -runs=0 "$seeds"
	else
		set -- -max_total_time="$secs" "$B/corpus/$h" "$seeds"
	fi
	if ! "$B/fuzz_$h" -artifact_prefix="$B/crash/$h/" -max_len=16384 \
	    -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 "$@" \
	    >"$B/fuzz_$h.log" 2>&1; then
		fail=$((fail + 1))
		echo "   not ok - fuzz_$h: see $B/fuzz_$h.log" \
		    "and $B/crash/$h/"
		grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error' \
		    "$B/fuzz_$h.log" | head -5 | sed 's/^/   | /'
	else
		grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' \
		    "$B/fuzz_$h.log" | sed 's/^/   /'
		grep -E '^#[0-9]+.*(DONE|INITED)' "$B/fuzz_$h.log" | tail -1 | \
		    sed 's/^/   /'
	fi
done
[ $fail = 0 ]
