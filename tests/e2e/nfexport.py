#!/usr/bin/python3
"""A small, deterministic NetFlow v9 / IPFIX exporter for the e2e tests.

It sends templates, OPTIONS templates plus options data that announce
samplers, then data records (IPv4 and IPv6; TCP, UDP, ICMP, ICMPv6) to a
collector, normally a real nfcapd on 127.0.0.1.  nfcapd applies the
announced sampling: it multiplies packet and byte counters and sets the
record's SAMPLED flag.  The same flows are known here, with their raw
counters, so `verify` can check what the reader reports.  Stdlib only.

Which sampler announcements nfcapd 1.7.1 honours (read from
src/netflow/netflow_v9.c and ipfix.c at tag v1.7.1):

  * an option template is a "sampler template" only if its option flags
    masked with 0x2C (302|304|306) equal 306, or masked with 0x3 (34|35)
    equal 34.  So #34 alone works, #34 + #48/#302 works (sampler id from
    #48/#302, interval from #34), #305 + #306 without #302/#304 works
    (sampler id 0); but #34 + #35, and #302 + #305 + #306, are silently
    ignored by 1.7.1 (later versions accept them).
  * options data: interval N from #34 becomes packetInterval 1,
    spaceInterval N-1; #305/#306 are taken as they are.  Rate is
    (packetInterval + spaceInterval) / packetInterval.
  * a data record picks the sampler whose id equals its #48/#302 value
    (0 when absent), else the exporter's generic (#34-only) sampler.

Exporters (each one is a separate exporter for nfcapd: v9 source ID or
IPFIX observation domain):

  v9  sid 1  #48 + #34 option: sampler 5, rate 10, later changed to 20;
             flows with #48=5 sampled, flows with #48=0 unsampled
  v9  sid 2  #34 only (generic sampler), rate 100, later changed to 200:
             every flow sampled
  v9  sid 3  #34 + #35 (rate 50): ignored by 1.7.1, flows unsampled
  ipfix odid 1  #305=2, #306=6 (sampler id 0), rate 4: every flow sampled
  ipfix odid 2  #302 + #34: sampler 7, rate 20; #302=7 sampled, 0 not
  ipfix odid 3  #302 + #305 + #306 (rate 50): ignored by 1.7.1

Usage:
  nfexport.py send   --port P [--host 127.0.0.1] [--version 9|10|all]
                     [--expect FILE.json]
  nfexport.py expect --version 9|10|all --out FILE.json
  nfexport.py verify --expect FILE.json --csv NFHUNT.csv...
                     --nfdump-json NFDUMP.json... [--label NAME]
                     [--expected-count N] [--require-sampled]
                     [--nfcapd-sampling N]

`verify` matches every CSV row from these exporters with its flow (by
proto, addresses, ports and first_ms), derives the rate nfcapd applied
from nfdump's counters (raw x rate), checks that rate is one this
exporter allows (taking nfcapd's -s N default / -s -N overwrite into
account), and checks nfhunt's sampling column, SAMPLED flag
(flags bit 0x01) and counters against it.  It prints one line per check
group and `N passed, N failed` on the last line; exit 0 only if all
passed.
"""

import argparse
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

SEED = 0x4E464858
# Flows start at 2024-03-01 13:00:00 UTC; export time 13:10:00.
T_FLOWS_MS = 1709298000 * 1000
T_EXPORT_S = 1709298600
SYS_UPTIME_MS = 7200000  # v9 exporter uptime at export time: 2 h

# ------------------------------------------------------------ exporters
EXPORTERS = [
    # name, version, domain, sampler announcements, data-record sampler
    dict(name="v9-sid1-sampler48", version=9, domain=1,
         option=[("scope_system", 4), (48, 2), (34, 4)],
         option_values=[(0, 5, 10)], update=(0, 5, 20),
         sampler_field=True, sampler_ids=(5, 5, 0)),
    dict(name="v9-sid2-generic34", version=9, domain=2,
         option=[("scope_system", 4), (34, 4)],
         option_values=[(0, 100)], update=(0, 200), sampler_field=False),
    dict(name="v9-sid3-34+35", version=9, domain=3,
         option=[("scope_system", 4), (34, 4), (35, 1)],
         option_values=[(0, 50, 2)], sampler_field=False),
    dict(name="ipfix-odid1-305+306", version=10, domain=1,
         option=[("scope_odid", 4), (305, 4), (306, 4)],
         option_values=[(1, 2, 6)], sampler_field=False),
    dict(name="ipfix-odid2-302+34", version=10, domain=2,
         option=[("scope_odid", 4), (302, 8), (34, 4)],
         option_values=[(2, 7, 20)], sampler_field=True,
         sampler_ids=(7, 7, 0)),
    dict(name="ipfix-odid3-302+305+306", version=10, domain=3,
         option=[("scope_odid", 4), (302, 4), (305, 4), (306, 4)],
         option_values=[(3, 9, 1, 49)], sampler_field=True,
         sampler_ids=(9,)),
]


def allowed_rates(exp, sampler_id, updated):
    """Rates nfcapd may apply to a flow: 1.7.1's first, then later ones."""
    name = exp["name"]
    if name == "v9-sid1-sampler48":
        return [20 if updated else 10] if sampler_id == 5 else [1]
    if name == "v9-sid2-generic34":
        return [200 if updated else 100]
    if name == "v9-sid3-34+35":
        return [1, 50]  # 1.7.1 ignores #34+#35
    if name == "ipfix-odid1-305+306":
        return [4]
    if name == "ipfix-odid2-302+34":
        return [20] if sampler_id == 7 else [1]
    if name == "ipfix-odid3-302+305+306":
        return [1, 50]  # 1.7.1 ignores #302+#305+#306
    raise ValueError(name)


# IPv6 addresses whose RFC 5952 text form is easy to get wrong.
V6_TRICKY = [
    "::ffff:192.0.2.33",          # IPv4-mapped: mixed notation
    "2001:db8:0:0:1:0:0:1",       # tie: compress the first run
    "2001:0:0:1:0:0:0:1",         # longest run wins
    "2001:db8:0:1:1:1:1:1",       # a single 0 field is not compressed
    "fe80::1",
    "::1",
    "2001:db8::",
    "::",
]


def gen_flows(exp):
    """The data records of one exporter, as dicts (deterministic)."""
    rng = random.Random(SEED * 131 + exp["version"] * 17 + exp["domain"])
    flows = []
    d = exp["domain"]
    n4, n6 = 36, 14
    for i in range(n4 + n6):
        v6 = i >= n4
        kind = ("tcp", "udp", "icmp")[i % 3]
        f = {}
        f["exporter"] = exp["name"]
        f["af"] = 6 if v6 else 4
        if v6:
            j = i - n4
            if j < len(V6_TRICKY):
                src = V6_TRICKY[j]
            else:
                src = "2001:db8:%x:%x::%x" % (exp["version"], d, 0x100 + j)
            dst = "2001:db8:ffff:%x::%x" % (d, 0x10 + j % 5)
            f["next_hop"] = "2001:db8:ff::%x" % (1 + j % 2)
            f["bgp_next_hop"] = "2001:db8:fe::%x" % (1 + j % 3)
            f["src_mask"], f["dst_mask"] = 48 + j % 17, 64
        else:
            src = "172.16.%d.%d" % (exp["version"] * 10 + d, 1 + i)
            dst = "198.18.%d.%d" % (d, 1 + i % 7)
            f["next_hop"] = "192.0.2.%d" % (1 + i % 4)
            f["bgp_next_hop"] = "192.0.2.%d" % (250 + i % 3)
            f["src_mask"], f["dst_mask"] = 16 + i % 9, 24
        f["src"], f["dst"] = src, dst
        if kind == "tcp":
            f["proto"] = 6
            f["sport"] = 20000 + exp["version"] * 1000 + d * 100 + i
            f["dport"] = (80, 443, 22, 25)[i % 4]
            f["tcp_flags"] = (0x1B, 0x02, 0x14, 0x12, 0xDB)[i % 5]
        elif kind == "udp":
            f["proto"] = 17
            f["sport"] = 30000 + exp["version"] * 1000 + d * 100 + i
            f["dport"] = (53, 123, 514, 4789)[i % 4]
            f["tcp_flags"] = 0
        else:
            f["proto"] = 58 if v6 else 1
            t, c = ((128, 0), (129, 0), (1, 4))[i % 3] if v6 else \
                ((8, 0), (3, 3), (11, 0), (3, 13))[i % 4]
            f["sport"] = 0
            f["dport"] = t * 256 + c
            f["tcp_flags"] = 0
        f["tos"] = (0, 0, 0x28, 0xb8)[i % 4]
        f["dst_tos"] = (0, 0x20)[i % 2]
        f["pkts"] = rng.randrange(1, 5000)
        f["bytes"] = f["pkts"] * rng.randrange(40, 1500)
        if i == 5:
            f["bytes"] = 5 * 1000 * 1000 * 1000 + 17  # above 2^32
        f["out_pkts"] = rng.randrange(0, 3000)
        f["out_bytes"] = f["out_pkts"] * rng.randrange(40, 1500)
        first = T_FLOWS_MS + i * 7919 + rng.randrange(0, 1000)
        f["first_ms"] = first
        f["last_ms"] = first + rng.randrange(0, 120000)
        f["input"] = 1 + i % 6
        f["output"] = 10 + i % 3
        f["src_as"] = 64496 + i % 10
        f["dst_as"] = (0, 65551, 4200000000)[i % 3]
        f["src_vlan"] = (0, 100, 4094)[i % 3]
        f["dst_vlan"] = (0, 200)[i % 2]
        f["direction"] = i % 2
        f["fwd_status"] = (64, 0, 130)[i % 3] if exp["version"] == 9 else 0
        f["aggr_flows"] = 1 + i % 3
        # Which sampler the record names and whether it is sent after
        # the sampler update (v9 sid 1 changes its rate half-way).
        if exp.get("sampler_field"):
            ids = exp["sampler_ids"]
            f["sampler_id"] = ids[i % len(ids)]
        else:
            f["sampler_id"] = 0
        f["after_update"] = bool(exp.get("update")) and i >= (n4 + n6) // 2
        f["allowed_rates"] = allowed_rates(exp, f["sampler_id"],
                                           f["after_update"])
        flows.append(f)
    return flows


# ----------------------------------------------------------- encoding
def enc_uint(value, length):
    return int(value).to_bytes(length, "big")


def enc_ip(text, length):
    return ipaddress.ip_address(text).packed[:length] if length in (4, 16) \
        else b""


# Data template fields: (IE, length, value-getter).
def v4_fields(exp):
    v9 = exp["version"] == 9
    fl = [
        (8, 4, lambda f: enc_ip(f["src"], 4)),
        (12, 4, lambda f: enc_ip(f["dst"], 4)),
        (7, 2, lambda f: enc_uint(f["sport"], 2)),
        (11, 2, lambda f: enc_uint(0 if f["proto"] in (1, 58)
                                   else f["dport"], 2)),
        (4, 1, lambda f: enc_uint(f["proto"], 1)),
        (6, 1, lambda f: enc_uint(f["tcp_flags"], 1)),
        (5, 1, lambda f: enc_uint(f["tos"], 1)),
        (55, 1, lambda f: enc_uint(f["dst_tos"], 1)),
        (2, 4 if v9 else 8, lambda f: enc_uint(f["pkts"], 4 if v9 else 8)),
        (1, 8, lambda f: enc_uint(f["bytes"], 8)),
        (24, 4, lambda f: enc_uint(f["out_pkts"], 4)),
        (23, 8, lambda f: enc_uint(f["out_bytes"], 8)),
    ]
    fl += time_fields(exp)
    fl += [
        (10, 2, lambda f: enc_uint(f["input"], 2)),
        (14, 2, lambda f: enc_uint(f["output"], 2)),
        (16, 4, lambda f: enc_uint(f["src_as"], 4)),
        (17, 4, lambda f: enc_uint(f["dst_as"], 4)),
        (9, 1, lambda f: enc_uint(f["src_mask"], 1)),
        (13, 1, lambda f: enc_uint(f["dst_mask"], 1)),
        (15, 4, lambda f: enc_ip(f["next_hop"], 4)),
        (18, 4, lambda f: enc_ip(f["bgp_next_hop"], 4)),
        (58, 2, lambda f: enc_uint(f["src_vlan"], 2)),
        (59, 2, lambda f: enc_uint(f["dst_vlan"], 2)),
        (61, 1, lambda f: enc_uint(f["direction"], 1)),
        (32, 2, lambda f: enc_uint(f["dport"] if f["proto"] == 1 else 0, 2)),
        (3, 4, lambda f: enc_uint(f["aggr_flows"], 4)),
    ]
    if v9:
        fl.append((89, 1, lambda f: enc_uint(f["fwd_status"], 1)))
    fl += sampler_fields(exp)
    return fl


def v6_fields(exp):
    v9 = exp["version"] == 9
    fl = [
        (27, 16, lambda f: enc_ip(f["src"], 16)),
        (28, 16, lambda f: enc_ip(f["dst"], 16)),
        (7, 2, lambda f: enc_uint(f["sport"], 2)),
        (11, 2, lambda f: enc_uint(0 if f["proto"] in (1, 58)
                                   else f["dport"], 2)),
        (4, 1, lambda f: enc_uint(f["proto"], 1)),
        (6, 1, lambda f: enc_uint(f["tcp_flags"], 1)),
        (5, 1, lambda f: enc_uint(f["tos"], 1)),
        (55, 1, lambda f: enc_uint(f["dst_tos"], 1)),
        (2, 8, lambda f: enc_uint(f["pkts"], 8)),
        (1, 8, lambda f: enc_uint(f["bytes"], 8)),
        (24, 8, lambda f: enc_uint(f["out_pkts"], 8)),
        (23, 8, lambda f: enc_uint(f["out_bytes"], 8)),
    ]
    fl += time_fields(exp)
    fl += [
        (10, 4 if not v9 else 2, lambda f: enc_uint(f["input"],
                                                    4 if not v9 else 2)),
        (14, 4 if not v9 else 2, lambda f: enc_uint(f["output"],
                                                    4 if not v9 else 2)),
        (16, 4, lambda f: enc_uint(f["src_as"], 4)),
        (17, 4, lambda f: enc_uint(f["dst_as"], 4)),
        (29, 1, lambda f: enc_uint(f["src_mask"], 1)),
        (30, 1, lambda f: enc_uint(f["dst_mask"], 1)),
        (62, 16, lambda f: enc_ip(f["next_hop"], 16)),
        (63, 16, lambda f: enc_ip(f["bgp_next_hop"], 16)),
        (58, 2, lambda f: enc_uint(f["src_vlan"], 2)),
        (59, 2, lambda f: enc_uint(f["dst_vlan"], 2)),
        (61, 1, lambda f: enc_uint(f["direction"], 1)),
        # v9 #32 carries ICMP and ICMPv6 type/code; IPFIX uses #139.
        (32 if v9 else 139, 2,
         lambda f: enc_uint(f["dport"] if f["proto"] == 58 else 0, 2)),
        (3, 4, lambda f: enc_uint(f["aggr_flows"], 4)),
    ]
    if v9:
        fl.append((89, 1, lambda f: enc_uint(f["fwd_status"], 1)))
    fl += sampler_fields(exp)
    return fl


def time_fields(exp):
    if exp["version"] == 9:
        boot = T_EXPORT_S * 1000 - SYS_UPTIME_MS
        return [(22, 4, lambda f: enc_uint(f["first_ms"] - boot, 4)),
                (21, 4, lambda f: enc_uint(f["last_ms"] - boot, 4))]
    return [(152, 8, lambda f: enc_uint(f["first_ms"], 8)),
            (153, 8, lambda f: enc_uint(f["last_ms"], 8))]


def sampler_fields(exp):
    if not exp.get("sampler_field"):
        return []
    if exp["version"] == 9:
        return [(48, 2, lambda f: enc_uint(f["sampler_id"], 2))]
    return [(302, 8, lambda f: enc_uint(f["sampler_id"], 8))]


def pad4(b):
    return b + bytes((-len(b)) % 4)


def template_record(tid, fields):
    out = struct.pack("!HH", tid, len(fields))
    for ie, ln, _ in fields:
        out += struct.pack("!HH", ie, ln)
    return out


def option_template_record(exp, tid):
    spec = exp["option"]
    scope = [(1 if exp["version"] == 9 else 149, ln)
             for ie, ln in spec if isinstance(ie, str)]
    opts = [(ie, ln) for ie, ln in spec if not isinstance(ie, str)]
    if exp["version"] == 9:
        # {template id, scope length in bytes, option length in bytes}
        out = struct.pack("!HHH", tid, 4 * len(scope), 4 * len(opts))
    else:
        # {template id, field count, scope field count}
        out = struct.pack("!HHH", tid, len(scope) + len(opts), len(scope))
    for ie, ln in scope + opts:
        out += struct.pack("!HH", ie, ln)
    return out


def option_data_record(exp, values):
    out = b""
    for (ie, ln), v in zip(exp["option"], values):
        out += enc_uint(v, ln)
    return out


class Exporter:
    TPL_V4, TPL_V6, TPL_OPT = 256, 257, 258

    def __init__(self, exp, sock, dest, delay):
        self.exp = exp
        self.sock = sock
        self.dest = dest
        self.delay = delay
        self.seq = 0          # v9: packets; IPFIX: data records
        self.packets = 0
        self.f4 = v4_fields(exp)
        self.f6 = v6_fields(exp)

    def _send(self, sets, nrecords, ndata):
        exp = self.exp
        body = b"".join(sets)
        if exp["version"] == 9:
            hdr = struct.pack("!HHIIII", 9, nrecords, SYS_UPTIME_MS,
                              T_EXPORT_S, self.seq, exp["domain"])
            self.seq += 1
        else:
            hdr = struct.pack("!HHIII", 10, 16 + len(body), T_EXPORT_S,
                              self.seq, exp["domain"])
            self.seq += ndata
        self.sock.sendto(hdr + body, self.dest)
        self.packets += 1
        if self.delay:
            time.sleep(self.delay)

    def _set(self, set_id, payload):
        payload = pad4(payload)
        return struct.pack("!HH", set_id, 4 + len(payload)) + payload

    def send_templates(self):
        v9 = self.exp["version"] == 9
        tset, oset = (0, 1) if v9 else (2, 3)
        sets = [self._set(tset, template_record(self.TPL_V4, self.f4) +
                          template_record(self.TPL_V6, self.f6)),
                self._set(oset, option_template_record(self.exp,
                                                       self.TPL_OPT))]
        self._send(sets, 3, 0)

    def send_options(self, values):
        rec = option_data_record(self.exp, values)
        self._send([self._set(self.TPL_OPT, rec)], 1, 0)

    def send_data(self, flows, per_packet=8):
        for i in range(0, len(flows), per_packet):
            chunk = flows[i:i + per_packet]
            sets = []
            for af, tid, fields in ((4, self.TPL_V4, self.f4),
                                    (6, self.TPL_V6, self.f6)):
                recs = [f for f in chunk if f["af"] == af]
                if not recs:
                    continue
                payload = b"".join(b"".join(get(f) for _, _, get in fields)
                                   for f in recs)
                sets.append(self._set(tid, payload))
            self._send(sets, len(chunk), len(chunk))

    def run(self):
        exp = self.exp
        flows = gen_flows(exp)
        self.send_templates()
        for values in exp["option_values"]:
            self.send_options(values)
        before = [f for f in flows if not f["after_update"]]
        after = [f for f in flows if f["after_update"]]
        self.send_data(before)
        if after:
            self.send_options(exp["update"])
            self.send_data(after)
        return flows


def selected(version):
    if version == "all":
        return EXPORTERS
    return [e for e in EXPORTERS if e["version"] == int(version)]


def write_expect(path, flows):
    with open(path, "w") as f:
        json.dump(flows, f, indent=0, sort_keys=True)
        f.write("\n")


# ------------------------------------------------------------- verify
def load_csv(path):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return []
    hdr = rows[0]
    return [dict(zip(hdr, r)) for r in rows[1:] if r]


def load_nfdump_json(path):
    # The tolerant parser lives in compare.py, next to this file; no
    # __pycache__ is left in the source tree.
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import compare
    with open(path, encoding="utf-8", errors="replace") as f:
        return compare.parse_nfdump_json(f.read())


def addr_key(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return text


def flow_key(proto, src, sport, dst, dport, first_ms):
    return (int(proto), addr_key(src), int(sport), addr_key(dst),
            int(dport), int(first_ms))


def collector_rates(rates, nfcapd_sampling):
    """Rates once nfcapd's own -s option is taken into account.

    -s -N (overwrite) beats every exporter sampler; -s N (default) only
    applies where the exporter announced none for the record (rate 1).
    """
    if nfcapd_sampling < -1:
        return [-nfcapd_sampling]
    if nfcapd_sampling > 1:
        return [nfcapd_sampling if r == 1 else r for r in rates]
    return rates


def verify(args):
    with open(args.expect) as f:
        flows = json.load(f)
    # Every rate an exporter announced, for the -s N ambiguity below.
    announced = {}
    for f in flows:
        announced.setdefault(f["exporter"], set()).update(
            r for r in f["allowed_rates"] if r > 1)
    for f in flows:
        f["allowed_rates"] = collector_rates(f["allowed_rates"],
                                             args.nfcapd_sampling)
    want = {flow_key(f["proto"], f["src"], f["sport"], f["dst"],
                     f["dport"], f["first_ms"]): f for f in flows}
    rows = []
    for path in args.csv:
        rows += load_csv(path)
    nfd = []
    for path in args.nfdump_json:
        nfd += load_nfdump_json(path)
    label = args.label or ",".join(args.csv)
    passed = failed = 0
    problems = []

    nfd_by_key = {}
    for r in nfd:
        k = r.get("_key")
        if k is not None:
            nfd_by_key[k] = r

    seen = 0
    sampled = 0
    for row in rows:
        try:
            k = flow_key(row["proto"], row["src_addr"], row["src_port"],
                         row["dst_addr"], row["dst_port"], row["first_ms"])
        except (KeyError, ValueError):
            continue
        f = want.get(k)
        if f is None:
            continue
        seen += 1
        n = nfd_by_key.get(k)
        errs = []
        if n is None:
            errs.append("flow not in nfdump output")
        else:
            npk = n["packets"]
            if npk % f["pkts"] != 0:
                errs.append("nfdump packets %d not a multiple of raw %d"
                            % (npk, f["pkts"]))
                rate = None
            else:
                rate = npk // f["pkts"]
            if rate is not None:
                if rate not in f["allowed_rates"]:
                    errs.append("nfcapd applied rate %d, expected one of %s"
                                % (rate, f["allowed_rates"]))
                if n["bytes"] != f["bytes"] * rate:
                    errs.append("nfdump bytes %d != raw %d x %d"
                                % (n["bytes"], f["bytes"], rate))
                try:
                    s = int(row["sampling"])
                except (KeyError, ValueError):
                    s = None
                # With nfcapd's own -s N default beside samplers that the
                # exporter announced, nfcapd 1.7.1 stores no per-flow
                # sampler reference: a sampled flow's file record cannot
                # say which of the two nfcapd applied. Either answer from
                # those candidates is then the best a reader can give.
                candidates = announced.get(f["exporter"], set()) | {
                    args.nfcapd_sampling}
                ambiguous = (args.nfcapd_sampling > 1 and rate > 1 and
                             s in candidates)
                if s != rate and not ambiguous:
                    errs.append("nfhunt sampling %r, nfcapd applied 1-in-%d"
                                % (row.get("sampling"), rate))
                fl = int(row.get("flags") or 0)
                if bool(fl & 1) != bool(n["sampled"]):
                    errs.append("nfhunt flags&1=%d, nfdump sampled=%d"
                                % (fl & 1, n["sampled"]))
                if rate > 1:
                    sampled += 1
                    if not (fl & 1):
                        errs.append("scaled 1-in-%d but SAMPLED flag clear"
                                    % rate)
                for col, raw, nkey in (("packets", f["pkts"], "packets"),
                                       ("bytes", f["bytes"], "bytes"),
                                       ("out_packets", f["out_pkts"],
                                        "out_packets"),
                                       ("out_bytes", f["out_bytes"],
                                        "out_bytes")):
                    try:
                        got = int(row[col])
                    except (KeyError, ValueError):
                        got = None
                    if got != raw * rate:
                        errs.append("nfhunt %s %r != raw %d x %d (nfdump %s)"
                                    % (col, row.get(col), raw, rate,
                                       n.get(nkey)))
        if errs:
            failed += 1
            problems.append("%s %s:%s -> %s:%s first=%s [%s]: %s" % (
                f["exporter"], f["src"], f["sport"], f["dst"], f["dport"],
                f["first_ms"], f["proto"], "; ".join(errs)))
        else:
            passed += 1

    for p in problems[:args.max_report]:
        print("  MISMATCH %s" % p)
    if len(problems) > args.max_report:
        print("  ... %d more" % (len(problems) - args.max_report))
    expected_here = args.expected_count
    note = ""
    if expected_here is not None and seen != expected_here:
        note = " (expected %d flows of ours)" % expected_here
        failed += 1
    print("%s: sampling: %d flows of ours, %d sampled (rate>1), "
          "%d ok, %d bad%s" % (label, seen, sampled, passed,
                               len(problems), note))
    if args.require_sampled and sampled == 0 and seen > 0:
        print("%s: sampling: no flow was sampled at all" % label)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main():
    ap = argparse.ArgumentParser(
        description="deterministic NetFlow v9/IPFIX exporter for tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send", help="send to a collector")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--version", default="all", choices=["9", "10", "all"])
    s.add_argument("--expect", help="also write the flows sent (JSON)")
    s.add_argument("--delay", type=float, default=0.002,
                   help="seconds between datagrams (default 0.002)")
    e = sub.add_parser("expect", help="write the flows without sending")
    e.add_argument("--version", default="all", choices=["9", "10", "all"])
    e.add_argument("--out", required=True)
    v = sub.add_parser("verify", help="check nfhunt's sampling columns")
    v.add_argument("--expect", required=True)
    v.add_argument("--csv", required=True, action="append",
                   help="nfhunt --dump output (repeatable)")
    v.add_argument("--nfdump-json", required=True, action="append",
                   help="TZ=UTC nfdump -o json output (repeatable)")
    v.add_argument("--label")
    v.add_argument("--max-report", type=int, default=8)
    v.add_argument("--expected-count", type=int)
    v.add_argument("--require-sampled", action="store_true")
    v.add_argument("--nfcapd-sampling", type=int, default=1,
                   help="the -s value nfcapd ran with (N default, -N "
                   "overwrite)")
    args = ap.parse_args()

    if args.cmd == "verify":
        return verify(args)

    flows = []
    if args.cmd == "expect":
        for exp in selected(args.version):
            flows += gen_flows(exp)
        write_expect(args.out, flows)
        return 0

    if args.expect is not None:
        # Written before sending so a failure to send still leaves it.
        for exp in selected(args.version):
            flows += gen_flows(exp)
        write_expect(args.expect, flows)
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        dest = (args.host, args.port)
        total = 0
        for exp in selected(args.version):
            ex = Exporter(exp, sock, dest, args.delay)
            n = len(ex.run())
            total += n
            print("nfexport: %s: %d flows in %d datagrams"
                  % (exp["name"], n, ex.packets))
    finally:
        sock.close()
    print("nfexport: %d flows sent to %s:%d" % (total, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
