#!/usr/bin/python3
"""A pcap of a port scan and a beacon, and the check of what came out.

The pcap path of nfhunt-gen's tests puts a real exporter in the loop: this
script builds a small capture (scapy builds the packets, the pcap framing
is written here, every byte is fixed), softflowd turns it into NetFlow v9
for a real nfcapd, and `check` verifies that nfhunt reads the scan's and
the beacon's flows back from nfcapd's files.

The capture, from 2024-03-04 10:00:00 UTC:
  * a horizontal SYN scan: 203.0.113.66 probes TCP port 22 on the 40
    hosts 10.20.0.1-40, 50 ms apart; 12 closed hosts answer RST/ACK, 4
    open ones SYN/ACK (the scanner then resets), the rest stay silent;
  * a beacon: 10.20.1.10 opens a TCP connection to 198.51.100.77:443
    every 30 s (jitter up to 0.5 s), 10 times: handshake, 300 bytes up,
    1200 bytes down, FIN both ways.

`hunt` then checks the port_scan finding of the hunt over the same files:
softflowd writes the lower address's record first, so each target's
answer reaches nfcapd before the scanner's SYN; the finding must still
count every refused probe as refused (RST) and every silent one as
unanswered.

Usage:
  gen_pcap.py build OUT.pcap EXPECT.json
  gen_pcap.py check EXPECT.json DUMP.csv     (nfhunt --dump output)
  gen_pcap.py hunt EXPECT.json REPORT.ndjson (nfhunt -o ndjson output)
"""

import csv
import json
import random
import struct
import sys

T0 = 1709546400.0  # 2024-03-04 10:00:00 UTC
SCANNER = "203.0.113.66"
TARGETS = ["10.20.0.%d" % i for i in range(1, 41)]
HOST = "10.20.1.10"
C2 = "198.51.100.77"
BEATS = 10
PERIOD = 30.0


def build(out, expect_path):
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    rng = random.Random(20240304)
    frames = []

    def add(t, pkt):
        frames.append((t, len(frames),
                       bytes(Ether(src="02:00:00:00:00:01",
                                   dst="02:00:00:00:00:02") / pkt)))

    # The scan.
    order = list(range(len(TARGETS)))
    rng.shuffle(order)
    closed = set(order[:12])
    opened = set(order[12:16])
    sport = 47001
    for i, k in enumerate(range(len(TARGETS))):
        t = T0 + i * 0.05
        dst = TARGETS[k]
        add(t, IP(src=SCANNER, dst=dst) / TCP(sport=sport, dport=22,
                                               flags="S", seq=1000 + k))
        if k in closed:
            add(t + 0.002, IP(src=dst, dst=SCANNER) /
                TCP(sport=22, dport=sport, flags="RA", ack=1001 + k))
        elif k in opened:
            add(t + 0.002, IP(src=dst, dst=SCANNER) /
                TCP(sport=22, dport=sport, flags="SA", seq=5000,
                    ack=1001 + k))
            add(t + 0.003, IP(src=SCANNER, dst=dst) /
                TCP(sport=sport, dport=22, flags="R", seq=1001 + k))

    # The beacon.
    starts = []
    for b in range(BEATS):
        t = T0 + 5 + b * PERIOD + rng.uniform(0, 0.5)
        starts.append(t)
        sp = 50000 + b
        c = IP(src=HOST, dst=C2)
        s = IP(src=C2, dst=HOST)
        add(t, c / TCP(sport=sp, dport=443, flags="S", seq=1))
        add(t + 0.03, s / TCP(sport=443, dport=sp, flags="SA", seq=100,
                              ack=2))
        add(t + 0.031, c / TCP(sport=sp, dport=443, flags="A", seq=2,
                               ack=101))
        add(t + 0.032, c / TCP(sport=sp, dport=443, flags="PA", seq=2,
                               ack=101) / Raw(b"u" * 300))
        add(t + 0.07, s / TCP(sport=443, dport=sp, flags="PA", seq=101,
                              ack=302) / Raw(b"d" * 1200))
        add(t + 0.071, c / TCP(sport=sp, dport=443, flags="FA", seq=302,
                               ack=1301))
        add(t + 0.1, s / TCP(sport=443, dport=sp, flags="FA", seq=1301,
                             ack=303))
        add(t + 0.101, c / TCP(sport=sp, dport=443, flags="A", seq=303,
                               ack=1302))

    frames.sort()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, _, data in frames:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)
    with open(expect_path, "w") as f:
        json.dump({"scanner": SCANNER, "targets": TARGETS, "port": 22,
                   "refused": len(closed), "open": len(opened),
                   "host": HOST, "c2": C2, "beats": BEATS,
                   "period_s": PERIOD,
                   "starts_ms": [int(t * 1000) for t in starts]}, f)
    print("gen_pcap: %d frames, scan of %d hosts, %d beacon beats"
          % (len(frames), len(TARGETS), BEATS))
    return 0


def check(expect_path, csv_path):
    e = json.load(open(expect_path))
    rows = list(csv.DictReader(open(csv_path)))
    bad = 0

    def report(ok, text):
        nonlocal bad
        print(("PASS: " if ok else "FAIL: ") + text)
        bad += not ok

    probes = [r for r in rows if r["src_addr"] == e["scanner"]
              and r["dst_port"] == str(e["port"]) and r["proto"] == "6"]
    hit = {r["dst_addr"] for r in probes}
    report(hit == set(e["targets"]),
           "scan: %d of %d targets probed by %s on port %d"
           % (len(hit & set(e["targets"])), len(e["targets"]), e["scanner"],
              e["port"]))
    syn_only = [r for r in probes if int(r["tcp_flags"]) & 0x12 == 0x02]
    report(len(syn_only) == len(e["targets"]),
           "scan: %d probe records carry SYN without ACK (want %d)"
           % (len(syn_only), len(e["targets"])))
    rst = [r for r in rows if r["dst_addr"] == e["scanner"]
           and int(r["tcp_flags"]) & 0x14 == 0x14]
    synack = [r for r in rows if r["dst_addr"] == e["scanner"]
              and int(r["tcp_flags"]) & 0x12 == 0x12]
    report(len(rst) == e["refused"] and len(synack) == e["open"],
           "scan: %d RST/ACK and %d SYN/ACK answers (want %d and %d)"
           % (len(rst), len(synack), e["refused"], e["open"]))

    out = sorted((r for r in rows if r["src_addr"] == e["host"]
                  and r["dst_addr"] == e["c2"] and r["dst_port"] == "443"),
                 key=lambda r: int(r["first_ms"]))
    back = [r for r in rows if r["src_addr"] == e["c2"]
            and r["dst_addr"] == e["host"]]
    report(len(out) == e["beats"] and len(back) == e["beats"],
           "beacon: %d request and %d response records (want %d each)"
           % (len(out), len(back), e["beats"]))
    firsts = [int(r["first_ms"]) for r in out]
    gaps = [b - a for a, b in zip(firsts, firsts[1:])]
    want = e["period_s"] * 1000
    ok = len(gaps) == e["beats"] - 1 and all(abs(g - want) <= 1000
                                             for g in gaps)
    report(ok, "beacon: %d intervals of %s ms (period %d ms, jitter < 1 s)"
           % (len(gaps), sorted(set(gaps))[:3] + ["..."] if gaps else [],
              want))
    # NetFlow v9 stamps its header in whole seconds and softflowd counts
    # its uptime from its own start: times arrive within a second.
    diffs = [a - b for a, b in zip(firsts, e["starts_ms"])]
    starts_ok = len(firsts) == len(e["starts_ms"]) and all(
        abs(d) < 1000 for d in diffs)
    report(starts_ok, "beacon: first-seen times are the pcap's within 1 s "
           "(offsets %s ms)" % sorted(set(diffs))[:3])
    return 1 if bad else 0


def hunt(expect_path, report_path):
    e = json.load(open(expect_path))
    found = [json.loads(line) for line in open(report_path) if line.strip()]
    scans = [f for f in found if f.get("type") == "port_scan"
             and f.get("src") == e["scanner"]]
    silent = len(e["targets"]) - e["refused"] - e["open"]
    if not scans:
        print("FAIL: hunt: no port_scan finding from %s (%d findings)"
              % (e["scanner"], len(found)))
        return 1
    ev = scans[0].get("evidence", {})
    why = ev.get("failures", {})
    ok = (why.get("rst") == e["refused"] and why.get("no_reply") == silent
          and ev.get("answered") == e["open"])
    print(("PASS: " if ok else "FAIL: ") +
          "hunt: %s scan of %s, failures %s, %s answered (want rst %d, "
          "no_reply %d, %d answered)"
          % (ev.get("kind"), e["scanner"], json.dumps(why),
             ev.get("answered"), e["refused"], silent, e["open"]))
    return 0 if ok else 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        return build(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "hunt":
        return hunt(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
