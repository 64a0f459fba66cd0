#!/bin/bash
# End-to-end: the real nfhunt in the surroundings a site gives it, each
# case one that once broke it:
#   * a flow tree with a symlink back to an ancestor and a second name
#     for a directory: each capture file is read once (nfdump -r on the
#     real files is the oracle for the count);
#   * a JSON flow file where an exporter lost its clock (records of 1970
#     and 2100 among records of 2024): the hunt ends (it passed every
#     5-minute slot of decades), says so in one line naming the file, and
#     reports the window of the good records;
#   * a JSON flow file with three damaged records (a flipped high bit:
#     2^57 bytes in 8 packets, twice; 2^56 packets): left out, in one
#     line naming the file; no finding of petabytes (two lows read
#     "144.1 PB in 5 min");
#   * a plugin directory holding a detector cut short: refused with a
#     reason, the others load (dlopen of it died of SIGBUS);
#   * --output into a FIFO: written into, the FIFO stays (a rename over
#     a device replaced /dev/null as root).
# Last line: "N passed, N failed". Exit 0 if all passed, 77 without
# nfdump, 99 if nfhunt or its test tools are not built.
#
# Environment: NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR, SYS_PYTHON3;
# NFH_E2E_KEEP=1 keeps the temp dir.

set -u

. "$(dirname "$0")/e2e_lib.sh"

if [ ! -x "$nfhunt" ] || [ ! -x "$writefile" ]; then
	echo "ERROR: $nfhunt or $writefile not built"
	exit 99
fi
if ! command -v nfdump >/dev/null 2>&1; then
	echo "SKIP: no nfdump"
	exit 77
fi

e2e_tmpdir hostile

# ------------------------------------------------- symlinks in the tree
flows=$tmp/flows
mkdir -p "$flows/2024/01/01"
for s in 11 12; do
	"$writefile" -n 3000 -c lz4 -s "$s" \
		"$flows/2024/01/01/nfcapd.2024010100$s" >/dev/null 2>"$tmp/w.err" || {
		echo "ERROR: nfh-writefile failed: $(head -n 1 "$tmp/w.err")"
		exit 99
	}
done
ln -s .. "$flows/2024/01/01/up"  # a cycle
ln -s 2024 "$flows/also-2024"     # the same files under other names
want=0
for f in "$flows"/2024/01/01/nfcapd.*; do
	n=$(nfdump -r "$f" -q -o 'fmt:%sa' 2>/dev/null | wc -l)
	want=$((want + n))
done
got=$(timeout -s KILL "$tmo" "$nfhunt" -R "$flows" --count 2>/dev/null |
	sed -n 's/^files \([0-9]*\) .* flows \([0-9]*\) .*/\1 \2/p')
if [ "$got" = "2 $want" ]; then
	pass "a symlink cycle and a second name: 2 files, $want flows, as nfdump -r reads them"
else
	fail "symlinked tree: nfhunt read '$got' (files flows), want '2 $want'"
fi

# ------------------------------------------------- a directory of nothing
# A cron job pointed at the wrong directory: said on stderr (as nfdump's
# "Empty file list"), not reported as a quiet hour.
mkdir -p "$tmp/empty"
timeout -s KILL "$tmo" "$nfhunt" -R "$tmp/empty" --plugin-dir "$plugins" \
	--no-state -q >/dev/null 2>"$tmp/empty.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "no capture files selected ($tmp/empty)" "$tmp/empty.err"; then
	pass "a directory without capture files: exit 0, and stderr says so"
else
	fail "a directory without capture files: exit $rc; '$(head -n 1 "$tmp/empty.err")'"
fi

# ------------------------------------------- a file nfcapd never closed
# Its header as nfcapd writes it at open (no data block, no appendix),
# the blocks after it: nfdump reads nothing, and so does nfhunt, but it
# says so instead of passing it off as a quiet slot.
open_file=$tmp/nfcapd.202401010030
cp "$flows/2024/01/01/nfcapd.202401010011" "$open_file"
"$py" - "$open_file" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(18); f.write(b"\0\0")          # appendixBlocks
    f.seek(36); f.write(b"\0\0\0\0")      # NumBlocks
PY
nfd=$(nfdump -r "$open_file" -q -o 'fmt:%sa' 2>/dev/null | grep -c '[0-9]')
timeout -s KILL "$tmo" "$nfhunt" -r "$open_file" --count >"$tmp/open.out" 2>"$tmp/open.err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$nfd" -eq 0 ] &&
	grep -q "^files 1 failed 0 flows 0 " "$tmp/open.out" &&
	[ "$(grep -c "^nfhunt: $open_file: not closed by nfcapd" "$tmp/open.err")" -eq 1 ]; then
	pass "a file nfcapd never closed: read as empty as nfdump does, and one line says so"
else
	fail "a file nfcapd never closed: exit $rc, nfdump $nfd flows; $(cat "$tmp/open.out" "$tmp/open.err" | head -n 2)"
fi

# ------------------------------------------------ an exporter's lost clock
json=$tmp/clock.json
"$py" - "$json" <<'PY'
import json, sys
t0 = 1704067200  # 2024-01-01 00:00 UTC
with open(sys.argv[1], "w") as out:
    for i in range(200):
        first = t0 + 10 * i
        if i == 50:
            first = 1            # 1970
        if i == 120:
            first = 4102444800   # 2100
        out.write(json.dumps({
            "IPV4_SRC_ADDR": "10.0.0.%d" % (i % 20 + 1),
            "IPV4_DST_ADDR": "192.0.2.%d" % (i % 7 + 1),
            "L4_SRC_PORT": 40000 + i, "L4_DST_PORT": 443, "PROTOCOL": 6,
            "IN_BYTES": 800, "IN_PKTS": 6, "TCP_FLAGS": 27,
            "FIRST_SWITCHED": first, "LAST_SWITCHED": first + 2}) + "\n")
PY
timeout -s KILL "$tmo" "$nfhunt" --flow-file "$json" --plugin-dir "$plugins" \
	--no-state -o json >"$tmp/clock.out" 2>"$tmp/clock.err"
rc=$?
if [ "$rc" -le 1 ]; then
	pass "records of 1970 and 2100 among 2024's: the hunt ends (exit $rc)"
else
	fail "records of 1970 and 2100: exit $rc (hang, crash or error)"
	head -n 3 "$tmp/clock.err"
fi
lines=$(grep -c "^nfhunt: $json: 2 flow records with impossible times" "$tmp/clock.err")
if [ "$lines" -eq 1 ]; then
	pass "... one line names the file and counts the 2 records"
else
	fail "... $lines lines about them: $(head -n 2 "$tmp/clock.err")"
fi
window=$("$py" -c 'import json, sys
w = json.load(open(sys.argv[1]))["window"]
print(w["start"][:4], w["end"][:4])' "$tmp/clock.out" 2>/dev/null)
if [ "$window" = "2024 2024" ]; then
	pass "... the report's window is the good records' ($window)"
else
	fail "... the report's window spans '$window'"
fi

# ------------------------------------------ counters no traffic has
json=$tmp/flip.json
"$py" - "$json" <<'PY'
import json, sys
t0 = 1704096000  # 2024-01-01 08:00 UTC
with open(sys.argv[1], "w") as out:
    for i in range(300):
        first = t0 + 12 * i
        rec = {"IPV4_SRC_ADDR": "10.0.0.%d" % (i % 20 + 1),
               "IPV4_DST_ADDR": "192.0.2.%d" % (i % 7 + 1),
               "L4_SRC_PORT": 40000 + i, "L4_DST_PORT": 443, "PROTOCOL": 6,
               "IN_BYTES": 1800, "IN_PKTS": 8, "TCP_FLAGS": 27,
               "FIRST_SWITCHED": first, "LAST_SWITCHED": first + 2}
        if i in (100, 101):
            rec["IPV4_DST_ADDR"] = "203.0.113.9"
            rec["IN_BYTES"] = 1800 + (1 << 57)
        if i == 102:
            rec["IN_PKTS"] = 8 + (1 << 56)
        out.write(json.dumps(rec) + "\n")
PY
timeout -s KILL "$tmo" "$nfhunt" --flow-file "$json" --plugin-dir "$plugins" \
	--no-state --alert-level info -o ndjson >"$tmp/flip.out" 2>"$tmp/flip.err"
rc=$?
lines=$(grep -c "^nfhunt: $json: 3 flow records with impossible counters" "$tmp/flip.err")
if [ "$rc" -le 1 ] && [ "$lines" -eq 1 ]; then
	pass "damaged counters (2^57 bytes in 8 packets): left out, one line names the file (exit $rc)"
else
	fail "damaged counters: exit $rc, $lines lines about them: $(head -n 2 "$tmp/flip.err")"
fi
if ! grep -q -E '[0-9.]+ [PE]B' "$tmp/flip.out"; then
	pass "... no finding of petabytes ($(grep -c . "$tmp/flip.out") findings)"
else
	fail "... $(grep -E '[0-9.]+ [PE]B' "$tmp/flip.out" | head -n 1 | cut -c 1-200)"
fi

# ------------------------------------------------- a detector cut short
pdir=$tmp/plugins
mkdir -p "$pdir"
nreal=0
for so in "$plugins"/*.so; do
	cp -L "$so" "$pdir/"
	nreal=$((nreal + 1))
done
real=$(ls "$pdir" | head -n 1)
head -c 3000 "$pdir/$real" >"$pdir/cut-$real"
timeout -s KILL "$tmo" "$nfhunt" --list-plugins --plugin-dir "$pdir" \
	>"$tmp/list.out" 2>"$tmp/list.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "cut-$real: cannot load: cut short" "$tmp/list.err" &&
	grep -q "^$nreal detectors\? in" "$tmp/list.out"; then
	pass "a detector cut short is refused with a reason; the $nreal others load"
else
	fail "a detector cut short: exit $rc; $(head -n 2 "$tmp/list.err")"
fi

# ------------------------------------------------------ --output a FIFO
fifo=$tmp/report.fifo
mkfifo "$fifo"
# (bounded: a FIFO replaced by a file would never be opened for writing)
timeout -s KILL "$tmo" cat "$fifo" >"$tmp/fifo.out" &
reader=$!
timeout -s KILL "$tmo" "$nfhunt" -R "$flows/2024" --plugin-dir "$plugins" \
	--no-state --output "$fifo" -q >/dev/null 2>"$tmp/fifo.err"
rc=$?
wait "$reader"
if [ "$rc" -le 1 ] && [ -p "$fifo" ] &&
	"$py" -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/fifo.out" 2>/dev/null; then
	pass "--output into a FIFO: written into (valid JSON), the FIFO stays"
else
	fail "--output into a FIFO: exit $rc; FIFO $( [ -p "$fifo" ] && echo stays || echo replaced)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
