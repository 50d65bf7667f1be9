#!/bin/sh
# make check on a busy machine: N runs in a row (default 2), each beside
# stress-ng keeping two CPUs busy.  Prints the summary line of every run;
# exits 0 only when all passed.  usage: regress/load.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 1
n=${1:-2}
sh regress/deps.sh load || exit 1
make --no-print-directory all >/dev/null || exit 1
failed=0
i=0
while [ $i -lt "$n" ]; do
	i=$((i + 1))
	stress-ng --cpu 2 --quiet >/dev/null 2>&1 &
	load=$!
	start=$(date +%s)
	make --no-print-directory check >"regress/load.$i.log" 2>&1
	rc=$?
	kill "$load" 2>/dev/null
	wait "$load" 2>/dev/null
	echo "load run $i of $n: $(tail -1 "regress/load.$i.log"), exit $rc," \
	    "$(($(date +%s) - start)) s (beside stress-ng --cpu 2)"
	[ $rc -eq 0 ] || failed=1
done
exit $failed
