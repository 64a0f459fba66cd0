#!/usr/bin/python3
"""Compare two sets of flow records as multisets (nfhunt --dump CSVs).

Used to check that nfhunt-gen's NetFlow v9 / IPFIX export, collected by a
real nfcapd, gives the same flows as nfhunt-gen's direct writer for the
same seed. Records are compared on what the exporter carries: protocol,
addresses, ports, packets, bytes, TCP flags, ToS, interfaces, and the
sampling rate nfhunt reports; the first and last times within a
tolerance (NetFlow v9 carries times relative to the exporter's uptime and
a header time in whole seconds: --tolerance-ms, default 1000). Both sides
are sorted by the exact fields and then by first time, and compared pair
by pair; the collector's own fields (router, exporter, received time,
sysid) differ by nature and are not compared.

Prints one "PASS:" or "FAIL:" line (with the first differences) and
exits 0 or 1; 2 on unreadable input.

Usage: gen_multiset.py --name NAME [--tolerance-ms MS]
                       [--expect-sampling N] A.csv B.csv
"""

import argparse
import csv
import sys

EXACT = ("proto", "src_addr", "src_port", "dst_addr", "dst_port",
         "packets", "bytes", "tcp_flags", "tos", "input_if", "output_if",
         "sampling")


def load(path):
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = tuple(r[k] for k in EXACT)
            out.append((key, int(r["first_ms"]), int(r["last_ms"]),
                        int(r["flags"])))
    out.sort()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--name", default="multiset")
    ap.add_argument("--tolerance-ms", type=int, default=1000)
    ap.add_argument("--expect-sampling", type=int, default=0)
    args = ap.parse_args()
    try:
        a, b = load(args.a), load(args.b)
    except (OSError, KeyError, ValueError) as e:
        print("FAIL: %s: cannot read: %s" % (args.name, e))
        return 2
    problems = []
    if len(a) != len(b):
        problems.append("%d records against %d" % (len(a), len(b)))
    worst = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x[0] != y[0]:
            problems.append("record %d: %s against %s" % (i, x[0], y[0]))
        else:
            d = max(abs(x[1] - y[1]), abs(x[2] - y[2]))
            worst = max(worst, d)
            if d > args.tolerance_ms:
                problems.append("record %d %s: times differ by %d ms"
                                % (i, x[0][:5], d))
        if len(problems) > 5:
            break
    if args.expect_sampling > 1:
        n = args.expect_sampling
        off = sum(1 for r in b if int(r[0][-1]) != n or not r[3] & 1)
        if off or not b:
            problems.append("%d of %d records without sampling %d and the "
                            "SAMPLED flag" % (off, len(b), n))
    if problems:
        print("FAIL: %s: %s" % (args.name, "; ".join(problems[:6])))
        return 1
    extra = ""
    if args.expect_sampling > 1:
        extra = ", all sampled 1:%d" % args.expect_sampling
    print("PASS: %s: %d records equal as multisets (times within %d ms, "
          "largest difference %d ms%s)"
          % (args.name, len(a), args.tolerance_ms, worst, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
