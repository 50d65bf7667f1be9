#!/bin/sh
# bench/queue.sh - flush 200 queued mails of 10 KB: postern against msmtpq
# (Debian's msmtp ships it in /usr/libexec/msmtp/msmtpq), in one run, to
# the same local sink, and print the ratio.
#   POSTERN         client under test (default usr.sbin/postern/postern)
#   MSMTPQ_DIR      where msmtpq and msmtp-queue are
#   BENCH_QUEUE_N   number of mails (default 200)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN=${POSTERN:-$top/usr.sbin/postern/postern}
MSMTPQ_DIR=${MSMTPQ_DIR:-/usr/libexec/msmtp/msmtpq}
N=${BENCH_QUEUE_N:-200}
CC=${CC:-cc}
PY=/usr/bin/python3

W=$(mktemp -d "${TMPDIR:-/tmp}/postern-qbench.XXXXXX") || exit 1
SINK=
trap '[ -n "$SINK" ] && kill $SINK 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP
die() { echo "bench: $*" >&2; exit 1; }

[ -x "$MSMTPQ_DIR/msmtpq" ] || die "no msmtpq in $MSMTPQ_DIR (apt-get install msmtp)"
command -v msmtp >/dev/null || die "no msmtp"
$CC -O2 -o "$W/sink" "$top/bench/sink.c" || die "cannot build bench/sink.c"
"$W/sink" -l "$W/sink.log" -P "$W/port" &
SINK=$!
i=0
while [ ! -s "$W/port" ]; do
	i=$((i + 1)); [ $i -lt 200 ] || die "the sink did not start"; sleep 0.05
done
port=$(cat "$W/port")

printf 'defaults\nhost 127.0.0.1\nport %s\ntls off\nfrom alice@example.test\naccount default\nqueue on\nqueue_dir %s\n' \
    "$port" "$W/spool" >"$W/rc"
chmod 600 "$W/rc"
printf 'defaults\nhost 127.0.0.1\nport %s\ntls off\nfrom alice@example.test\naccount default\n' \
    "$port" >"$W/msmtprc"
chmod 600 "$W/msmtprc"
"$PY" -c '
import sys
head = ("From: Alice <alice@example.test>\nTo: bob@example.test\n"
        "Subject: queue bench\n\n")
line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678\n"
open(sys.argv[1], "w").write(head + line * ((10240 - len(head)) // len(line)))
' "$W/mail"

now() { "$PY" -c 'import time; print("%.3f" % time.time())'; }
count() { if [ -f "$W/sink.log" ]; then grep -c '^msg' "$W/sink.log"; else echo 0; fi; }

# postern: queue N with -odq, then one flush.
i=0
while [ $i -lt "$N" ]; do
	"$POSTERN" -C "$W/rc" -odq bob@example.test <"$W/mail" 2>/dev/null ||
	    die "postern -odq failed"
	i=$((i + 1))
done
q=$("$POSTERN" -C "$W/rc" --queue-list=json | wc -l)
[ "$q" -eq "$N" ] || die "postern queued $q of $N"
c0=$(count)
t0=$(now)
"$POSTERN" -C "$W/rc" -q || die "postern -q failed"
t1=$(now)
c1=$(count)
[ $((c1 - c0)) -eq "$N" ] || die "postern delivered $((c1 - c0)) of $N"

# msmtpq: queue N while its msmtp cannot connect (the mail stays in its
# queue), then flush them with msmtp-queue -r, msmtp now reaching the sink.
export MSMTPQ_Q="$W/msmtpq.queue" MSMTPQ_LOG="$W/msmtpq.log"
export EMAIL_QUEUE_QUIET=t EMAIL_CONN_TEST=x
mkdir -m 0700 "$MSMTPQ_Q" "$W/bin"
sed "s/^port .*/port 1/" "$W/msmtprc" >"$W/msmtprc.off"
chmod 600 "$W/msmtprc.off"
printf '#!/bin/sh\nexec msmtp -C "%s" "$@"\n' "$W/msmtprc.off" >"$W/msmtp-off"
printf '#!/bin/sh\nexec msmtp -C "%s" "$@"\n' "$W/msmtprc" >"$W/msmtp-on"
chmod 755 "$W/msmtp-off" "$W/msmtp-on"
ln -s "$MSMTPQ_DIR/msmtpq" "$W/bin/msmtpq"
i=0
while [ $i -lt "$N" ]; do
	MSMTP="$W/msmtp-off" bash "$MSMTPQ_DIR/msmtpq" bob@example.test \
	    <"$W/mail" >/dev/null 2>&1
	i=$((i + 1))
done
q=$(ls "$MSMTPQ_Q" | grep -c '\.mail$')
[ "$q" -eq "$N" ] || die "msmtpq queued $q of $N"
c0=$(count)
t2=$(now)
PATH="$W/bin:$PATH" MSMTP="$W/msmtp-on" bash "$MSMTPQ_DIR/msmtp-queue" -r \
    >/dev/null 2>&1
t3=$(now)
c1=$(count)
[ $((c1 - c0)) -eq "$N" ] || die "msmtpq delivered $((c1 - c0)) of $N"

"$PY" - "$N" "$t0" "$t1" "$t2" "$t3" <<'END'
import sys
n, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
p, m = t1 - t0, t3 - t2
print("queue flush of %d mails of 10 KB to a local sink" % n)
print("  postern -q            %7.2f s  (%.0f mails/s)" % (p, n / p))
print("  msmtp-queue -r        %7.2f s  (%.0f mails/s)" % (m, n / m))
print("  ratio msmtpq/postern  %7.1fx" % (m / p))
END
