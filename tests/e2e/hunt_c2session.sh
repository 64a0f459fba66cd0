#!/bin/bash
# hunt_c2session.sh - a C2 channel held open for hours, through a real
# exporter and a real nfcapd: c2session.py writes five and a half hours
# of traffic as a pcap (real TCP segments: one connection from 10.20.0.66
# to 203.0.113.66:443 kept for 5 h with a poll and an answer every 30 s;
# an admin's SSH session as long; three hosts' long connections to one
# chat service; browsing) in six parts of 55 minutes; softflowd replays
# each as NetFlow v9 into an nfcapd of its own on 127.0.0.1 (so each
# session is cut into pieces at the parts' ends, as an exporter's
# timeouts cut it).
#
# Checked:
#   - nfdump (the oracle) sees the channel's packets from its first to its
#     last;
#   - the hunt reports it as a persistent session (key
#     persist|10.20.0.66|203.0.113.66|tcp/443) at medium, from nfdump's
#     first to its last packet (to the second), and nothing else: the SSH
#     session, the chat service three hosts use and the browsing raise
#     nothing;
#   - hunted part by part with one state (each 55-minute part's files
#     handed over, then --since last, as cron runs it hourly), the same
#     finding comes once the session is 4 hours old;
#   - beaconing.persistent=6h gives nothing.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump, softflowd or python3 with scapy is missing, 99
# when nfhunt is not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir c2session
export TZ=UTC

build_pcaps c2session.py "$tmp/c2" "frames, the channel's first and last packet"
read -r _ want_first want_last <<<"$built"

# Each part into an nfcapd of its own, one directory each: nfcapd names
# its files by arrival time, and the hourly hunts below must see the
# parts one after the other.
sf_total=0 sf_fail=
for part in "$tmp"/c2.*.pcap; do
	k=$(basename "$part" .pcap)
	k=${k#c2.}
	mkdir -p "$tmp/capd/h$k"
	if ! capd_start "$tmp/capd/h$k" 127.0.0.1 -t 3600 -B 8388608 -I c2session; then
		sf_fail="nfcapd did not start for part $k"
		break
	fi
	replay_parts "$tmp/sf.pid" "$part" || sf_fail=${sf_fail:-$sf_error}
	sf_total=$((sf_total + sf_exported))
	sleep 0.5
	stop_capd || sf_fail=${sf_fail:-"nfcapd did not stop on SIGTERM"}
	# Its log out of the tree that nfdump and nfhunt read.
	mv "$tmp/capd/h$k.log" "$tmp/"
done
if [ -z "$sf_fail" ]; then
	pass "softflowd exported $sf_total flows in 6 parts"
else
	fail "$sf_fail"
	finish
fi

# The oracle: the channel's first and last packet as nfdump reads them
# (epoch seconds), over all of its records.
read -r first last < <(nfdump -R "$tmp/capd" -q -N -o 'fmt:%ts %te' \
	'host 10.20.0.66 and host 203.0.113.66 and port 443' 2>/dev/null |
	"$py" -c '
import sys, calendar, time
lo = hi = None
for line in sys.stdin:
    p = line.split()
    if len(p) < 4:
        continue
    t = [calendar.timegm(time.strptime(p[i] + " " + p[i + 1].split(".")[0],
                                       "%Y-%m-%d %H:%M:%S")) for i in (0, 2)]
    lo = t[0] if lo is None else min(lo, t[0])
    hi = t[1] if hi is None else max(hi, t[1])
print(lo, hi)')
# softflowd's times come through the exporter's uptime clock, within a
# second of the packets'.
if [ -n "${first:-}" ] && [ $((first - want_first)) -ge -1 ] &&
	[ $((first - want_first)) -le 1 ] && [ $((last - want_last)) -ge -1 ] &&
	[ $((last - want_last)) -le 1 ]; then
	pass "nfdump: the channel from $first to $last"
else
	fail "nfdump: the channel from ${first:-?} to ${last:-?} (pcap: $want_first to $want_last)"
fi

hunt() {
	timeout "$tmo" "$nfhunt" --no-config --plugin-dir "$plugins" \
		--home-net 10.20.0.0/16 --alert-level info -o ndjson "$@" \
		2>>"$tmp/hunt.err"
}
hunt -R "$tmp/capd" --no-state >"$tmp/all.ndjson"
hunt -R "$tmp/capd" --no-state --set beaconing.persistent=6h >"$tmp/bar.ndjson"

# Hour by hour: each part's files handed over, then a run with one state
# over what is new (as cron does after nfcapd has rotated them).
mkdir -p "$tmp/hourly"
: >"$tmp/hours.ndjson"
for k in 00 01 02 03 04 05; do
	cp -r "$tmp/capd/h$k" "$tmp/hourly/h$k"
	hunt -R "$tmp/hourly" --state "$tmp/hourly.state" --since last |
		sed "s/^/$k /" >>"$tmp/hours.ndjson"
done

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" "${first:-0}" "${last:-0}" <<'EOF'
import calendar, json, sys, time
from checks import check, load_ndjson
tmp, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    return load_ndjson(tmp, name)
def epoch(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))
key = "persist|10.20.0.66|203.0.113.66|tcp/443"
found = load("all")
c2 = [f for f in found if f["evidence"].get("kind") == "persistent_session"]
c = c2[0] if c2 else None
check(c is not None and c["src"] == "10.20.0.66" and c["dst"] == "203.0.113.66"
      and c["dst_port"] == 443 and c["severity"] == "medium"
      and c["type"] == "beaconing",
      "the channel is found at medium: %s" % (c["summary"] if c else found))
if c:
    check(epoch(c["first_seen"]) == first and epoch(c["last_seen"]) == last,
          "from nfdump's first to its last packet: %s .. %s"
          % (c["first_seen"], c["last_seen"]))
others = [f["summary"] for f in found if f is not c]
check(not others, "nothing else is found: %s" % others)
check(not load("bar"), "nothing with beaconing.persistent=6h")
hours = []
with open("%s/hours.ndjson" % tmp) as f:
    for line in f:
        hour, rest = line.split(" ", 1)
        hours.append((hour, json.loads(rest)))
hit = [h for h, f in hours if f["evidence"].get("kind") == "persistent_session"]
rest = [f["summary"] for h, f in hours
        if f["evidence"].get("kind") != "persistent_session"]
# Part k holds 08:00 + 55k min onwards; the channel (from 08:05) is 4 h
# old in part 4 (11:40-12:35).
check(hit and hit[0] == "04" and hit[-1] == "05",
      "hourly runs with one state find it once it is 4 h old: parts %s" % hit)
check(not rest, "hourly runs find nothing else: %s" % rest)
EOF
)
tally "$out" $?
finish
