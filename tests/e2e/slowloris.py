#!/usr/bin/python3
"""A pcap of a slowloris attack among everyday web traffic, for
hunt_slowloris.sh.

Eight minutes from 2024-03-05 10:00 UTC on a public web server
10.20.0.80:80, real TCP segments built with scapy (the pcap framing is
written here, so the file is the same on every run):
  * slowloris: 203.0.113.77 keeps 150 sockets open; each connection sends
    a partial request, then a header line every 10 s; the server only
    acknowledges, and after 40 s (its request timeout) answers 408 and
    closes; the socket reconnects a second later. Every connection has a
    source port of its own;
  * 20 browsers (203.0.113.10-29) fetch a page every 20-40 s: a request,
    about 20 kB back, a few seconds of keep-alive, the server closes;
  * a NAT gateway (198.51.100.9) of an office whose users browse the site:
    80 connections open at once, each a request and 8-15 kB back every 8-12
    s for a minute: long and many, but answered;
  * one client (203.0.113.40) holds a single idle connection for the whole
    span, with a keep-alive segment a minute (a websocket): one is no flood.

Usage: slowloris.py PREFIX   (writes PREFIX.00.pcap .. PREFIX.03.pcap, in
time order; prints: frames, slowloris connections, files)
"""

import os
import random
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

# pcapparts.py lies beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapparts import write_parts  # noqa: E402

T0 = 1709632800.0  # 2024-03-05 10:00:00 UTC
SPAN = 480.0
# Four files of two minutes: softflowd exports what is left of a file's
# flows at its end, and a stock socket buffer (212 kB) must hold what
# nfcapd has not read yet.
PARTS = 4
SEED = 20240306
SERVER = "10.20.0.80"
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"


class Conn:
    """One TCP connection's frames, with sequence numbers kept."""

    def __init__(self, frames, client, sport):
        self.frames, self.client, self.sport = frames, client, sport
        self.cseq, self.sseq = 1000, 5000

    def seg(self, t, from_client, flags, payload=b""):
        if from_client:
            ip = IP(src=self.client, dst=SERVER)
            tcp = TCP(sport=self.sport, dport=80, flags=flags, seq=self.cseq,
                      ack=self.sseq, window=64240)
            eth = Ether(src=MAC_A, dst=MAC_B)
            self.cseq += len(payload) + (1 if "S" in flags or "F" in flags
                                         else 0)
        else:
            ip = IP(src=SERVER, dst=self.client)
            tcp = TCP(sport=80, dport=self.sport, flags=flags, seq=self.sseq,
                      ack=self.cseq, window=64240)
            eth = Ether(src=MAC_B, dst=MAC_A)
            self.sseq += len(payload) + (1 if "S" in flags or "F" in flags
                                         else 0)
        self.frames.append((t, bytes(eth / ip / tcp / payload)))

    def open(self, t):
        self.seg(t, True, "S")
        self.seg(t + 0.01, False, "SA")
        self.seg(t + 0.02, True, "A")
        return t + 0.02

    def response(self, t, size):
        """size bytes from the server in full segments, then the ACK."""
        while size > 0:
            n = min(size, 1448)
            self.seg(t, False, "PA", b"x" * n)
            size -= n
            t += 0.001
        self.seg(t + 0.01, True, "A")
        return t + 0.01

    def server_close(self, t):
        self.seg(t, False, "FA")
        self.seg(t + 0.01, True, "A")
        self.seg(t + 0.02, True, "FA")
        self.seg(t + 0.03, False, "A")
        return t + 0.03


def main():
    rng = random.Random(SEED)
    frames = []
    slow = 0
    port = 20000
    for k in range(150):
        t = T0 + 20 * k / 150
        while t + 41 < T0 + SPAN:
            c = Conn(frames, "203.0.113.77", port)
            port += 1
            slow += 1
            t = c.open(t)
            c.seg(t + 0.01, True, "PA", b"GET /?%d HTTP/1.1\r\nHost: www\r\n"
                  b"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                  b"Accept-language: en-US,en,q=0.5\r\n" % rng.randint(1, 5000))
            c.seg(t + 0.02, False, "A")
            for line in range(1, 4):
                c.seg(t + 10 * line, True, "PA",
                      b"X-a: %d\r\n" % rng.randint(1, 5000))
                c.seg(t + 10 * line + 0.01, False, "A")
            t = c.response(t + 40, 320)  # 408 Request Timeout
            t = c.server_close(t + 0.01) + 1
    for b in range(20):
        client = "203.0.113.%d" % (10 + b)
        t = T0 + rng.uniform(0, 30)
        while t < T0 + SPAN - 30:
            c = Conn(frames, client, rng.randint(30000, 60000))
            e = c.open(t)
            c.seg(e + 0.01, True, "PA", b"GET / HTTP/1.1\r\n" + b"h" * 380)
            e = c.response(e + 0.05, rng.randint(15000, 25000))
            c.server_close(e + rng.uniform(3, 5))
            t += rng.uniform(20, 40)
    for n in range(80):
        c = Conn(frames, "198.51.100.9", 40000 + n)
        t = c.open(T0 + 100 + rng.uniform(0, 5))
        end = t + 60
        while t < end:
            c.seg(t + 0.01, True, "PA", b"GET /p HTTP/1.1\r\n" + b"h" * 380)
            t = c.response(t + 0.05, rng.randint(8000, 15000))
            t += rng.uniform(8, 12)
        c.server_close(t)
    c = Conn(frames, "203.0.113.40", 51000)
    t = c.open(T0 + 1)
    while t + 60 < T0 + SPAN - 5:
        t += 60
        c.seg(t, True, "PA", b"\x89\x00")
        c.seg(t + 0.01, False, "A")
    c.server_close(t + 1)
    frames.sort(key=lambda f: f[0])
    write_parts(sys.argv[1], frames, T0, SPAN, PARTS)
    print(len(frames), slow, PARTS)


if __name__ == "__main__":
    main()
