#!/bin/bash
# End-to-end: the full hunt, every detector, over a flow directory of
# broken and strange capture files: the reader's fuzz corpus (cut,
# flipped and grown files that libFuzzer kept for new coverage), each
# under an nfcapd name in 5-minute steps, beside one good file.
#
# The contract for bad input, checked on that directory:
#   * no crash and no hang: exit status 0, 1 or 2, within the timeout;
#   * each complaint is one line that names the file it is about (one
#     line per file at most), or a detector speaking about the run;
#   * the run goes on: the good file's flows are counted, and the report
#     on stdout is NDJSON, one finding per line, every line an object with
#     id, type, severity and score; no finding is refused for its evidence
#     (huge counters from corrupt files included);
#   * a second run with state over the same directory behaves the same,
#     and leaves a state that a third run opens (it skips the files the
#     second analysed, in one line, and tries the bad ones again).
# Last line: "N passed, N failed". Exit 0 if all passed, 99 if nfhunt is
# not built or the corpus is missing.
#
# Environment: NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR, SYS_PYTHON3;
# NFH_E2E_KEEP=1 keeps the temp dir.

set -u

e2e_timeout=300
. "$(dirname "$0")/e2e_lib.sh"
corpus=$top_srcdir/tests/fuzz/corpus

if [ ! -x "$nfhunt" ] || [ ! -x "$writefile" ]; then
	echo "ERROR: $nfhunt or $writefile not built"
	exit 99
fi
if [ ! -d "$corpus" ]; then
	echo "ERROR: no fuzz corpus in $corpus"
	exit 99
fi

e2e_tmpdir corrupt

# The directory: the corpus files from 2024-01-01 00:00 UTC on, then the
# good file in the slot after them.
flows=$tmp/flows
mkdir -p "$flows"
t=1704067200
n=0
for f in "$corpus"/*; do
	[ -f "$f" ] || continue
	cp "$f" "$flows/nfcapd.$(date -u -d "@$t" +%Y%m%d%H%M)"
	t=$((t + 300))
	n=$((n + 1))
done
good=$flows/nfcapd.$(date -u -d "@$t" +%Y%m%d%H%M)
if ! "$writefile" -n 5000 -c lz4 -s 11 "$good" >/dev/null 2>"$tmp/w.err"; then
	echo "ERROR: nfh-writefile failed: $(head -n 1 "$tmp/w.err")"
	exit 99
fi
echo "corpus: $n files, and a good one of 5000 flows"

# check_run LABEL RC OUT ERR: the contract for one run.
check_run() {
	local label=$1 rc=$2 out=$3 err=$4
	if [ "$rc" -le 2 ]; then
		pass "$label: exit status $rc"
	else
		fail "$label: exit status $rc (crash, signal or timeout)"
		head -n 5 "$err"
		return
	fi
	# Every complaint names a file of the directory, or is a detector's
	# or the tool's word about the run (the home networks it read from
	# the traffic name networks, slashes and all).
	local stray
	stray=$(grep -v "^nfhunt: $flows/nfcapd\.[0-9]\{12\}: " "$err" |
		grep -v "^nfhunt: [a-z_]*: " | grep -v "^nfhunt: [a-z][^/]*$" |
		grep -v "^nfhunt: the default home networks (RFC 1918, RFC 4193) are in " |
		grep -v "^nfhunt: [0-9]* of [0-9]* selected files were analysed before with the state $state: " |
		head -n 3)
	if [ -z "$stray" ]; then
		pass "$label: every error line names its file or detector"
	else
		fail "$label: stray error output: $stray"
	fi
	local twice
	twice=$(grep -o "^nfhunt: $flows/nfcapd\.[0-9]\{12\}: " "$err" | sort |
		uniq -d | head -n 1)
	if [ -z "$twice" ]; then
		pass "$label: one line per bad file ($(grep -c "^nfhunt: $flows/" "$err") files)"
	else
		fail "$label: more than one line for $twice"
	fi
	if grep -q "refused" "$err"; then
		fail "$label: a finding was refused: $(grep -m1 refused "$err")"
	else
		pass "$label: no finding refused"
	fi
	if "$py" - "$out" <<'EOF'; then
import json, sys
n = 0
for line in open(sys.argv[1]):
    f = json.loads(line)
    assert isinstance(f, dict), "not an object"
    for k in ("id", "type", "severity", "score"):
        assert k in f, "no " + k
    n += 1
print("report: %d findings" % n)
EOF
		pass "$label: the report is NDJSON of findings"
	else
		fail "$label: the report is not NDJSON of findings"
	fi
}

timeout -s KILL "$tmo" "$nfhunt" -R "$flows" --plugin-dir "$plugins" --no-state -o ndjson \
	>"$tmp/out1" 2>"$tmp/err1"
check_run "no state" $? "$tmp/out1" "$tmp/err1"

# The good file's flows were read in spite of the others.
timeout -s KILL "$tmo" "$nfhunt" -R "$flows" --count >"$tmp/count" 2>/dev/null
counted=$(sed -n 's/.* flows \([0-9]*\) .*/\1/p' "$tmp/count")
if [ "${counted:-0}" -ge 5000 ]; then
	pass "the run goes on: $counted flows counted, the good file's 5000 among them"
else
	fail "the good file's flows were lost: ${counted:-none} counted"
fi

state=$tmp/hunt.state
for run in 2 3; do
	timeout -s KILL "$tmo" "$nfhunt" -R "$flows" --plugin-dir "$plugins" --state "$state" -o ndjson \
		>"$tmp/out$run" 2>"$tmp/err$run"
	check_run "with state, run $run" $? "$tmp/out$run" "$tmp/err$run"
done

# The files not opened in runs 2 and 3 are given up, said in one line
# of run 3; run 4 has nothing left to read and says nothing about them
# (every hourly run failed on them, exit status 2, for ever).
timeout -s KILL "$tmo" "$nfhunt" -R "$flows" --plugin-dir "$plugins" --state "$state" -o ndjson \
	>"$tmp/out4" 2>"$tmp/err4"
rc4=$?
if grep -q "^nfhunt: files not opened in this run nor in the one before are given up ([1-9][0-9]*)" "$tmp/err3" &&
	! grep -q "^nfhunt: $flows/" "$tmp/err4" && [ "$rc4" -le 1 ]; then
	pass "files not opened twice are given up: run 4 exits $rc4, silent about them"
else
	fail "given up: run 4 exit $rc4; $(grep -c "^nfhunt: $flows/" "$tmp/err4") lines about files; run 3: $(grep 'given up' "$tmp/err3")"
fi

# Given up, the files leave nothing behind in the state: their
# "unopened" counters are gone (they stayed at 0, one row a file, for
# ever).
left=$("$py" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM meta WHERE name LIKE ?", ("unopened:%",)).fetchone()[0])' "$state" 2>&1)
if [ "$left" = 0 ]; then
	pass "the given-up files' counters are not kept"
else
	fail "the given-up files' counters stay in the state: $left"
fi

# A broken file whose name holds a newline and a forged message: its
# complaint stays one line, the control character escaped (the name
# printed a second line that read as another file's).
odd=$tmp/odd
mkdir -p "$odd"
printf '\014\245\002\000 then garbage' >"$odd/nfcapd.202403040000
nfhunt: nfcapd.202403040005: ok"
timeout -s KILL "$tmo" "$nfhunt" --count -R "$odd" >/dev/null 2>"$tmp/err_odd"
if [ "$(wc -l <"$tmp/err_odd")" -eq 1 ] &&
	grep -q 'nfcapd.202403040000\\x0anfhunt: ' "$tmp/err_odd"; then
	pass "a file name with a newline: one line, the newline escaped"
else
	fail "a file name with a newline: $(cat -A "$tmp/err_odd" | head -n 3)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
