#!/bin/bash
# End-to-end: nfhunt reads the real capture files of other projects
# exactly as nfdump 1.7.1 does, and survives the corrupt one.
#
# For every nfcapd file (magic 0xA50C) in $NFH_SHARED_DATA:
#   * if nfdump reads it: compare.py, nfdump -o json vs nfhunt --dump;
#   * if nfdump rejects it (chrispassas-nfcapd-corrupt): nfhunt must exit
#     non-zero but not crash (status < 128), within the timeout, with
#     exactly one error line on stderr that names the file.
# With the corrupt file and a good one (chrispassas-nfcapd.sample):
#   * -r corrupt -r good, -r good -r corrupt, and -R on a directory with
#     both: the good file's flows are still dumped, identical to nfhunt's
#     and nfdump's output for the good file alone, and the one error line
#     names the corrupt file only.
# And damaged copies of the good file (empty, header only, cut in its
# data block or in its appendix): no crash, no hang, one error line
# naming the copy, and the flows nfdump still reads from it.
# Last line: "N passed, N failed".  Exit 0 if all passed, 77 if the data
# directory or nfdump is missing, 99 if nfhunt is not built.
#
# Environment: NFH_SHARED_DATA (default $NFH_TOP_SRCDIR/../shared/data),
# NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR, SYS_PYTHON3; NFH_E2E_KEEP=1 keeps
# the temp dir.

set -u

e2e_timeout=60
. "$(dirname "$0")/e2e_lib.sh"
data=${NFH_SHARED_DATA:-$top_srcdir/../shared/data}

if [ ! -d "$data" ]; then
	echo "SKIP: no shared data directory $data"
	exit 77
fi
if ! command -v nfdump >/dev/null 2>&1; then
	echo "SKIP: nfdump not installed"
	exit 77
fi
if [ ! -x "$nfhunt" ]; then
	echo "ERROR: $nfhunt not built"
	exit 99
fi
NFDUMP=$(command -v nfdump)

e2e_tmpdir shared

is_nfcapd() {
	[ "$(od -An -tx1 -N2 "$1" 2>/dev/null | tr -d ' ')" = 0ca5 ]
}

# run_nfhunt OUT_PREFIX ARGS... -> OUT.csv, OUT.err, sets hrc
run_nfhunt() {
	local out=$1
	shift
	timeout -s KILL "$tmo" "$nfhunt" --dump "$@" >"$out.csv" 2>"$out.err"
	hrc=$?
}

# check_error LABEL RC ERRFILE NAME [NOT_NAME]: the failure contract.
check_error() {
	local label=$1 rc=$2 err=$3 name=$4 not=${5:-} lines why=""
	lines=$(grep -c '' "$err")
	if [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then
		why="killed after ${tmo}s (hang?)"
	elif [ "$rc" -ge 128 ]; then
		why="crashed: exit status $rc (signal $((rc - 128)))"
	elif [ "$rc" -eq 0 ]; then
		why="exit status 0 although a file is unreadable"
	elif [ "$lines" -ne 1 ]; then
		why="$lines lines on stderr, want exactly 1"
	elif ! grep -qF -- "$name" "$err"; then
		why="the error line does not name $name"
	elif [ -n "$not" ] && grep -qF -- "$not" "$err"; then
		why="the error line names the good file $not too"
	fi
	if [ -z "$why" ]; then
		pass "$label: exit $rc, one error line: $(head -c 160 "$err")"
	else
		fail "$label: $why"
		sed 's/^/    stderr: /' "$err" | head -5
	fi
}

# rows FILE: the CSV without its header line
rows() { tail -n +2 "$1"; }

good=""
corrupt=""
readable=""
for f in "$data"/*; do
	[ -f "$f" ] || continue
	is_nfcapd "$f" || continue
	base=$(basename "$f")
	TZ=UTC timeout "$tmo" "$NFDUMP" -r "$f" -o json >"$tmp/$base.nfdump.json" \
		2>"$tmp/$base.nfdump.err"
	nrc=$?
	if [ $nrc -eq 0 ]; then
		readable="$readable $f"
		out=$(timeout 600 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
			--nfhunt "$nfhunt" --timeout "$tmo" --save-dir "$tmp" \
			--name "$base" "$f" 2>&1)
		rc=$?
		echo "$out" | sed '$!s/^/    /'
		if [ $rc -eq 0 ]; then
			pass "$base"
		else
			fail "$base"
		fi
		case $base in
		chrispassas-nfcapd.sample) good=$f ;;
		esac
		[ -n "$good" ] || good=$f
	else
		# nfdump rejects it: nfhunt must fail cleanly.
		echo "$base: nfdump rejects it: $(grep -m1 . "$tmp/$base.nfdump.err")"
		run_nfhunt "$tmp/$base" -r "$f"
		check_error "$base" "$hrc" "$tmp/$base.err" "$f"
		if head -1 "$tmp/$base.csv" | grep -q '^first_ms,'; then
			pass "$base: CSV header on stdout, $(rows "$tmp/$base.csv" | wc -l) flows"
		else
			fail "$base: stdout does not start with the CSV header"
		fi
		[ -n "$corrupt" ] || corrupt=$f
	fi
done

if [ -z "$good" ]; then
	echo "no readable capture file in $data"
	fail "shared data: nothing to compare"
fi

if [ -n "$corrupt" ] && [ -n "$good" ]; then
	cb=$(basename "$corrupt")
	gb=$(basename "$good")
	run_nfhunt "$tmp/alone-good" -r "$good"
	run_nfhunt "$tmp/alone-corrupt" -r "$corrupt"
	ncorrupt=$(rows "$tmp/alone-corrupt.csv" | wc -l)

	# expect_rows LABEL OUT FIRST SECOND: rows(OUT) == rows(FIRST) + rows(SECOND)
	expect_rows() {
		local label=$1 out=$2 a=$3 b=$4
		if { rows "$a"; rows "$b"; } | cmp -s - <(rows "$out"); then
			pass "$label: $(rows "$out" | wc -l) flows, the good file's all there"
		else
			fail "$label: dumped flows differ from the files read alone" \
				"($(rows "$out" | wc -l) rows, want $(rows "$a" | wc -l)+$(rows "$b" | wc -l))"
		fi
	}

	run_nfhunt "$tmp/cg" -r "$corrupt" -r "$good"
	check_error "-r $cb -r $gb" "$hrc" "$tmp/cg.err" "$corrupt" "$good"
	expect_rows "-r $cb -r $gb" "$tmp/cg.csv" "$tmp/alone-corrupt.csv" \
		"$tmp/alone-good.csv"
	# The good part must also be what nfdump sees in the good file.
	{ head -1 "$tmp/cg.csv"; rows "$tmp/cg.csv" | tail -n +$((ncorrupt + 1)); } \
		>"$tmp/cg.goodpart.csv"
	out=$("$py" "$e2e/compare.py" --nfdump-json "$tmp/$gb.nfdump.json" \
		--csv "$tmp/cg.goodpart.csv" --name "-r $cb -r $gb: $gb part" 2>&1)
	rc=$?
	echo "$out" | sed '$!s/^/    /'
	if [ $rc -eq 0 ]; then
		pass "-r $cb -r $gb: $gb part vs nfdump"
	else
		fail "-r $cb -r $gb: $gb part vs nfdump"
	fi

	run_nfhunt "$tmp/gc" -r "$good" -r "$corrupt"
	check_error "-r $gb -r $cb" "$hrc" "$tmp/gc.err" "$corrupt" "$good"
	expect_rows "-r $gb -r $cb" "$tmp/gc.csv" "$tmp/alone-good.csv" \
		"$tmp/alone-corrupt.csv"

	# -R: the corrupt file sorts first; nfdump itself stops there.
	rdir=$tmp/rdir
	mkdir -p "$rdir"
	cp "$corrupt" "$rdir/nfcapd.202401010000"
	cp "$good" "$rdir/nfcapd.202401010005"
	run_nfhunt "$tmp/R" -R "$rdir"
	check_error "-R {corrupt,good}" "$hrc" "$tmp/R.err" \
		"nfcapd.202401010000" "nfcapd.202401010005"
	expect_rows "-R {corrupt,good}" "$tmp/R.csv" "$tmp/alone-corrupt.csv" \
		"$tmp/alone-good.csv"
fi

# Damaged copies of the good file: no crash, no hang; an error is one
# line naming the copy; and whatever flows nfdump still reads (it reads
# every data block when only the appendix is cut), nfhunt must dump too.
if [ -n "$good" ]; then
	size=$(stat -c %s "$good")
	for cut in 0 40 300 $((size / 2)) $((size - 100)) $((size - 1)); do
		if [ "$cut" -lt 0 ] || [ "$cut" -ge "$size" ]; then
			continue
		fi
		d=$tmp/damaged.$cut
		label="$(basename "$good") cut to $cut bytes"
		head -c "$cut" "$good" >"$d"
		run_nfhunt "$tmp/damaged-$cut" -r "$d"
		if [ "$hrc" -ne 0 ]; then
			check_error "$label" "$hrc" "$tmp/damaged-$cut.err" "$d"
		else
			pass "$label: exit 0"
		fi
		TZ=UTC timeout "$tmo" "$NFDUMP" -r "$d" -o json \
			>"$tmp/damaged-$cut.json" 2>/dev/null
		n=$(grep -c '"type" :' "$tmp/damaged-$cut.json")
		if [ "$n" -gt 0 ] || [ "$hrc" -eq 0 ]; then
			out=$("$py" "$e2e/compare.py" --nfdump-json "$tmp/damaged-$cut.json" \
				--csv "$tmp/damaged-$cut.csv" --name "$label" 2>&1)
			rc=$?
			echo "$out" | sed '$!s/^/    /'
			if [ $rc -eq 0 ]; then
				pass "$label: same flows as nfdump ($n)"
			else
				fail "$label: nfdump still reads $n flows, nfhunt differs"
			fi
		fi
	done
fi

# Exporter statistics (ExporterStat records): nfhunt --count -v prints,
# per exporter, what nfdump -E prints: flows, export packets, sequence
# failures and the exporter's address, for every file nfdump reads.
. "$e2e/exporter_stats.sh"
for f in $readable; do
	base=$(basename "$f")
	want=$(stats_nfdump "$NFDUMP" "$f")
	got=$(stats_nfhunt "$nfhunt" "$f")
	if [ "$want" = "$got" ]; then
		pass "$base: exporter statistics as nfdump -E: $(echo "$got" | tr '\n' ';')"
	else
		fail "$base: exporter statistics differ from nfdump -E"
		echo "    nfdump -E: $want"
		echo "    nfhunt -v: $got"
	fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
