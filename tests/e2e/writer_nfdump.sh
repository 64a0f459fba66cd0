#!/bin/sh
# writer_nfdump.sh - does the real nfdump read what nfhunt's writer writes,
# and read it the same way nfhunt does?
#
# For each codec, tests/tools/nfh-writefile writes a file of 3000 varied flows
# (IPv4/IPv6, TCP/UDP/ICMP/ICMPv6, sampled, bidirectional, AS/VLAN/masks,
# next hops, router, latency), and an LZ4 file of 20000 flows spans several
# blocks. Then, per file, one line per check:
#   flows     `TZ=UTC nfdump -r FILE -o json` against `nfhunt --dump -r FILE`,
#             flow by flow, every field nfdump prints
#   exporters `nfdump -E FILE` (ExporterInfo and Sampler records) against
#             the exporter, exporter_id and sampling columns of the dump
#   stat      `nfdump -I -r FILE` (the appendix stat record) against the
#             totals of the dump
# NFDUMP=/path/to/nfdump picks another nfdump (a 1.7.8 built from source
# reads all five codecs, ZSTD included).
# Exit status: 0 all checks passed, 1 a check failed, 77 (skip) when nfdump
# or python3 is not installed. A codec the installed nfdump cannot read
# (ZSTD before nfdump 1.7.3) is reported as "skip", not as a failure.

set -u

top_builddir=${NFH_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=${NFH_TOP_SRCDIR:-$top_builddir}
NFDUMP=${NFDUMP:-$(command -v nfdump || true)}
PYTHON=${SYS_PYTHON3:-$(command -v python3 || true)}
WRITEFILE=$top_builddir/tests/tools/nfh-writefile
NFHUNT=$top_builddir/tools/nfhunt
SMALL=${NFH_E2E_FLOWS:-3000}
MULTI=${NFH_E2E_MULTI_FLOWS:-20000}
COMPARE=$top_srcdir/tests/e2e/compare.py

if [ -z "$NFDUMP" ] || [ ! -x "$NFDUMP" ]; then
  echo "skip: nfdump is not installed"
  exit 77
fi
if [ -z "$PYTHON" ]; then
  echo "skip: python3 is not installed"
  exit 77
fi
for prog in "$WRITEFILE" "$NFHUNT"; do
  if [ ! -x "$prog" ]; then
    echo "FAIL: $prog not built (run make first)"
    exit 1
  fi
done

# "nfdump: Version: NSEL-NEL1.7.1" -> 1.7.1
nfdump_version=$("$NFDUMP" -V 2>&1 | sed -n 's/.*[^0-9.]\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1)
[ -n "$nfdump_version" ] || nfdump_version=unknown

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nfh_writer_e2e.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

cat > "$tmp/compare.py" <<'PYEOF'
import csv, json, re, sys, calendar, time

def ms(text):
    # "2024-02-29T18:00:00.444", printed with TZ=UTC
    date, _, frac = text.partition(".")
    return calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac or 0)

def tcp_flags(text):
    bits = 0
    for i, ch in enumerate(text):
        if ch != ".":
            bits |= 1 << (7 - i)
    return bits

def nfdump_row(r):
    # A field nfdump does not print (its element is absent) must be at
    # its default in nfhunt: hence the .get(..., default) below.
    icmp = r["proto"] in (1, 58)
    row = {
        "first_ms": ms(r["first"]), "last_ms": ms(r["last"]),
        "received_ms": ms(r["received"]),
        "proto": r["proto"], "packets": r["in_packets"], "bytes": r["in_bytes"],
        "tos": r["src_tos"], "sysid": r["export_sysid"],
        "sampled": r["sampled"],
        "src_addr": r.get("src4_addr", r.get("src6_addr", "")),
        "dst_addr": r.get("dst4_addr", r.get("dst6_addr", "")),
        "out_packets": r.get("out_packets", 0), "out_bytes": r.get("out_bytes", 0),
        "aggr_flows": r.get("aggr_flows", 1),
        "input_if": r.get("input_snmp", 0), "output_if": r.get("output_snmp", 0),
        "src_mask": r.get("src_mask", 0), "dst_mask": r.get("dst_mask", 0),
        "direction": r.get("direction", 0), "dst_tos": r.get("dst_tos", 0),
        "src_vlan": r.get("src_vlan", 0), "dst_vlan": r.get("dst_vlan", 0),
        "src_as": r.get("src_as", 0), "dst_as": r.get("dst_as", 0),
        "next_hop": r.get("ip4_next_hop", r.get("ip6_next_hop", "")),
        "bgp_next_hop": r.get("bgp4_next_hop", r.get("bgp6_next_hop", "")),
        "router": r.get("ip4_router", r.get("ip6_router", "")),
    }
    if icmp:
        row["src_port"] = 0
        row["dst_port"] = r["icmp_type"] * 256 + r["icmp_code"]
    else:
        row["src_port"] = r["src_port"]
        row["dst_port"] = r["dst_port"]
        row["tcp_flags"] = tcp_flags(r["tcp_flags"])
    # fwd_status is printed with the misc element only.
    if "fwd_status" in r:
        row["fwd_status"] = r["fwd_status"]
    return row

def nfhunt_row(c):
    row = {k: int(v) if v.isdigit() else v for k, v in c.items()}
    row["sampled"] = 1 if row["flags"] & 1 else 0
    return row

def parse_exporters(path):
    exporters, samplers = {}, {}
    sysid = None
    for line in open(path):
        # 1.7.1: "version: 9"; 1.7.8: "version: netflow v9" / "ipfix v10"
        m = re.search(r"SysID: (\d+), IP: +(\S+), version: [^0-9,]*(\d+), ID: +(\d+)", line)
        if m:
            sysid = int(m.group(1))
            exporters[sysid] = (m.group(2), int(m.group(3)), int(m.group(4)))
            continue
        m = re.search(r"Sampler:.*id: (-?\d+),.*packet interval: (\d+), packet space: (\d+)", line)
        if m and sysid is not None:
            pi, si = int(m.group(2)), int(m.group(3))
            samplers.setdefault(sysid, set()).add((pi + si) // pi)
    return exporters, samplers

def parse_stat(path):
    stat = {}
    for line in open(path):
        m = re.match(r"(\w+): (\d+)$", line.strip())
        if m:
            stat[m.group(1)] = int(m.group(2))
    return stat

def main():
    label, jpath, cpath, epath, ipath, expect, do_flows = sys.argv[1:8]
    expect = int(expect)
    text = open(jpath).read()
    try:
        nf = json.loads(text)
    except ValueError as e:
        print(f"FAIL - {label} flows: nfdump JSON does not parse: {e}")
        return 1
    nh = [nfhunt_row(c) for c in csv.DictReader(open(cpath))]
    rc = 0

    # 1. flow by flow (when tests/e2e/compare.py is not there to do it;
    #    the counts are checked either way)
    bad = []
    if len(nf) != expect or len(nh) != expect:
        bad.append(f"nfdump read {len(nf)} flows, nfhunt {len(nh)}, written {expect}")
    if do_flows == "flows":
        for i, (a, b) in enumerate(zip(nf, nh)):
            x, y = nfdump_row(a), b
            for k, v in x.items():
                if y.get(k) != v:
                    bad.append(f"flow {i}: {k}: nfdump {v!r} nfhunt {y.get(k)!r}")
    if bad:
        rc = 1
        print(f"FAIL - {label} flows: {len(bad)} differences; first: " + "; ".join(bad[:5]))
    elif do_flows == "flows":
        print(f"ok - {label} flows: {len(nf)} flows identical in nfdump -o json and nfhunt --dump")

    # 2. exporters and samplers
    exporters, samplers = parse_exporters(epath)
    bad = []
    for i, y in enumerate(nh):
        e = exporters.get(y["sysid"])
        if e is None:
            bad.append(f"flow {i}: sysid {y['sysid']} unknown to nfdump -E")
            continue
        if (y["exporter"], y["exporter_id"]) != (e[0], e[2]):
            bad.append(f"flow {i}: exporter {y['exporter']}/{y['exporter_id']} but nfdump -E says {e[0]}/{e[2]}")
        if y["sampled"]:
            if y["sampling"] not in samplers.get(y["sysid"], set()):
                bad.append(f"flow {i}: sampling {y['sampling']} not among nfdump -E samplers {sorted(samplers.get(y['sysid'], []))}")
        elif y["sampling"] != 1:
            bad.append(f"flow {i}: unsampled flow with sampling {y['sampling']}")
    if not exporters:
        bad.append("nfdump -E lists no exporter")
    if bad:
        rc = 1
        print(f"FAIL - {label} exporters: {len(bad)} differences; first: " + "; ".join(bad[:5]))
    else:
        desc = ", ".join(f"{s}={e[0]} v{e[1]} id {e[2]}" for s, e in sorted(exporters.items()))
        print(f"ok - {label} exporters: nfdump -E and nfhunt agree ({desc}; samplers {dict((k, sorted(v)) for k, v in samplers.items())})")

    # 3. the stat record, as nfdump -I reports it
    stat = parse_stat(ipath)
    rows = nh
    want = {
        "Flows": sum(max(r["aggr_flows"], 1) for r in rows),
        "Packets": sum(r["packets"] + r["out_packets"] for r in rows),
        "Bytes": sum(r["bytes"] + r["out_bytes"] for r in rows),
        "Flows_tcp": sum(max(r["aggr_flows"], 1) for r in rows if r["proto"] == 6),
        "Flows_udp": sum(max(r["aggr_flows"], 1) for r in rows if r["proto"] == 17),
        "Flows_icmp": sum(max(r["aggr_flows"], 1) for r in rows if r["proto"] in (1, 58)),
    }
    if rows:
        first = min(r["first_ms"] for r in rows)
        last = max(r["last_ms"] for r in rows)
        want["First"], want["msec_first"] = divmod(first, 1000)
        want["Last"], want["msec_last"] = divmod(last, 1000)
    bad = [f"{k}: nfdump {stat.get(k)} expected {v}" for k, v in want.items() if stat.get(k) != v]
    if bad:
        rc = 1
        print(f"FAIL - {label} stat: " + "; ".join(bad))
    else:
        print(f"ok - {label} stat: nfdump -I flows {stat['Flows']} packets {stat['Packets']} bytes {stat['Bytes']} as written")
    return rc

sys.exit(main())
PYEOF

status=0
# Each codec once, and LZ4 once more with enough flows for several 2 MiB
# blocks (nfdump 1.7.1 reads blocks of up to 5 MiB).
for run in none lzo bz2 lz4 zstd lz4:$MULTI; do
  codec=${run%%:*}
  COUNT=$SMALL
  case $run in *:*) COUNT=${run#*:}; codec=$codec-$COUNT ;; esac
  f=$tmp/$codec.nf
  if ! "$WRITEFILE" -c "${codec%%-*}" -n "$COUNT" -s 7 "$f"; then
    echo "FAIL - $codec: nfh-writefile could not write the file"
    status=1
    continue
  fi
  TZ=UTC "$NFDUMP" -r "$f" -o json > "$tmp/$codec.json" 2> "$tmp/$codec.err"
  if grep -q 'No matching flows' "$tmp/$codec.json" && [ "$COUNT" -gt 0 ]; then
    if [ "${codec%%-*}" = zstd ]; then
      # nfdump < 1.7.3 has no ZSTD: it prints "Unable to read appendix
      # block" and no flow, with exit status 0.
      echo "skip - zstd: nfdump $nfdump_version cannot read ZSTD files (support came with 1.7.3): $(sort -u "$tmp/$codec.err" | head -n 1)"
      continue
    fi
    echo "FAIL - $codec: nfdump $nfdump_version read no flow: $(sort -u "$tmp/$codec.err" | head -n 1)"
    status=1
    continue
  fi
  if ! "$NFHUNT" --dump --threads 2 -r "$f" > "$tmp/$codec.csv"; then
    echo "FAIL - $codec: nfhunt --dump failed"
    status=1
    continue
  fi
  "$NFDUMP" -E "$f" > "$tmp/$codec.exp" 2>&1
  "$NFDUMP" -I -r "$f" > "$tmp/$codec.stat" 2>&1
  label="$codec (nfdump $nfdump_version)"
  flows=flows
  if [ -f "$COMPARE" ]; then
    # The shared comparator checks flows field by field, including that
    # fields nfdump does not print hold their defaults.
    flows=no-flows
    if out=$("$PYTHON" "$COMPARE" --nfdump-json "$tmp/$codec.json" \
        --csv "$tmp/$codec.csv" --nfdump-exporters "$tmp/$codec.exp" \
        --name "$codec.nf" --check-absent 2>&1); then
      echo "ok - $label flows (compare.py): $(echo "$out" | tail -n 1)"
    else
      echo "FAIL - $label flows (compare.py): $(echo "$out" | tail -n 1)"
      echo "$out" | head -n 20 | sed 's/^/#   /'
      status=1
    fi
  fi
  "$PYTHON" "$tmp/compare.py" "$label" \
    "$tmp/$codec.json" "$tmp/$codec.csv" "$tmp/$codec.exp" \
    "$tmp/$codec.stat" "$COUNT" "$flows" || status=1
  # nfdump 1.7.1 predates the 20-byte EXsamplerInfo element and logs
  # "Unknown extension '18'" for sampled flows; anything else is news.
  other=$(grep -v "Unknown extension '18'" "$tmp/$codec.err" | head -n 1)
  if [ -n "$other" ]; then
    echo "FAIL - $codec: nfdump complained: $other"
    status=1
  fi
done
exit $status
