#!/usr/bin/python3
"""Compare nfdump's view of an nfcapd file with nfhunt's, flow by flow.

The oracle is `TZ=UTC nfdump -r FILE -o json` (nfdump 1.7.1); the
candidate is `nfhunt --dump -r FILE`, a CSV with a header line.  Flows are
compared in file order.  Every field nfdump's JSON shows that has a CSV
column is compared; a field nfdump does not show (its extension is absent
from the record) is not compared, unless --check-absent is given.

Field map (nfdump 1.7.1 src/output/output_json.c -> CSV column):
  first, last, received ("%Y-%m-%dT%H:%M:%S.mmm", local time, so nfdump
      must run with TZ=UTC)               -> first_ms, last_ms, received_ms
  proto                                   -> proto
  src4_addr | src6_addr, dst4_addr | dst6_addr -> src_addr, dst_addr
      (text must be identical: both are inet_ntop / RFC 5952)
  src_port, dst_port (not ICMP)           -> src_port, dst_port
  icmp_type, icmp_code (ICMP, ICMPv6)     -> dst_port = type*256+code,
                                             src_port = 0
  in_packets, in_bytes                    -> packets, bytes
  tcp_flags "CEUAPRSF" dots               -> tcp_flags (number)
  src_tos                                 -> tos
  sampled                                 -> flags & 0x01; and when 0,
                                             sampling must be 1
  export_sysid                            -> sysid
  out_packets, out_bytes, aggr_flows      -> same names (EXcntFlow)
  input_snmp, output_snmp                 -> input_if, output_if
  src_mask, dst_mask, direction, dst_tos, fwd_status  (EXflowMisc)
  src_as, dst_as, src_vlan, dst_vlan      -> same names
  ip4_next_hop | ip6_next_hop             -> next_hop
  bgp4_next_hop | bgp6_next_hop           -> bgp_next_hop
  ip4_router | ip6_router                 -> router
With `nfdump -E FILE` output (run automatically in --nfdump mode, or given
by --nfdump-exporters) the CSV columns exporter (IP text) and
exporter_id are checked against the exporter record of the flow's sysid.

Usage:
  compare.py --nfdump-json NFDUMP.json --csv NFHUNT.csv [--name FILE]
  compare.py --nfdump /usr/bin/nfdump --nfhunt tools/nfhunt FILE...

Prints up to --max-report mismatches per file (flow index, field, nfdump
value, nfhunt value), a per-field tally, and one summary line per file:
  "FILE: N flows, identical"   or   "FILE: N mismatches in M of K flows"
Exit status: 0 all identical, 1 mismatches, 2 could not compare (tool
failed, timeout, unreadable input).
"""

import argparse
import calendar
import csv
import difflib
import io
import ipaddress
import os
import re
import subprocess
import sys
import time

CSV_COLUMNS = (
    "first_ms,last_ms,proto,src_addr,src_port,dst_addr,dst_port,packets,"
    "bytes,tcp_flags,tos,sampling,exporter,exporter_id,sysid,out_packets,"
    "out_bytes,aggr_flows,input_if,output_if,src_as,dst_as,src_vlan,"
    "dst_vlan,src_mask,dst_mask,direction,dst_tos,fwd_status,next_hop,"
    "bgp_next_hop,router,received_ms,flags").split(",")

ADDR_COLUMNS = {"src_addr", "dst_addr", "next_hop", "bgp_next_hop",
                "router", "exporter"}

# ------------------------------------------------------- nfdump JSON
_KV = re.compile(r'^\s*"([^"]+)"\s*:\s*(.*?)\s*,?\s*$')
_TIME = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{1,3})$')


def _value(raw):
    raw = raw.strip()
    if raw.endswith(","):
        raw = raw[:-1].rstrip()
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        return raw[1:-1]
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def parse_nfdump_json_raw(text):
    """Split nfdump 1.7.1 `-o json` output into a list of {key: value}.

    nfdump's JSON is not always valid JSON (0 flows prints
    "No matching flows" inside the array; a read error leaves the array
    open; some keys contain blanks; "ja3" is unquoted), so it is read line
    by line: a record is the lines between "{" and "}".
    """
    records = []
    cur = None
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s == "{" or s.endswith("{") and s.lstrip("[,") == "{":
            cur = {}
            continue
        if s.startswith("}"):
            if cur is not None:
                records.append(cur)
            cur = None
            continue
        if cur is None:
            continue
        m = _KV.match(line)
        if m:
            cur[m.group(1)] = _value(m.group(2))
    if cur:  # truncated last record (nfdump died mid-record)
        cur["_truncated"] = True
        records.append(cur)
    return records


def time_ms(text):
    """nfdump's "2024-03-01T12:00:00.123" (printed in UTC) -> epoch ms."""
    m = _TIME.match(str(text))
    if not m:
        raise ValueError("bad time %r" % (text,))
    y, mo, d, h, mi, s, ms = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi),
                            int(s), 0, 0, 0))
    return secs * 1000 + int(ms)


def tcp_flags_bits(text):
    """"...AP.S." -> 0x1A.  Positions are CEUAPRSF, bit 7 first."""
    text = str(text)
    if len(text) != 8:
        raise ValueError("bad tcp_flags %r" % (text,))
    bits = 0
    for i, ch in enumerate(text):
        if ch != ".":
            bits |= 0x80 >> i
    return bits


def normalise(rec):
    """Map one nfdump JSON record onto CSV column names.

    Returns {column: value}; only columns nfdump shows are present.
    Integers are ints, addresses are nfdump's text.
    """
    out = {}
    conv = [
        ("first", "first_ms", time_ms),
        ("last", "last_ms", time_ms),
        ("received", "received_ms", time_ms),
        ("proto", "proto", int),
        ("in_packets", "packets", int),
        ("in_bytes", "bytes", int),
        ("src_tos", "tos", int),
        ("export_sysid", "sysid", int),
        ("out_packets", "out_packets", int),
        ("out_bytes", "out_bytes", int),
        ("aggr_flows", "aggr_flows", int),
        ("input_snmp", "input_if", int),
        ("output_snmp", "output_if", int),
        ("src_as", "src_as", int),
        ("dst_as", "dst_as", int),
        ("src_vlan", "src_vlan", int),
        ("dst_vlan", "dst_vlan", int),
        ("src_mask", "src_mask", int),
        ("dst_mask", "dst_mask", int),
        ("direction", "direction", int),
        ("dst_tos", "dst_tos", int),
        ("fwd_status", "fwd_status", int),
        ("tcp_flags", "tcp_flags", tcp_flags_bits),
        ("src_port", "src_port", int),
        ("dst_port", "dst_port", int),
    ]
    for key, col, fn in conv:
        if key in rec:
            try:
                out[col] = fn(rec[key])
            except (ValueError, TypeError):
                out[col] = ("<unparsable %r>" % (rec[key],))
    for col, keys in (("src_addr", ("src4_addr", "src6_addr")),
                      ("dst_addr", ("dst4_addr", "dst6_addr")),
                      ("next_hop", ("ip4_next_hop", "ip6_next_hop")),
                      ("bgp_next_hop", ("bgp4_next_hop", "bgp6_next_hop")),
                      ("router", ("ip4_router", "ip6_router"))):
        for k in keys:
            if k in rec:
                out[col] = str(rec[k])
    if "icmp_type" in rec or "icmp_code" in rec:
        try:
            out["dst_port"] = int(rec.get("icmp_type", 0)) * 256 + \
                int(rec.get("icmp_code", 0))
        except (ValueError, TypeError):
            out["dst_port"] = "<unparsable icmp>"
        out["src_port"] = 0  # nfhunt's contract; nfdump does not print it
    if "sampled" in rec:
        out["_sampled"] = int(rec["sampled"])
    return out


def parse_nfdump_json(text):
    """Normalised records, each with "_key" for matching by flow."""
    res = []
    for rec in parse_nfdump_json_raw(text):
        n = normalise(rec)
        n["_raw"] = rec
        n["sampled"] = n.get("_sampled", 0)
        try:
            n["_key"] = (int(n["proto"]), _addr(n.get("src_addr", "")),
                         int(n.get("src_port", 0)),
                         _addr(n.get("dst_addr", "")),
                         int(n.get("dst_port", 0)), int(n["first_ms"]))
        except (KeyError, ValueError, TypeError):
            n["_key"] = None
        res.append(n)
    return res


def _addr(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return text


_EXPORTER = re.compile(
    r'SysID:\s*(\d+),\s*IP:\s*(\S+),\s*version:\s*(\d+),\s*ID:\s*(\d+)')


def parse_exporters(text):
    """`nfdump -E FILE` -> {sysid: (ip text, version, id)}."""
    res = {}
    for line in text.splitlines():
        m = _EXPORTER.search(line)
        if m and not line.lstrip().startswith("Exporter SysID"):
            res[int(m.group(1))] = (m.group(2), int(m.group(3)),
                                    int(m.group(4)))
    return res


# ------------------------------------------------------------- CSV
def parse_csv(text):
    """nfhunt --dump output -> (header list, list of row dicts)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], []
    hdr = [h.strip() for h in rows[0]]
    out = []
    for r in rows[1:]:
        if not r or r == [""]:
            continue
        out.append(dict(zip(hdr, r)))
    return hdr, out


# ----------------------------------------------------------- compare
def _int(text):
    text = text.strip()
    if text.lower().startswith("0x"):
        return int(text, 16)
    return int(text)


ABSENT_DEFAULTS = {
    # What a column should hold when nfdump shows no such field.
    "out_packets": 0, "out_bytes": 0, "aggr_flows": 1,
    "input_if": 0, "output_if": 0, "src_as": 0, "dst_as": 0,
    "src_vlan": 0, "dst_vlan": 0, "src_mask": 0, "dst_mask": 0,
    "direction": 0, "dst_tos": 0, "next_hop": "", "bgp_next_hop": "",
    "router": "",
}


def compare_flow(idx, want, got, hdr_set, exporters, check_absent):
    """Yield (field, nfdump value, nfhunt value, note) per mismatch."""
    for col, wv in want.items():
        if col.startswith("_") or col == "sampled":
            continue
        if col not in hdr_set:
            continue  # reported once per file
        gv = got.get(col, "")
        if isinstance(wv, str) and wv.startswith("<unparsable"):
            yield (col, wv, gv, "nfdump value unparsable")
            continue
        if col in ADDR_COLUMNS:
            if gv != wv:
                note = ""
                try:
                    if ipaddress.ip_address(gv) == ipaddress.ip_address(wv):
                        note = "same address, different text"
                except ValueError:
                    pass
                yield (col, wv, gv, note)
            continue
        try:
            g = _int(gv)
        except (ValueError, AttributeError):
            yield (col, wv, gv, "not an integer")
            continue
        if g != wv:
            note = ""
            if col.endswith("_ms"):
                note = "delta %+d ms" % (g - wv)
            yield (col, wv, gv, note)

    # sampled flag -> flags bit 0 and sampling column
    if "_sampled" in want:
        s = want["_sampled"]
        if "flags" in hdr_set:
            try:
                fl = _int(got.get("flags", ""))
                if bool(fl & 1) != bool(s):
                    yield ("flags&0x01", s, fl, "nfdump 'sampled'")
            except ValueError:
                yield ("flags", s, got.get("flags"), "not an integer")
        if "sampling" in hdr_set and not s:
            try:
                sv = _int(got.get("sampling", ""))
                if sv != 1:
                    yield ("sampling", 1, sv, "flow not sampled per nfdump")
            except ValueError:
                yield ("sampling", 1, got.get("sampling"), "not an integer")

    # exporter record of this sysid
    if exporters is not None and "sysid" in want:
        ex = exporters.get(want["sysid"])
        if ex is not None:
            ip, _ver, eid = ex
            if "exporter" in hdr_set and got.get("exporter", "") != ip:
                yield ("exporter", ip, got.get("exporter", ""),
                       "nfdump -E, sysid %d" % want["sysid"])
            if "exporter_id" in hdr_set:
                try:
                    if _int(got.get("exporter_id", "")) != eid:
                        yield ("exporter_id", eid, got.get("exporter_id"),
                               "nfdump -E, sysid %d" % want["sysid"])
                except ValueError:
                    yield ("exporter_id", eid, got.get("exporter_id"),
                           "not an integer")

    if check_absent:
        for col, dv in ABSENT_DEFAULTS.items():
            if col in want or col not in hdr_set:
                continue
            gv = got.get(col, "")
            if isinstance(dv, int):
                try:
                    ok = _int(gv) == dv
                except ValueError:
                    ok = False
            else:
                ok = gv == dv
            if not ok:
                yield (col, "(absent: %r)" % (dv,), gv,
                       "nfdump shows no such field")


_KEYCOLS = ("proto", "src_addr", "src_port", "dst_addr", "dst_port",
            "first_ms")


def _wkey(rec):
    return tuple(str(rec.get(c, "")) for c in _KEYCOLS)


def _gkey(row):
    return tuple(str(row.get(c, "")).strip() for c in _KEYCOLS)


def _brief(rec):
    keys = [c for c in _KEYCOLS + ("packets", "bytes", "sysid")
            if c in rec]
    return " ".join("%s=%s" % (k, rec[k]) for k in keys) or repr(rec)


def compare(name, nfdump_text, csv_text, exporters=None, max_report=10,
            check_absent=False, out=sys.stdout, problems=()):
    """Compare one file; print report; return number of mismatches.

    `problems` are failures found outside the text (e.g. nfhunt's exit
    status); each counts as one mismatch and is named in the summary.
    """
    want = parse_nfdump_json(nfdump_text)
    hdr, got = parse_csv(csv_text)
    mismatches = len(problems)
    bad_flows = 0
    reported = 0
    tally = {}
    for p in problems:
        out.write("  %s\n" % p)

    def report(msg):
        nonlocal reported
        if reported < max_report:
            out.write("  " + msg + "\n")
        reported += 1

    if not hdr and want:
        out.write("%s: %d mismatches: nfhunt printed no CSV header "
                  "(nfdump: %d flows)\n" % (name, mismatches + 1, len(want)))
        return mismatches + 1
    hdr_set = set(hdr)
    missing = [c for c in CSV_COLUMNS if c not in hdr_set]
    if missing:
        report("CSV header lacks columns: %s" % ",".join(missing))
        mismatches += 1
        tally["<header>"] = 1
    if any(r.get("_raw", {}).get("_truncated") for r in want):
        report("nfdump output ends inside a record (nfdump error?)")

    def check_pair(i, j):
        nonlocal mismatches, bad_flows
        flow_bad = False
        for field, wv, gv, note in compare_flow(i, want[i], got[j], hdr_set,
                                                exporters, check_absent):
            mismatches += 1
            flow_bad = True
            tally[field] = tally.get(field, 0) + 1
            where = "flow %d" % i if i == j else \
                "flow %d (nfhunt row %d)" % (i, j)
            report("%s: %s: nfdump=%r nfhunt=%r%s" % (
                where, field, wv, gv, (" (%s)" % note) if note else ""))
        if flow_bad:
            bad_flows += 1

    def only_in(who, idx, rec):
        nonlocal mismatches, bad_flows
        mismatches += 1
        bad_flows += who == "nfdump"
        key = "<only in %s>" % who
        tally[key] = tally.get(key, 0) + 1
        if who == "nfdump":
            rec = {k: v for k, v in rec.items() if not k.startswith("_")}
        report("flow %d only in %s: %s" % (idx, who, _brief(rec)))

    wkeys = [_wkey(r) for r in want]
    gkeys = [_gkey(r) for r in got]
    if len(want) == len(got):
        # Same count: strictly in order, whatever the keys say.
        for i in range(len(want)):
            check_pair(i, i)
    else:
        # Different counts: align on (proto, addresses, ports, first_ms)
        # so one lost or extra flow does not make every later one differ.
        report("flow count: nfdump=%d nfhunt=%d" % (len(want), len(got)))
        sm = difflib.SequenceMatcher(None, wkeys, gkeys, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for k in range(i2 - i1):
                    check_pair(i1 + k, j1 + k)
                continue
            for i in range(i1, i2):
                only_in("nfdump", i, want[i])
            for j in range(j1, j2):
                only_in("nfhunt", j, got[j])
    if reported > max_report:
        out.write("  ... %d more mismatches not shown\n"
                  % (reported - max_report))
    if mismatches:
        if tally:
            out.write("  per field: %s\n" % ", ".join(
                "%s=%d" % kv for kv in sorted(tally.items())))
        out.write("%s: %d mismatches in %d of %d flows\n"
                  % (name, mismatches, bad_flows, len(want)))
    else:
        out.write("%s: %d flows, identical\n" % (name, len(want)))
    out.flush()
    return mismatches


# ----------------------------------------------------------- drivers
def run(cmd, timeout, env=None):
    """Run cmd; return (rc, stdout text, stderr text); rc None on timeout."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace")
    except OSError as e:
        return 127, "", str(e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def nfdump_json(nfdump, path, timeout):
    env = dict(os.environ, TZ="UTC")
    return run([nfdump, "-r", path, "-o", "json"], timeout, env)


def compare_files(args):
    worst = 0
    for path in args.files:
        name = args.name or path
        rc, js, err = nfdump_json(args.nfdump, path, args.timeout)
        if rc is None or rc != 0:
            print("%s: cannot compare: nfdump %s: %s" % (
                name, "timed out" if rc is None else "exit %d" % rc,
                err.strip().splitlines()[-1:] if err.strip() else ""))
            worst = max(worst, 2)
            continue
        exporters = None
        if not args.no_exporters:
            erc, etext, _ = run([args.nfdump, "-E", path], args.timeout)
            if erc == 0:
                exporters = parse_exporters(etext)
        t0 = time.monotonic()
        hrc, csvt, herr = run([args.nfhunt, "--dump", "-r", path],
                              args.timeout)
        dt = time.monotonic() - t0
        if hrc is None:
            print("%s: cannot compare: nfhunt timed out after %.0f s"
                  % (name, dt))
            worst = max(worst, 2)
            continue
        problems = []
        if hrc != 0:
            # Still compare what was printed.
            problems.append("nfhunt exit status %d: %s" % (
                hrc, " | ".join(herr.strip().splitlines()[:3])))
        if args.save_dir:
            base = os.path.join(args.save_dir, os.path.basename(path))
            with open(base + ".nfdump.json", "w") as f:
                f.write(js)
            with open(base + ".nfhunt.csv", "w") as f:
                f.write(csvt)
        m = compare(name, js, csvt, exporters, args.max_report,
                    args.check_absent, problems=problems)
        if m:
            worst = max(worst, 1)
    return worst


def main():
    ap = argparse.ArgumentParser(
        description="compare nfdump -o json with nfhunt --dump CSV")
    ap.add_argument("--nfdump-json", help="saved `TZ=UTC nfdump -o json`")
    ap.add_argument("--csv", help="saved `nfhunt --dump` output")
    ap.add_argument("--nfdump-exporters", help="saved `nfdump -E FILE`")
    ap.add_argument("--name", help="file name for the report")
    ap.add_argument("--nfdump", help="nfdump binary (run mode)")
    ap.add_argument("--nfhunt", help="nfhunt binary (run mode)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds per command (run mode, default 120)")
    ap.add_argument("--save-dir", help="keep the outputs here (run mode)")
    ap.add_argument("--no-exporters", action="store_true",
                    help="do not check exporter/exporter_id via nfdump -E")
    ap.add_argument("--max-report", type=int, default=10)
    ap.add_argument("--check-absent", action="store_true",
                    help="also check columns nfdump does not show hold "
                    "their defaults (0, empty, aggr_flows 1)")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()

    if args.nfdump_json or args.csv:
        if not (args.nfdump_json and args.csv) or args.files:
            ap.error("--nfdump-json and --csv go together, without FILEs")
        try:
            with open(args.nfdump_json, encoding="utf-8",
                      errors="replace") as f:
                js = f.read()
            with open(args.csv, encoding="utf-8", errors="replace") as f:
                cs = f.read()
            exporters = None
            if args.nfdump_exporters:
                with open(args.nfdump_exporters) as f:
                    exporters = parse_exporters(f.read())
        except OSError as e:
            print("cannot compare: %s" % e)
            return 2
        m = compare(args.name or args.csv, js, cs, exporters,
                    args.max_report, args.check_absent)
        return 1 if m else 0

    if not (args.nfdump and args.nfhunt and args.files):
        ap.error("give --nfdump-json/--csv, or --nfdump, --nfhunt and FILEs")
    return compare_files(args)


if __name__ == "__main__":
    sys.exit(main())
