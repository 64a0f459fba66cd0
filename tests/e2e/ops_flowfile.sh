#!/bin/bash
# ops_flowfile.sh - nfhunt --flow-file: JSON flows hunted like capture
# files.
#
#   * the fixtures (tests/data/jsonflow): a seed-style array, IPFIX-named
#     JSON lines with IPv6, and what python-netflow's collector wrote from
#     softflowd's NetFlow v9, IPFIX and v5 export of tests/e2e/mkpcap.py's
#     pcap; --output writes the report; malformed and truncated files exit
#     2 naming the byte offset;
#   * an nfhunt-gen tree (a port scan, beacons, an exfiltration) dumped
#     to CSV and turned into a seed array and a python-netflow .gz
#     (csv2json.py: v9 exports with relative, wrapping uptime times and
#     IPFIX exports with integer addresses), and printed by the real
#     nfdump -o json: the same flows come out, and the detectors report
#     the same findings as from the capture tree;
#   * with softflowd, nfcapd and scapy (and softflowd 1.1.0, which made
#     the fixtures): the pcap replayed into a real nfcapd gives the flows
#     python-netflow recorded in pynetflow_v9.json.gz.
# Last line: "N passed, N failed". Exit 0 if all passed, 99 when the
# programs are not built.

set -u
ops_name=ops-flowfile
. "$(dirname "$0")/ops_lib.sh"

data=$top_srcdir/tests/data/jsonflow
ff() { "$nfhunt" --no-config --plugin-dir "$plugins" "$@"; }
nflows() { "$nfhunt" --no-config --dump "$@" 2>/dev/null | tail -n +2 | wc -l; }

# ------------------------------------------------------------- fixtures
check "seed array: 4 flows" "$(nflows --flow-file "$data/seed_v4.json")" -eq 4
check "IPFIX lines: 3 flows" \
	"$(nflows --flow-file "$data/seed_v6_ipfix.json")" -eq 3
check "python-netflow v9 .gz: 611 flows" \
	"$(nflows --flow-file "$data/pynetflow_v9.json.gz")" -eq 611
check "python-netflow IPFIX .gz: 610 flows" \
	"$(nflows --flow-file "$data/pynetflow_ipfix.json.gz")" -eq 610
check "python-netflow v5 lines: 60 flows" \
	"$(nflows --flow-file "$data/pynetflow_v5.json")" -eq 60
(cd "$tmp" && ff --flow-file "$data/pynetflow_ipfix.json.gz" \
	--output netflow_report.json -o json >stdout.json 2>/dev/null)
rc=$?
check "--flow-file F --output netflow_report.json: exit 0 or 1 ($rc)" \
	"$rc" -le 1
check "the report counts the flows" \
	"$(jget "$tmp/netflow_report.json" 'r["inputs"]["flows"]')" = 610
check "no state is kept for flow files" ! -e "$data/.nfhunt.state"
check "no state is kept in the working directory" ! -e "$tmp/.nfhunt.state"
# With a state named, a flow file analysed before is skipped, as a
# capture file is: its bytes counted again on every run (84 MB read as
# 246 MB after three runs).
ff --flow-file "$data/pynetflow_v5.json" --state "$tmp/ff.stat.db" -o ndjson \
	>/dev/null 2>&1
ff --flow-file "$data/pynetflow_v5.json" --state "$tmp/ff.stat.db" \
	>"$tmp/ff2.out" 2>"$tmp/ff2.err"
check "a flow file analysed before with the state: skipped" \
	"$(grep -c '1 of 1 selected files were analysed before' "$tmp/ff2.err")" -eq 1
check "... and no flow read again" \
	"$(grep -c ': 0 files, 0 flows' "$tmp/ff2.out")" -eq 1
ff --flow-file "$data/malformed.json" -q >/dev/null 2>"$tmp/bad.err"
check "malformed JSON: exit 2" $? -eq 2
check "... with the byte offset" \
	"$(grep -c 'malformed.json: byte 136: ' "$tmp/bad.err")" -eq 1
# A flow object with a bad value: dropped, told once with its byte
# offset, exit 2 as for a capture file read in part (it was 0).
printf '%s\n' '{"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"192.0.2.9","PROTOCOL":6,"L4_SRC_PORT":70000,"L4_DST_PORT":443,"IN_PKTS":1,"IN_BYTES":60,"FIRST_SWITCHED":1709510400,"LAST_SWITCHED":1709510401}' \
	>"$tmp/badport.json"
ff --flow-file "$tmp/badport.json" -q >/dev/null 2>"$tmp/badport.err"
check "a bad flow object: exit 2" $? -eq 2
check "... told once, with its byte offset, the file named once" \
	"$(grep -c '^nfhunt: [^ ]*badport.json: 1 flow object dropped; the first at byte ' \
		"$tmp/badport.err")" -eq 1
ff --flow-file "$data/truncated.json.gz" -q >/dev/null 2>"$tmp/trunc.err"
check "truncated gzip: exit 2" $? -eq 2
check "... named" "$(grep -c 'truncated.json.gz: byte .* (uncompressed)' \
	"$tmp/trunc.err")" -eq 1
ff --flow-file "$tmp/none.json" -q >/dev/null 2>&1
check "a missing flow file: exit 2" $? -eq 2
ff --flow-file "$data/seed_v4.json" -R "$data" >/dev/null 2>&1
check "--flow-file with -R: exit 2" $? -eq 2

# ------------------------------------------- the same flows, the same hunt
tree=$tmp/tree
timeout 120 "$gen" -w "$tree" -b 2024-03-04T00:00Z -d 2h -s 5 -u 40 \
	-i horizontal_scan -i beacon -i bulk_exfiltration -q \
	-l "$tmp/labels.json" || fail "nfhunt-gen"
"$nfhunt" --no-config --dump -R "$tree" >"$tmp/tree.csv"
"$py" "$e2e/csv2json.py" seed "$tmp/tree.csv" "$tmp/seed.json"
"$py" "$e2e/csv2json.py" pynetflow "$tmp/tree.csv" "$tmp/pynetflow.json.gz"
keycols() {
	"$py" -c 'import csv, sys
cols = ("first_ms", "last_ms", "proto", "src_addr", "src_port", "dst_addr",
        "dst_port", "packets", "bytes", "tcp_flags", "tos", "sampling",
        "out_packets", "out_bytes", "input_if", "output_if", "direction")
for r in csv.DictReader(sys.stdin):
    print(",".join(r[c] for c in cols))' | sort
}
# And as the real nfdump prints it (-o json: local times without a zone,
# so nfdump and nfhunt run in one time zone).
kinds="seed.json pynetflow.json.gz"
if command -v nfdump >/dev/null 2>&1; then
	export TZ=UTC
	nfdump -R "$tree" -o json >"$tmp/nfdump.json" 2>/dev/null &&
		kinds="$kinds nfdump.json"
fi
keycols <"$tmp/tree.csv" >"$tmp/tree.keys"
for kind in $kinds; do
	"$nfhunt" --no-config --dump --flow-file "$tmp/$kind" | keycols \
		>"$tmp/$kind.keys"
	if cmp -s "$tmp/tree.keys" "$tmp/$kind.keys"; then
		pass "$kind: the same $(wc -l <"$tmp/tree.keys") flows as the tree"
	else
		fail "$kind: flows differ from the tree's"
		diff "$tmp/tree.keys" "$tmp/$kind.keys" | head -n 6
	fi
done
findings() {
	"$py" -c 'import json, sys
for f in json.load(sys.stdin)["findings"]:
    print(f["type"], f["src"], f["dst"], f["dst_port"], f["severity"],
          "%.1f" % f["score"], f["summary"])' | sort
}
ff --no-state -R "$tree" -o json 2>/dev/null | findings >"$tmp/tree.findings"
check "the tree has findings" -s "$tmp/tree.findings"
check "... a port scan among them" \
	"$(grep -c '^port_scan ' "$tmp/tree.findings")" -ge 1
for kind in $kinds; do
	ff --flow-file "$tmp/$kind" -o json 2>/dev/null | findings \
		>"$tmp/$kind.findings"
	if cmp -s "$tmp/tree.findings" "$tmp/$kind.findings"; then
		pass "$kind: the detectors report what they report for the tree"
	else
		fail "$kind: findings differ from the tree's"
		diff "$tmp/tree.findings" "$tmp/$kind.findings" | head -n 6
	fi
done

# ---------------------- python-netflow's record against a real nfcapd
sf_version=$(softflowd -h 2>&1 |
	sed -n "s/.*softflowd version \([0-9][0-9.]*[0-9]\).*/\1/p" | head -n 1)
if ! command -v softflowd >/dev/null 2>&1 ||
	! command -v nfcapd >/dev/null 2>&1; then
	echo "NOTE: softflowd or nfcapd missing: live comparison skipped"
elif [ "$sf_version" != 1.1.0 ]; then
	echo "NOTE: softflowd '$sf_version' is not 1.1.0, which made the" \
		"fixture: live comparison skipped"
elif ! timeout 120 "$py" "$e2e/mkpcap.py" "$tmp/traffic.pcap" >/dev/null \
	2>&1; then
	echo "NOTE: mkpcap.py failed (no scapy for $py): live comparison skipped"
else
	mkdir -p "$tmp/capd"
	if start_capd "$tmp/capd" -t 60 -I ff; then
		timeout 60 softflowd -r "$tmp/traffic.pcap" -n "127.0.0.1:$port" \
			-v 9 -a -d -c none -p "$tmp/sf.pid" >/dev/null 2>&1
		sleep 0.5
		stop_capd
		live() {
			"$py" -c 'import csv, sys
for r in csv.DictReader(sys.stdin):
    if r["proto"] in ("1", "6", "17", "58"):
        print(",".join(r[c] for c in ("first_ms", "last_ms", "proto",
              "src_addr", "src_port", "dst_addr", "dst_port", "packets",
              "bytes", "tcp_flags", "tos")))' | sort
		}
		"$nfhunt" --no-config --dump -R "$tmp/capd" | live >"$tmp/capd.keys"
		"$nfhunt" --no-config --dump \
			--flow-file "$data/pynetflow_v9.json.gz" | live >"$tmp/pyn.keys"
		if [ -s "$tmp/capd.keys" ] &&
			cmp -s "$tmp/capd.keys" "$tmp/pyn.keys"; then
			pass "pynetflow_v9.json.gz holds the flows a real nfcapd got" \
				"($(wc -l <"$tmp/capd.keys"))"
		else
			fail "python-netflow's flows differ from nfcapd's"
			diff "$tmp/capd.keys" "$tmp/pyn.keys" | head -n 6
		fi
	else
		fail "nfcapd did not start"
	fi
fi

finish
