# regress/interop/lib.sh - a private Postfix + Dovecot SASL on 127.0.0.1.
# Sourced by bash scripts (it uses bash features).  Needs root, unshare(1)
# and mount(8) (util-linux), dovecot-core, openssl and /usr/bin/python3.
#
#   pf_fetch                unpack the postfix .deb (apt-get download) into
#                           $PF_PKGDIR; status 2 if the .deb cannot be had
#   pf_start DIR            start Postfix and Dovecot (auth only); exports
#                           the PF_* variables below and writes DIR/env
#   pf_stop DIR             stop both, wait until every process is gone,
#                           keep mail/ and log/ in DIR, remove the runtime
#   pf_mark                 remember how many deliveries there are so far
#   pf_wait_delivery [SEC]  wait for the next delivery after the mark and
#                           print its JSON record (one line); status 1 on
#                           timeout (default 20 s)
#   pf_settle [SEC]         wait until the Postfix queue is empty, so every
#                           accepted mail has been delivered (or deferred)
#   pf_count                number of deliveries so far
#
# Exported by pf_start:
#   PF_HOST=127.0.0.1
#   PF_PORT_SMTP        port A: plain SMTP, STARTTLS offered, AUTH only after
#                       STARTTLS, 127.0.0.0/8 may send without AUTH
#   PF_PORT_SMTPS       port B: implicit TLS, AUTH required
#   PF_PORT_SUBMISSION  port C: STARTTLS required, AUTH required
#   PF_CA               the throwaway CA certificate (PEM) that signed the
#                       server certificate (CN=localhost, SAN localhost,
#                       127.0.0.1, ::1)
#   PF_USER=alice PF_PASSWORD=s3cret
#   PF_MECHS            SASL mechanisms offered after TLS
#   PF_DELIVERIES       DIR/mail/deliveries.jsonl (one JSON object per
#                       delivery: n, sender, recipients, sasl_method,
#                       sasl_username, client_protocol, queue_id, size,
#                       sha256, file, data_b64); the bytes are in DIR/mail/
#   PF_MAILLOG          Postfix's log; Dovecot's is DIR/log/dovecot.log
#
# Ports are free ports picked at start unless PF_PORT_SMTP, PF_PORT_SMTPS and
# PF_PORT_SUBMISSION are set.  Everything the unprivileged daemons touch lives
# in a short runtime directory under /tmp (unix socket paths are short and
# every parent is traversable even when DIR is under /root); DIR/rt points to
# it while the daemons run.  Postfix's users exist only inside a private mount
# namespace whose /etc is a read-only overlay with copies of passwd and group
# on top; nothing is installed and no system file is changed.  (Not bind
# mounts of the two files: useradd or userdel on the host, from a test
# running beside this one, renames a new /etc/passwd over the old, and the
# kernel then detaches every mount on that file in every namespace.)

PF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF_PY=/usr/bin/python3
PF_HOSTNAME=pf.postern.test
PF_MECHS="PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256"

pf_log() { echo "# pf: $*" >&2; }

# pf_fetch: sets PF_ROOT to an unpacked postfix .deb.  A previous unpack in
# $PF_PKGDIR (default $WORK/interop/pkg) is reused.
pf_fetch() {
	PF_PKGDIR=${PF_PKGDIR:-${WORK:-/tmp}/interop/pkg}
	PF_ROOT=$PF_PKGDIR/root
	[ -x "$PF_ROOT/usr/lib/postfix/sbin/master" ] && return 0
	mkdir -p "$PF_PKGDIR/deb" || return 1
	rm -rf "$PF_ROOT" "$PF_PKGDIR"/deb/*.deb
	local dl="apt-get -q -o APT::Sandbox::User=root download postfix"
	if ! (cd "$PF_PKGDIR/deb" && $dl) >"$PF_PKGDIR/download.log" 2>&1; then
		# a fresh machine has no package lists yet
		apt-get -q update >>"$PF_PKGDIR/download.log" 2>&1
		(cd "$PF_PKGDIR/deb" && $dl) >>"$PF_PKGDIR/download.log" 2>&1 ||
			return 2
	fi
	local deb
	deb=$(ls "$PF_PKGDIR"/deb/postfix_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || return 2
	dpkg-deb -x "$deb" "$PF_ROOT" || return 1
	dpkg-deb -f "$deb" Version >"$PF_PKGDIR/version"
	[ -x "$PF_ROOT/usr/lib/postfix/sbin/master" ]
}

# pf_free_ports N: print N distinct free TCP ports of 127.0.0.1.
pf_free_ports() {
	"$PF_PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# pf_port_open PORT
pf_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pf_make_certs DIR: ca.crt/key, server.crt/key, server-chain.pem
pf_make_certs() {
	local d=$1
	mkdir -p "$d" && (
		cd "$d" || exit 1
		umask 077
		ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
		openssl req -x509 $ec -keyout ca.key -out ca.crt -days 3 \
		    -subj "/O=postern regress/CN=postern interop test CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req $ec -keyout server.key -out server.csr \
		    -subj "/O=postern regress/CN=localhost" &&
		printf '%s\n' "basicConstraints=CA:FALSE" \
		    "keyUsage=critical,digitalSignature" \
		    "extendedKeyUsage=serverAuth" \
		    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >server.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -set_serial "0x$(openssl rand -hex 8)" -days 2 \
		    -extfile server.ext -out server.crt &&
		openssl verify -CAfile ca.crt server.crt >/dev/null &&
		chmod 644 ca.crt server.crt
	) >"$d/openssl.log" 2>&1
}

# pf_ns_users RT: RT/etc/passwd and group = the system's plus the private
# accounts pstn-pf (mail_owner), pstn-drop (setgid_group), pstn-rec (runs
# the recorder).  Prints "uid-of-pstn-pf gid uid-of-pstn-rec gid".
pf_ns_users() {
	local rt=$1
	mkdir -p "$rt/etc" || return 1
	cp /etc/passwd "$rt/etc/passwd" && cp /etc/group "$rt/etc/group" || return 1
	local ids id=60900 want
	ids=$(cut -d: -f3 /etc/passwd /etc/group | sort -n | uniq)
	for want in 1 2 3; do
		while echo "$ids" | grep -qx "$id"; do id=$((id + 1)); done
		eval "pf_id$want=$id"
		id=$((id + 1))
	done
	# shellcheck disable=SC2154
	{
		echo "pstn-pf:x:$pf_id1:$pf_id1:postern regress postfix:/nonexistent:/usr/sbin/nologin"
		echo "pstn-rec:x:$pf_id3:$pf_id3:postern regress recorder:/nonexistent:/usr/sbin/nologin"
	} >>"$rt/etc/passwd"
	{
		echo "pstn-pf:x:$pf_id1:"
		echo "pstn-drop:x:$pf_id2:"
		echo "pstn-rec:x:$pf_id3:"
	} >>"$rt/etc/group"
	chmod 644 "$rt/etc/passwd" "$rt/etc/group"
	echo "$pf_id1 $pf_id1 $pf_id3 $pf_id3"
}

pf_write_dovecot_conf() {
	local rt=$1
	mkdir -p "$rt/dovecot/state" || return 1
	chmod 755 "$rt/dovecot"
	# {PLAIN} so that CRAM-MD5, DIGEST-MD5 and SCRAM can work too
	echo 'alice:{PLAIN}s3cret' >"$rt/etc/users"
	chmod 644 "$rt/etc/users"
	cat >"$rt/etc/dovecot.conf" <<EOF
# Dovecot as Postfix's SASL server only (postern regress/interop)
base_dir = $rt/dovecot
state_dir = $rt/dovecot/state
instance_name = pstn-$(basename "$rt")
log_path = $rt/log/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = $(echo "$PF_MECHS" | tr A-Z a-z)
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $rt/etc/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
EOF
}

pf_write_postfix_conf() {
	local rt=$1 ca=$2 a=$3 b=$4 c=$5
	local conf=$rt/conf lib=$PF_ROOT/usr/lib/postfix
	mkdir -p "$conf" || return 1
	cp "$PF_ROOT/usr/share/postfix/dynamicmaps.cf" "$conf/" 2>/dev/null
	mkdir -p "$conf/dynamicmaps.cf.d"
	cat >"$conf/main.cf" <<EOF
# private Postfix of postern regress/interop; not /etc/postfix
compatibility_level = 3.6
config_directory = $conf
meta_directory = $conf
queue_directory = $rt/queue
data_directory = $rt/data
command_directory = $PF_ROOT/usr/sbin
daemon_directory = $lib/sbin
shlib_directory = $lib
sendmail_path = $PF_ROOT/usr/sbin/sendmail
mail_owner = pstn-pf
setgid_group = pstn-drop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$lib
maillog_file = $rt/log/maillog
maillog_file_prefixes = $rt/log
syslog_name = pstn-postfix
myhostname = $PF_HOSTNAME
mydomain = postern.test
myorigin = \$myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP postern-regress
biff = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
# every recipient of every domain goes to the recorder; one next hop for all
# of them, so that each mail is one delivery with all its recipients
transport_maps = static:record:all
default_transport = record:all
relay_transport = record:all
local_transport = record:all
virtual_transport = record:all
record_destination_recipient_limit = 10000
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 10000
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_auth_rate_limit = 0
anvil_rate_time_unit = 1s
message_size_limit = 0
mailbox_size_limit = 0
local_header_rewrite_clients =
# TLS on every port; AUTH only over TLS
smtpd_tls_chain_files = $ca/server.key, $ca/server.crt, $ca/ca.crt
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
# SASL: the private Dovecot
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $rt/dovecot/auth-client
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
EOF
	local rec="$PF_PY $rt/bin/recorder $rt/mail"
	rec="$rec sender=\${sender} sasl_method=\${sasl_method}"
	rec="$rec sasl_username=\${sasl_username} client_protocol=\${client_protocol}"
	rec="$rec client_helo=\${client_helo} queue_id=\${queue_id} -- \${recipient}"
	cat >"$conf/master.cf" <<EOF
# private Postfix of postern regress/interop: no chroot
127.0.0.1:$a inet n - n - - smtpd
  -o syslog_name=pstn-postfix/smtp-A
127.0.0.1:$b inet n - n - - smtpd
  -o syslog_name=pstn-postfix/smtps-B
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$c inet n - n - - smtpd
  -o syslog_name=pstn-postfix/submission-C
  -o smtpd_tls_security_level=encrypt
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
record    unix  - n n - - pipe
  flags= user=pstn-rec null_sender= argv=$rec
EOF
	# Postfix waits (in 300 ms steps) for a main.cf modified within the
	# last second to become stable: age the files instead.
	touch -d "@$(( $(date +%s) - 60 ))" "$conf/main.cf" "$conf/master.cf"
}

# pf_queue_dirs RT UID GID: what post-install would create
pf_queue_dirs() {
	local q=$1/queue u=$2 g=$3 drop=$4 d
	mkdir -p "$q" "$1/data" && chmod 755 "$q" || return 1
	for d in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace maildrop public pid; do
		mkdir -p "$q/$d" || return 1
		case $d in
		pid) chmod 755 "$q/$d" ;;
		maildrop) chown "$u:$drop" "$q/$d"; chmod 730 "$q/$d" ;;
		public) chown "$u:$drop" "$q/$d"; chmod 710 "$q/$d" ;;
		*) chown "$u:$g" "$q/$d"; chmod 700 "$q/$d" ;;
		esac
	done
	chown "$u:$g" "$1/data" && chmod 700 "$1/data"
}

# pf_pids RT: pids of the two master processes (postfix, dovecot)
pf_pids() {
	local f p
	for f in "$1/queue/pid/master.pid" "$1/dovecot/master.pid"; do
		p=$(tr -dc 0-9 <"$f" 2>/dev/null)
		[ -n "$p" ] && echo "$p"
	done
}

pf_start() {
	local dir=$1 t0=$SECONDS
	[ -n "$dir" ] || { pf_log "usage: pf_start DIR"; return 1; }
	[ "$(id -u)" = 0 ] || { pf_log "must run as root"; return 1; }
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
	[ -n "${PF_ROOT:-}" ] || pf_fetch || return
	local rt
	rt=$(mktemp -d /tmp/pstn-pf.XXXXXX) || return 1
	chmod 755 "$rt"
	rm -rf "$dir/rt" "$dir/mail" "$dir/log"
	ln -s "$rt" "$dir/rt"
	ln -s "$rt/mail" "$dir/mail"
	ln -s "$rt/log" "$dir/log"
	echo "PF_RT=$rt" >"$dir/state"
	# also kept in the shell: pf_stop must find the daemons even if DIR
	# has been removed under it
	export PF_RT=$rt

	local ports
	if [ -n "${PF_PORT_SMTP:-}" ] && [ -n "${PF_PORT_SMTPS:-}" ] &&
	    [ -n "${PF_PORT_SUBMISSION:-}" ]; then
		ports="$PF_PORT_SMTP $PF_PORT_SMTPS $PF_PORT_SUBMISSION"
	else
		ports=$(pf_free_ports 3) || return 1
	fi
	set -- $ports
	local a=$1 b=$2 c=$3

	mkdir -p "$rt/log" "$rt/mail" "$rt/bin" "$dir/certs" || return 1
	pf_make_certs "$rt/certs" ||
	    { cat "$rt/certs/openssl.log" >&2; pf_log "openssl failed"; return 1; }
	cp "$rt/certs/ca.crt" "$rt/certs/server.crt" "$dir/certs/"
	install -m 755 "$PF_LIB_DIR/recorder" "$rt/bin/recorder" || return 1
	local ids
	ids=$(pf_ns_users "$rt") || return 1
	set -- $ids
	local drop
	drop=$(grep '^pstn-drop:' "$rt/etc/group" | cut -d: -f3)
	pf_queue_dirs "$rt" "$1" "$2" "$drop" || return 1
	chown "$3:$4" "$rt/mail" && chmod 755 "$rt/mail" "$rt/log"
	pf_write_dovecot_conf "$rt" || return 1
	pf_write_postfix_conf "$rt" "$rt/certs" "$a" "$b" "$c" || return 1

	# One private mount + UTS namespace for both daemons: the copies of
	# passwd and group carry Postfix's users; the host name is dotted so
	# neither daemon asks a resolver for its own name.
	local lib=$PF_ROOT/usr/lib/postfix
	if ! unshare --mount --uts --propagation private -- /bin/sh -c '
	    set -e
	    mkdir -p "$1/nsetc"
	    cp -p "$1/etc/passwd" "$1/etc/group" "$1/nsetc/"
	    if ! mount -t overlay -o ro,"lowerdir=$1/nsetc:/etc" pf-etc /etc
	    then
	        mount --bind "$1/etc/passwd" /etc/passwd
	        mount --bind "$1/etc/group" /etc/group
	    fi
	    hostname "$2"
	    /usr/sbin/dovecot -c "$1/etc/dovecot.conf"
	    i=0
	    while [ ! -S "$1/dovecot/auth-client" ]; do
	        i=$((i + 1)); [ $i -lt 1200 ] || { echo "no dovecot auth socket" >&2; exit 1; }
	        sleep 0.05
	    done
	    LD_LIBRARY_PATH=$3 MAIL_CONFIG=$1/conf "$3/sbin/master" -c "$1/conf" -w
	    ' pf-ns "$rt" "$PF_HOSTNAME" "$lib" >"$rt/log/start.log" 2>&1; then
		cat "$rt/log/start.log" >&2
		tail -20 "$rt/log/maillog" "$rt/log/dovecot.log" >&2 2>/dev/null
		pf_log "daemons failed to start (see $dir/log)"
		pf_stop "$dir"
		return 1
	fi
	local p i
	for p in $a $b $c; do
		for i in $(seq 1200); do pf_port_open "$p" && break; sleep 0.05; done
		pf_port_open "$p" || {
			tail -20 "$rt/log/maillog" >&2
			pf_log "port $p does not listen"; pf_stop "$dir"; return 1; }
	done

	export PF_DIR=$dir PF_HOST=127.0.0.1 PF_PORT_SMTP=$a PF_PORT_SMTPS=$b
	export PF_PORT_SUBMISSION=$c PF_CA=$dir/certs/ca.crt PF_USER=alice
	export PF_PASSWORD=s3cret PF_MECHS PF_DELIVERIES=$dir/mail/deliveries.jsonl
	export PF_MAILLOG=$dir/log/maillog PF_QUEUE=$rt/queue
	local v
	: >"$dir/env"
	for v in PF_DIR PF_HOST PF_PORT_SMTP PF_PORT_SMTPS PF_PORT_SUBMISSION \
	    PF_CA PF_USER PF_PASSWORD PF_MECHS PF_DELIVERIES PF_MAILLOG PF_QUEUE; do
		printf '%s=%q\n' "$v" "${!v}" >>"$dir/env"
	done
	PF_MARK=0
	pf_log "started in $((SECONDS - t0)) s: A=$a (smtp) B=$b (smtps) C=$c (submission)"
}

pf_alive() {
	[ -n "${1:-}" ] && [ -e "/proc/$1" ] &&
	    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# pf_tree PID...: the pids and all their descendants
pf_tree() {
	local p c
	for p in "$@"; do
		echo "$p"
		for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do pf_tree "$c"; done
	done
}

pf_stop() {
	local dir=$1 rt
	rt=$(sed -n 's/^PF_RT=//p' "$dir/state" 2>/dev/null)
	[ -n "$rt" ] || rt=${PF_RT:-}
	[ -n "$rt" ] && [ -d "$rt" ] || return 0
	case $rt in /tmp/pstn-pf.*) ;; *) pf_log "bad runtime directory $rt"; return 1 ;; esac
	local tops tree p i alive ok=0
	tops=$(pf_pids "$rt")
	tree=$(pf_tree $tops)
	for p in $tops; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 100); do
		alive=
		for p in $tree; do pf_alive "$p" && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	if [ -n "$alive" ]; then
		for p in $alive; do kill -KILL "$p" 2>/dev/null; done
		sleep 0.2
		for p in $alive; do pf_alive "$p" && { pf_log "pid $p survives"; ok=1; }; done
	fi
	# keep the records and logs in DIR; drop the runtime
	mkdir -p "$dir"
	rm -f "$dir/mail" "$dir/log" "$dir/rt"
	cp -a "$rt/mail" "$dir/mail" 2>/dev/null
	cp -a "$rt/log" "$dir/log" 2>/dev/null
	rm -rf "$rt" "$dir/state"
	[ "${PF_RT:-}" != "$rt" ] || unset PF_RT
	return $ok
}

pf_count() {
	local n
	n=$(grep -c . "${PF_DELIVERIES:?}" 2>/dev/null)
	echo "${n:-0}"
}

pf_mark() { PF_MARK=$(pf_count); }

pf_wait_delivery() {
	local i n=$(( ${1:-20} * 20 )) want=$(( ${PF_MARK:-0} + 1 ))
	for ((i = 0; i < n; i++)); do
		if [ "$(pf_count)" -ge "$want" ]; then
			sed -n "${want}p" "$PF_DELIVERIES"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

pf_settle() {
	local i n=$(( ${1:-20} * 20 ))
	for ((i = 0; i < n; i++)); do
		[ -z "$(find "${PF_QUEUE:?}"/incoming "$PF_QUEUE"/active \
		    "$PF_QUEUE"/maildrop -type f 2>/dev/null | head -1)" ] && return 0
		sleep 0.05
	done
	return 1
}
