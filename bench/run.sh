#!/bin/sh
# bench/run.sh - postern and msmtp side by side against one local SMTP sink.
# See bench/README.  Knobs (environment):
#   POSTERN            client under test (default usr.sbin/postern/postern)
#   BENCH_SMALL_RUNS   sends of the 10 KB mail per series (default 50)
#   BENCH_BIG_RUNS     sends of the big mail per series (default 3)
#   BENCH_BIG_MB       size of the big mail in MiB (default 100)
#   BENCH_KEEP=1       keep the scratch directory (its path is printed)
#   BENCH_SERVER=no    skip the posternd section
#   CC                 C compiler (default cc)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN=${POSTERN:-$top/usr.sbin/postern/postern}
SMALL_RUNS=${BENCH_SMALL_RUNS:-50}
BIG_RUNS=${BENCH_BIG_RUNS:-3}
BIG_MB=${BENCH_BIG_MB:-100}
CC=${CC:-cc}
PY=/usr/bin/python3

W=$(mktemp -d "${TMPDIR:-/tmp}/postern-bench.XXXXXX") || exit 1
SINK_PIDS=
cleanup() {
	for p in $SINK_PIDS; do kill "$p" 2>/dev/null; done
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		echo "scratch kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

die() { echo "bench: $*" >&2; exit 1; }

# ------------------------------------------------------------------ setup
for t in "$CC" msmtp "$PY"; do
	command -v "$t" >/dev/null 2>&1 || die "missing $t (sh regress/deps.sh bench)"
done
$CC -O2 -o "$W/sink" "$top/bench/sink.c" || die "cannot build bench/sink.c"
$CC -O2 -o "$W/runstat" "$top/bench/runstat.c" || die "cannot build bench/runstat.c"
$CC -O2 -shared -fPIC -o "$W/nodelay.so" "$top/bench/nodelay.c" -ldl ||
    die "cannot build bench/nodelay.c"

# start_sink NAME: a sink logging to $W/NAME.log; sets PORT_NAME
start_sink() {
	name=$1
	shift
	"$W/sink" "$@" -l "$W/$name.log" -P "$W/$name.port" &
	SINK_PIDS="$SINK_PIDS $!"
	i=0
	while [ ! -s "$W/$name.port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "sink $name did not start"
		sleep 0.05
	done
	eval "PORT_$name=$(cat "$W/$name.port")"
}
start_sink plain

# make_msg FILE BYTES: a mail of exactly BYTES bytes, LF line ends, with
# Date and Message-ID so that no client adds headers of its own
make_msg() {
	"$PY" - "$1" "$2" <<'EOF'
import sys
path, size = sys.argv[1], int(sys.argv[2])
head = ("From: Alice <alice@example.test>\nTo: bob@example.test\n"
        "Subject: bench %d bytes\nDate: Mon, 02 Jan 2023 03:04:05 +0000\n"
        "Message-ID: <bench.%d@example.test>\n\n" % (size, size)).encode()
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n"
left = size - len(head)
block = line * 14000
with open(path, "wb") as f:
    f.write(head)
    while left >= len(block):
        f.write(block)
        left -= len(block)
    body = line * (left // len(line))
    f.write(body)
    left -= len(body)
    if left:
        f.write(b"x" * (left - 1) + b"\n")
EOF
}
make_msg "$W/small.eml" 10240 || die "cannot write the 10 KB mail"
make_msg "$W/big.eml" $((BIG_MB * 1048576)) || die "cannot write the big mail"

# ------------------------------------------------------------------ clients
CLIENTS=msmtp
msmtp_bin=$(command -v msmtp)
msmtp_ver=$(msmtp --version | head -1)
if [ -x "$POSTERN" ] && "$POSTERN" --version >/dev/null 2>&1; then
	CLIENTS="msmtp postern"
	postern_ver=$("$POSTERN" --version | head -1)
else
	postern_ver="MISSING ($POSTERN does not exist or --version fails): msmtp only"
fi
bin_of() { if [ "$1" = msmtp ]; then echo "$msmtp_bin"; else echo "$POSTERN"; fi; }

# the same configuration file for every client; one per sink
for s in plain; do
	eval "port=\$PORT_$s"
	cat >"$W/$s.rc" <<EOF
defaults
host 127.0.0.1
port $port
tls off
auth off
from alice@example.test
account default
EOF
	chmod 600 "$W/$s.rc"
done

# ------------------------------------------------------------------ stats
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# field NAME: the value of NAME=... of each line on stdin
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# series ID CLIENT MSG RUNS SINK [PRELOAD]: send MSG RUNS times, one process
# each time (with PRELOAD as LD_PRELOAD); appends a line to $W/results:
# ID CLIENT RUNS FAILS MEDIAN_US MIN_US MAXRSS_KB SINK_DATA_US SINK_BYTES MSG_BYTES
# CPU_US
series() {
	id=$1 who=$2 msg=$3 runs=$4 sink=$5 preload=${6:-}
	bin=$(bin_of "$who")
	: >"$W/$sink.log"
	: >"$W/$id.$who.stat"
	fails=0 i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		env ${preload:+LD_PRELOAD=$preload} \
		    "$W/runstat" -i "$msg" -- "$bin" -C "$W/$sink.rc" bob@example.test \
		    >>"$W/$id.$who.out" 2>>"$W/$id.$who.stat" || fails=$((fails + 1))
	done
	st=$(grep '^runstat status=' "$W/$id.$who.stat")
	med=$(echo "$st" | field wall_us | median)
	min=$(echo "$st" | field wall_us | sort -n | head -1)
	rss=$(echo "$st" | field maxrss_kb | sort -n | tail -1)
	cpu=$(echo "$st" | field cpu_us | median)
	sdata=$(field data_us <"$W/$sink.log" | median)
	sbytes=$(field bytes <"$W/$sink.log" | sort -u | tr '\n' ' ' | sed 's/ $//; s/ /,/g')
	got=$(grep -c . "$W/$sink.log")
	[ "$got" = "$runs" ] || fails=$((fails + runs - got))
	echo "$id $who $runs $fails $med $min $rss $sdata ${sbytes:--} $(wc -c <"$msg") $cpu" >>"$W/results"
	if [ $fails -gt 0 ]; then
		echo "bench: $who $id: $fails of $runs sends failed; last output:" >&2
		tail -5 "$W/$id.$who.stat" "$W/$id.$who.out" >&2
	fi
}

# traced ID CLIENT MSG: one send under ptrace; per-process peak RSS
traced() {
	id=$1 who=$2 msg=$3
	"$W/runstat" -t -i "$msg" -- "$(bin_of "$who")" -C "$W/plain.rc" \
	    bob@example.test >/dev/null 2>"$W/$id.$who.trace"
}

# ------------------------------------------------------------------ sections
# Client section: msmtp and postern as sendmail-style submission clients.
client_section() {
	for who in $CLIENTS; do
		series small "$who" "$W/small.eml" "$SMALL_RUNS" plain
		series small-nodelay "$who" "$W/small.eml" "$SMALL_RUNS" plain "$W/nodelay.so"
		series big "$who" "$W/big.eml" "$BIG_RUNS" plain
		traced small "$who" "$W/small.eml"
		traced big "$who" "$W/big.eml"
	done
}

# Server section: posternd vs msmtpd, both driven by Postfix's smtp-source
# with the same delivery command (bench/posternd.sh, which see).  Its exit
# status: 0 measured, 1 posternd lost messages or smtp-source failed, 2
# could not run (no posternd binary, packages not downloadable).
server_section() {
	echo "posternd vs msmtpd (bench/posternd.sh):"
	sh "$top/bench/posternd.sh"
	case $? in
	0)	;;
	2)	echo "posternd vs msmtpd: not measured (see the message above)" ;;
	*)	SERVER_FAILED=1 ;;
	esac
	echo
}

# sink capacity: a raw SMTP sender (Python, pre-stuffed CRLF data) pushing
# the big mail, so that the sink is known not to be the bottleneck
sink_capacity() {
	"$PY" - "$PORT_plain" "$W/big.eml" <<'EOF'
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
data = open(path, "rb").read().replace(b"\n", b"\r\n") + b".\r\n"
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def expect(code):
    while True:
        line = f.readline()
        if not line or line[:3] != code:
            raise SystemExit("sink: unexpected %r" % line)
        if line[3:4] == b" ":
            return
expect(b"220"); s.sendall(b"EHLO bench\r\n"); expect(b"250")
best = None
for _ in range(3):
    s.sendall(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    expect(b"250"); expect(b"250"); expect(b"354")
    t = time.monotonic(); s.sendall(data); expect(b"250"); t = time.monotonic() - t
    best = t if best is None else min(best, t)
s.sendall(b"QUIT\r\n")
print("%.0f" % (len(data) / best / 1e6))
EOF
}

# ------------------------------------------------------------------ run
: >"$W/results"
echo "postern bench  $(date -u '+%Y-%m-%d %H:%M UTC')  $(uname -sr)  $(nproc) CPUs"
echo "  msmtp:   $msmtp_bin  $msmtp_ver"
echo "  postern: $POSTERN  $postern_ver"
cap=$(sink_capacity) || cap="?"
echo "  sink:    bench/sink.c on 127.0.0.1 port $PORT_plain; takes $cap MB/s from a raw sender"
echo "  mails:   $(wc -c <"$W/small.eml") bytes x $SMALL_RUNS, $(wc -c <"$W/big.eml") bytes x $BIG_RUNS; no TLS, no AUTH; one client process per mail"
echo

client_section

awk -v clients="$CLIENTS" '
function ms(us) { return (us == "-" || us == "") ? "-" : sprintf("%.1f ms", us / 1000) }
function mbps(bytes, us) { return (us + 0 > 0) ? sprintf("%.1f", bytes / us) : "-" }
function mb(kb) { return (kb == "-" || kb == "") ? "-" : sprintf("%.1f MB", kb / 1024) }
{
	id = $1; who = $2; key = id SUBSEP who
	runs[key] = $3; fails[key] = $4; med[key] = $5; min[key] = $6
	rss[key] = $7; sdata[key] = $8; sbytes[key] = $9; size[key] = $10
	cpu[key] = $11
	if (!(id in seen)) { seen[id] = 1; order[++n] = id }
}
END {
	label["small"] = "10 KB mail"
	label["small-nodelay"] = "10 KB, TCP_NODELAY"
	label["big"] = "big mail"
	printf "%-24s %-8s %5s %12s %12s %11s %9s %15s %10s\n", "case", "client", "runs", "median wall", "min wall", "median CPU", "MB/s", "sink data phase", "max RSS"
	for (i = 1; i <= n; i++) {
		id = order[i]
		split(clients, cl, " ")
		for (j = 1; j in cl; j++) {
			key = id SUBSEP cl[j]
			if (!(key in runs)) continue
			lbl = id; if (id in label) lbl = label[id]
			printf "%-24s %-8s %5s %12s %12s %11s %9s %15s %10s%s\n", lbl, cl[j],
			    runs[key], ms(med[key]), ms(min[key]), ms(cpu[key]),
			    mbps(size[key], med[key]),
			    ms(sdata[key]), mb(rss[key]),
			    (fails[key] > 0 ? "  (" fails[key] " FAILED)" : "")
		}
	}
	if (clients !~ /postern/) {
		print ""
		print "postern/msmtp ratios: postern is missing, nothing to compare"
		exit
	}
	print ""
	print "postern/msmtp ratios (wall, CPU, RSS: below 1 is better for postern; MB/s: above 1 is):"
	printf "%-24s %12s %11s %9s %10s %s\n", "case", "median wall", "median CPU", "MB/s", "max RSS", "  sink bytes (msmtp / postern)"
	for (i = 1; i <= n; i++) {
		id = order[i]; a = id SUBSEP "msmtp"; b = id SUBSEP "postern"
		if (!(a in runs) || !(b in runs)) continue
		lbl = id; if (id in label) lbl = label[id]
		printf "%-24s %12s %11s %9s %10s   %s / %s%s\n", lbl,
		    (med[a] > 0 ? sprintf("%.2f", med[b] / med[a]) : "-"),
		    (cpu[a] > 0 ? sprintf("%.2f", cpu[b] / cpu[a]) : "-"),
		    (med[b] > 0 ? sprintf("%.2f", med[a] / med[b]) : "-"),
		    (rss[a] > 0 ? sprintf("%.2f", rss[b] / rss[a]) : "-"),
		    sbytes[a], sbytes[b], (sbytes[a] == sbytes[b] ? "" : "  DIFFER")
	}
	# The goal: privilege separation for free.  postern (which writes
	# in large blocks and needs no Nagle fix) against msmtp at its best.
	a = "small-nodelay" SUBSEP "msmtp"; b = "small" SUBSEP "postern"
	if ((a in runs) && (b in runs) && med[a] > 0 && cpu[a] > 0)
		printf "%-24s %12.2f %11.2f   (postern 10 KB / msmtp 10 KB TCP_NODELAY)\n",
		    "10 KB vs msmtp nodelay", med[b] / med[a], cpu[b] / cpu[a]
}' "$W/results"

# startup: the median wall and CPU time of 20 runs of a command that only
# starts and exits
startup() {
	: >"$W/startup.stat"
	i=0
	while [ $i -lt 20 ]; do
		i=$((i + 1))
		"$W/runstat" -- "$@" >/dev/null 2>>"$W/startup.stat"
	done
	st=$(grep '^runstat status=' "$W/startup.stat")
	printf '  %-22s %5.1f ms wall %5.1f ms CPU\n' "$(basename "$1") ${2:-}" \
	    "$(echo "$st" | field wall_us | median | awk '{ print $1 / 1000 }')" \
	    "$(echo "$st" | field cpu_us | median | awk '{ print $1 / 1000 }')"
}
echo
echo "start-up alone (median of 20):"
startup /bin/true
startup "$msmtp_bin" --version
case $CLIENTS in *postern*) startup "$POSTERN" --version ;; esac

echo
echo "peak RSS of each process (one traced send each, VmHWM at exit):"
for who in $CLIENTS; do
	for id in small big; do
		f=$W/$id.$who.trace
		[ -f "$f" ] || continue
		line=$(sed -n 's/^runstat proc pid=[0-9]* ppid=[0-9]* hwm_kb=\([0-9]*\) comm=\([^ ]*\) .*/\2=\1/p' "$f" |
		    awk -F= '{ printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", " }')
		printf '  %-8s %-10s %s\n' "$who" "$id:" "$line"
	done
done

echo
echo "sink data phase = time from the sink's 354 until it has the final dot;"
echo "for a 10 KB mail a client that writes in large blocks needs well under"
echo "1 ms.  About 40 ms there is the Nagle / delayed-ACK stall: the client"
echo "writes small pieces (msmtp: one send() per line), Nagle holds them back"
echo "while earlier data is unacknowledged, and the receiver delays its ACK"
echo "(40 ms on Linux).  The TCP_NODELAY rows run the same client with"
echo "Nagle turned off (LD_PRELOAD bench/nodelay.c): the stall is gone."
echo
SERVER_FAILED=0
[ "${BENCH_SERVER:-yes}" = no ] || server_section
if awk '$4 > 0 { bad = 1 } END { exit !bad }' "$W/results"; then
	echo "bench: some sends FAILED (see above)" >&2
	exit 1
fi
if [ "$SERVER_FAILED" = 1 ]; then
	echo "bench: the posternd section FAILED (see above)" >&2
	exit 1
fi
