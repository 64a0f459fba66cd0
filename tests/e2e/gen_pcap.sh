#!/bin/bash
# gen_pcap.sh - a real exporter in the loop: a pcap of a port scan and a
# beacon (gen_pcap.py, scapy), replayed by softflowd as NetFlow v9 into a
# real nfcapd on 127.0.0.1; nfhunt must read the scan's and the beacon's
# flows back from nfcapd's files.
#
# Checks, one line each: the pcap is built; nfcapd starts and stops on
# SIGTERM; softflowd exports; nfdump and nfhunt agree on nfcapd's files
# (compare.py); then gen_pcap.py's checks of nfhunt's dump: every target
# of the scan probed with a bare SYN, the RST/ACK and SYN/ACK answers, the
# beacon's ten connections each way, their 30 s period and their times;
# last, the hunt's port_scan finding, which must count each target's
# answer (written before the SYN that drew it) as what it was: RST,
# SYN/ACK or none.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77 when
# nfcapd, nfdump, softflowd or python3 with scapy is missing, 99 when
# nfhunt is not built. Every daemon is killed on exit.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump softflowd
e2e_need_scapy
e2e_need_built "$nfhunt"
NFDUMP=$(command -v nfdump)
SOFTFLOWD=$(command -v softflowd)

. "$(dirname "$0")/capd_lib.sh"

capd_sf_tmpdir gen-pcap

if timeout 120 "$py" "$e2e/gen_pcap.py" build "$tmp/scan-beacon.pcap" \
	"$tmp/expect.json" >"$tmp/pcap.log" 2>&1; then
	pass "pcap built: $(cat "$tmp/pcap.log")"
else
	fail "gen_pcap.py build failed: $(tail -n 2 "$tmp/pcap.log")"
	finish
fi

mkdir -p "$tmp/capd"
if capd_start "$tmp/capd" 127.0.0.1 -t 3600 -I gen-pcap; then
	pass "nfcapd listens on 127.0.0.1:$port"
else
	fail "nfcapd did not start"
	finish
fi

# -a: flow times from the pcap; -c none: no control socket (softflowd
# 1.1.0 would block in accept() reading a file); -d: foreground. At the
# end of the file it expires every flow, exports and exits.
if timeout 60 "$SOFTFLOWD" -r "$tmp/scan-beacon.pcap" -n "127.0.0.1:$port" \
	-v 9 -a -d -c none -p "$tmp/sf.pid" >"$tmp/sf.log" 2>&1; then
	pass "softflowd exported $(sed -n 's/.*Flows exported: \([0-9]*\).*/\1/p' "$tmp/sf.log" | head -n 1) flows"
else
	fail "softflowd failed: $(tail -n 2 "$tmp/sf.log")"
fi
sleep 0.5
if stop_capd; then
	pass "nfcapd stopped on SIGTERM"
else
	fail "nfcapd did not stop on SIGTERM (killed)"
fi

mapfile -t files < <(find "$tmp/capd" -maxdepth 1 -name 'nfcapd.[0-9]*' | sort)
if [ ${#files[@]} -eq 0 ]; then
	fail "nfcapd wrote no file"
	finish
fi
out=$(timeout 300 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
	--nfhunt "$nfhunt" --timeout 120 "${files[@]}" 2>&1)
if [ $? -eq 0 ]; then
	pass "nfdump and nfhunt agree: $(echo "$out" | tail -n 1 | sed 's|.*/||')"
else
	echo "$out" | sed 's/^/    /' | head -n 10
	fail "nfdump and nfhunt differ on nfcapd's files"
fi

timeout 120 "$nfhunt" --dump -R "$tmp/capd" >"$tmp/dump.csv"
out=$(timeout 120 "$py" "$e2e/gen_pcap.py" check "$tmp/expect.json" \
	"$tmp/dump.csv" 2>&1)
echo "$out"
passed=$((passed + $(printf '%s\n' "$out" | grep -c '^PASS:')))
failed=$((failed + $(printf '%s\n' "$out" | grep -c '^FAIL:')))

# The hunt over the same files: the scan's answers came before its SYNs.
timeout 120 "$nfhunt" -R "$tmp/capd" --no-state --no-config \
	--plugin-dir "$top_builddir/plugins" --plugins port_scan \
	--home-net 10.20.0.0/16 -o ndjson --alert-level info \
	>"$tmp/hunt.ndjson" 2>"$tmp/hunt.err"
out=$(timeout 60 "$py" "$e2e/gen_pcap.py" hunt "$tmp/expect.json" \
	"$tmp/hunt.ndjson" 2>&1)
echo "$out"
passed=$((passed + $(printf '%s\n' "$out" | grep -c '^PASS:')))
failed=$((failed + $(printf '%s\n' "$out" | grep -c '^FAIL:')))
finish
