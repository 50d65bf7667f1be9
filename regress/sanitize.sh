#!/bin/sh
# make check-sanitize: both programs and the unit tests built with
# AddressSanitizer and UndefinedBehaviorSanitizer (gcc, no recovery) in a
# copy of the tree under build-sanitize/, then the unit, scenario, posternd
# and sandbox suites run against that build.  Any report fails a test.
# usage: sanitize.sh [suite ...]
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
B=$top/build-sanitize
S=$B/src
suites=${*:-unit scenarios posternd sandbox}

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
SAN="$SAN -fno-omit-frame-pointer"
# The sources as they are now, committed or not, without build output.
mkdir -p "$S" || exit 1
list=$B/files
git ls-files -co --exclude-standard | grep -v '^build-' >"$list" || {
	# Not a git checkout: everything but what a build leaves.
	find . -type f ! -path './.git/*' ! -path './build-*' \
	    ! -name '*.o' ! -name '*.a' ! -name '*.d' | sed 's|^\./||' >"$list"
}
tar cf - -T "$list" | (cd "$S" && tar xf -) || exit 1
# A source renamed or removed since the last run takes its copy and what
# was built from it along (run.sh refuses a unit test it does not list).
(cd "$S" && find lib usr.sbin regress -name '*.c' -type f) 2>/dev/null |
    while IFS= read -r f; do
	grep -qxF "$f" "$list" && continue
	rm -f "$S/$f" "$S/${f%.c}" "$S/${f%.c}.o" "$S/${f%.c}.d"
done
echo "== building with $SAN in $S"
# Objects from an earlier run stay: make rebuilds what changed.
if ! make -C "$S" -j2 --no-print-directory CC=gcc CI= \
    CFLAGS="-O1 -g $SAN -DSB_SANITIZER" LDFLAGS="$SAN" all tests \
    >"$B/build.log" 2>&1; then
	tail -30 "$B/build.log"
	echo "check-sanitize: build failed"
	exit 1
fi

# Reports end the program with an error; LSan looks for leaks at exit
# (and, in a sandboxed process, once before lockdown).
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:exitcode=86:detect_stack_use_after_return=0:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87"
export POSTERN="$S/usr.sbin/postern/postern"
export POSTERND="$S/usr.sbin/posternd/posternd"
# The posternd suite builds a test program against the instrumented objects.
export CFLAGS="$SAN -DSB_SANITIZER"

rc=0
total=$B/summary
: >"$total"
for s in $suites; do
	rm -rf "$B/work-$s"
	sh "$S/regress/run.sh" "$s" >"$B/$s.out" 2>&1 || rc=1
	cat "$B/$s.out"
	tail -1 "$B/$s.out" >>"$total"
	# A report in any file the suite left is a failure too, even where
	# no test looked: run.sh empties regress/work for the next suite.
	if grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
	    "$S/regress/work" 2>/dev/null | head -5 | grep .; then
		echo "not ok - $s: sanitizer reports in the files above"
		echo "0 passed, 1 failed" >>"$total"
		cp -r "$S/regress/work" "$B/work-$s"
		rc=1
	fi
done
awk '{ p += $1; f += $3 } END { printf "sanitize: %d passed, %d failed\n", p, f }' "$total"
exit $rc
