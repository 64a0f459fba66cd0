#!/bin/bash
# hunt_slowloris.sh - a slowloris attack through a real exporter and a
# real nfcapd: slowloris.py writes eight minutes of web traffic as pcaps
# (real TCP segments: 150 sockets of slowloris against 10.20.0.80:80,
# each connection held 40 s with a header line every 10 s until the
# server's 408; browsers fetching pages; a NAT gateway with 80 answered
# keep-alive connections at once; one idle websocket), in four files of
# two minutes; softflowd replays them one after the other as NetFlow v9
# into nfcapd on 127.0.0.1.
#
# Checked:
#   - nfdump (the oracle) sees the attack's connections (one source port
#     each);
#   - the hunt reports a held-connection flood (key
#     held|in|203.0.113.77|10.20.0.80|80) at medium, T1499.002, with
#     nfdump's count of connections as stalled, about 150 held at once,
#     and nothing else: the browsers, the NAT gateway and the websocket
#     are no flood;
#   - with volumetric.held_min_concurrent=200 (more than the 150 sockets)
#     or held_max_keys=0 (off) nothing is found.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump, softflowd or python3 with scapy is missing, 99
# when nfhunt is not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir slowloris
export TZ=UTC

build_pcaps slowloris.py "$tmp/web" "frames, slowloris connections, files"
read -r _ want_conns _ <<<"$built"

capture_pcaps "$tmp/capd" slowloris "$tmp"/web.*.pcap

# The oracle: the attack's connections, one source port each.
conns=$(nfdump -R "$tmp/capd" -q -N -o 'fmt:%sp' \
	'src host 203.0.113.77 and dst host 10.20.0.80 and dst port 80' \
	2>/dev/null | sort -u | grep -c .)
if [ "${conns:-0}" = "$want_conns" ]; then
	pass "nfdump: $conns slowloris connections"
else
	fail "nfdump: ${conns:-no} slowloris connections (the pcap has $want_conns)"
fi

hunt() {
	timeout "$tmo" "$nfhunt" -R "$tmp/capd" --no-state --no-config \
		--plugin-dir "$plugins" --home-net 10.20.0.0/16 \
		--alert-level info -o ndjson "$@" 2>>"$tmp/hunt.err"
}
hunt >"$tmp/all.ndjson"
hunt --set volumetric.held_min_concurrent=200 >"$tmp/bar.ndjson"
hunt --set volumetric.held_max_keys=0 >"$tmp/off.ndjson"

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" "${conns:-0}" <<'EOF'
import json, sys
from checks import check, load_ndjson
tmp, conns = sys.argv[1], int(sys.argv[2])
def load(name):
    return load_ndjson(tmp, name)
found = load("all")
held = [f for f in found if f["evidence"].get("kind") == "held_connections"]
h = held[0] if held else None
check(h is not None and h["src"] == "203.0.113.77" and h["dst"] == "10.20.0.80"
      and h["dst_port"] == 80 and h["severity"] == "medium"
      and h["type"] == "volumetric",
      "the slowloris is found at medium: %s" % (h["summary"] if h else found))
if h:
    ev = h["evidence"]
    check(ev["stalled_connections"] == conns and ev["other_connections"] == 0,
          "its connections (%d stalled, %d other) are nfdump's (%d)"
          % (ev["stalled_connections"], ev["other_connections"], conns))
    check(120 <= ev["held_at_once"] <= 155,
          "about 150 held at once: %d" % ev["held_at_once"])
    check(h["mitre"] == ["T1499.002"], "ATT&CK T1499.002: %s" % h["mitre"])
others = [f["summary"] for f in found if f is not h]
check(not others, "nothing else is found: %s" % others)
check(not load("bar"), "nothing with held_min_concurrent=200")
check(not load("off"), "nothing with held_max_keys=0")
EOF
)
tally "$out" $?
finish
