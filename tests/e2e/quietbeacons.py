#!/usr/bin/python3
"""A pcap of beacons that hide from a plain regularity score, among a
small site's night-time traffic, for hunt_quietbeacons.sh.

Six and a half hours from 2024-03-05 00:00 UTC, real TCP segments and UDP
datagrams built with scapy (one file, framed by pcapparts.py, the same on
every run):
  * a jittered beacon: 10.30.0.50 calls 203.0.113.70:443 sixteen times,
    beat k at 10 min + k x 25 min, each moved by up to +-30% of the period
    (intervals of 10 to 40 min), 1.1 KB up and 4 KB back;
  * a keepalive four hosts share: 10.30.0.20-23 call 198.18.7.7:443 every
    300 s, a few seconds apart, for six hours (the hosts that are on at
    night, of a site whose every host runs it by day);
  * C2 on NTP's port: 10.30.0.60 sends 1400 bytes to 203.0.113.123:123
    every 60 s for five hours and gets 3000 back, in UDP datagrams from
    one source port (one socket: softflowd, without an active timeout,
    exports it as one flow each way, a persistent session);
  * an NTP client: 10.30.0.5 polls 192.0.2.123:123 every 64 s (48-byte
    NTP payloads each way), from port 123;
  * a hundred hosts (10.30.1.x) browse now and then: short HTTPS
    connections to a few servers, a page back each.

Usage: quietbeacons.py PREFIX   (writes PREFIX.00.pcap; prints: frames,
the jittered beacon's connections)
"""

import os
import random
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

# pcapparts.py lies beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapparts import MAC_A, MAC_B, Conn, write_parts  # noqa: E402

T0 = 1709596800.0  # 2024-03-05 00:00:00 UTC
SPAN = 6.5 * 3600
SEED = 20241130


def short(frames, client, sport, server, dport, t, up, down):
    """One short connection: open, one exchange, close."""
    c = Conn(frames, client, sport, server, dport)
    e = c.open(t)
    c.exchange(e + 0.01, up, down)
    c.close(e + 0.5)


def datagram(frames, t, src, sport, dst, dport, size):
    """One UDP datagram of 'size' payload bytes, outbound ones from MAC_A."""
    outbound = src.startswith("10.")
    frame = Ether(src=MAC_A if outbound else MAC_B,
                  dst=MAC_B if outbound else MAC_A) / IP(
        src=src, dst=dst) / UDP(sport=sport, dport=dport) / (b"x" * size)
    frames.append((t, bytes(frame)))


def main():
    rng = random.Random(SEED)
    frames = []
    beats = 16
    period = 1500.0
    for k in range(beats):
        t = T0 + 600 + period * (k + rng.uniform(-0.3, 0.3))
        short(frames, "10.30.0.50", 41000 + k, "203.0.113.70", 443, t,
              1100 + rng.randint(0, 80), 4000 + rng.randint(0, 150))
    for h in range(4):
        t = T0 + 30 + 7 * h
        n = 0
        while t < T0 + 6 * 3600:
            short(frames, "10.30.0.%d" % (20 + h), 42000 + 1000 * h + n,
                  "198.18.7.7", 443, t, 900 + rng.randint(0, 40),
                  2500 + rng.randint(0, 80))
            n += 1
            t += 300 * (1 + rng.uniform(-0.005, 0.005))
    t = T0 + 1200
    while t < T0 + 1200 + 5 * 3600:
        datagram(frames, t, "10.30.0.60", 40123, "203.0.113.123", 123, 1400)
        datagram(frames, t + 0.05, "203.0.113.123", 123, "10.30.0.60", 40123,
                 1472)
        datagram(frames, t + 0.06, "203.0.113.123", 123, "10.30.0.60", 40123,
                 1472)
        t += 60 * (1 + rng.uniform(-0.03, 0.03))
    t = T0 + 5
    while t < T0 + SPAN - 60:
        datagram(frames, t, "10.30.0.5", 123, "192.0.2.123", 123, 48)
        datagram(frames, t + 0.02, "192.0.2.123", 123, "10.30.0.5", 123, 48)
        t += 64
    for b in range(100):
        client = "10.30.1.%d" % (10 + b)
        t = T0 + rng.uniform(0, 3600)
        n = 0
        while t < T0 + SPAN - 60:
            short(frames, client, 30000 + 50 * b + n % 50,
                  "192.0.2.%d" % rng.randint(80, 84), 443, t, 500, 1400)
            n += 1
            t += rng.expovariate(1 / 2400.0)
    frames.sort(key=lambda f: f[0])
    write_parts(sys.argv[1], frames, T0, SPAN, 1)
    print(len(frames), beats)


if __name__ == "__main__":
    main()
