#!/bin/sh
# Install the Debian packages a make target needs, when they are missing.
# As root they are installed; otherwise the exact apt-get line is printed.
# usage: deps.sh build|test|bench
set -u

build="gcc make pkg-config libc6-dev libtls-dev libssl-dev libbsd-dev libseccomp-dev libsasl2-dev libsasl2-modules"
test="$build openssl msmtp swaks python3 python3-aiosmtpd mandoc gnome-keyring libsecret-tools dbus-daemon strace dovecot-core libsasl2-2 libicu72 libnsl2 libdb5.3 libssl3 netbase util-linux iproute2 bmake passwd procps"
bench="$test time"

case "${1:-}" in
build)	want=$build ;;
test)	want=$test ;;
bench)	want=$bench ;;
*)	echo "usage: deps.sh build|test|bench" >&2; exit 64 ;;
esac

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
	case "$s" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages; as root, run:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine are empty: fetch them once.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null || exit 1
	apt-get install -y -q --no-install-recommends $missing >/dev/null || exit 1
fi
