#!/bin/bash
# ops_since.sh - hourly hunts with --since last, shared with --rotated
# runs; exit statuses; syslog; the lock; nfhunt.conf; nfexpire.
#
# A 3-hour nfhunt-gen tree (-S 1, 36 files, a horizontal scan) is
# revealed to nfhunt as nfcapd would write it:
#   * hour 1, then (a cron run missed) hours 2 and 3 at once: each
#     --since last run reads exactly the files no run read before;
#   * --rotated in both nfcapd forms (%d %f relative, "%d/%f" absolute)
#     on a new file, then --since last skips it; a second --rotated of the
#     same file does nothing; over all runs every file is read once;
#   * the lock: a run waits for a held lock (bounded by --lock-wait),
#     gives up with exit 2 when it stays held, and the file is left for
#     the next --since last run;
#   * exit status 0 / 1 / 2 (findings below or at the alert level; a
#     truncated capture file, a missing file, an unusable state path);
#   * --syslog: one line per new finding, none for ongoing ones;
#   * nfhunt.conf: values used, command line wins, unknown keys and bad
#     detector parameters are errors naming file and line;
#   * a first --since last run from a file: later runs skip the files
#     before it;
#   * the tree copied to another path and hunted with the same state:
#     one line says its files are read again (counted twice);
#   * nfexpire removes capture files, the next --since last run removes
#     their findings files and forgets them, nfexpire removes the
#     emptied directories.
# Last line: "N passed, N failed". Exit 0 if all passed, 99 when the
# programs are not built. Needs no nfcapd (nfexpire parts skip without
# it).

set -u
ops_name=ops-since
. "$(dirname "$0")/ops_lib.sh"

tree=$tmp/all
flows=$tmp/flows
cat >"$tmp/h.conf" <<EOF
plugin_dir = $plugins
EOF
hunt() { "$nfhunt" --config "$tmp/h.conf" "$@"; }

timeout 120 "$gen" -w "$tree" -S 1 -b 2024-03-04T00:00Z -d 3h -s 11 -u 40 \
	-i horizontal_scan -l "$tmp/labels.json" -q ||
	{
		fail "nfhunt-gen"
		finish
	}
all=$(cd "$tree" && find . -name 'nfcapd.*' | sort)
check "the tree has 36 files" "$(printf '%s\n' "$all" | grep -c .)" -eq 36

# reveal FIRST LAST: copy files FIRST..LAST (1-based) into the flow dir.
reveal() {
	printf '%s\n' "$all" | sed -n "$1,$2p" | while read -r f; do
		mkdir -p "$flows/$(dirname "$f")"
		cp "$tree/$f" "$flows/$f"
	done
}
nth() { printf '%s\n' "$all" | sed -n "$1p" | sed 's|^\./||'; }
files_read() { jget "$1" 'r["inputs"]["files"]'; }
recorded() {
	"$py" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from files").fetchone()[0])' \
		"$flows/.nfhunt.state"
}

# ------------------------------------------------------- hours 1, 2 + 3
mkdir -p "$flows"
reveal 1 12
hunt -R "$flows" --since last --beside -o json >"$tmp/r1.json"
rc=$?
check "hour 1: exit 0 or 1 ($rc)" "$rc" -le 1
check "hour 1: 12 files read" "$(files_read "$tmp/r1.json")" = 12
check "hour 1: the report is beside the last file" \
	-f "$flows/$(dirname "$(nth 12)")/.nfhunt.202403040055.stat.json"
hunt -R "$flows" --since last -q >"$tmp/r1b.out"
rc=$?
check "nothing new: exit 0 ($rc)" "$rc" -eq 0
check "nothing new: -q prints nothing" ! -s "$tmp/r1b.out"
reveal 13 18 # a cron run is missed here
reveal 19 24
hunt -R "$flows" --since last --beside -o json >"$tmp/r2.json"
check "hours 2 and 3: the 12 new files read at once" \
	"$(files_read "$tmp/r2.json")" = 12

# --------------------------------------------------- --rotated + cron
reveal 25 25
f25=$(nth 25)
hunt --rotated "$flows" "$f25" >"$tmp/x1.out" 2>&1
check "--rotated %d %f (relative %f): exit 0 or 1" $? -le 1
check "--rotated prints nothing on stdout" \
	"$(grep -c 'nfhunt 0' "$tmp/x1.out")" -eq 0
stamp=${f25##*/nfcapd.}
check "--rotated wrote .nfhunt.$stamp.stat.json beside the file" \
	-f "$flows/$(dirname "$f25")/.nfhunt.$stamp.stat.json"
check "that report counts one file" \
	"$(files_read "$flows/$(dirname "$f25")/.nfhunt.$stamp.stat.json")" = 1
before=$(stat -c %Y "$flows/$(dirname "$f25")/.nfhunt.$stamp.stat.json")
sleep 1.1
hunt --rotated "$flows/$flows/$f25" >/dev/null 2>"$tmp/x2.err"
check "--rotated \"%d/%f\" (absolute %f) of a file already read: exit 0" \
	$? -eq 0
check "... and its report is left alone" \
	"$(stat -c %Y "$flows/$(dirname "$f25")/.nfhunt.$stamp.stat.json")" = \
	"$before"
reveal 26 30
if [ -c /dev/full ]; then
	# The report cannot reach stdout (a full disk, a SIEM's pipe gone):
	# the run fails and the state does not count it, so the next run
	# reads the same files (the check after this one).
	hunt -R "$flows" --since last -o json >/dev/full 2>"$tmp/full.err"
	check "stdout on a full disk: exit 2" $? -eq 2
	check "... and says so" \
		"$(grep -c 'stdout: No space left' "$tmp/full.err")" -eq 1
fi
hunt -R "$flows" --since last -o json >"$tmp/r3.json" 2>/dev/null
check "--since last skips the file --rotated read" \
	"$(files_read "$tmp/r3.json")" = 5

# The tree copied elsewhere and hunted with (a copy of) the same state:
# its files are new to the state, read again and counted twice. Said
# once; not by the run before over the same tree.
cp -r "$flows" "$tmp/moved"
cp "$flows/.nfhunt.state" "$tmp/moved.state"
hunt -R "$tmp/moved" --since last --state "$tmp/moved.state" -o json \
	>/dev/null 2>"$tmp/moved.err"
check "a moved tree: one line says its files are read again" \
	"$(grep -c 'a tree moved or copied to another path is read again' \
		"$tmp/moved.err")" -eq 1
check "... not in the runs over the tree itself" \
	"$(cat "$tmp"/*.err 2>/dev/null | grep -v "^$" |
		grep -c 'moved or copied')" -eq 1

# ------------------------------------------------------------- the lock
reveal 31 31
f31=$(nth 31)
if command -v flock >/dev/null 2>&1; then
	flock "$flows/.nfhunt.state.lock" sleep 3 &
	holder=$!
	sleep 0.3
	t0=$(date +%s)
	# nfcapd before 1.7.8 with "%d/%f": one argument, %f relative, so
	# the -S subdirectories are part of it; the state is still the one
	# at the top (the lock held there makes the run wait).
	hunt --rotated "$flows/$f31" --lock-wait 20 >/dev/null 2>&1
	rc=$?
	t1=$(date +%s)
	check "a run waits for the lock, then succeeds (exit $rc)" "$rc" -le 1
	check "... after the holder let go ($((t1 - t0)) s)" \
		$((t1 - t0)) -ge 2
	wait "$holder"
	reveal 32 32
	f32=$(nth 32)
	flock "$flows/.nfhunt.state.lock" sleep 4 &
	holder=$!
	sleep 0.3
	hunt --rotated "$flows" "$f32" --lock-wait 1 >/dev/null \
		2>"$tmp/lock.err"
	rc=$?
	check "a run gives up when the lock stays held: exit 2 ($rc)" \
		"$rc" -eq 2
	check "... and says the file is left for --since last" \
		"$(grep -c 'left for the next --since last run' "$tmp/lock.err")" \
		-eq 1
	wait "$holder"
else
	echo "NOTE: no flock(1); lock checks skipped"
	reveal 32 32
	hunt --rotated "$flows/$(nth 31)" >/dev/null 2>&1
fi
check "\"%d/%f\" with a relative %f: no state in the -S subdirectories" \
	"$(find "$flows" -mindepth 2 -name '.nfhunt.state*' | wc -l)" -eq 0
reveal 33 36
hunt -R "$flows" --since last -o json >"$tmp/r4.json" 2>/dev/null
check "--since last reads the file whose run gave up, and the new ones" \
	"$(files_read "$tmp/r4.json")" = 5
check "the state records all 36 files" "$(recorded)" = 36
total=$(( $(files_read "$tmp/r1.json") + $(files_read "$tmp/r2.json") + 1 +
	$(files_read "$tmp/r3.json") + 1 + $(files_read "$tmp/r4.json") ))
check "over all runs every file was read exactly once ($total)" \
	"$total" -eq 36

# -------------------------------------------------------- exit statuses
"$nfhunt" --no-config --plugin-dir "$plugins" --no-state -R "$tree" \
	--alert-level info -o json >"$tmp/all.json" 2>/dev/null
check "findings at or above the alert level: exit 1" $? -eq 1
top=$(jget "$tmp/all.json" \
	'max(["info","low","medium","high","critical"].index(f["severity"]) for f in r["findings"])')
above=$(echo "info low medium high critical" | cut -d' ' -f$((top + 2)))
if [ -n "$above" ]; then
	"$nfhunt" --no-config --plugin-dir "$plugins" --no-state -R "$tree" \
		--alert-level "$above" -q >/dev/null 2>&1
	check "nothing at or above --alert-level $above: exit 0" $? -eq 0
fi
mkdir -p "$tmp/bad"
cp "$tree/$(nth 1)" "$tmp/bad/nfcapd.202403040000"
head -c 300 "$tree/$(nth 2)" >"$tmp/bad/nfcapd.202403040005"
"$nfhunt" --no-config --plugin-dir "$plugins" -R "$tmp/bad" --since last \
	-q >/dev/null 2>"$tmp/bad.err"
check "a truncated capture file: exit 2" $? -eq 2
check "... named on stderr" \
	"$(grep -c 'nfcapd.202403040005' "$tmp/bad.err")" -ge 1
"$nfhunt" --no-config --plugin-dir "$plugins" --no-state \
	-r "$tmp/bad/nfcapd.209901010000" -q >/dev/null 2>&1
check "a missing capture file: exit 2" $? -eq 2
"$nfhunt" --no-config --plugin-dir "$plugins" -r "$tree/$(nth 1)" \
	--state "$tmp/no/such/dir/state" -q >/dev/null 2>"$tmp/state.err"
check "an unusable state path: exit 2" $? -eq 2
check "... with the path in the message" \
	"$(grep -c "$tmp/no/such/dir/state" "$tmp/state.err")" -ge 1
"$nfhunt" --no-config --bogus >/dev/null 2>&1
check "a bad option: exit 2" $? -eq 2

# ---------------------------------------------------------------- syslog
rm -rf "$tmp/s" && mkdir -p "$tmp/s"
NFHUNT_SYSLOG_STDERR=1 "$nfhunt" --no-config --plugin-dir "$plugins" \
	-R "$tree" --state "$tmp/s/state" --syslog=local0 -q \
	>/dev/null 2>"$tmp/s1.err"
NFHUNT_SYSLOG_STDERR=1 "$nfhunt" --no-config --plugin-dir "$plugins" \
	-R "$tree" --state "$tmp/s/state" --syslog=local0 -q \
	>/dev/null 2>"$tmp/s2.err"
new1=$(jget "$tmp/all.json" 'sum(1 for f in r["findings"] if f["severity"] != "info")')
n1=$(grep -c 'nfhunt\[[0-9]*\]: severity=' "$tmp/s1.err")
n2=$(grep -c 'nfhunt\[[0-9]*\]: severity=' "$tmp/s2.err")
check "syslog: one line per new finding at or above low ($n1 = $new1)" \
	"$n1" = "$new1"
check "syslog: nothing for the same findings seen again ($n2)" "$n2" -eq 0
"$nfhunt" --no-config --plugin-dir "$plugins" --no-state -R "$tree" \
	--syslog=local12 >/dev/null 2>&1
check "--syslog=local12: exit 2" $? -eq 2

# ----------------------------------------------------------- nfhunt.conf
cat >"$tmp/c1.conf" <<EOF
# a site's configuration
plugin_dir = $plugins
alert_level = critical
state = none
plugins = port_scan
EOF
"$nfhunt" --config "$tmp/c1.conf" -R "$tree" -q >/dev/null 2>&1
check "alert_level = critical from the file: exit 0" $? -eq 0
"$nfhunt" --config "$tmp/c1.conf" -R "$tree" --alert-level low -q \
	>/dev/null 2>&1
check "--alert-level low overrides it: exit 1" $? -eq 1
check "plugins = port_scan loads one detector" \
	"$("$nfhunt" --config "$tmp/c1.conf" --list-plugins | head -n 1 |
		cut -d' ' -f1)" = 1
NFHUNT_CONFIG=$tmp/c1.conf "$nfhunt" -R "$tree" -q >/dev/null 2>&1
check "NFHUNT_CONFIG names the file" $? -eq 0
check "state = none leaves no state" ! -e "$tree/.nfhunt.state"
printf 'plugin_dir = %s\n\nhme_net = 10.0.0.0/8\n' "$plugins" >"$tmp/c2.conf"
"$nfhunt" --config "$tmp/c2.conf" -R "$tree" >/dev/null 2>"$tmp/c2.err"
check "an unknown key: exit 2" $? -eq 2
check "... 'c2.conf:3: unknown key 'hme_net' (did you mean 'home_net'?)'" \
	"$(grep -c "c2.conf:3: unknown key 'hme_net' (did you mean 'home_net'?)" \
		"$tmp/c2.err")" -eq 1
printf 'plugin_dir = %s\nstate = none\n[detector port_scan]\nenabled = yes\nno_such_knob = 3\n' \
	"$plugins" >"$tmp/c3.conf"
"$nfhunt" --config "$tmp/c3.conf" -R "$tree" >/dev/null 2>"$tmp/c3.err"
check "a parameter the detector refuses: exit 2" $? -eq 2
check "... named with file and line" \
	"$(grep -c 'c3.conf:5: \[detector port_scan\] no_such_knob' \
		"$tmp/c3.err")" -eq 1
printf 'plugin_dir = %s\nstate = none\n[detector port_scna]\nenabled = no\n' \
	"$plugins" >"$tmp/c4.conf"
"$nfhunt" --config "$tmp/c4.conf" -R "$tree" >/dev/null 2>"$tmp/c4.err"
check "a section for no detector: exit 2, with its line" \
	"$(grep -c 'c4.conf:3: \[detector port_scna\]: no such detector' \
		"$tmp/c4.err")" -eq 1
printf 'plugin_dir = %s\nstate = none\n[detector port_scan]\nenabled = no\n' \
	"$plugins" >"$tmp/c5.conf"
"$nfhunt" --config "$tmp/c5.conf" -R "$tree" -o json 2>/dev/null |
	"$py" -c 'import json, sys
sys.exit(any(f["type"] == "port_scan" for f in json.load(sys.stdin)["findings"]))'
check "enabled = no switches a detector off" $? -eq 0
"$nfhunt" --config "$tmp/c5.conf" -R "$tree" -o json \
	--set port_scan.enabled=yes 2>/dev/null | "$py" -c 'import json, sys
sys.exit(not any(f["type"] == "port_scan" for f in json.load(sys.stdin)["findings"]))'
check "--set port_scan.enabled=yes overrides the file" $? -eq 0
"$nfhunt" --config "$tmp/missing.conf" -R "$tree" >/dev/null 2>&1
check "--config of a missing file: exit 2" $? -eq 2

# ------------------------------------------------------------ -M sources
mkdir -p "$tmp/m/edge1" "$tmp/m/edge2"
cp "$tree/$(nth 1)" "$tree/$(nth 2)" "$tmp/m/edge1/"
cp "$tree/$(nth 3)" "$tmp/m/edge2/"
touch "$tmp/m/edge2/.nfhunt.202403040000.stat.json" # its capture is gone
hunt -M "$tmp/m/edge1:edge2" --since last -o json >"$tmp/m.json" 2>/dev/null
check "-M: three files from two sources" "$(files_read "$tmp/m.json")" = 3
check "-M: the state is in the base directory" -f "$tmp/m/.nfhunt.state"
check "-M: stale findings files of each source removed" \
	! -e "$tmp/m/edge2/.nfhunt.202403040000.stat.json"

# ------------------------------------------------- starting from a file
# nfhunt(1): "to start from a given file instead, select -R
# dir/nfcapd.X for the first run". The hourly -R dir --since last after
# it read the 36 files before X; the state now remembers where it began.
mkdir -p "$tmp/flat"
for f in $all; do cp "$tree/$f" "$tmp/flat/"; done
hunt -R "$tmp/flat/$(basename "$(nth 25)")" --since last -o json \
	>"$tmp/from1.json" 2>/dev/null
check "from file 25: 12 files read" "$(files_read "$tmp/from1.json")" = 12
hunt -R "$tmp/flat" --since last -o json >"$tmp/from2.json" 2>/dev/null
check "... then -R dir --since last: none of the 24 before it" \
	"$(files_read "$tmp/from2.json")" = 0

# --------------------------------------------------------------- nfexpire
if command -v nfexpire >/dev/null 2>&1; then
	nfexpire -e "$flows" -t 1d >"$tmp/expire1.out" 2>&1
	left=$(find "$flows" -name 'nfcapd.*' | wc -l)
	check "nfexpire removed the (2024) capture files" "$left" -eq 0
	check "... and kept nfhunt's findings files and state" \
		"$(find "$flows" -name '.nfhunt.*.stat.json' | wc -l)" -ge 1
	hunt -R "$flows" --since last -q >/dev/null 2>&1
	check "the next --since last run: exit 0" $? -eq 0
	check "... removed the findings files of expired captures" \
		"$(find "$flows" -name '.nfhunt.*.stat.json' | wc -l)" -eq 0
	check "... and forgot the expired files" "$(recorded)" = 0
	nfexpire -e "$flows" -t 1d >"$tmp/expire2.out" 2>&1
	check "nfexpire then removed the emptied directories" \
		"$(find "$flows" -mindepth 1 -type d | wc -l)" -eq 0
	check "the state survives nfexpire" -f "$flows/.nfhunt.state"
else
	echo "NOTE: no nfexpire; its checks skipped"
fi

finish
