#!/bin/sh
# fresh-root.sh [COMMAND]: run COMMAND (default: make check) on the committed
# HEAD of this repository inside a fresh Debian 12 root, as a newcomer's
# machine would see it: debootstrap's minimal base plus make and git, nothing
# else, the clone in /root/project (a directory other users cannot enter),
# CI=true.  The root runs in private mount and PID namespaces; when COMMAND
# ends, anything it left running is listed, killed, and the run fails.
#
# The base root is built once from the Debian mirror this machine is
# configured with and cached in $POSTERN_CI_CACHE (default
# /var/cache/postern-ci), and so are the packages a run downloads (but
# never installed in advance); FRESH_REBUILD=1 builds the base again.  Needs root,
# debootstrap and unshare (util-linux).
set -u
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-root: run it as root" >&2; exit 2; }
cmd=${*:-make check}
suite=bookworm
cache=${POSTERN_CI_CACHE:-/var/cache/postern-ci}
base="$cache/$suite-minbase-make-git.tar.gz"

mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { u = $2 } /^Suites:/ && /(^|[ \t])'$suite'([ \t]|$)/ { print u; exit }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $3 == "'$suite'" { print $2; exit }' "$f"
	done
	echo http://deb.debian.org/debian
}

if [ ! -f "$base" ] || [ -n "${FRESH_REBUILD:-}" ]; then
	if ! command -v debootstrap >/dev/null; then
		apt-get install -y -q --no-install-recommends \
		    -o DPkg::Lock::Timeout=600 debootstrap >/dev/null || exit 2
	fi
	m=$(mirror | head -1)
	mkdir -p "$cache" || exit 2
	b=$(mktemp -d /var/tmp/postern-ci-base.XXXXXX) || exit 2
	echo "fresh-root: building the $suite base root from $m (once)"
	if ! debootstrap --variant=minbase --include=make,git "$suite" "$b" "$m" \
	    >"$b.log" 2>&1; then
		tail -5 "$b.log"; rm -rf --one-file-system "$b" "$b.log"; exit 2
	fi
	rm -f "$b/etc/apt/sources.list"
	printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	    "$m" "$suite" "$suite" >"$b/etc/apt/sources.list.d/debian.sources"
	rm -rf "$b/var/cache/apt/archives/"*.deb "$b/var/lib/apt/lists/"* 2>/dev/null
	tar -C "$b" -czf "$base.tmp" . && mv "$base.tmp" "$base" || exit 2
	rm -rf --one-file-system "$b" "$b.log"
fi

root=$(mktemp -d /var/tmp/postern-ci.XXXXXX) || exit 2
tar -C "$root" -xzf "$base" || exit 2
chmod 755 "$root"
chmod 700 "$root/root"
git clone -q "$top" "$root/root/project" || exit 2
chmod 700 "$root/root/project"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
# what the Debian installer writes; debootstrap leaves it out
[ -f "$root/etc/hosts" ] ||
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$root/etc/hosts"
echo "fresh-root: $(git -C "$top" log -1 --format='%h %s' | cut -c1-70)"
echo "fresh-root: running '$cmd' in a fresh Debian 12 root"

# PID 1 of the new namespace: runs the command, then lists what is still
# alive besides itself and the zombies nobody reaped; when it exits, the
# kernel kills the rest of the namespace.
cat >"$root/.fresh-init" <<'INIT'
#!/bin/sh
cd /root/project || exit 2
CI=true HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    sh -c "$1" </dev/null
rc=$?
left=0
for p in /proc/[0-9]*; do
	pid=${p#/proc/}
	[ "$pid" = 1 ] && continue
	[ "$pid" = "$$" ] && continue
	st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$p/status" 2>/dev/null)
	case "$st" in ""|Z) continue ;; esac
	cl=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-100)
	[ -z "$cl" ] && continue
	echo "fresh-root: left running: $pid $cl"
	left=1
done
echo "fresh-root: exit status $rc"
[ $left -eq 0 ] || { echo "fresh-root: FAILED: processes were left running"; exit 3; }
exit $rc
INIT
chmod 755 "$root/.fresh-init"

# Downloaded packages are kept between runs (nothing is installed from
# them but what the run itself installs): a second run downloads less.
# They are copied, not shared, so that runs side by side never wait for
# each other's apt lock.
mkdir -p "$cache/archives" || exit 2
for f in "$cache"/archives/*.deb; do
	[ -f "$f" ] && cp "$f" "$root/var/cache/apt/archives/"
done
unshare --mount --propagation private --pid --fork sh -c '
	r=$1; shift
	mount --bind "$r" "$r" && mount --make-private "$r" &&
	mount -t proc proc "$r/proc" &&
	mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" &&
	mount -t tmpfs -o mode=1777 tmpfs "$r/tmp" &&
	mkdir -p "$r/.old" && cd "$r" && pivot_root . .old && cd / &&
	umount -l /.old && rmdir /.old || exit 2
	exec /.fresh-init "$1"
' sh "$root" "$cmd"
rc=$?
for f in "$root"/var/cache/apt/archives/*.deb; do
	[ -f "$f" ] && [ ! -f "$cache/archives/${f##*/}" ] || continue
	cp "$f" "$cache/archives/.${f##*/}.$$" &&
	    mv "$cache/archives/.${f##*/}.$$" "$cache/archives/${f##*/}"
done
if [ -n "${FRESH_KEEP:-}" ]; then
	echo "fresh-root: root kept in $root"
else
	rm -rf --one-file-system "$root"
fi
exit $rc
