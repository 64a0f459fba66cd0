#!/bin/bash
# hunt_nsel.sh - a firewall's events (Cisco ASA NSEL) through a real
# nfcapd: no packet counts, no TCP flags, connections as "created" and
# "deleted" events, refused attempts as "denied" events.
#
# nselexport.py sends twenty minutes of such events as NetFlow v9 to
# nfcapd on 127.0.0.1: 40 clients' permitted connections, a vertical
# scan, a sweep and a SYN flood (30,000 spoofed sources) that the
# firewall denies, and a 2 GB upload in one connection of fifteen
# minutes. Checked:
#   - nfdump (the oracle) and nfhunt --count read the same records, and
#     nfdump shows the 30,500 denials as DENIED events;
#   - the hunt finds the vertical scan and the sweep at medium or above,
#     their evidence counting the denials; the flood as a SYN flood at
#     medium or above; the upload as exfiltration at medium or above,
#     from its creation to its teardown; and nothing else (the clients'
#     permitted connections are no scans);
#   - nfdump -o json of the same files, hunted with --flow-file, gives
#     the same findings (type, hosts, severity).
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd, nfdump or python3 is missing, 99 when nfhunt is not
# built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump
e2e_need_python
e2e_need_built "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_tmpdir nsel
export TZ=UTC

mkdir -p "$tmp/capd"
if ! capd_start "$tmp/capd" 127.0.0.1 -t 3600 -B 8388608 -I asa; then
	fail "nfcapd did not start"
	echo "$passed passed, $failed failed"
	exit 1
fi
if sent=$(timeout 120 "$py" "$e2e/nselexport.py" --port "$port"); then
	pass "nselexport.py: $sent"
else
	fail "nselexport.py failed: $sent"
fi
sleep 0.5
stop_capd || fail "nfcapd did not stop on SIGTERM"

nfdump_flows=$(nfdump -R "$tmp/capd" -o null 2>&1 |
	sed -n 's/^Total flows processed: \([0-9]*\),.*/\1/p')
nfhunt_flows=$("$nfhunt" --count -R "$tmp/capd" | sed -n 's/.* flows \([0-9]*\) .*/\1/p')
denied=$(nfdump -R "$tmp/capd" -q -o nsel 2>/dev/null | grep -c ' DENIED ')
if [ -n "$nfdump_flows" ] && [ "$nfdump_flows" = "$nfhunt_flows" ] &&
	[ "$nfdump_flows" = 32902 ] && [ "$denied" = 30500 ]; then
	pass "nfdump and nfhunt read $nfhunt_flows records; nfdump shows $denied DENIED events"
else
	fail "records: nfdump ${nfdump_flows:-?}, nfhunt ${nfhunt_flows:-?} (want 32902); DENIED events $denied (want 30500)"
fi

timeout "$tmo" "$nfhunt" -R "$tmp/capd" --no-state --no-config \
	--plugin-dir "$plugins" --home-net 10.0.0.0/8 --alert-level info \
	--output "$tmp/report.json" >/dev/null 2>"$tmp/hunt.err"
echo "exit status $?" >>"$tmp/hunt.err"
nfdump -R "$tmp/capd" -o json >"$tmp/flows.json" 2>/dev/null
timeout "$tmo" "$nfhunt" --flow-file "$tmp/flows.json" --no-state --no-config \
	--plugin-dir "$plugins" --home-net 10.0.0.0/8 --alert-level info \
	--output "$tmp/report-json.json" >/dev/null 2>>"$tmp/hunt.err"

out=$(PYTHONPATH="$e2e" "$py" - "$tmp/report.json" "$tmp/report-json.json" <<'EOF'
import json, sys
from checks import check
try:
    findings = json.load(open(sys.argv[1]))["findings"]
except Exception as e:
    check(False, "the report: %s" % e)
    sys.exit(0)
rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
def one(kind, src, dst):
    hit = [f for f in findings if f["type"] == kind and f["src"] == src
           and f["dst"] == dst]
    return hit[0] if hit else None
def denied(f):
    return f["evidence"].get("failures", {}).get("denied") if f else None
v = one("port_scan", "203.0.113.5", "10.0.0.20")
check(v is not None and rank[v["severity"]] >= 2 and denied(v) == 300,
      "the denied vertical scan: %s, denied %s"
      % (v and v["severity"], denied(v)))
h = one("port_scan", "198.51.100.7", None)
check(h is not None and rank[h["severity"]] >= 2 and denied(h) == 200,
      "the denied sweep: %s, denied %s" % (h and h["severity"], denied(h)))
x = one("exfiltration", "10.0.0.33", "185.199.1.9")
check(x is not None and rank[x["severity"]] >= 2
      and x["first_seen"].startswith("2024-03-05T10:03")
      and x["last_seen"].startswith("2024-03-05T10:18"),
      "the 2 GB upload: %s" % (x and "%s %s .. %s: %s" % (
          x["severity"], x["first_seen"], x["last_seen"], x["summary"])))
d = one("volumetric", None, "10.0.0.80")
check(d is not None and rank[d["severity"]] >= 2
      and d["summary"].startswith("SYN flood against 10.0.0.80:80"),
      "the denied SYN flood: %s" % (d and "%s: %s" % (d["severity"],
                                                       d["summary"])))
others = [f for f in findings if f not in (v, h, x, d)]
check(not others, "nothing else: %s" % [f["summary"] for f in others])
def keys(fs):
    return sorted((f["type"], f["src"] or "", f["dst"] or "", f["severity"])
                  for f in fs)
try:
    via_json = json.load(open(sys.argv[2]))["findings"]
except Exception as e:
    via_json = []
check(keys(via_json) == keys(findings),
      "nfdump -o json through --flow-file: the same %d findings (%s)"
      % (len(findings), keys(via_json)))
EOF
)
tally "$out" $?
[ "$failed" -eq 0 ] || cat "$tmp/hunt.err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
