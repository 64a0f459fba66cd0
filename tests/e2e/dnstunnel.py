#!/usr/bin/python3
"""A pcap of everyday DNS and of a DNS tunnel, for hunt_dnstunnel.sh.

Thirty minutes of traffic from 2024-03-05 09:00 UTC, real DNS messages
built with scapy (the pcap framing is written here, so the file is the
same on every run):
  * 20 workstations (10.20.1.x) ask the site's resolver 10.20.0.53 for
    everyday names, about one query every three minutes each;
  * the resolver forwards to 192.0.2.53, 400 queries of everyday names
    (with an EDNS option, as resolvers send them);
  * a mail server (10.20.0.25) asks a blocklist server 192.0.2.54 about
    reversed addresses, 600 short queries;
  * the tunnel: 10.20.0.77 asks 203.0.113.53 for names that carry base32
    data in four labels of up to 63 characters under t.example-c2.net,
    about three a second, each answered with a TXT record of
    encoded data (iodine and dnscat2 look like this);
  * a VPN on the DNS port: 10.20.0.70 exchanges datagrams of about 1,100
    bytes (not DNS) with 203.0.113.56 port 53 over one socket, two a
    second each way.
Every query is answered, each from its own source port.

Usage: dnstunnel.py PREFIX   (writes PREFIX.00.pcap .. PREFIX.09.pcap, in
time order; prints: frames, tunnel queries, files)
"""

import base64
import os
import random
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRROPT
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

# pcapparts.py lies beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapparts import write_parts  # noqa: E402

T0 = 1709629200.0  # 2024-03-05 09:00:00 UTC
SPAN = 1800.0
# The capture is cut into this many files of three minutes each: softflowd
# exports a file's flows as fast as it reads them, and a stock socket
# buffer (212 kB) must hold what nfcapd has not read yet.
PARTS = 10
SEED = 20240305
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"

EVERYDAY = ["www.example.com", "mail.example.org", "cdn.example.net",
            "login.example.com", "api.example.io", "img.example.net",
            "www.example.edu", "updates.example.com", "time.example.org",
            "static.assets.example.com", "r3.o.example.net"]


def query(t, src, dst, sport, name, edns=False, txt=None, answer="192.0.2.80"):
    """The query and its answer, as (time, frame) pairs."""
    q = DNS(id=sport & 0xffff, rd=1, qd=DNSQR(qname=name))
    if edns:
        q.ar = DNSRROPT(rclass=1232)
        q.arcount = 1
    a = DNS(id=sport & 0xffff, qr=1, rd=1, ra=1, qd=DNSQR(
        qname=name, qtype="TXT" if txt else "A"),
        an=DNSRR(rrname=name, type="TXT", rdata=txt) if txt else
        DNSRR(rrname=name, type="A", rdata=answer))
    fq = Ether(src=MAC_A, dst=MAC_B) / IP(src=src, dst=dst) / \
        UDP(sport=sport, dport=53) / q
    fa = Ether(src=MAC_B, dst=MAC_A) / IP(src=dst, dst=src) / \
        UDP(sport=53, dport=sport) / a
    return [(t, bytes(fq)), (t + 0.012, bytes(fa))]


def main():
    rng = random.Random(SEED)
    frames = []
    for w in range(20):
        client = "10.20.1.%d" % (10 + w)
        t = T0 + rng.uniform(0, 60)
        while t < T0 + SPAN:
            frames += query(t, client, "10.20.0.53", rng.randint(1024, 65000),
                            rng.choice(EVERYDAY))
            t += rng.uniform(120, 240)
    for i in range(400):
        t = T0 + SPAN * i / 400
        frames += query(t, "10.20.0.53", "192.0.2.53",
                        rng.randint(1024, 65000), rng.choice(EVERYDAY),
                        edns=True)
    for i in range(600):
        t = T0 + SPAN * i / 600 + 0.3
        rev = ".".join(str(rng.randint(1, 254)) for _ in range(4))
        frames += query(t, "10.20.0.25", "192.0.2.54",
                        rng.randint(1024, 65000), rev + ".bl.example.org",
                        answer="127.0.0.2")
    tunnel = 0
    t = T0 + 60
    while t < T0 + SPAN - 60:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(128, 136)))
        enc = base64.b32encode(data).decode().rstrip("=").lower()
        labels = [enc[i:i + 63] for i in range(0, len(enc), 63)]
        name = ".".join(labels) + ".t.example-c2.net"
        reply = base64.b32encode(
            bytes(rng.getrandbits(8) for _ in range(40))).decode()
        frames += query(t, "10.20.0.77", "203.0.113.53",
                        rng.randint(1024, 65000), name, txt=reply)
        tunnel += 1
        t += rng.uniform(0.22, 0.38)
    t = T0 + 30
    while t < T0 + SPAN - 30:
        up = Ether(src=MAC_A, dst=MAC_B) / IP(src="10.20.0.70",
                                              dst="203.0.113.56") / \
            UDP(sport=41194, dport=53) / Raw(rng.randbytes(rng.randint(1000, 1150)))
        down = Ether(src=MAC_B, dst=MAC_A) / IP(src="203.0.113.56",
                                                dst="10.20.0.70") / \
            UDP(sport=53, dport=41194) / Raw(rng.randbytes(rng.randint(900, 1100)))
        frames += [(t, bytes(up)), (t + 0.02, bytes(down))]
        t += rng.uniform(0.3, 0.7)
    frames.sort(key=lambda f: f[0])
    write_parts(sys.argv[1], frames, T0, SPAN, PARTS)
    print(len(frames), tunnel, PARTS)


if __name__ == "__main__":
    main()
