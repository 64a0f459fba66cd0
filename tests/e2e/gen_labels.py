#!/usr/bin/python3
"""Check nfhunt-gen's labels against what the capture files contain.

Reads the labels file and `nfhunt --dump` CSV output of the tree (one or
more files), attributes every flow record to a label by the labels' own
"match" rules, and compares, label by label, the number of records, their
packets and bytes, and the first and last times with what the labels
claim.

The rule (documented in nfhunt-gen(1), LABELS): a record belongs to the
first label, in file order, whose "match" it satisfies:
  * one end of the record is in match.hosts (addresses or CIDR prefixes)
    and the other end is in match.peers (any address when absent);
  * its protocol is in match.protos (any when absent);
  * for TCP and UDP, its source or destination port is in match.ports
    (any when absent);
  * its first and last times lie within the label's [first_ms, last_ms].
A record no label matches belongs to the label without "match" (benign
browsing, the remainder).

Prints one line per label, "PASS: ..." or "FAIL: ...", then one line for
the total; exit status 0 when all agree, 1 otherwise, 2 on bad input.

Usage: gen_labels.py LABELS.json DUMP.csv [DUMP.csv ...] [--name NAME]
"""

import argparse
import csv
import ipaddress
import json
import sys


class Matcher:
    def __init__(self, label):
        m = label.get("match")
        self.label = label
        self.remainder = m is None
        if m is None:
            return
        self.hosts, self.host_nets = self._split(m.get("hosts", []))
        peers = m.get("peers")
        self.any_peer = peers is None
        if peers is not None:
            self.peers, self.peer_nets = self._split(peers)
        self.protos = set(m.get("protos", [])) or None
        self.ports = set(m.get("ports", [])) or None
        self.first = label.get("first_ms")
        self.last = label.get("last_ms")

    @staticmethod
    def _split(items):
        exact, nets = set(), []
        for text in items:
            if "/" in text:
                nets.append(ipaddress.ip_network(text, strict=False))
            else:
                exact.add(str(ipaddress.ip_address(text)))
        return exact, nets

    @staticmethod
    def _in(addr, exact, nets):
        if addr in exact:
            return True
        if nets:
            a = ipaddress.ip_address(addr)
            return any(a in n for n in nets)
        return False

    def matches(self, row):
        if self.remainder or self.first is None:
            return False
        proto = row["proto"]
        if self.protos is not None and proto not in self.protos:
            return False
        if self.ports is not None and proto in (6, 17):
            if row["src_port"] not in self.ports and \
                    row["dst_port"] not in self.ports:
                return False
        if row["first_ms"] < self.first or row["last_ms"] > self.last:
            return False
        s, d = row["src_addr"], row["dst_addr"]
        if self._in(s, self.hosts, self.host_nets):
            if self.any_peer or self._in(d, self.peers, self.peer_nets):
                return True
        if self._in(d, self.hosts, self.host_nets):
            if self.any_peer or self._in(s, self.peers, self.peer_nets):
                return True
        return False


def read_rows(paths):
    ints = ("first_ms", "last_ms", "proto", "src_port", "dst_port",
            "packets", "bytes")
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                for k in ints:
                    r[k] = int(r[k])
                yield r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("labels")
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--name", default="labels")
    ap.add_argument("--summary", action="store_true",
                    help="one line for all labels instead of one each")
    args = ap.parse_args()
    try:
        with open(args.labels) as f:
            doc = json.load(f)
        labels = doc["activities"]
    except (OSError, ValueError, KeyError) as e:
        print("FAIL: %s: cannot read the labels: %s" % (args.name, e))
        return 2
    matchers = [Matcher(l) for l in labels]
    remainder = [m for m in matchers if m.remainder]
    got = [{"flows": 0, "packets": 0, "bytes": 0, "first": None,
            "last": None} for _ in labels]
    total = 0
    unclaimed = 0
    for row in read_rows(args.dumps):
        total += 1
        idx = None
        for i, m in enumerate(matchers):
            if m.matches(row):
                idx = i
                break
        if idx is None:
            if not remainder:
                unclaimed += 1
                continue
            idx = matchers.index(remainder[0])
        g = got[idx]
        g["flows"] += 1
        g["packets"] += row["packets"]
        g["bytes"] += row["bytes"]
        if g["first"] is None or row["first_ms"] < g["first"]:
            g["first"] = row["first_ms"]
        if g["last"] is None or row["last_ms"] > g["last"]:
            g["last"] = row["last_ms"]

    bad = 0
    lines = []
    for l, g in zip(labels, got):
        want = (l["flows"], l["packets"], l["bytes"],
                l.get("first_ms"), l.get("last_ms"))
        have = (g["flows"], g["packets"], g["bytes"], g["first"], g["last"])
        what = "%s %s (%s)" % (args.name, l["name"], l["class"])
        if want == have:
            lines.append("PASS: %s: %d records, %d packets, %d bytes as "
                         "labelled" % (what, have[0], have[1], have[2]))
        else:
            bad += 1
            fields = ("flows", "packets", "bytes", "first_ms", "last_ms")
            diff = ", ".join("%s label %s files %s" % (k, a, b)
                             for k, a, b in zip(fields, want, have) if a != b)
            lines.append("FAIL: %s: %s" % (what, diff))
    want_total = doc.get("totals", {}).get("flows")
    total_ok = total == want_total and unclaimed == 0
    if not total_ok:
        bad += 1
    if args.summary:
        failing = [x for x in lines if x.startswith("FAIL")]
        if failing or not total_ok:
            print("FAIL: %s: %d of %d labels disagree with the files, %d "
                  "records (labels' total %s); first: %s"
                  % (args.name, len(failing), len(labels), total, want_total,
                     failing[0][6:] if failing else "the total"))
        else:
            print("PASS: %s: all %d labels agree with the %d records in the "
                  "files" % (args.name, len(labels), total))
        return 1 if bad else 0
    for x in lines:
        print(x)
    if total_ok:
        print("PASS: %s: %d records in the files, as the labels' totals say"
              % (args.name, total))
    else:
        print("FAIL: %s: %d records in the files, labels say %s, %d claimed"
              " by no label" % (args.name, total, want_total, unclaimed))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
