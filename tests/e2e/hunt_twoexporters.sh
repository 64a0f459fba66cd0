#!/bin/bash
# hunt_twoexporters.sh - two routers on one path export the same traffic
# to one nfcapd: every flow is in the files twice, once per exporter, and
# nfhunt must count it once.
#
# nfhunt-gen exports the same hour (an upload of 400 MB to a rare host, a
# beacon every minute, 100 users' background) as NetFlow v9 to a real
# nfcapd on 127.0.0.1:
#   - one: exporter source id 1 alone;
#   - two: source ids 1 and 2 at once, both paced at 120 times the
#     scenario's speed, so that their records arrive interleaved as two
#     routers' would.
# nfdump (the oracle) must count twice the records in two; nfhunt must
# see two exporters there, report about one copy of the records as seen
# twice, and find the same threats with the same byte counts as in one:
# the upload's bytes and the beacon's bytes per connection not doubled.
# Then the same scenario written by nfhunt-gen as hourly files (-t 3600)
# into one directory per exporter, hunted with -M dir1:dir2: the files of
# one hour are read together, so every copy is found (all but a handful),
# the connections and findings are one directory's, and the volumetric
# detector judges no bytes late.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump or python3 is missing, 99 when the programs are not
# built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump
e2e_need_python
e2e_need_built "$gen" "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_tmpdir twoexporters
export TZ=UTC

args="-b 2024-03-05T10:00Z -d 1h -s 11 -u 100 --proto v9 --speedup 120
      -i bulk_exfiltration:size=400M,duration=10m,streams=1
      -i beacon:period=60s,jitter=5,duration=1h"

# capture NAME IDS...: one nfcapd, an export per source id, all at once.
capture() {
	local name=$1 id pids="" ok=1
	shift
	mkdir -p "$tmp/$name"
	if ! capd_start "$tmp/$name" 127.0.0.1 -t 3600 -B 16777216 -I "$name"; then
		fail "$name: nfcapd did not start"
		return 1
	fi
	for id in "$@"; do
		# shellcheck disable=SC2086 # options are words
		timeout 300 "$gen" $args --exporter-id "$id" \
			--export "127.0.0.1:$port" \
			-l "$tmp/$name.$id.labels.json" -q &
		pids="$pids $!"
	done
	for id in $pids; do
		wait "$id" || ok=0
	done
	if [ "$ok" = 1 ]; then
		pass "$name: nfhunt-gen exported as source id(s) $*"
	else
		fail "$name: an nfhunt-gen --export failed"
	fi
	sleep 0.5
	stop_capd || fail "$name: nfcapd did not stop on SIGTERM"
}

capture one 1
capture two 1 2
for name in one two; do
	timeout "$tmo" "$nfhunt" -R "$tmp/$name" --no-state --no-config \
		--plugin-dir "$plugins" --home-net 10.0.0.0/16,10.1.0.0/24 \
		--output "$tmp/$name.json" >/dev/null 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -le 1 ]; then
		pass "$name: hunted (exit $rc)"
	else
		fail "$name: nfhunt exit $rc: $(head -c 400 "$tmp/$name.err")"
	fi
	nfdump -R "$tmp/$name" -o null 2>/dev/null |
		sed -n 's/^Total flows processed: \([0-9]*\),.*/\1/p' \
			>"$tmp/$name.nfdump"
done

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" <<'EOF'
import json, sys
from checks import check
tmp = sys.argv[1]
rep = {n: json.load(open("%s/%s.json" % (tmp, n))) for n in ("one", "two")}
nfd = {n: int(open("%s/%s.nfdump" % (tmp, n)).read() or 0)
       for n in ("one", "two")}
i1, i2 = rep["one"]["inputs"], rep["two"]["inputs"]
check(nfd["one"] > 10000 and nfd["two"] == 2 * nfd["one"],
      "nfdump counts %d records in two, twice one's %d"
      % (nfd["two"], nfd["one"]))
check(i1["flows"] == nfd["one"] and i2["flows"] == nfd["two"],
      "nfhunt reads what nfdump counts: %d, %d" % (i1["flows"], i2["flows"]))
check(i1["exporters"] == 1 and i2["exporters"] == 2,
      "exporters: %d and %d" % (i1["exporters"], i2["exporters"]))
check(i1["duplicate_flows"] == 0
      and 0.99 * i1["flows"] <= i2["duplicate_flows"] <= i1["flows"],
      "records seen twice: %d of %d in two (one: %d)"
      % (i2["duplicate_flows"], i2["flows"], i1["duplicate_flows"]))
check(abs(i2["connections"] - i1["connections"]) <= 0.01 * i1["connections"],
      "connections: %d and %d" % (i1["connections"], i2["connections"]))

def by_key(r):
    return {(f["type"], f["src"], f["dst"]): f for f in r["findings"]
            if f["severity"] in ("critical", "high", "medium")}
f1, f2 = by_key(rep["one"]), by_key(rep["two"])
check(f1 and set(f1) == set(f2),
      "the same findings at medium or above: %s / %s"
      % (sorted(f1), sorted(f2)))
labels = json.load(open("%s/one.1.labels.json" % tmp))
sink = [a for a in labels["activities"] if a["kind"] == "bulk_exfiltration"]
c2 = [a for a in labels["activities"] if a["kind"] == "beacon"]
up = [f for k, f in f2.items() if k[0] == "exfiltration"
      and sink and f["dst"] in sink[0]["dst"]]
check(up and 0.9 * 400e6 <= up[0]["evidence"]["bytes_out"] <= 1.1 * 400e6,
      "the upload's bytes in two: %s (400 MB sent)"
      % (up[0]["evidence"]["bytes_out"] if up else "not found"))
b1 = [f for k, f in f1.items() if k[0] == "beaconing"]
b2 = [f for k, f in f2.items() if k[0] == "beaconing"]
check(b1 and b2 and b1[0]["evidence"]["bytes_per_conn"]
      == b2[0]["evidence"]["bytes_per_conn"]
      and b1[0]["evidence"]["connections"]
      == b2[0]["evidence"]["connections"],
      "the beacon's connections and bytes per connection: %s / %s"
      % ([(f["evidence"]["connections"], f["evidence"]["bytes_per_conn"])
          for f in b1], [(f["evidence"]["connections"],
                          f["evidence"]["bytes_per_conn"]) for f in b2]))
EOF
)
tally "$out" $?

# Hourly files, a directory per exporter.
hourly="-b 2024-03-05T10:00Z -d 3h -s 11 -u 100 -t 3600
        -i bulk_exfiltration:size=400M,duration=10m,streams=1
        -i beacon:period=60s,jitter=5,duration=3h"
for id in 1 2; do
	# shellcheck disable=SC2086 # options are words
	timeout 300 "$gen" $hourly --exporter "192.0.2.$id" --exporter-id "$id" \
		-w "$tmp/hourly/r$id" -l "$tmp/hourly$id.labels.json" -q ||
		fail "hourly: nfhunt-gen -w r$id failed"
done
timeout "$tmo" "$nfhunt" -R "$tmp/hourly/r1" --no-state --no-config \
	--plugin-dir "$plugins" --home-net 10.0.0.0/16,10.1.0.0/24 \
	--output "$tmp/hourly1.json" >/dev/null 2>"$tmp/hourly1.err"
timeout "$tmo" "$nfhunt" -M "$tmp/hourly/r1:r2" -R . --no-state --no-config \
	--plugin-dir "$plugins" --home-net 10.0.0.0/16,10.1.0.0/24 \
	--output "$tmp/hourly2.json" >/dev/null 2>"$tmp/hourly2.err"
if grep -q 'after their slot was judged' "$tmp/hourly2.err"; then
	fail "hourly: $(grep 'after their slot' "$tmp/hourly2.err")"
else
	pass "hourly: no bytes judged after their slot"
fi
out=$(PYTHONPATH="$e2e" "$py" - "$tmp" <<'EOF'
import json, sys
from checks import check
tmp = sys.argv[1]
one = json.load(open("%s/hourly1.json" % tmp))
two = json.load(open("%s/hourly2.json" % tmp))
i1, i2 = one["inputs"], two["inputs"]
check(i1["files"] == 3 and i2["files"] == 6 and i2["flows"] == 2 * i1["flows"],
      "hourly: %d and %d files, %d and %d records"
      % (i1["files"], i2["files"], i1["flows"], i2["flows"]))
check(i1["flows"] - 10 <= i2["duplicate_flows"] <= i1["flows"] + 10
      and i2["connections"] == i1["connections"],
      "hourly: %d of %d records seen twice, %d and %d connections"
      % (i2["duplicate_flows"], i2["flows"], i1["connections"],
         i2["connections"]))
key = lambda r: sorted((f["type"], f["severity"], f["src"], f["dst"])
                       for f in r["findings"])
check(key(one) and key(one) == key(two),
      "hourly: the same findings: %s / %s" % (key(one), key(two)))
EOF
)
tally "$out" $?

# One exporter's files in two directories (two collectors of it: an HA
# pair): its records count twice, as in nfdump -M; that is said, naming
# both files. Two exporters' directories are not.
cp -r "$tmp/hourly/r1" "$tmp/hourly/r1copy"
timeout "$tmo" "$nfhunt" -M "$tmp/hourly/r1:r1copy" -R . --no-state \
	--no-config --plugin-dir "$plugins" --home-net 10.0.0.0/16,10.1.0.0/24 \
	-o ndjson >/dev/null 2>"$tmp/copies.err"
if grep -q 'exporter 192.0.2.1 (v9 id 1) is in .*/r1/.* and in .*/r1copy/.*two collectors' \
	"$tmp/copies.err" && ! grep -q 'two collectors' "$tmp/hourly2.err"; then
	pass "copies: one exporter in two directories is said, two exporters not"
else
	fail "copies: $(head -c 300 "$tmp/copies.err")"
fi

if grep -q 'seen twice' "$tmp/two.err" 2>/dev/null ||
	"$nfhunt" -R "$tmp/two" --no-state --no-config --plugin-dir "$plugins" \
		--home-net 10.0.0.0/16,10.1.0.0/24 2>/dev/null |
	grep -q '^seen twice: .* counted once'; then
	pass "two: the terminal summary says records were seen twice"
else
	fail "two: no 'seen twice' line"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
