# regress/sysmode/postfix.sh - sourced by regress/sysmode/suite: the system
# accounts through a real relay, a private Postfix whose SASL is Dovecot's
# (regress/interop/lib.sh), over STARTTLS on its submission port, as the
# test user: PLAIN as the system configuration says, and SCRAM-SHA-256
# where the secrets file names it in place of the configuration's PLAIN.

. "$top/regress/interop/lib.sh"

PFD=$T/postfix
if ! pf_start "$PFD" >"$T/root/pf_start.log" 2>&1; then
	if grep -q "download" "$T/root/pf_start.log" && [ -z "${PF_ROOT:-}" ]
	then
		tap ok "Postfix + Dovecot relay # SKIP postfix .deb not available"
	else
		tap fail "Postfix + Dovecot relay started" "$T/root/pf_start.log"
	fi
	return 0
fi
PIDS_PF=1
tap ok "Postfix + Dovecot relay started"
chmod 755 "$PFD" "$PFD/certs" && chmod 644 "$PF_CA"

cat >>"$T/etc/posternrc" <<EOF2

account pf
host 127.0.0.1
port $PF_PORT_SUBMISSION
from relay@example.org
tls on
tls_starttls on
tls_trust_file $PF_CA
auth plain

account pfscram : pf
EOF2
cat >>"$T/etc/postern/secrets" <<EOF2

account pf
user $PF_USER
password $PF_PASSWORD

account pfscram
user $PF_USER
password $PF_PASSWORD
auth scram-sha-256
EOF2

for acc in pf pfscram; do
	pf_mark
	as -a "$acc" bob@example.net
	: >"$T/root/delivery.json"
	[ $RC = 0 ] && pf_wait_delivery 30 >"$T/root/delivery.json"
	want=PLAIN
	[ $acc = pfscram ] && want=SCRAM-SHA-256
	check "Postfix/Dovecot: system account $acc delivers as $PF_USER \
with $want, the trace names the user (exit $RC)" \
	    '"$PY" -c "import json,sys,base64; d=json.load(open(sys.argv[1]));
m=base64.b64decode(d[\"data_b64\"]).decode(\"latin-1\");
sys.exit(not (d[\"sasl_method\"] == sys.argv[2] and
d[\"sasl_username\"] == sys.argv[3] and
\"(postern, from userid $UID_A $U)\" in m))" "$T/root/delivery.json" \
	    "$want" "$PF_USER"' "$T/out/stderr" "$T/root/delivery.json"
done
pf_stop "$PFD" >/dev/null 2>&1
PIDS_PF=
