#!/bin/sh
# Run every test suite and print one summary line.
#
# A suite is a unit test binary (regress/unit/test_*) or an executable
# regress/*/suite script.  Each prints TAP: "ok N - name", "not ok N - name",
# "ok N - name # SKIP reason".  A suite that exits non-zero without a failing
# line counts as one failure, so a crash can never pass unnoticed.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export POSTERN_TOP="$top"
export POSTERN="${POSTERN:-$top/usr.sbin/postern/postern}"
export POSTERND="${POSTERND:-$top/usr.sbin/posternd/posternd}"
WORK="$top/regress/work"
export WORK
rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
chmod 755 "$WORK"

pass=0 fail=0 skip=0
only=${1:-}

run_suite() {
	name=$1; shift
	case "$name" in *"$only"*) ;; *) return ;; esac
	out="$WORK/$(echo "$name" | tr / _).tap"
	echo "== $name"
	"$@" >"$out" 2>"$out.err"
	rc=$?
	p=$(grep -c '^ok ' "$out" | tr -d ' ')
	s=$(grep -c '^ok .*# SKIP' "$out" | tr -d ' ')
	f=$(grep -c '^not ok ' "$out" | tr -d ' ')
	grep -E '^(not ok |ok .*# SKIP)' "$out" | sed 's/^/   /'
	if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
		sed 's/^/   | /' "$out.err" | tail -20
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   not ok - $name exited with status $rc"
		f=1
	fi
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	echo "   $((p - s)) passed, $f failed, $s skipped"
}

for t in regress/unit/test_*; do
	case "$t" in *.c|*.o|*.d) continue ;; esac
	[ -x "$t" ] && run_suite "$t" "$t"
done
for s in regress/*/suite; do
	[ -x "$s" ] && run_suite "${s%/suite}" "$s"
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
