#!/bin/bash
# hunt_quietbeacons.sh - beacons that a plain regularity score misses or
# over-rates, through a real exporter and a real nfcapd: quietbeacons.py
# writes six and a half hours of a small site's night (real TCP segments
# and UDP datagrams) as a pcap; softflowd replays it as NetFlow v9 into
# nfcapd on 127.0.0.1.
#
# Checked:
#   - nfdump (the oracle) counts the jittered beacon's 16 connections;
#   - the jittered beacon (16 beats, +-30% of a 25-minute period, over
#     six hours) is found at medium by the dispersion of its intervals
#     ("jittered" in the summary), with nfdump's 16 connections;
#   - the keepalive four hosts share (every 300 s, a destination no other
#     host uses in the window) is one medium finding for the destination,
#     "one campaign" (evidence campaign), not four medium beacons;
#   - C2 on udp/123 with 1400-byte datagrams every minute for 5 h (one
#     socket: a persistent session) is found at medium, not passed over
#     as NTP; with beaconing.quiet_max_bytes=4000 it is taken for NTP and
#     not reported;
#   - the NTP client's 48-byte polls and the browsing raise nothing.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump, softflowd or python3 with scapy is missing, 99
# when nfhunt is not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir quietbeacons
export TZ=UTC

build_pcaps quietbeacons.py "$tmp/qb" "frames, the jittered beacon's connections"
read -r _ want_beats <<<"$built"

capture_pcaps "$tmp/capd" quietbeacons "$tmp/qb.00.pcap"

# The oracle: the jittered beacon's connections (its client's records
# towards the server's port).
oracle=$(nfdump -R "$tmp/capd" -q -N -o 'fmt:%ts' \
	'src host 10.30.0.50 and dst host 203.0.113.70 and dst port 443' \
	2>/dev/null | grep -c .)
if [ "$oracle" = "$want_beats" ]; then
	pass "nfdump: the jittered beacon's $oracle connections"
else
	fail "nfdump: $oracle connections of the jittered beacon (pcap: $want_beats)"
fi

hunt() {
	timeout "$tmo" "$nfhunt" --no-config --plugin-dir "$plugins" \
		--home-net 10.30.0.0/16 --alert-level info -o ndjson --no-state \
		-R "$tmp/capd" "$@" 2>>"$tmp/hunt.err"
}
hunt >"$tmp/all.ndjson"
hunt --set beaconing.quiet_max_bytes=4000 >"$tmp/ntpbytes.ndjson"

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" "$oracle" <<'EOF'
import json, sys
from checks import check, load_ndjson
tmp, oracle = sys.argv[1], int(sys.argv[2])
def load(name):
    return load_ndjson(tmp, name)
found = load("all")
beacons = [f for f in found if f["type"] == "beaconing"]
def key(f):
    return "%s|%s|%s" % (f["src"], f["dst"], f["dst_port"])
j = [f for f in beacons if f["src"] == "10.30.0.50"]
jf = j[0] if j else None
check(jf is not None and jf["severity"] == "medium"
      and jf["dst"] == "203.0.113.70"
      and "jittered" in jf["summary"]
      and jf["evidence"]["reading"] == "dispersion"
      and jf["evidence"]["connections"] == oracle,
      "the jittered beacon at medium, by its dispersion: %s"
      % (jf["summary"] if jf else [key(f) for f in beacons]))
k = [f for f in beacons if f["dst"] == "198.18.7.7"]
kf = k[0] if len(k) == 1 else None
check(kf is not None and kf["src"] is None and kf["severity"] == "medium"
      and kf["evidence"].get("campaign") is True
      and kf["evidence"].get("clients") == 4
      and "one campaign" in kf["summary"],
      "the keepalive of four hosts is one finding: %s"
      % ([f["summary"] for f in k]))
n = [f for f in beacons if f["dst"] == "203.0.113.123"]
nf = n[0] if n else None
check(nf is not None and nf["src"] == "10.30.0.60" and nf["dst_port"] == 123
      and nf["proto"] == "udp" and nf["severity"] == "medium"
      and nf["evidence"].get("kind") == "persistent_session",
      "C2 on udp/123 with 1400-byte datagrams is found: %s"
      % (nf["summary"] if nf else [f["summary"] for f in beacons]))
others = [f["summary"] for f in found if f not in (jf, kf, nf)]
check(not others, "nothing else (NTP client, browsing): %s" % others)
quiet = [f["summary"] for f in load("ntpbytes") if f["dst"] == "203.0.113.123"]
check(not quiet, "with quiet_max_bytes=4000 it is taken for NTP: %s" % quiet)
EOF
)
tally "$out" $?
finish
