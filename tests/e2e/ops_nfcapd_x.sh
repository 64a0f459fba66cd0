#!/bin/bash
# ops_nfcapd_x.sh - nfhunt run by a real nfcapd for every file it closes.
#
# nfcapd -S 1 -t 2 on 127.0.0.1 with
#   -x 'nfhunt --config X --rotated %d %f'
# (X: plugin directory, syslog to local0; NFHUNT_SYSLOG_STDERR=1 copies
# the syslog lines into nfcapd's log). nfhunt-gen exports an hour of
# traffic with a horizontal port scan, paced over ~9 s, so nfcapd closes
# several files; SIGTERM closes the last one and runs -x for it too.
# After every launched nfhunt has finished (bounded wait), checks:
#   * the state is FLOWDIR/.nfhunt.state (the top, not the -S subdir);
#   * each capture file has its findings file .nfhunt.STAMP.stat.json
#     beside it, or a --since last run catches the ones nfcapd's launcher
#     dropped; every file is then recorded in the state, and the runs'
#     reports together count every file exactly once;
#   * the port scan is found across the per-file runs (state carried
#     over), as a single run over all files finds it;
#   * syslog got one line per new finding, and one more for an id only
#     when it rose in severity (status=escalated);
#   * nfdump -R FLOWDIR reads every flow with nfhunt's files present and
#     says nothing on stderr; nfexpire -l counts only capture files.
# Last line: "N passed, N failed". Exit 0 if all passed, 77 when nfcapd
# or nfdump is missing, 99 when the programs are not built.

set -u
ops_name=ops-x
. "$(dirname "$0")/ops_lib.sh"
e2e_need_tools nfcapd nfdump nfexpire

flows=$tmp/flows
mkdir -p "$flows"
cat >"$tmp/x.conf" <<EOF
# nfhunt.conf for the nfcapd -x runs of this test
plugin_dir = $plugins
syslog = yes
syslog_facility = local0
lock_wait = 120
EOF
# nfcapd splits -x on blanks (no shell, no quoting): the paths have none.
xcmd="$nfhunt --config $tmp/x.conf --rotated %d %f"
echo "nfcapd -x '$xcmd'"
export NFHUNT_SYSLOG_STDERR=1

if ! start_capd "$flows" -S 1 -t 2 -I ops -x "$xcmd"; then
	fail "nfcapd did not start"
	finish
fi
timeout 120 "$gen" -b 2024-03-04T09:00Z -d 1h -s 7 -u 30 \
	-i horizontal_scan --speedup 400 -l "$tmp/labels.json" -q \
	--export "127.0.0.1:$port"
gen_rc=$?
sleep 2.5 # a rotation after the last datagram
check "nfhunt-gen exported" $gen_rc -eq 0
if stop_capd; then
	pass "nfcapd stopped on SIGTERM"
else
	fail "nfcapd did not stop on SIGTERM (killed)"
fi
unset NFHUNT_SYSLOG_STDERR

# nfcapd does not wait for its -x children: wait for them here.
for _ in $(seq 1 600); do
	pgrep -f -- "--config $tmp/x.conf" >/dev/null 2>&1 || break
	sleep 0.1
done
if pgrep -f -- "--config $tmp/x.conf" >/dev/null 2>&1; then
	fail "nfhunt -x runs still running after 60 s"
else
	pass "every nfhunt -x run finished"
fi

captures=$(find "$flows" -name 'nfcapd.[0-9]*' -type f | sort)
ncap=$(printf '%s\n' "$captures" | grep -c .)
check "nfcapd closed several files ($ncap)" "$ncap" -ge 3
check "the state is at the top of the flow directory" \
	-f "$flows/.nfhunt.state"
check "no state in the -S subdirectories" \
	"$(find "$flows" -mindepth 2 -name '.nfhunt.state*' | wc -l)" -eq 0

missing=0
for f in $captures; do
	stamp=${f##*/nfcapd.}
	[ -f "${f%/*}/.nfhunt.$stamp.stat.json" ] || missing=$((missing + 1))
done
echo "files without a findings file after the -x runs: $missing of $ncap"
check "nfcapd's -x ran nfhunt for most files" "$missing" -le $((ncap / 2))

# An hourly run catches up what the launcher dropped, and nothing else.
"$nfhunt" --config "$tmp/x.conf" --no-syslog -R "$flows" --since last \
	--beside -o json >"$tmp/catchup.json" 2>"$tmp/catchup.err"
rc=$?
check "the --since last run succeeded (exit $rc)" "$rc" -le 1
check "it read exactly the files the -x runs had not" \
	"$(jget "$tmp/catchup.json" 'r["inputs"]["files"]')" = "$missing"

recorded=$("$py" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from files").fetchone()[0])' \
	"$flows/.nfhunt.state")
check "the state records every capture file ($recorded)" \
	"$recorded" = "$ncap"
total=$(find "$flows" -name '.nfhunt.*.stat.json' -exec "$py" -c '
import json, sys
print(sum(json.load(open(p))["inputs"]["files"] for p in sys.argv[1:]))' {} + |
	awk '{s += $1} END {print s + 0}')
check "the findings files count every file once ($total)" "$total" = "$ncap"

# The scan, found across per-file runs, as one run over everything does.
find "$flows" -name '.nfhunt.*.stat.json' -exec "$py" -c '
import json, sys
for p in sys.argv[1:]:
    for f in json.load(open(p))["findings"]:
        if f["type"] == "port_scan":
            print(f["src"])' {} + | sort -u >"$tmp/x.scans"
"$nfhunt" --no-config --plugin-dir "$plugins" --no-state -R "$flows" \
	-o json 2>/dev/null | "$py" -c '
import json, sys
for f in json.load(sys.stdin)["findings"]:
    if f["type"] == "port_scan":
        print(f["src"])' | sort -u >"$tmp/all.scans"
check "a port scan was found by the -x runs" -s "$tmp/x.scans"
if cmp -s "$tmp/x.scans" "$tmp/all.scans"; then
	pass "the -x runs found the scanners one run over all files finds"
else
	fail "scanners differ: -x $(tr '\n' ' ' <"$tmp/x.scans"), one run" \
		"$(tr '\n' ' ' <"$tmp/all.scans")"
fi

# Syslog: one line per new finding; one id again only when it rose to a
# higher severity than any line before for it (status=escalated).
grep -o 'nfhunt\[[0-9]*\]: severity=.* id=[0-9a-f]* status=[a-z]*' "$flows.log" \
	>"$tmp/syslog" || true
nsys=$(wc -l <"$tmp/syslog")
check "syslog lines were sent ($nsys)" "$nsys" -ge 1
dups=$(awk '{
	sev = $2; sub(/^severity=/, "", sev)
	rank = sev == "info" ? 0 : sev == "low" ? 1 : sev == "medium" ? 2 : sev == "high" ? 3 : 4
	id = $0; sub(/.* id=/, "", id); sub(/ .*/, "", id)
	st = $0; sub(/.* status=/, "", st)
	if ((id in top) && (rank <= top[id] || st != "escalated")) bad++
	if (!(id in top) || rank > top[id]) top[id] = rank
} END { print bad + 0 }' "$tmp/syslog")
check "no finding id was sent to syslog again but for a rise in severity" "$dups" -eq 0
check "the syslog line names severity, type, src, dst, summary, id" \
	"$(grep -c 'severity=[a-z]* type=[a-z_]* src=[^ ]* dst=[^ ]* summary=".*" id=' \
		"$tmp/syslog")" -eq "$nsys"

# nfdump and nfexpire with nfhunt's files in the tree.
nfdump -R "$flows" -q -o line >"$tmp/nfdump.out" 2>"$tmp/nfdump.err"
nd=$(grep -c . "$tmp/nfdump.out")
nh=$("$nfhunt" --count -R "$flows" | sed -n 's/.* flows \([0-9]*\) .*/\1/p')
check "nfdump -R reads every flow ($nd) with nfhunt's files present" \
	"$nd" = "$nh"
check "nfdump -R says nothing on stderr" ! -s "$tmp/nfdump.err"
nfexpire -l "$flows" >"$tmp/expire.out" 2>&1
check "nfexpire -l counts only the capture files" \
	"$(sed -n 's/^Numfiles: *//p' "$tmp/expire.out")" = "$ncap"

finish
