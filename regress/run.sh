#!/bin/sh
# Run every test suite and print one summary line; exit 0 only when all
# passed.  usage: run.sh [SUBSTRING]: only the suites whose name holds it.
#
# The suites are listed in SUITES below, one a line: a unit test binary or
# a regress/*/suite script.  Each prints TAP: a plan "1..N" (first or last),
# "ok N - name", "not ok N - name", "ok N - name # SKIP reason".  A suite
# counts as failed, besides its "not ok" lines, when
#   - its program is missing or not executable,
#   - it prints no plan, or its ok and not ok lines differ from the plan,
#   - it prints "Bail out!" or exits with a status other than 0,
#   - it leaves a process running (each suite runs under reap.py, which
#     kills and names what is still there 10 seconds after the suite ends).
# A regress/*/suite or regress/unit/test_*.c missing from SUITES fails too,
# so no suite is forgotten.  At the end no process carrying this run's
# POSTERN_TEST_RUN marker may be alive.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

# BEGIN SUITES
SUITES="
regress/runner/suite
regress/unit/test_addr
regress/unit/test_aliases
regress/unit/test_sasl_client
regress/unit/test_base64
regress/unit/test_blob
regress/unit/test_capture
regress/unit/test_cmdline
regress/unit/test_command
regress/unit/test_config
regress/unit/test_ipc
regress/unit/test_log
regress/unit/test_posternd_proto
regress/unit/test_proto
regress/unit/test_passeval
regress/unit/test_reply
regress/unit/test_rfc5321
regress/unit/test_rfc5322
regress/unit/test_smtp_client
regress/unit/test_smtp_session
regress/unit/test_spool
regress/tls-clients/suite
regress/auth/suite
regress/build/suite
regress/compare/suite
regress/docs/suite
regress/gssapi/suite
regress/interop/suite
regress/package/suite
regress/posternd/suite
regress/queue/suite
regress/queue-postfix/suite
regress/sandbox/suite
regress/scenarios/suite
regress/syscron/suite
regress/sysmode/suite
regress/sysqueue/suite
"
# END SUITES

export POSTERN_TOP="$top"
export POSTERN="${POSTERN:-$top/usr.sbin/postern/postern}"
export POSTERND="${POSTERND:-$top/usr.sbin/posternd/posternd}"
WORK="$top/regress/work"
export WORK
rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
chmod 755 "$WORK"
POSTERN_TEST_RUN="$$.$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export POSTERN_TEST_RUN
PY=/usr/bin/python3

pass=0 fail=0 skip=0
only=${1:-}

# bad NAME WHY: one failure that is no TAP line of the suite
bad() {
	echo "   not ok - $1: $2"
	f=$((f + 1))
}

run_suite() {
	prog=$1
	name=${prog%/suite}
	case "$name" in *"$only"*) ;; *) return ;; esac
	out="$WORK/$(echo "$name" | tr / _).tap"
	echo "== $name"
	f=0
	start=$(date +%s)
	if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then
		: >"$out"; : >"$out.err"; : >"$out.left"
		bad "$name" "$prog is missing or not executable"
		rc=0
	else
		"$PY" "$top/regress/reap.py" "$out.left" "$top/$prog" \
		    </dev/null >"$out" 2>"$out.err"
		rc=$?
	fi
	# ok, not ok, skipped, plan, bail out
	set -- $(awk '
	    /^ok /			{ p++; if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++ }
	    /^not ok /			{ nf++ }
	    /^1\.\.[0-9]+/ && plan == ""	{ plan = substr($1, 4) + 0 }
	    /^Bail out!/		{ bail = 1 }
	    END { print p + 0, nf + 0, s + 0, (plan == "" ? "none" : plan), bail + 0 }
	' "$out")
	p=$1 nf=$2 s=$3 plan=$4 bail=$5
	f=$((f + nf))
	# failures with the diagnostics after them, and skips
	awk '
	    /^(not ok |Bail out!)/	{ print "   " $0; diag = 0; show = 1; next }
	    /^ok .*# *[Ss][Kk][Ii][Pp]/	{ print "   " $0; show = 0; next }
	    /^#/ && show && diag < 25	{ print "     " $0; diag++; next }
	    !/^#/			{ show = 0 }
	' "$out"
	if [ -x "$prog" ]; then
		if [ "$plan" = none ]; then
			bad "$name" "no TAP plan"
		elif [ "$plan" -ne $((p + nf)) ]; then
			bad "$name" "planned $plan tests, ran $((p + nf))"
		fi
		[ "$bail" = 1 ] && bad "$name" "bailed out"
		[ "$rc" -ne 0 ] && bad "$name" "exited with status $rc"
		if [ -s "$out.left" ]; then
			bad "$name" "left processes running (killed):"
			sed 's/^/      /' "$out.left"
		fi
	fi
	if [ "$f" -gt 0 ]; then
		sed 's/^/   | /' "$out.err" | tail -20
	fi
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	echo "   $((p - s)) passed, $f failed, $s skipped ($(($(date +%s) - start)) s)"
}

listed() {
	case "$SUITES" in *"
$1
"*) return 0 ;; esac
	return 1
}

for prog in $SUITES; do
	run_suite "$prog"
done

# Every suite in the tree must be in the list.
for s in regress/*/suite regress/unit/test_*.c; do
	[ -e "$s" ] || continue
	case "$s" in *.c) s=${s%.c} ;; esac
	if ! listed "$s"; then
		echo "   not ok - $s is not in the SUITES list of regress/run.sh"
		fail=$((fail + 1))
	fi
done

# Nothing this run started may still be running.
if ! left=$("$PY" "$top/regress/reap.py" --scan "POSTERN_TEST_RUN=$POSTERN_TEST_RUN"); then
	echo "   not ok - processes of this run are still running:"
	echo "$left" | sed 's/^/      /'
	fail=$((fail + 1))
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
