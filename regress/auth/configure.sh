#!/bin/sh
# regress/auth/configure.sh DIR POSTERN: run inside "unshare --mount --net"
# by the suite.  A private loopback, resolv.conf pointing at dnsd.py, and
# --configure of postern beside msmtp's for each address; one line
# "same ADDRESS" or "differs ADDRESS" per case, the outputs in DIR.
set -u
d=$1 postern=$2 here=$(dirname "$0")
ip link set lo up || exit 1
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' >"$d/resolv.conf"
mount --bind "$d/resolv.conf" /etc/resolv.conf || exit 1
/usr/bin/python3 "$here/dnsd.py" 127.0.0.1 "$d/dns.ready" \
    "_submissions._tcp.example.org=0:1:465:mail.example.org" \
    "_submission._tcp.example.org=0:1:587:mail.example.org" \
    "_submission._tcp.example.net=5:0:587:smtp.other.test" \
    "_submission._tcp.example.com=5:0:587:smtp.example.com" \
    "_submission._tcp.example.com=1:0:2587:best.example.com" \
    "_submissions._tcp.nothing.test=0:0:0:." 2>"$d/dnsd.err" &
dns=$!
i=0
while [ ! -e "$d/dns.ready" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
for a in alice@example.org bob@example.net carol@example.com \
    dave@nosrv.test erin@nothing.test notanaddress x@ @example.org; do
	f=$d/$(echo "$a" | tr -c 'a-zA-Z0-9.\n' _)
	HOME=$d msmtp --configure="$a" >"$f.msmtp" 2>&1
	echo "exit $?" >>"$f.msmtp"
	HOME=$d "$postern" --configure="$a" >"$f.postern" 2>&1
	echo "exit $?" >>"$f.postern"
	sed -i 's/^postern:/msmtp:/; s/\.posternrc/.msmtprc/' "$f.postern"
	if cmp -s "$f.msmtp" "$f.postern"; then
		echo "same $a"
	else
		echo "differs $a"
	fi
done
kill $dns 2>/dev/null
