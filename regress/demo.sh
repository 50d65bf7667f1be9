#!/bin/bash
# make demo: one real mail through the whole privilege-separated pipeline,
# over STARTTLS with AUTH, to a private Postfix with Dovecot SASL that this
# script starts on 127.0.0.1 and stops again.  Shows the processes, the
# SMTP dialogue (credentials hidden), what arrived, and the log line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN=$top/usr.sbin/postern/postern
WORK=$top/regress/work/demo
export WORK
D=$WORK/postfix

[ -x "$POSTERN" ] || { echo "demo: build postern first (make)" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
. "$top/regress/interop/lib.sh"

echo "== fetching Postfix (apt-get download, unpacked privately; nothing installed)"
pf_fetch || { echo "demo: cannot get the postfix package" >&2; exit 1; }
echo "== starting Postfix + Dovecot SASL on 127.0.0.1"
pf_start "$D" >"$WORK/pf_start.log" 2>&1 || {
	cat "$WORK/pf_start.log" >&2
	echo "demo: Postfix did not start" >&2
	exit 1
}
trap 'pf_stop "$D" >/dev/null 2>&1' EXIT
echo "   submission port $PF_PORT_SUBMISSION (STARTTLS required, AUTH required)"

conf=$WORK/postern.conf
cat >"$conf" <<CONF
# The account of this demo: STARTTLS, certificate checked against the CA
# made for this run, SASL chosen automatically, the password produced by a
# command that only the secrets process runs.
defaults
logfile $WORK/postern.log

account demo
host 127.0.0.1
port $PF_PORT_SUBMISSION
tls on
tls_starttls on
tls_trust_file $PF_CA
auth on
user $PF_USER
passwordeval "echo $PF_PASSWORD"
from alice@postern.test

account default : demo
CONF
chmod 600 "$conf"

cat >"$WORK/message" <<MSG
From: Alice <alice@postern.test>
To: Bob <bob@example.net>
Bcc: carol@example.org
Subject: postern demo

Hello Bob,

this mail went through four processes: the reader parsed it, the parent
chose the account and connected, the secrets process answered AUTH, and
the network process spoke SMTP and TLS, each locked in its own sandbox.
.
A line with a single dot, above, arrives intact.
MSG

echo
echo "== postern -C $conf -t --debug < message"
pf_mark
"$POSTERN" -C "$conf" -t --debug <"$WORK/message" >"$WORK/debug.out" 2>"$WORK/stderr"
rc=$?
sed -n '/^<-- 220/,$p' "$WORK/debug.out" | head -60
cat "$WORK/stderr"
echo "== exit status $rc"
[ $rc = 0 ] || exit 1

rec=$(pf_wait_delivery 30) || { echo "demo: nothing arrived" >&2; exit 1; }
echo
echo "== what arrived at Postfix"
printf '%s\n' "$rec" | /usr/bin/python3 -c '
import base64, json, sys
r = json.loads(sys.stdin.read())
print("   envelope from: %s" % r["sender"])
print("   recipients:    %s" % ", ".join(r["recipients"]))
print("   SASL:          %s as %s" % (r.get("sasl_method"), r.get("sasl_username")))
print("   protocol:      %s" % r.get("client_protocol"))
print("   --- message as delivered ---")
for line in base64.b64decode(r["data_b64"]).decode("utf-8", "replace").splitlines():
    print("   | " + line)
'
echo
echo "== log line ($WORK/postern.log)"
sed 's/^/   /' "$WORK/postern.log"
