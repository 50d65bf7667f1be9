#!/bin/sh
# Install the Debian packages a make target needs, when they are missing.
# As root they are installed; otherwise the exact apt-get line is printed.
# usage: deps.sh build|test|bench|load|fuzz|sanitize
#
# Recommends are not installed, so a package a test relies on that is only a
# Recommends of another (libnet-ssleay-perl for swaks to speak TLS) is named
# here itself.
set -u

build="gcc make pkg-config libc6-dev libtls-dev libssl-dev libbsd-dev libseccomp-dev libsasl2-dev libsasl2-modules"
test="$build openssl msmtp swaks python3 python3-aiosmtpd mandoc gnome-keyring libsecret-tools dbus-daemon strace dovecot-core libsasl2-2 libicu72 libnsl2 libdb5.3 libssl3 netbase util-linux iproute2 bmake libnet-ssleay-perl procps passwd ca-certificates krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit python3-gssapi cron"
# regress/package: build, check, install and use the Debian packages.
package="dpkg-dev debhelper lintian fakeroot build-essential adduser systemd python3-aiosmtpd"
test="$test $package"
bench="$test time"
load="$test stress-ng"
fuzz="$build clang libclang-rt-14-dev llvm"
sanitize="$test libgcc-12-dev"

case "${1:-}" in
build)	want=$build ;;
test)	want=$test ;;
bench)	want=$bench ;;
load)	want=$load ;;
fuzz)	want=$fuzz ;;
sanitize) want=$sanitize ;;
*)	echo "usage: deps.sh build|test|bench|load|fuzz|sanitize" >&2; exit 64 ;;
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
# Another apt-get may hold the lock: wait for it rather than fail.
lock="-o DPkg::Lock::Timeout=600"
if ! apt-get install -y -q --no-install-recommends $lock $missing >/dev/null 2>&1; then
	apt-get update -q $lock >/dev/null || exit 1
	apt-get install -y -q --no-install-recommends $lock $missing >/dev/null || exit 1
fi
