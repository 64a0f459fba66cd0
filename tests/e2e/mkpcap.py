#!/usr/bin/python3
"""Build a deterministic pcap of varied traffic for the end-to-end tests.

The capture is fed to softflowd (``softflowd -r FILE -n 127.0.0.1:PORT``),
which turns it into NetFlow v5/v9/IPFIX for a real nfcapd.  Every byte of
the output is fixed: timestamps start at 2024-03-01 12:00:00 UTC, all
randomness comes from a seeded generator and the pcap framing is written
here, not by scapy.  Running it twice gives identical files.

Traffic, over about four minutes:
  * complete TCP sessions (handshake, payload both ways, FIN close), IPv4;
  * a TCP SYN port scan: closed ports answer RST/ACK, open ports SYN/ACK
    followed by the scanner's RST;
  * half-open SYNs (with retransmissions) that never get an answer;
  * UDP DNS query/response pairs and NTP client/server exchanges;
  * ICMP echo request/reply and UDP probes answered by ICMP port
    unreachable (type 3 code 3);
  * IPv6 TCP sessions, IPv6 UDP (DNS) and ICMPv6 echo request/reply.
Some packets carry a non-zero TOS / traffic class.

Usage: mkpcap.py OUTPUT.pcap [--summary]
Needs scapy (python3-scapy); run it with /usr/bin/python3.
"""

import argparse
import random
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

# 2024-03-01 12:00:00 UTC, in microseconds.
T0_US = 1709294400 * 1000000
SEED = 20240301

MAC_CLIENT = "02:00:00:00:00:01"
MAC_ROUTER = "02:00:00:00:00:fe"


class Capture:
    """Collects (time_us, frame) pairs; written sorted by time."""

    def __init__(self):
        self.frames = []
        self.seq = 0  # tie-breaker keeps insertion order for equal times

    def add(self, t_us, pkt, outbound=True):
        src, dst = (MAC_CLIENT, MAC_ROUTER) if outbound else \
            (MAC_ROUTER, MAC_CLIENT)
        frame = Ether(src=src, dst=dst) / pkt
        self.frames.append((int(t_us), self.seq, bytes(frame)))
        self.seq += 1

    def write(self, path):
        self.frames.sort()
        with open(path, "wb") as f:
            # pcap global header: magic, v2.4, tz 0, sigfigs 0,
            # snaplen 65535, linktype 1 (Ethernet).
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                65535, 1))
            for t_us, _, data in self.frames:
                f.write(struct.pack("<IIII", t_us // 1000000,
                                    t_us % 1000000, len(data), len(data)))
                f.write(data)


def ipv4(src, dst, tos=0):
    return IP(src=src, dst=dst, tos=tos, ttl=64, id=0, flags="DF")


def ipv6(src, dst, tc=0):
    return IPv6(src=src, dst=dst, tc=tc, hlim=64)


def tcp_session(cap, rng, t, mkip, cli, srv, sport, dport, tos=0,
                rounds=3):
    """Handshake, `rounds` request/response exchanges, FIN/ACK close."""
    cseq = rng.randrange(1 << 31)
    sseq = rng.randrange(1 << 31)
    rtt = rng.randrange(2000, 40000)  # microseconds

    def c2s(flags, payload=b"", dt=0):
        nonlocal t, cseq
        t += dt
        p = mkip(cli, srv, tos) / TCP(sport=sport, dport=dport, flags=flags,
                                      seq=cseq, ack=sseq, window=64240)
        if payload:
            p = p / Raw(payload)
        cap.add(t, p, True)
        cseq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    def s2c(flags, payload=b"", dt=0):
        nonlocal t, sseq
        t += dt
        p = mkip(srv, cli, tos) / TCP(sport=dport, dport=sport, flags=flags,
                                      seq=sseq, ack=cseq, window=65160)
        if payload:
            p = p / Raw(payload)
        cap.add(t, p, False)
        sseq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    c2s("S")
    s2c("SA", dt=rtt // 2)
    c2s("A", dt=rtt // 2)
    for i in range(rounds):
        req = (b"GET /obj/%d HTTP/1.1\r\nHost: example\r\n\r\n" % i) + \
            bytes(rng.randrange(0, 200))
        c2s("PA", req, dt=rng.randrange(100, 5000))
        s2c("A", dt=rtt // 2)
        resp = bytes([0x41 + (i % 26)]) * rng.randrange(200, 1400)
        s2c("PA", resp, dt=rng.randrange(100, 20000))
        c2s("A", dt=rtt // 2)
    c2s("FA", dt=rng.randrange(1000, 50000))
    s2c("FA", dt=rtt // 2)
    c2s("A", dt=rtt // 2)
    return t


def build():
    rng = random.Random(SEED)
    cap = Capture()
    S = 1000000  # one second in microseconds

    # 1. Complete IPv4 TCP sessions, spread over the first 200 s.
    servers = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.20"]
    ports = [80, 443, 22, 8443]
    for i in range(40):
        t = T0_US + i * 5 * S + rng.randrange(0, S)
        cli = "10.1.0.%d" % (10 + i % 20)
        srv = servers[i % len(servers)]
        tos = 0x28 if i % 7 == 0 else 0
        tcp_session(cap, rng, t, ipv4, cli, srv, 40000 + i, ports[i % 4],
                    tos=tos, rounds=1 + i % 4)

    # 2. SYN port scan 10.9.9.9 -> 192.0.2.50, ports 1..160.
    scanner, target = "10.9.9.9", "192.0.2.50"
    open_ports = {21, 22, 25, 80, 110, 143}
    t = T0_US + 30 * S
    for port in range(1, 161):
        t += rng.randrange(2000, 200000)
        sport = 55000 + port
        seq = rng.randrange(1 << 31)
        cap.add(t, ipv4(scanner, target) /
                TCP(sport=sport, dport=port, flags="S", seq=seq,
                    window=1024), True)
        if port in open_ports:
            cap.add(t + 800, ipv4(target, scanner) /
                    TCP(sport=port, dport=sport, flags="SA",
                        seq=rng.randrange(1 << 31), ack=seq + 1), False)
            cap.add(t + 900, ipv4(scanner, target) /
                    TCP(sport=sport, dport=port, flags="R", seq=seq + 1),
                    True)
        else:
            cap.add(t + 700, ipv4(target, scanner) /
                    TCP(sport=port, dport=sport, flags="RA", seq=0,
                        ack=seq + 1), False)

    # 3. Half-open SYNs without any reply (three tries each).
    for i in range(30):
        t = T0_US + 60 * S + i * 3 * S + rng.randrange(0, S)
        src, dst = "10.2.0.%d" % (1 + i % 5), "203.0.113.%d" % (1 + i)
        seq = rng.randrange(1 << 31)
        for k in range(3):
            cap.add(t + k * (1 << k) * S, ipv4(src, dst) /
                    TCP(sport=33000 + i, dport=8080, flags="S", seq=seq,
                        window=64240), True)

    # 4. DNS over UDP, IPv4.
    names = [b"example.com", b"example.net", b"nfdump.test",
             b"flows.example.org"]
    for i in range(30):
        t = T0_US + i * 7 * S + rng.randrange(0, S)
        cli, res = "10.1.0.%d" % (10 + i % 20), "192.0.2.53"
        qname = names[i % len(names)]
        q = DNS(id=0x1000 + i, rd=1, qd=DNSQR(qname=qname))
        r = DNS(id=0x1000 + i, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname),
                an=DNSRR(rrname=qname, ttl=300,
                         rdata="192.0.2.%d" % (100 + i)))
        sport = 50000 + i
        cap.add(t, ipv4(cli, res) / UDP(sport=sport, dport=53) / q, True)
        cap.add(t + rng.randrange(500, 30000), ipv4(res, cli) /
                UDP(sport=53, dport=sport) / r, False)

    # 5. NTP client/server.
    for i in range(10):
        t = T0_US + 20 * S + i * 16 * S
        cli, ntp = "10.1.0.%d" % (30 + i), "192.0.2.123"
        req = bytes([0x23]) + bytes(47)
        resp = bytes([0x24, 2, 6, 0xe9]) + bytes(44)
        cap.add(t, ipv4(cli, ntp, tos=0xb8) /
                UDP(sport=123, dport=123) / Raw(req), True)
        cap.add(t + 15000, ipv4(ntp, cli, tos=0xb8) /
                UDP(sport=123, dport=123) / Raw(resp), False)

    # 6. ICMP echo: 3 pings per pair.
    for i in range(10):
        t = T0_US + 40 * S + i * 11 * S
        a, b = "10.1.0.%d" % (50 + i), "192.0.2.%d" % (200 + i)
        for k in range(3):
            p = ICMP(type=8, code=0, id=0x100 + i, seq=k) / Raw(bytes(56))
            cap.add(t + k * S, ipv4(a, b) / p, True)
            p = ICMP(type=0, code=0, id=0x100 + i, seq=k) / Raw(bytes(56))
            cap.add(t + k * S + 3000, ipv4(b, a) / p, False)

    # 7. UDP probes to closed ports, answered by ICMP port unreachable.
    for i in range(10):
        t = T0_US + 90 * S + i * 9 * S
        a, b = "10.3.0.%d" % (1 + i), "192.0.2.%d" % (60 + i)
        probe = ipv4(a, b) / UDP(sport=45000 + i, dport=33434 + i) / \
            Raw(b"probe" * 4)
        cap.add(t, probe, True)
        cap.add(t + 1500, ipv4(b, a) / ICMP(type=3, code=3) /
                bytes(probe)[:28], False)

    # 8. IPv6 TCP sessions.
    for i in range(10):
        t = T0_US + 100 * S + i * 8 * S + rng.randrange(0, S)
        cli = "2001:db8:1::%x" % (0x10 + i)
        srv = "2001:db8:ffff::%x" % (0x80 + i % 3)
        tcp_session(cap, rng, t, ipv6, cli, srv, 41000 + i,
                    (443, 80, 22)[i % 3], tos=0x20 if i == 3 else 0,
                    rounds=1 + i % 3)

    # 9. IPv6 UDP (DNS).
    for i in range(10):
        t = T0_US + 150 * S + i * 5 * S
        cli, res = "2001:db8:1::%x" % (0x40 + i), "2001:db8:53::1"
        qname = names[i % len(names)]
        q = DNS(id=0x2000 + i, rd=1, qd=DNSQR(qname=qname, qtype="AAAA"))
        r = DNS(id=0x2000 + i, qr=1, rd=1, ra=1,
                qd=DNSQR(qname=qname, qtype="AAAA"),
                an=DNSRR(rrname=qname, type="AAAA", ttl=300,
                         rdata="2001:db8:cafe::%x" % i))
        cap.add(t, ipv6(cli, res) / UDP(sport=51000 + i, dport=53) / q,
                True)
        cap.add(t + 4000, ipv6(res, cli) / UDP(sport=53, dport=51000 + i) /
                r, False)

    # 10. ICMPv6 echo.
    for i in range(10):
        t = T0_US + 170 * S + i * 6 * S
        a, b = "2001:db8:1::%x" % (0x60 + i), "2001:db8:ffff::%x" % (0x90 + i)
        for k in range(2):
            cap.add(t + k * S, ipv6(a, b) /
                    ICMPv6EchoRequest(id=0x300 + i, seq=k, data=bytes(32)),
                    True)
            cap.add(t + k * S + 2500, ipv6(b, a) /
                    ICMPv6EchoReply(id=0x300 + i, seq=k, data=bytes(32)),
                    False)

    return cap


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--summary", action="store_true",
                    help="print packet count and time span")
    args = ap.parse_args()
    cap = build()
    cap.write(args.output)
    if args.summary:
        first = min(f[0] for f in cap.frames)
        last = max(f[0] for f in cap.frames)
        print("%s: %d packets, %.3f s span" %
              (args.output, len(cap.frames), (last - first) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
