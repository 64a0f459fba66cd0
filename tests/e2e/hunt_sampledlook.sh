#!/bin/bash
# hunt_sampledlook.sh - probes must not pass for packet sampling.
#
# nfhunt tells an exporter that samples packets without announcing it by
# its records: most hold one packet from a session's middle (an ACK,
# data). nmap's ACK and Null scans send one bare ACK or flagless segment
# to every address: records of one packet without SYN, FIN or RST too.
# A capture with such sweeps beside an office's web sessions made
# nfhunt take the file for sampled: silence was then no failure (the ACK
# sweep of 256 hosts read 24), and its C2 beacons and downloads read
# "sampled (interval unknown)" under a report that said no exporter
# sampled.
#
# sampledlook.py writes the pcaps, softflowd replays them into a real
# nfcapd on 127.0.0.1 (NetFlow v9); then:
#   - the whole capture (sessions and sweeps): no word of sampling, and
#     the Null sweep's finding not "sampled";
#   - the sessions alone, packet-sampled 1:10: the warning, and the
#     report's inputs.sampling.unannounced.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, softflowd or python3 with scapy is missing, 99 when nfhunt
# is not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir sampledlook

build_pcaps sampledlook.py "$tmp/p" "probe sweeps; sessions sampled 1:10"
capture_pcaps "$tmp/probes" sl-probes "$tmp/p-probes.00.pcap"
capture_pcaps "$tmp/sampled" sl-sampled "$tmp/p-sampled.00.pcap"

hunt() { # DIR OUT ERR
	"$nfhunt" -R "$1" --no-state --plugin-dir "$plugins" \
		--home-net 10.20.0.0/16,10.30.0.0/16 --alert-level info \
		--output "$2" 2>"$3"
}

hunt "$tmp/probes" "$tmp/probes.json" "$tmp/probes.err"
if grep -q "look packet-sampled" "$tmp/probes.err"; then
	fail "probes: taken for sampling: $(grep 'look packet-sampled' "$tmp/probes.err" | cut -c1-200)"
else
	pass "probes: no word of sampling on stderr"
fi
if out=$("$py" - "$tmp/probes.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["inputs"]["sampling"]
assert "unannounced" not in s, "inputs.sampling: %s" % s
null = [f for f in d["findings"]
        if f["type"] == "port_scan" and f["src"] == "198.51.100.67"]
assert null, "no finding for the Null sweep: %s" % [
    f["summary"] for f in d["findings"]]
assert "sampled" not in null[0]["summary"], null[0]["summary"]
assert null[0]["evidence"].get("sampling") == 1, null[0]["evidence"]
print(null[0]["summary"])
PY
); then
	pass "probes: report unsampled, the Null sweep found as such: $out"
else
	fail "probes: $out"
fi

hunt "$tmp/sampled" "$tmp/sampled.json" "$tmp/sampled.err"
if grep -q "look packet-sampled" "$tmp/sampled.err"; then
	pass "sampled 1:10: $(grep -o '[0-9]*% of their [0-9]* TCP records' "$tmp/sampled.err")"
else
	fail "sampled 1:10: no warning ($(head -c 300 "$tmp/sampled.err"))"
fi
if out=$("$py" -c 'import json, sys
s = json.load(open(sys.argv[1]))["inputs"]["sampling"]
assert s.get("unannounced", {}).get("files", 0) >= 1, s
print(s["unannounced"])' "$tmp/sampled.json" 2>&1); then
	pass "sampled 1:10: inputs.sampling.unannounced $out"
else
	fail "sampled 1:10: $out"
fi
finish
