# regress/auth/postfix.sh - sourced by regress/auth/suite: every SASL
# mechanism Dovecot offers, through a private Postfix (regress/interop/
# lib.sh), named and chosen automatically; --serverinfo beside msmtp's.

. "$top/regress/interop/lib.sh"

# Dovecot also offers OAUTHBEARER and XOAUTH2 here, checking an HS256 JWT
# locally (no network): a second passdb after lib.sh's passwd-file one.
PF_MECHS="$PF_MECHS OAUTHBEARER XOAUTH2"
eval "pf_auth_$(declare -f pf_write_dovecot_conf)"
pf_write_dovecot_conf() {
	pf_auth_pf_write_dovecot_conf "$@" || return
	mkdir -p "$1/oauth" && chmod 755 "$1/oauth" || return
	"$PY" "$here/oauth.py" "$1/oauth/keys" alice >"$1/oauth/token" || return
	chmod 644 "$1/oauth/token"
	printf '%s\n' "introspection_mode = local" \
	    "local_validation_key_dict = fs:posix:prefix=$1/oauth/keys/" \
	    "username_attribute = sub" >"$1/oauth/dovecot-oauth2.conf.ext"
	chmod 644 "$1/oauth/dovecot-oauth2.conf.ext"
	printf '%s\n' "passdb {" "  driver = oauth2" \
	    "  mechanisms = xoauth2 oauthbearer" \
	    "  args = $1/oauth/dovecot-oauth2.conf.ext" "}" \
	    >>"$1/etc/dovecot.conf"
}

PFD=$T/postfix
if ! pf_start "$PFD" >"$T/pf_start.log" 2>&1; then
	if grep -q "download" "$T/pf_start.log" && [ -z "${PF_ROOT:-}" ]; then
		skip "Postfix + Dovecot mechanisms" "postfix .deb not available"
	else
		tap fail "Postfix + Dovecot start" "$T/pf_start.log"
	fi
	return 0 2>/dev/null || exit 1
fi
trap 'pf_stop "$PFD" >/dev/null 2>&1' EXIT
tap ok "Postfix + Dovecot started (mechanisms: $PF_MECHS)"

# pfsend NAME PORT TLSMODE AUTH [extra config lines]: send, wait for the
# delivery, leave its JSON in $D/delivery.json
pfsend() {
	local name=$1 port=$2 tls=$3 auth=$4
	shift 4
	D=$T/pf-$name
	mkdir -p "$D"
	{
		echo "account default"
		echo "host 127.0.0.1"
		echo "port $port"
		echo "from alice@example.org"
		echo "logfile $D/log"
		echo "tls on"
		echo "tls_starttls $tls"
		echo "tls_trust_file $PF_CA"
		echo "auth $auth"
		echo "user $PF_USER"
		printf '%s\n' "$@"
	} >"$D/config"
	chmod 600 "$D/config"
	pf_mark
	printf '%s\n' "$MSG" | timeout 90 "$POSTERN" -C "$D/config" \
	    bob@example.net >"$D/stdout" 2>"$D/stderr"
	RC=$?
	: >"$D/delivery.json"
	[ $RC = 0 ] && pf_wait_delivery 20 >"$D/delivery.json"
	echo '{"transcript": []}' >"$D/record.json"
}

delivered_as() {	# delivered_as MECH: python check of $D/delivery.json
	echo "json.load(open(d + '/delivery.json'))['sasl_method'] == '$1'"
}

TOKEN_FILE=$PFD/rt/oauth/token
for m in $PF_MECHS; do
	case $m in
	*OAUTH*) cred="passwordeval cat $TOKEN_FILE" ;;
	*) cred="password $PF_PASSWORD" ;;
	esac
	pfsend "named-$m" "$PF_PORT_SUBMISSION" on "${m,,}" "$cred"
	expect "Postfix/Dovecot: auth ${m,,} over STARTTLS delivers" "rc == 0" \
	    "__import__('json').load(open(d + '/delivery.json'))['sasl_method'] == '$m'" \
	    "__import__('json').load(open(d + '/delivery.json'))['sasl_username'] == 'alice'"
done

pfsend auto-starttls "$PF_PORT_SUBMISSION" on on "passwordeval echo $PF_PASSWORD"
expect "Postfix/Dovecot: auth on over STARTTLS chooses SCRAM-SHA-256" \
    "rc == 0" \
    "__import__('json').load(open(d + '/delivery.json'))['sasl_method'] == 'SCRAM-SHA-256'"

pfsend auto-smtps "$PF_PORT_SMTPS" off on "password $PF_PASSWORD"
expect "Postfix/Dovecot: auth on over implicit TLS chooses SCRAM-SHA-256" \
    "rc == 0" \
    "__import__('json').load(open(d + '/delivery.json'))['sasl_method'] == 'SCRAM-SHA-256'"


pfsend wrong "$PF_PORT_SUBMISSION" on scram-sha-256 "password wrong"
expect "Postfix/Dovecot: a wrong password fails with exit 77" "rc == 77" \
    "'authentication failed (method SCRAM-SHA-256)' in err"

# DIGEST-MD5 only exists here: trace what the network process receives.
if command -v strace >/dev/null; then
	for m in DIGEST-MD5 SCRAM-SHA-1; do
		D=$T/pf-nsees-$m
		mkdir -p "$D"
		printf '%s\n' "account default" "host 127.0.0.1" \
		    "port $PF_PORT_SUBMISSION" "from alice@example.org" \
		    "tls on" "tls_trust_file $PF_CA" "auth ${m,,}" \
		    "user $PF_USER" "password $PF_PASSWORD" >"$D/config"
		chmod 600 "$D/config"
		rm -f "$D"/strace.*
		printf '%s\n' "$MSG" | timeout 90 strace -ff -qq -s 100000 -xx -y \
		    -e trace=execve,execveat,recvmsg,read -o "$D/strace" \
		    "$POSTERN" -C "$D/config" bob@example.net >"$D/stdout" \
		    2>"$D/stderr"
		RC=$?
		expect "Postfix/Dovecot $m: the network process never receives the password" \
		    "rc == 0" "not network_saw(d + '/strace', '$PF_PASSWORD')"
	done
fi

# --serverinfo, postern beside msmtp: identical except the line that
# describes the TLS session, which is GnuTLS's own wording in msmtp and
# libtls's (version, cipher, bits) in postern.
si() {	# si NAME ARGS...
	local name=$1
	shift
	D=$T/pf-serverinfo-$name
	mkdir -p "$D"
	timeout 60 "$POSTERN" --serverinfo --host=127.0.0.1 "$@" \
	    >"$D/postern.out" 2>"$D/postern.err"
	echo $? >>"$D/postern.out"
	timeout 60 msmtp --serverinfo --host=127.0.0.1 "$@" \
	    >"$D/msmtp.out" 2>"$D/msmtp.err"
	echo $? >>"$D/msmtp.out"
	sed -i '/^TLS session parameters:$/{n;s/.*/    (session)/;}' \
	    "$D/msmtp.out" "$D/postern.out"
	if diff -u "$D/msmtp.out" "$D/postern.out" >"$D/diff"; then
		tap ok "--serverinfo $name: same output as msmtp"
	else
		tap fail "--serverinfo $name: same output as msmtp" "$D/diff"
	fi
}
si plain --port="$PF_PORT_SMTP"
si starttls --port="$PF_PORT_SUBMISSION" --tls=on --tls-starttls=on \
    --tls-trust-file="$PF_CA"
si smtps --port="$PF_PORT_SMTPS" --tls=on --tls-starttls=off \
    --tls-trust-file="$PF_CA"

# --rmqs (ETRN), postern beside msmtp, with and without authentication.
rq() {	# rq NAME ARGS...
	local name=$1
	shift
	D=$T/pf-rmqs-$name
	mkdir -p "$D"
	timeout 60 "$POSTERN" --host=127.0.0.1 "$@" >"$D/postern.out" 2>&1
	echo "exit $?" >>"$D/postern.out"
	timeout 60 msmtp --host=127.0.0.1 "$@" >"$D/msmtp.out" 2>&1
	echo "exit $?" >>"$D/msmtp.out"
	sed -i 's/^postern:/msmtp:/' "$D/postern.out"
	# A 4xx reply is EX_TEMPFAIL in postern (smtp_client.h), 69 in msmtp.
	if grep -q '^msmtp: server message: 4' "$D/msmtp.out" &&
	    grep -qx 'exit 69' "$D/msmtp.out"; then
		sed -i 's/^exit 75$/exit 69/' "$D/postern.out"
	fi
	if diff -u "$D/msmtp.out" "$D/postern.out" >"$D/diff"; then
		tap ok "--rmqs $name: same output and exit code as msmtp"
	else
		tap fail "--rmqs $name: same output and exit code as msmtp" "$D/diff"
	fi
}
rq domain --port="$PF_PORT_SMTP" --rmqs=@example.org
rq host --port="$PF_PORT_SMTP" --rmqs=example.org
rq auth --port="$PF_PORT_SUBMISSION" --tls=on --tls-trust-file="$PF_CA" \
    --auth=scram-sha-256 --user=alice --passwordeval="echo $PF_PASSWORD" \
    --rmqs=@example.org

# Last: after a rejected token Dovecot 2.3's auth process may stall
# other lookups for a while.
for m in XOAUTH2 OAUTHBEARER; do
	pfsend "forged-$m" "$PF_PORT_SUBMISSION" on "${m,,}" \
	    "passwordeval sed s/\$/x/ $TOKEN_FILE"
	expect "Postfix/Dovecot: $m with a forged token fails with exit 77" \
	    "rc == 77" "'authentication failed (method $m)' in err"
done

trap - EXIT
if pf_stop "$PFD" >"$T/pf_stop.log" 2>&1; then
	tap ok "Postfix + Dovecot stopped"
else
	tap fail "Postfix + Dovecot stopped" "$T/pf_stop.log"
fi
