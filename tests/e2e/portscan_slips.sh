#!/bin/bash
# End-to-end: the port_scan detector on a real capture, the Stratosphere
# Slips test file (slips-test1-malicious.nfcapd, nfdump 1.6 layout 1).
#
# The file holds 2305 TCP SYNs from 147.32.80.119 to 147.32.82.62:902,
# each from a new source port, nearly all answered by RST/ACK, in 33 s.
# One target service hammered and refused is not reconnaissance (a scan
# needs many targets): nfhunt must report it as ONE low finding of kind
# repeated_refused, never as a horizontal/vertical scan and never above
# low, whether or not the CTU network is declared home. Run twice with a
# state over the same records, the second run raises nothing again.
#
# Last line: "N passed, N failed". Exit 0 if all passed, 77 if the data
# file is missing, 99 if nfhunt or the module is not built.
#
# Environment: NFH_SHARED_DATA, NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR,
# SYS_PYTHON3; NFH_E2E_KEEP=1 keeps the temp dir.

set -u

. "$(dirname "$0")/e2e_lib.sh"
data=${NFH_SHARED_DATA:-$top_srcdir/../shared/data}
file=$data/slips-test1-malicious.nfcapd

if [ ! -f "$file" ]; then
	echo "SKIP: $file not found"
	exit 77
fi
if [ ! -x "$nfhunt" ] || [ ! -e "$plugins/port_scan.so" ]; then
	echo "ERROR: $nfhunt or $plugins/port_scan.so not built"
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nfh-e2e-portscan.XXXXXX")
[ "${NFH_E2E_KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() {
	echo "PASS: $1"
	pass=$((pass + 1))
}

ko() {
	echo "FAIL: $1"
	fail=$((fail + 1))
}

# check REPORT STATUS: the report holds exactly the one expected finding.
check() {
	"$py" - "$1" "$2" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
want_status = sys.argv[2]
scans = [f for f in report["findings"] if f["type"] == "port_scan"]
errors = []
if len(scans) != 1:
    errors.append("%d port_scan findings, want 1: %s"
                  % (len(scans), [f["summary"] for f in scans]))
else:
    f = scans[0]
    e = f["evidence"]
    if e.get("kind") != "repeated_refused":
        errors.append("kind %r, want repeated_refused" % e.get("kind"))
    if f["severity"] != "low":
        errors.append("severity %s, want low" % f["severity"])
    if (f["src"], f["dst"], f["dst_port"]) != ("147.32.80.119",
                                              "147.32.82.62", 902):
        errors.append("src/dst/port %s %s %s"
                      % (f["src"], f["dst"], f["dst_port"]))
    if e.get("attempts") != 2305:
        errors.append("attempts %s, want 2305" % e.get("attempts"))
    if e["failures"]["refused"] < 2000:
        errors.append("refused %s, want most" % e["failures"]["refused"])
    if "not a sweep" not in f["summary"]:
        errors.append("summary does not say it is no sweep: " + f["summary"])
    if want_status != "-" and f.get("status") != want_status:
        errors.append("status %s, want %s" % (f.get("status"), want_status))
for err in errors:
    print("  " + err)
sys.exit(1 if errors else 0)
EOF
}

# 1. Default home networks (RFC 1918): both hosts are external.
"$nfhunt" -r "$file" --plugin-dir "$plugins" --plugins port_scan \
	--no-state --output "$tmp/default.json" >"$tmp/default.txt" 2>&1
rc=$?
if [ $rc -eq 1 ] && check "$tmp/default.json" -; then
	ok "default home networks: one low repeated_refused finding"
else
	ko "default home networks (exit $rc)"
	cat "$tmp/default.txt"
fi

# 2. The CTU network as home: internal to internal, still low.
"$nfhunt" -r "$file" --plugin-dir "$plugins" --plugins port_scan \
	--no-state --home-net 147.32.0.0/16 --output "$tmp/home.json" \
	>"$tmp/home.txt" 2>&1
rc=$?
if [ $rc -eq 1 ] && check "$tmp/home.json" -; then
	ok "home 147.32.0.0/16: one low repeated_refused finding"
else
	ko "home 147.32.0.0/16 (exit $rc)"
	cat "$tmp/home.txt"
fi

# 3. Twice with a state: new, then nothing. The second run reads a copy
# (the state skips a file it analysed before by its path): the same
# records again, which the state has counted, so no probe failed anew
# and the finished scan is not raised again (exit 0).
cp "$file" "$tmp/again.nfcapd"
for run in 1 2; do
	in=$file
	[ $run = 2 ] && in=$tmp/again.nfcapd
	"$nfhunt" -r "$in" --plugin-dir "$plugins" --plugins port_scan \
		--state "$tmp/state" --output "$tmp/run$run.json" \
		>"$tmp/run$run.txt" 2>&1
	eval "rc$run=\$?"
done
if check "$tmp/run1.json" new && [ "$rc1" -eq 1 ] && [ "$rc2" -eq 0 ] &&
	"$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(1 if [f for f in r["findings"] if f["type"] == "port_scan"] else 0)
' "$tmp/run2.json"; then
	ok "with state: new, then not raised again on the same records"
else
	ko "with state"
	cat "$tmp/run1.txt" "$tmp/run2.txt"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
