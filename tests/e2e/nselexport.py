#!/usr/bin/python3
"""A small NetFlow v9 exporter of firewall events, as a Cisco ASA sends
them (NSEL), for the e2e tests.  Stdlib only.

An ASA exports no packet counts and no TCP flags: each connection is a
"flow created" event and, when it closes, a "flow deleted" event with
the initiator's and the responder's bytes; an attempt its access lists
refuse is a "flow denied" event alone.  The record's source is always
the initiator.  Fields (v9 ids): 8/12 IPv4 addresses, 7/11 ports,
4 protocol, 148 connection id, 233 firewall event (1 created, 2
deleted, 3 denied), 33002 extended event (1001: denied by an ingress
access list), 323 event time (epoch ms), 152 the connection's creation
time (epoch ms; nfcapd's record start, with no end), 231/232
initiator/responder bytes.  nfcapd (built with NSEL, as Debian's is) keeps them as records
flagged EVENT with an EXnselCommon element.

What is sent, from START (epoch ms) on, over twenty minutes:
  * 40 internal clients (10.0.0.100-139), 30 permitted connections each
    to Internet servers on tcp/443 (created, then deleted with bytes);
  * a vertical scan: 203.0.113.5 -> 10.0.0.20, ports 1-300, all denied;
  * a sweep: 198.51.100.7 -> 10.0.1.1-200, tcp/445, all denied;
  * an upload: 10.0.0.33 -> 185.199.1.9:443, 2 GB out, 40 MB back, in
    one connection of fifteen minutes;
  * a SYN flood at 10.0.0.80:80 from 30,000 spoofed sources in three
    minutes (10:11-10:14), all denied.

Usage: nselexport.py --port P [--host 127.0.0.1] [--start MS]
"""

import argparse
import random
import socket
import struct
import time

TEMPLATE_ID = 256
FIELDS = [  # (v9 field id, length)
    (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (148, 4), (233, 1),
    (33002, 2), (323, 8), (152, 8), (231, 8), (232, 8)]
CREATED, DELETED, DENIED = 1, 2, 3


def ip(text):
    return socket.inet_aton(text)


def record(ev):
    (src, sport, dst, dport, conn, event, xevent, t_ms, created, ibytes,
     obytes) = ev
    return (ip(src) + ip(dst) + struct.pack("!HHB", sport, dport, 6) +
            struct.pack("!IBHQQQQ", conn, event, xevent, t_ms, created,
                        ibytes, obytes))


def events(start):
    rnd = random.Random(7)
    out = []
    conn = 1
    minute = 60000
    for c in range(40):
        client = "10.0.0.%d" % (100 + c)
        for k in range(30):
            server = "93.184.%d.%d" % (rnd.randrange(1, 250),
                                       rnd.randrange(1, 250))
            t = start + rnd.randrange(0, 18 * minute)
            sport = 20000 + c * 100 + k
            out.append((client, sport, server, 443, conn, CREATED, 0, t, t,
                        0, 0))
            out.append((client, sport, server, 443, conn, DELETED, 0,
                        t + rnd.randrange(1000, 60000), t,
                        rnd.randrange(500, 5000), rnd.randrange(2000, 200000)))
            conn += 1
    for p in range(1, 301):
        t = start + 2 * minute + p * 200
        out.append(("203.0.113.5", 51000, "10.0.0.20", p, conn, DENIED, 1001,
                    t, t, 0, 0))
        conn += 1
    for h in range(1, 201):
        t = start + 5 * minute + h * 300
        out.append(("198.51.100.7", 40000 + h, "10.0.1.%d" % h, 445, conn,
                    DENIED, 1001, t, t, 0, 0))
        conn += 1
    for i in range(30000):
        t = start + 11 * minute + i * 6
        src = "100.%d.%d.%d" % (64 + i // 65536 % 64, i // 256 % 256, i % 256)
        out.append((src, 1024 + rnd.randrange(60000), "10.0.0.80", 80, conn,
                    DENIED, 1001, t, t, 0, 0))
        conn += 1
    t = start + 3 * minute
    out.append(("10.0.0.33", 49152, "185.199.1.9", 443, conn, CREATED, 0, t,
                t, 0, 0))
    out.append(("10.0.0.33", 49152, "185.199.1.9", 443, conn, DELETED, 0,
                t + 15 * minute, t, 2000000000, 40000000))
    out.sort(key=lambda e: e[7])
    return out


def packet(seq, now_s, uptime_ms, flowsets, count):
    header = struct.pack("!HHIIII", 9, count, uptime_ms, now_s, seq, 1)
    return header + b"".join(flowsets)


def flowset(set_id, body):
    pad = (4 - (4 + len(body)) % 4) % 4
    return struct.pack("!HH", set_id, 4 + len(body) + pad) + body + b"\0" * pad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--start", type=int,
                    default=1709632800000)  # 2024-03-05T10:00:00Z
    a = ap.parse_args()
    tpl = struct.pack("!HH", TEMPLATE_ID, len(FIELDS)) + b"".join(
        struct.pack("!HH", f, n) for f, n in FIELDS)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    evs = events(a.start)
    seq = 0
    per = 20
    for i in range(0, len(evs), per):
        chunk = evs[i:i + per]
        sets = []
        count = len(chunk)
        if seq % 10 == 0:
            sets.append(flowset(0, tpl))
            count += 1
        sets.append(flowset(TEMPLATE_ID, b"".join(record(e) for e in chunk)))
        sock.sendto(packet(seq, int(time.time()), 3600000, sets, count),
                    (a.host, a.port))
        seq += 1
        if seq % 10 == 0:
            # Within the collector's socket buffer, which the kernel may
            # cap far below what nfcapd -B asks (net.core.rmem_max).
            time.sleep(0.01)
    print("sent %d events in %d packets" % (len(evs), seq))


if __name__ == "__main__":
    main()
