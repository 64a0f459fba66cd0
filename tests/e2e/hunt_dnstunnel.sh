#!/bin/bash
# hunt_dnstunnel.sh - a DNS tunnel through a real exporter and a real
# nfcapd: dnstunnel.py writes thirty minutes of DNS as pcaps (real DNS
# messages: workstations asking the site's resolver, the resolver
# forwarding, a mail server's blocklist lookups, a tunnel of 5,612
# queries whose names carry base32 data, and a VPN that exchanges
# datagrams of 1,100 bytes with port 53), in ten files of three minutes;
# softflowd replays them one after the other as NetFlow v9 into nfcapd on
# 127.0.0.1 (one file's flows at a time fit a stock socket buffer).
#
# Checked:
#   - nfdump (the oracle) counts the tunnel's queries and their bytes;
#   - the hunt reports the tunnel (key dns|10.20.0.77|203.0.113.53) at
#     medium, with nfdump's count of queries and its mean size, and the
#     VPN as another protocol on the DNS port, medium, and nothing else:
#     the resolver, the workstations and the mail server's short queries
#     are no tunnel;
#   - with exfiltration.dns_query_bytes=300 (longer than the tunnel's
#     250) only the VPN is found; dns_max_pairs=0 (off) gives nothing.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump, softflowd or python3 with scapy is missing, 99
# when nfhunt is not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir dnstunnel
export TZ=UTC

build_pcaps dnstunnel.py "$tmp/dns" "frames, tunnel queries, files"
read -r _ want_queries _ <<<"$built"

capture_pcaps "$tmp/capd" dnstunnel "$tmp"/dns.*.pcap

# The oracle: the tunnel's queries, packets and bytes as nfdump reads them.
read -r q_flows q_pkts q_bytes < <(nfdump -R "$tmp/capd" -q -N \
	-A srcip,dstip -o 'fmt:%fl %pkt %byt' \
	'src host 10.20.0.77 and dst host 203.0.113.53 and dst port 53' \
	2>/dev/null | head -n 1)
if [ "${q_pkts:-0}" = "$want_queries" ]; then
	pass "nfdump: $q_pkts tunnel queries in $q_flows flows, $q_bytes bytes"
else
	fail "nfdump: ${q_pkts:-no} tunnel queries (the pcap has $want_queries)"
fi

hunt() {
	timeout "$tmo" "$nfhunt" -R "$tmp/capd" --no-state --no-config \
		--plugin-dir "$plugins" --home-net 10.20.0.0/16 \
		--alert-level info -o ndjson "$@" 2>>"$tmp/hunt.err"
}
hunt >"$tmp/all.ndjson"
hunt --set exfiltration.dns_query_bytes=300 >"$tmp/bar.ndjson"
hunt --set exfiltration.dns_max_pairs=0 >"$tmp/off.ndjson"

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" "${q_pkts:-0}" "${q_bytes:-0}" <<'EOF'
import json, sys
from checks import check, load_ndjson
tmp, q_pkts, q_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    return load_ndjson(tmp, name)
found = load("all")
tunnel = [f for f in found if f["evidence"].get("kind") == "dns_tunnel"]
t = tunnel[0] if tunnel else None
check(t is not None and t["src"] == "10.20.0.77" and t["dst"] == "203.0.113.53"
      and t["severity"] == "medium" and t["dst_port"] == 53,
      "the tunnel is found at medium: %s" % (t["summary"] if t else found))
if t:
    ev = t["evidence"]
    mean = q_bytes / q_pkts - 28 if q_pkts else 0
    check(ev["queries"] == q_pkts and abs(ev["mean_query_bytes"] - mean) < 0.1,
          "its queries (%d) and mean size (%.1f bytes) are nfdump's (%d, %.1f)"
          % (ev["queries"], ev["mean_query_bytes"], q_pkts, mean))
    # Its totals are the datagrams' (nfdump's), its means the messages':
    # the header bytes between them are said.
    check(ev["query_bytes"] == q_bytes and
          ev.get("header_bytes_per_datagram") == 28,
          "its query bytes (%s) are nfdump's (%d), headers %s bytes apart"
          % (ev["query_bytes"], q_bytes, ev.get("header_bytes_per_datagram")))
    check("T1071.004" in t["mitre"], "ATT&CK T1071.004: %s" % t["mitre"])
vpn = [f for f in found if f["evidence"].get("kind") == "not_dns"]
v = vpn[0] if vpn else None
check(v is not None and v["src"] == "10.20.0.70" and v["dst"] == "203.0.113.56"
      and v["severity"] == "medium" and "T1572" in v["mitre"],
      "the VPN on port 53 is found at medium: %s" % (v["summary"] if v else ""))
others = [f["summary"] for f in found if f is not t and f is not v]
check(not others, "nothing else is found: %s" % others)
check([f["evidence"]["kind"] for f in load("bar")] == ["not_dns"],
      "with dns_query_bytes=300 only the VPN is found")
check(not load("off"), "no finding with dns_max_pairs=0")
EOF
)
tally "$out" $?
finish
