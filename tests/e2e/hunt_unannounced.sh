#!/bin/bash
# hunt_unannounced.sh - an exporter that samples packets without
# announcing it: nfcapd stores its raw sampled counts as if unsampled,
# and nfhunt must say that its counts are samples.
#
# nfhunt-gen sends the same hour of an organisation (with a horizontal
# scan, whose lone SYNs must not hide the sampling, and a SYN flood,
# whose records of SYN retries must not either) to a real nfcapd on
# 127.0.0.1 three times, as NetFlow v9:
#   - sampled 1:20, unannounced, nfcapd as it comes: nfhunt warns in one
#     line that the files look packet-sampled and names the share, and
#     the report's inputs.sampling.unannounced counts the files; the
#     detectors take the records as sampled (interval unknown): the
#     scan is said to be sampled, and the answers the sampler lost do not
#     make the monitoring poller and the resolvers scanners (they were,
#     medium, before); the flood's evidence gives the interval as 0
#     (unknown) and its counts as raw samples (they read "estimates",
#     and the flood's file looked unsampled);
#   - sampled 1:20, unannounced, nfcapd -s 20 (the operator's fix): the
#     records are scaled and marked sampled; no warning, no
#     "unannounced", inputs.sampling.sampled_flows above 0;
#   - unsampled: no warning, no "unannounced".
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd or python3 is missing, 99 when the programs are not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd
e2e_need_python
e2e_need_built "$gen" "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_tmpdir unannounced
export TZ=UTC

args="-b 2024-03-05T10:00Z -d 1h -s 5 -u 300 -i horizontal_scan -i inbound_flood:variant=syn --proto v9"

# export NAME GEN-ARGS -- CAPD-ARGS: one export into its own nfcapd.
export_to() {
	local name=$1 genargs=$2 capdargs=$3
	mkdir -p "$tmp/$name"
	# shellcheck disable=SC2086 # options are words
	if ! capd_start "$tmp/$name" 127.0.0.1 -t 3600 -B 8388608 -I "$name" $capdargs; then
		fail "$name: nfcapd did not start"
		return 1
	fi
	# shellcheck disable=SC2086
	if timeout 300 "$gen" $args $genargs --export "127.0.0.1:$port" \
		--rate 40000 -l "$tmp/$name.labels.json" -q; then
		pass "$name: nfhunt-gen $genargs exported to nfcapd $capdargs"
	else
		fail "$name: nfhunt-gen --export failed"
	fi
	sleep 0.5
	stop_capd || fail "$name: nfcapd did not stop on SIGTERM"
}

# hunt NAME: nfhunt over NAME's files; report NAME.json, stderr NAME.err.
hunt() {
	timeout "$tmo" "$nfhunt" -R "$tmp/$1" --no-state --no-config \
		--plugin-dir "$plugins" --output "$tmp/$1.json" \
		>/dev/null 2>"$tmp/$1.err"
	echo $? >"$tmp/$1.rc"
}

export_to raw "--sampling 20 --unannounced" ""
export_to fixed "--sampling 20 --unannounced" "-s 20"
export_to plain "" ""
for name in raw fixed plain; do
	hunt "$name"
done

lines=$(grep -c 'look packet-sampled' "$tmp/raw.err")
if [ "$lines" = 1 ] && grep -q 'nfcapd -s N' "$tmp/raw.err"; then
	pass "raw: one warning line: $(grep 'look packet-sampled' "$tmp/raw.err" | cut -c1-160)"
else
	fail "raw: $lines warning lines: $(head -c 600 "$tmp/raw.err")"
fi
for name in fixed plain; do
	if grep -q 'look packet-sampled' "$tmp/$name.err"; then
		fail "$name: warned: $(grep 'look packet-sampled' "$tmp/$name.err")"
	else
		pass "$name: no word of unannounced sampling"
	fi
done

out=$(PYTHONPATH="$e2e" "$py" - "$tmp" <<'EOF'
import json, sys
from checks import check
tmp = sys.argv[1]
s = {n: json.load(open("%s/%s.json" % (tmp, n)))["inputs"]["sampling"]
     for n in ("raw", "fixed", "plain")}
u = s["raw"].get("unannounced")
check(u is not None and u["files"] >= 1 and u["files"] * 2 > u["checked_files"]
      and u["single_packet_tcp_share"] >= 0.3
      and s["raw"]["sampled_flows"] == 0,
      "raw: inputs.sampling %s" % s["raw"])
labels = json.load(open("%s/raw.labels.json" % tmp))
attackers, victims = set(), set()
for a in labels["activities"]:
    if a["class"] == "injected":
        attackers.update(a["src"])
        if a["kind"] == "inbound_flood":
            victims.update(a["dst"])
raw = json.load(open("%s/raw.json" % tmp))["findings"]
stray = [f["summary"] for f in raw
         if f["src"] not in attackers and f["dst"] not in victims]
check(not stray, "raw: no finding but the attackers': %s" % stray)
scans = [f for f in raw if f["type"] == "port_scan"]
check(scans and all("interval unknown" in f["summary"] for f in scans),
      "raw: the scan found, as sampled at an unknown interval: %s"
      % [f["summary"] for f in scans])
floods = [f for f in raw if f["type"] == "volumetric" and f["dst"] in victims]
check(floods and all(f["evidence"].get("sampling", {}).get("max_interval") == 0
                     and "raw samples" in f["evidence"]["sampling"]["note"]
                     for f in floods),
      "raw: the SYN flood found, its counts raw samples: %s"
      % [(f["summary"], f["evidence"].get("sampling")) for f in floods])
check("unannounced" not in s["fixed"] and s["fixed"]["sampled_flows"] > 0
      and s["fixed"]["max_interval"] == 20,
      "fixed by nfcapd -s 20: inputs.sampling %s" % s["fixed"])
check("unannounced" not in s["plain"] and s["plain"]["sampled_flows"] == 0,
      "unsampled: inputs.sampling %s" % s["plain"])
EOF
)
tally "$out" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
