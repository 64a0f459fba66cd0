#!/bin/bash
# End-to-end: the real nfhunt given an operator's mistakes, each one an
# outside tester found to fail silently or to corrupt the state:
#   * a typo in --plugins, or an empty --plugin-dir: exit 2 before reading
#     anything, so that a --since last run (cron, nfcapd -x) does not
#     record every file as analysed with no detector run;
#   * --allow naming a detector that does not exist: exit 2;
#   * -r of a FIFO: refused at once (the open waited for a writer forever);
#   * --rotated given a directory (an nfcapd -x without %f): refused, no
#     state created;
#   * a closed stdout pipe: exit 2 with a message, not death by SIGPIPE,
#     and the state not committed;
#   * files named nfcapd.YYYYMMDDhhmm that are empty, zeroed or dangling
#     links: one line each (a lost capture), other names still skipped;
#   * a second run with the state over files analysed before: skipped with
#     one line, not counted twice (an upload of 2.5 GB read as 5 GB);
#   * -t with a state: refused (a window's part would count twice later);
#   * -t ending to the second or to the minute: the flows nfdump counts,
#     not those ending within that second or minute too; a window that
#     misses every file: a warning;
#   * a state file or a report (--output) in the flow directory under a
#     name nfdump reads, and --set DETECTOR.enabled=nah: refused; nfdump
#     still reads the directory, and a report named as --beside names it
#     is written;
#   * a bad detector value: one line, no state file made; an empty
#     --home-net and another program's SQLite file as the state: refused;
#   * host bits in --home-net or --allow, a file named twice: one line;
#   * every detector disabled, an empty --plugins, options that contradict
#     each other, a reversed -t: refused; --dump | head: exit 0 quietly.
# Last line: "N passed, N failed". Exit 0 if all passed, 99 if nfhunt or
# its test tools are not built.
#
# Environment: NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR; NFH_E2E_KEEP=1 keeps the
# temp dir.

set -u

. "$(dirname "$0")/e2e_lib.sh"

if [ ! -x "$nfhunt" ] || [ ! -x "$gen" ]; then
	echo "ERROR: $nfhunt or $gen not built"
	exit 99
fi

e2e_tmpdir operator

# hunt ARGS...: nfhunt with a time bound; stdout and stderr to $tmp/out,
# $tmp/err; sets rc.
hunt() {
	timeout -s KILL "$tmo" "$nfhunt" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# files_read: the file count of the last run's summary on stderr/stdout.
files_read() {
	sed -n 's/^nfhunt [^:]*: \([0-9]*\) files.*/\1/p' "$tmp/out" "$tmp/err" |
		head -n 1
}

# Two hours of an organisation of 30 hosts, with its attacks.
tree=$tmp/flows
if ! "$gen" -w "$tree" -b 2024-03-04T00:00Z -d 2h -u 30 -s 5 -q \
	>"$tmp/gen.out" 2>&1; then
	echo "ERROR: nfhunt-gen failed: $(head -n 2 "$tmp/gen.out")"
	exit 99
fi
nfiles=$(find "$tree" -name 'nfcapd.[0-9]*' | wc -l)

# ------------------------------------------------ no detector, no reading
cp -r "$tree" "$tmp/pl"
hunt -R "$tmp/pl" --since last --plugin-dir "$plugins" --plugins portscan
if [ "$rc" -eq 2 ] && grep -q "no detector named 'portscan'" "$tmp/err"; then
	pass "--plugins portscan (a typo): exit 2, named"
else
	fail "--plugins portscan: exit $rc; $(head -n 1 "$tmp/err")"
fi
mkdir -p "$tmp/noplugins"
hunt -R "$tmp/pl" --since last --plugin-dir "$tmp/noplugins"
if [ "$rc" -eq 2 ] && grep -q "no detector loaded" "$tmp/err"; then
	pass "an empty --plugin-dir: exit 2"
else
	fail "an empty --plugin-dir: exit $rc; $(head -n 1 "$tmp/err")"
fi
hunt -R "$tmp/pl" --since last --plugin-dir "$plugins" -q
if [ "$rc" -le 1 ] && [ "$(files_read)" = "$nfiles" ]; then
	pass "... and the next --since last run reads all $nfiles files"
else
	fail "... the next --since last run: exit $rc, read '$(files_read)' of $nfiles files"
fi

hunt -R "$tree" --no-state --plugin-dir "$plugins" --allow nosuch:10.0.0.1
if [ "$rc" -eq 2 ] && grep -q "no detector named 'nosuch'" "$tmp/err"; then
	pass "--allow nosuch:CIDR: exit 2, named"
else
	fail "--allow nosuch:CIDR: exit $rc; $(head -n 1 "$tmp/err")"
fi

# ------------------------------------- a report that could not be written
# A missing --output directory is refused before any file is read (it
# was said after every file); a report into /dev/null, or through a link,
# is written as before.
hunt -R "$tree" --no-state --plugin-dir "$plugins" --output "$tmp/nosuch/r.json"
if [ "$rc" -eq 2 ] && grep -q "^nfhunt: --output $tmp/nosuch/r.json: $tmp/nosuch: No such file" "$tmp/err" &&
	[ -z "$(files_read)" ]; then
	pass "--output in a missing directory: refused before reading"
else
	fail "--output in a missing directory: exit $rc, read '$(files_read)'; $(head -n 1 "$tmp/err")"
fi
mkdir -p "$tmp/reports"
ln -s "$tmp/reports/real.json" "$tmp/link.json"
hunt -R "$tree" --no-state --plugin-dir "$plugins" --output "$tmp/link.json" -q
rc_link=$rc
hunt -R "$tree" --no-state --plugin-dir "$plugins" --output /dev/null -q
if [ "$rc_link" -le 1 ] && [ -s "$tmp/reports/real.json" ] && [ -L "$tmp/link.json" ] &&
	[ "$rc" -le 1 ]; then
	pass "--output through a link and to /dev/null: written"
else
	fail "--output through a link ($rc_link) or /dev/null ($rc): $(head -n 1 "$tmp/err")"
fi

# ------------------------------------------------------ a FIFO for -r
mkfifo "$tmp/fifo"
hunt -r "$tmp/fifo" --no-state --plugin-dir "$plugins"
if [ "$rc" -eq 2 ] && grep -q "fifo: not a regular file" "$tmp/err"; then
	pass "-r FIFO: refused at once (exit 2)"
else
	fail "-r FIFO: exit $rc (137: killed after ${tmo}s); $(head -n 1 "$tmp/err")"
fi

# ------------------------------------------------- --rotated a directory
cp -r "$tree" "$tmp/rot"
hunt --rotated "$tmp/rot" --plugin-dir "$plugins"
if [ "$rc" -eq 2 ] && grep -q "not a capture file" "$tmp/err" &&
	[ ! -e "$tmp/.nfhunt.state" ] && [ ! -e "$tmp/rot/.nfhunt.state" ]; then
	pass "--rotated DIR (no %f): refused, no state made"
else
	fail "--rotated DIR: exit $rc; $(head -n 1 "$tmp/err")"
fi

# ------------------------------------------------------ a closed pipe
cp -r "$tree" "$tmp/pipe"
timeout -s KILL "$tmo" "$nfhunt" -R "$tmp/pipe" --since last \
	--plugin-dir "$plugins" -o json 2>"$tmp/pipe.err" | true
prc=${PIPESTATUS[0]}
hunt -R "$tmp/pipe" --since last --plugin-dir "$plugins" -q
if [ "$prc" -eq 2 ] && grep -q "stdout: Broken pipe" "$tmp/pipe.err" &&
	[ "$(files_read)" = "$nfiles" ]; then
	pass "stdout closed: exit 2 with a message, the state not committed"
else
	fail "stdout closed: exit $prc; next run read '$(files_read)' of $nfiles files; $(head -n 1 "$tmp/pipe.err")"
fi

# --------------------------------------------- lost captures by their name
bad=$tmp/bad
mkdir -p "$bad"
cp "$(find "$tree" -name 'nfcapd.[0-9]*' | sort | head -n 1)" "$bad/nfcapd.202403040000"
: >"$bad/nfcapd.202403040005"
ln -s nowhere "$bad/nfcapd.202403040010"
head -c 4096 /dev/zero >"$bad/nfcapd.202403040015"
echo "notes" >"$bad/README.txt"
hunt -R "$bad" --no-state --plugin-dir "$plugins" -q
lines=0
for s in 0005 0010 0015; do
	grep -q "^nfhunt: $bad/nfcapd.20240304$s: " "$tmp/err" && lines=$((lines + 1))
done
if [ "$rc" -eq 2 ] && [ "$lines" -eq 3 ] && ! grep -q README "$tmp/err"; then
	pass "an empty, a dangling and a zeroed nfcapd.* file: one line each, exit 2"
else
	fail "lost captures: exit $rc, $lines of 3 named; $(head -n 3 "$tmp/err")"
fi

# --------------------------------------------------- twice with one state
cp -r "$tree" "$tmp/twice"
hunt -R "$tmp/twice" --plugin-dir "$plugins" -o ndjson
first=$(wc -l <"$tmp/out")
hunt -R "$tmp/twice" --plugin-dir "$plugins" -o ndjson
second=$(wc -l <"$tmp/out")
if [ "$first" -gt 0 ] && [ "$rc" -eq 0 ] && [ "$second" -eq 0 ] &&
	grep -q "$nfiles of $nfiles selected files were analysed before" "$tmp/err"; then
	pass "the same files twice with one state: $first findings, then skipped with one line"
else
	fail "twice with one state: $first then $second findings, exit $rc; $(head -n 1 "$tmp/err")"
fi
hunt -R "$tree" -t 2024/03/04.00:30-2024/03/04.00:40 --state "$tmp/t.state" \
	--plugin-dir "$plugins"
if [ "$rc" -eq 2 ] && [ ! -e "$tmp/t.state" ]; then
	pass "-t with --state: refused"
else
	fail "-t with --state: exit $rc; $(head -n 1 "$tmp/err")"
fi

# A state file in the flow directory with a name nfdump -R reads: nfdump
# would stop there without a word. Refused before anything is read.
hunt -R "$tree" --state "$tree/hunt.db" --plugin-dir "$plugins"
if [ "$rc" -eq 2 ] && [ ! -e "$tree/hunt.db" ] &&
	grep -q "must start with '.'" "$tmp/err"; then
	pass "a state named hunt.db in the flow directory: refused"
else
	fail "state hunt.db in the flow directory: exit $rc; $(head -n 1 "$tmp/err")"
	rm -f "$tree/hunt.db"
fi
# The same for the report: hunt-report.json there stopped nfdump -R at
# it (0 flows, exit 0). A hidden .stat name is written.
hunt -R "$tree" --no-state --plugin-dir "$plugins" \
	--output "$tree/hunt-report.json"
if [ "$rc" -eq 2 ] && [ ! -e "$tree/hunt-report.json" ] &&
	grep -q "^nfhunt: --output .*must start with '.'" "$tmp/err" &&
	[ "$(nfdump -R "$tree" -q -o 'fmt:%pr' | wc -l)" -gt 0 ]; then
	pass "a report named hunt-report.json in the flow directory: refused"
else
	fail "--output hunt-report.json in the flow directory: exit $rc; $(head -n 1 "$tmp/err")"
	rm -f "$tree/hunt-report.json"
fi
hunt -R "$tree" --no-state --plugin-dir "$plugins" \
	--output "$tree/.hunt.stat.json"
if [ "$rc" -le 1 ] && [ -s "$tree/.hunt.stat.json" ]; then
	pass "a report named .hunt.stat.json in the flow directory: written"
else
	fail "--output .hunt.stat.json in the flow directory: exit $rc; $(head -n 1 "$tmp/err")"
fi
rm -f "$tree/.hunt.stat.json"
# --set DETECTOR.enabled with a value that is no yes or no: an error, as
# in the configuration file (the detector stayed on).
hunt -R "$tree" --no-state --plugin-dir "$plugins" --set beaconing.enabled=nah
if [ "$rc" -eq 2 ] && grep -q "is not yes or no" "$tmp/err"; then
	pass "--set beaconing.enabled=nah: refused"
else
	fail "--set beaconing.enabled=nah: exit $rc; $(head -n 1 "$tmp/err")"
fi
# A bad detector value: one line naming it, exit 2, and no state file
# made (it was created, 36 KB, before the detectors were tried).
hunt -R "$tree" --state "$tmp/bad.state" --plugin-dir "$plugins" \
	--set beaconing.min_conns=abc
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -q "min_conns" "$tmp/err" && [ ! -e "$tmp/bad.state" ]; then
	pass "--set beaconing.min_conns=abc: one line, no state made"
else
	fail "--set beaconing.min_conns=abc: exit $rc, $(wc -l <"$tmp/err") lines, state $(ls "$tmp/bad.state" 2>&1)"
fi
# An empty --home-net (an unset shell variable) left the defaults on.
hunt -R "$tree" --no-state --plugin-dir "$plugins" --home-net ''
if [ "$rc" -eq 2 ] && grep -q "no network given" "$tmp/err"; then
	pass "--home-net '': refused"
else
	fail "--home-net '': exit $rc; $(head -n 1 "$tmp/err")"
fi
# A home network or an allow rule written with a host address (copied
# from an interface's setting) is taken as its network: said, since the
# writer may have meant one host (an allowed 10.0.0.5/8 silences a /8).
hunt -R "$tree" --no-state --plugin-dir "$plugins" \
	--home-net 10.0.0.5/16,10.1.0.0/24 --allow '[2001:db8::1/48]:443'
if [ "$rc" -le 1 ] &&
	grep -q "^nfhunt: --home-net 10.0.0.5/16: .*taken as the network 10.0.0.0/16" "$tmp/err" &&
	grep -q "^nfhunt: --allow \[2001:db8::1/48\]:443: .*taken as the network 2001:db8::/48" "$tmp/err" &&
	! grep -q "10.1.0.0/24: bits" "$tmp/err"; then
	pass "host bits in --home-net and --allow: one line each"
else
	fail "host bits: exit $rc; $(grep -c 'bits set' "$tmp/err") lines"
fi
# One file named twice is read once, as a file under two names is: said.
one=$(find "$tree" -name 'nfcapd.[0-9]*' | sort | head -n 1)
hunt -r "$one" -r "$one" --no-state --plugin-dir "$plugins"
if [ "$rc" -le 1 ] && [ "$(files_read)" = 1 ] &&
	grep -q "1 selected files are named more than once, read once: $one" "$tmp/err"; then
	pass "-r FILE twice: read once, said"
else
	fail "-r FILE twice: exit $rc, $(files_read) files; $(head -n 1 "$tmp/err")"
fi
# Every detector disabled: a hunt by nobody would mark every file as
# analysed. Refused before a state is made; so is an empty --plugins.
hunt -R "$tree" --state "$tmp/off.state" --plugin-dir "$plugins" \
	--set port_scan.enabled=no --set beaconing.enabled=no \
	--set exfiltration.enabled=no --set volumetric.enabled=no
if [ "$rc" -eq 2 ] && grep -q "every detector is disabled" "$tmp/err" &&
	[ ! -e "$tmp/off.state" ]; then
	pass "every detector disabled: refused, no state"
else
	fail "every detector disabled: exit $rc; $(head -n 1 "$tmp/err")"
fi
hunt -R "$tree" --no-state --plugin-dir "$plugins" --plugins ''
if [ "$rc" -eq 2 ]; then
	pass "--plugins '': refused"
else
	fail "--plugins '': exit $rc"
fi
# Options that contradict each other are refused, not one of them
# silently dropped.
bad=0
for args in "--dump --count" "--state $tmp/x.state --no-state" \
	"--dump --output $tmp/x.json"; do
	# shellcheck disable=SC2086
	hunt -R "$tree" --plugin-dir "$plugins" $args
	[ "$rc" -eq 2 ] || { bad=1; echo "  $args: exit $rc"; }
done
hunt -R "$tree" --no-state --plugin-dir "$plugins" \
	-t 2024/03/04.01:00-2024/03/04.00:30
grep -q "ends before it starts" "$tmp/err" || bad=1
if [ "$bad" -eq 0 ]; then
	pass "contradicting options and a reversed -t: refused, said so"
else
	fail "contradicting options: $(head -n 1 "$tmp/err")"
fi
# --dump into head(1): what the reader asked for, quietly, exit 0.
timeout -s KILL "$tmo" "$nfhunt" --dump -R "$tree" 2>"$tmp/err" | head -n 2 \
	>/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then
	pass "--dump | head: exit 0, nothing on stderr"
else
	fail "--dump | head: exit $rc; $(head -n 1 "$tmp/err")"
fi
# Another program's SQLite database named as the state: refused, and
# not given nfhunt's tables.
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 -c 'import sqlite3,sys
c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' \
		"$tmp/other.sqlite"
	hunt -R "$tree" --state "$tmp/other.sqlite" --plugin-dir "$plugins"
	tables=$(/usr/bin/python3 -c 'import sqlite3,sys
print(len(sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master where type=\"table\"").fetchall()))' "$tmp/other.sqlite")
	if [ "$rc" -eq 2 ] && grep -q "another program" "$tmp/err" &&
		[ "$tables" = 1 ]; then
		pass "another program's database as the state: refused, untouched"
	else
		fail "another program's database as --state: exit $rc, $tables tables; $(head -n 1 "$tmp/err")"
	fi
fi

# A window ending to the second ends at that instant, as nfdump's does:
# records ending within the last second are not counted (they were).
# So does one ending to the minute (it covered the minute: 1,166 flows
# more than nfdump in an hour's window).
if command -v nfdump >/dev/null 2>&1; then
	for win in 2024/03/04.00:30:00-2024/03/04.00:47:00 \
		2024/03/04.00:30-2024/03/04.00:47; do
		want=$(TZ=UTC nfdump -R "$tree" -t "$win" -q -o "fmt:%ts" \
			2>/dev/null | wc -l)
		TZ=UTC hunt -R "$tree" -t "$win" --count
		got=$(sed -n 's/.* flows \([0-9]*\) .*/\1/p' "$tmp/out" \
			"$tmp/err" | head -n 1)
		if [ "$rc" -eq 0 ] && [ -n "$got" ] && [ "$got" -eq "$want" ] &&
			[ "$want" -gt 0 ]; then
			pass "-t $win: $got flows, as nfdump"
		else
			fail "-t $win: $got flows (exit $rc), nfdump $want"
		fi
	done
else
	echo "SKIP: -t against nfdump: nfdump not installed"
fi

# A window that misses every file (a typo in its year) says so, as an
# empty directory does; it was a quiet "0 findings", exit 0.
TZ=UTC hunt -R "$tree" --no-state --plugin-dir "$plugins" \
	-t 2034/03/04.00:30-2034/03/04.00:47
if [ "$rc" -eq 0 ] && grep -q "^nfhunt: -t .*: none of the [0-9]* selected files holds a flow" "$tmp/err"; then
	pass "-t missing every file: one warning"
else
	fail "-t missing every file: exit $rc; $(head -n 2 "$tmp/err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
