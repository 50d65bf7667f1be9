#!/bin/sh
# The confined parent still logs: with a private /dev/log (a mount
# namespace, so the host's syslog is untouched), a send whose connection
# is refused must reach syslog and the log file after the lockdown.
# Needs root and unshare(1); prints TAP lines without a plan.
set -u
POSTERN=${POSTERN:?}
W=${WORK:-/tmp}/sandbox-syslog
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "ok 1 - syslog: the confined parent logs # SKIP needs root and unshare"
	exit 0
fi
rm -rf "$W" && mkdir -p "$W/olddev" || exit 1
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'account default\nhost 127.0.0.1\nport %s\nfrom a@example.org\nsyslog LOG_MAIL\nlogfile %s/log\n' \
    "$port" "$W" >"$W/rc"
chmod 600 "$W/rc"
cat >"$W/syslogd.py" <<EOP
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open("$W/ready", "w").close()
s.settimeout(60)
try:
    print(s.recv(4096).decode(errors="replace"), flush=True)
except socket.timeout:
    print("nothing received")
EOP
timeout 120 unshare -m sh -c '
	mount --make-rprivate / && mount --bind /dev "$1/olddev" &&
	    mount -t tmpfs none /dev || exit 9
	for f in null zero urandom random; do
		touch /dev/$f && mount --bind "$1/olddev/$f" /dev/$f || exit 9
	done
	/usr/bin/python3 "$1/syslogd.py" >"$1/syslog.out" 2>&1 &
	i=0
	while [ ! -e "$1/ready" ]; do
		i=$((i + 1)); [ $i -gt 300 ] && exit 9; sleep 0.1
	done
	printf "Subject: x\n\nhi\n" | "$2" -C "$1/rc" bob@example.net \
	    >"$1/out" 2>&1
	echo $? >"$1/rc.out"
	wait
' sh "$W" "$POSTERN"
if [ $? -eq 9 ]; then
	echo "ok 1 - syslog: the confined parent logs # SKIP no private mount namespace"
	exit 0
fi
rc=$(cat "$W/rc.out" 2>/dev/null)
if [ "$rc" = 75 ]; then
	echo "ok 1 - syslog: a refused connection exits 75 with the parent confined"
else
	echo "not ok 1 - syslog: a refused connection exits 75 with the parent confined"
	sed 's/^/# /' "$W/out"
fi
if grep -q "postern: host=127.0.0.1 .*exitcode=EX_TEMPFAIL" "$W/syslog.out"; then
	echo "ok 2 - syslog: the log line reaches syslog after the lockdown"
else
	echo "not ok 2 - syslog: the log line reaches syslog after the lockdown"
	sed 's/^/# /' "$W/syslog.out"
fi
if grep -q "exitcode=EX_TEMPFAIL" "$W/log" 2>/dev/null; then
	echo "ok 3 - syslog: and the log file opened before it"
else
	echo "not ok 3 - syslog: and the log file opened before it"
fi
