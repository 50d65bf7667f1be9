#!/bin/sh
# Make a throwaway PKI for the scenario server in DIR (default $WORK/pki).
#
#   ca.crt ca.key               the test CA that configurations trust
#   server.crt server.key       CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   wronghost.crt .key          signed by the CA for wrong.example.invalid only
#   expired.crt .key            like server but valid 2020-01-01 .. 2020-01-02
#   selfsigned.crt .key         localhost, signed by itself
#   other-ca.crt                an unrelated CA
#   fingerprints                "NAME SHA256 SHA1 MD5" per certificate
#
# Keys are P-256 so that generation is quick.  Everything is made fresh
# on every run and is worthless outside it.
set -eu
umask 077
D=${1:-${WORK:?}/pki}
mkdir -p "$D"
cd "$D"
command -v openssl >/dev/null || { echo "pki.sh: openssl not found" >&2; exit 1; }

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 30 \
    -subj "/O=postern regress/CN=postern regress CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null

key other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days 30 \
    -subj "/O=postern regress/CN=unrelated CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out other-ca.crt 2>/dev/null

# openssl ca, unlike x509 -req, accepts a validity period in the past.
mkdir -p ca.db/new
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.cnf <<CNF
[ ca ]
default_ca = regress
[ regress ]
dir = $D/ca.db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = $D/ca.crt
private_key = $D/ca.key
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
[ server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[ wrong ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example.invalid
CNF

sign() { # name cn section [start end]
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/O=postern regress/CN=$2" \
	    -out "$1.csr" 2>/dev/null
	if [ $# -gt 3 ]; then
		dates="-startdate $4 -enddate $5"
	else
		dates="-days 30"
	fi
	# shellcheck disable=SC2086
	openssl ca -batch -notext -config ca.cnf -extensions "$3" $dates \
	    -in "$1.csr" -out "$1.crt" >"$1.log" 2>&1 || { cat "$1.log" >&2; exit 1; }
}
sign server localhost server
sign wronghost wrong.example.invalid wrong
sign expired localhost server 20200101000000Z 20200102000000Z

key selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days 30 \
    -subj "/O=postern regress/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -out selfsigned.crt 2>/dev/null

for c in ca server wronghost expired selfsigned other-ca; do
	printf '%s' "$c"
	for h in sha256 sha1 md5; do
		printf ' %s' "$(openssl x509 -in "$c.crt" -noout -fingerprint -$h | cut -d= -f2)"
	done
	echo
done >fingerprints
chmod 644 ./*.crt fingerprints

# Refuse to run the suite on a PKI that does not say what the cases assume.
v() { openssl verify -CAfile ca.crt "$@" 2>&1; }
v -purpose sslserver -verify_hostname localhost server.crt >/dev/null
v -purpose sslserver -verify_ip 127.0.0.1 server.crt >/dev/null
case $(v -verify_hostname localhost expired.crt) in
*"has expired"*) ;; *) echo "pki.sh: expired.crt is not expired" >&2; exit 1 ;;
esac
case $(v -verify_hostname localhost wronghost.crt) in
*"mismatch"*) ;; *) echo "pki.sh: wronghost.crt matches localhost" >&2; exit 1 ;;
esac
if v selfsigned.crt >/dev/null; then
	echo "pki.sh: selfsigned.crt is trusted by the CA" >&2; exit 1
fi
if openssl verify -CAfile other-ca.crt server.crt >/dev/null 2>&1; then
	echo "pki.sh: other-ca.crt trusts server.crt" >&2; exit 1
fi
