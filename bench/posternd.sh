#!/bin/sh
# bench/posternd.sh - posternd and msmtpd side by side, driven by Postfix's
# smtp-source with the same delivery command.
#
#   sh bench/posternd.sh
#
# Needs apt-get (to download, not install, the postfix and msmtp-mta .debs
# into bench/work/pkg), cc, msmtp (msmtpd's libraries) and a free loopback.
# Knobs: BENCH_SESSIONS (20), BENCH_MESSAGES (2000), BENCH_SIZE (10240),
# BENCH_WIDE (200: concurrent connections of the second posternd run).
# First it measures the ceiling of the machine (bench/ceiling.c): how
# fast the command alone can be started, which bounds both servers.
# Exit status: 0 measured, 1 posternd lost messages or smtp-source failed,
# 2 could not run (bench/run.sh calls this and tells the two apart).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERND=${POSTERND:-$top/usr.sbin/posternd/posternd}
SESSIONS=${BENCH_SESSIONS:-20}
MESSAGES=${BENCH_MESSAGES:-2000}
SIZE=${BENCH_SIZE:-10240}
WIDE=${BENCH_WIDE:-200}
CC=${CC:-cc}
PY=/usr/bin/python3
W=$top/bench/work/posternd
PKG=$top/bench/work/pkg
PIDS=

die() { echo "bench: $*" >&2; exit 2; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

[ -x "$POSTERND" ] || die "no $POSTERND (make first)"
for t in "$CC" "$PY" apt-get dpkg-deb; do
	command -v "$t" >/dev/null 2>&1 || die "missing $t"
done

# Postfix's smtp-source and Debian's msmtpd, unpacked, never installed
# (msmtp-mta conflicts with postfix, and neither may touch the system).
fetch() {
	[ -x "$PKG/root/usr/sbin/smtp-source" ] &&
	    [ -x "$PKG/root/usr/bin/msmtpd" ] && return 0
	mkdir -p "$PKG" || return 1
	(cd "$PKG" && rm -f ./*.deb &&
	    { apt-get -q -o APT::Sandbox::User=root download postfix \
	    msmtp-mta >download.log 2>&1 ||
	    { apt-get -q update >>download.log 2>&1 &&
	    apt-get -q -o APT::Sandbox::User=root download postfix \
	    msmtp-mta >>download.log 2>&1; }; }) ||
	    die "cannot download postfix and msmtp-mta (see $PKG/download.log)"
	for d in "$PKG"/*.deb; do
		dpkg-deb -x "$d" "$PKG/root" || return 1
	done
}
fetch || die "cannot unpack the packages"
SOURCE="$PKG/root/usr/sbin/smtp-source"
MSMTPD=${MSMTPD:-$PKG/root/usr/bin/msmtpd}
export LD_LIBRARY_PATH="$PKG/root/usr/lib/postfix"

rm -rf "$W" && mkdir -p "$W/empty" || die "cannot make $W"
chmod 755 "$W/empty"
$CC -O2 -DCOUNT_FILE="\"$W/count\"" -o "$W/drain" \
    "$top/bench/posternd-drain.c" || die "cannot build the drain"
$CC -O2 -D_GNU_SOURCE -o "$W/ceiling" "$top/bench/ceiling.c" ||
    die "cannot build bench/ceiling.c"

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	until "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}
now() { "$PY" -c 'import time; print(time.monotonic())'; }

# run NAME SESSIONS MESSAGES PORT [FLAGS]: smtp-source against the server,
# prints "start end delivered status"
run() {
	: >"$W/count"
	t0=$(now)
	"$SOURCE" ${5:-} -s "$2" -m "$3" -l "$SIZE" -f sender@example.org \
	    -t rcpt@example.net "127.0.0.1:$4" >"$W/$1.out" 2>&1
	st=$?
	t1=$(now)
	# The last replies may come before the last counts are written.
	i=0
	while [ "$(wc -l <"$W/count")" -lt "$3" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "$t0 $t1 $(wc -l <"$W/count") $st"
}

root_opts=
[ "$(id -u)" = 0 ] && root_opts="--chroot=$W/empty"

# posternd
P1=$(free_port)
"$POSTERND" --interface=127.0.0.1 --port="$P1" $root_opts \
    --command="$W/drain -f %F --" </dev/null >"$W/posternd.err" 2>&1 &
PIDS="$PIDS $!"
wait_port "$P1" || die "posternd did not start: $(cat "$W/posternd.err")"

# msmtpd, same command (it runs it through /bin/sh, as it always does)
P2=$(free_port)
"$MSMTPD" --interface=127.0.0.1 --port="$P2" \
    --command="$W/drain -f %F --" </dev/null >"$W/msmtpd.err" 2>&1 &
PIDS="$PIDS $!"
wait_port "$P2" || die "msmtpd did not start: $(cat "$W/msmtpd.err")"

rate() { "$PY" -c 'import sys; t0,t1,n=map(float,sys.argv[1:4]); print("%.0f" % (n/(t1-t0)))' "$@"; }
ratio() { "$PY" -c 'import sys; print("%.2fx" % (float(sys.argv[1]) / max(float(sys.argv[2]), 1)))' "$@"; }

fail=0
# series TITLE SMTP-SOURCE-FLAGS: msmtpd, then posternd, then the ratio
series() {
	echo "$1"
	set -- $(run msmtpd "$SESSIONS" "$MESSAGES" "$P2" ${FLAGS:-})
	m_rate=$(rate "$1" "$2" "$3")
	printf '  %-9s %6s msgs/s  (%s of %s delivered, smtp-source status %s)\n' \
	    msmtpd "$m_rate" "$3" "$MESSAGES" "$4"
	set -- $(run posternd "$SESSIONS" "$MESSAGES" "$P1" ${FLAGS:-})
	p_rate=$(rate "$1" "$2" "$3")
	printf '  %-9s %6s msgs/s  (%s of %s delivered, smtp-source status %s)\n' \
	    posternd "$p_rate" "$3" "$MESSAGES" "$4"
	[ "$3" = "$MESSAGES" ] && [ "$4" = 0 ] || fail=1
	echo "  ratio     $(ratio "$p_rate" "$m_rate")"
}

echo "smtp-source, $SESSIONS concurrent sessions, $MESSAGES messages of $SIZE bytes,"
echo "command: $W/drain -f %F -- (reads the message, exits 0)"

# What the machine allows (bench/ceiling.c): the command alone, started
# back to back by as many processes as there are CPUs, is the most any
# server can deliver; with a sandboxed process forked per message besides,
# the most a server with one such process per connection can.
JOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
ceiling() {
	: >"$W/count"
	"$W/ceiling" "$@" -j "$JOBS" -n "$MESSAGES" -s "$SIZE" -- "$W/drain" \
	    -f sender@example.org -- rcpt@example.net | sed -n 's/.*rate=\([0-9]*\).*/\1/p'
}
c_cmd=$(ceiling)
c_conn=$(ceiling -c)
[ -n "$c_cmd" ] && [ -n "$c_conn" ] || die "bench/ceiling.c failed"
echo "ceiling on this machine, no SMTP and no server ($JOBS processes, bench/ceiling.c):"
printf '  %-22s %6s msgs/s  (no server can deliver more)\n' "command alone" "$c_cmd"
printf '  %-22s %6s msgs/s  (nor one with a sandboxed process per connection)\n' \
    "command + forked child" "$c_conn"

FLAGS=
# goal CEILING: whether posternd reached three times msmtpd's rate, and
# how far the ceiling of this machine is above msmtpd
goal() {
	g=$("$PY" -c 'import sys; print("met" if float(sys.argv[1]) >= 3 * float(sys.argv[2]) else "NOT met")' "$p_rate" "$m_rate")
	echo "  goal      posternd >= 3x msmtpd: $g (ceiling $(ratio "$1" "$m_rate") msmtpd; posternd at $("$PY" -c 'import sys; print("%.0f%%" % (100 * float(sys.argv[1]) / max(float(sys.argv[2]), 1)))' "$p_rate" "$1") of it)"
}
series "one connection per message (smtp-source default):" ""
goal "$c_conn"
FLAGS=-d
series "messages sent over the $SESSIONS open sessions (smtp-source -d):" "-d"
goal "$c_cmd"

set -- $(run posternd-wide "$WIDE" "$MESSAGES" "$P1")
w_rate=$(rate "$1" "$2" "$3")
echo "$WIDE concurrent connections, one message each:"
printf '  %-9s %6s msgs/s  (%s of %s delivered, smtp-source status %s)\n' \
    posternd "$w_rate" "$3" "$MESSAGES" "$4"
[ "$3" = "$MESSAGES" ] && [ "$4" = 0 ] || fail=1
[ $fail = 0 ] || { echo "bench: posternd lost messages or smtp-source failed" >&2; exit 1; }
exit 0
