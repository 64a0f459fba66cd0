#!/usr/bin/python3
"""A pcap of a C2 channel held open for hours among everyday traffic, for
hunt_c2session.sh.

Five and a half hours from 2024-03-05 08:00 UTC, real TCP segments built
with scapy (the pcap framing is pcapparts.py's, so the file is the same on
every run):
  * the C2 channel: 10.20.0.66 opens one connection to 203.0.113.66:443 at
    08:05 and keeps it for 5 h; every 30 s a command poll goes out (120
    bytes) and an answer comes back (160 bytes), each acknowledged;
  * an admin's SSH session from 10.20.0.7 to 198.51.100.22:22, open for
    the whole span, a few keystrokes a minute: interactive, not C2;
  * three hosts (10.20.0.30-32) each keep a 5-hour connection to a chat
    service, 192.0.2.44:443, with the same trickle: a destination other
    hosts use;
  * ten hosts (10.20.1.x) browse: short HTTPS connections to a few
    servers, a page back each.

Usage: c2session.py PREFIX   (writes PREFIX.00.pcap .. PREFIX.05.pcap, 55
minutes each; prints: frames, the C2 channel's first and last packet
times as epoch seconds)
"""

import os
import random
import sys

# pcapparts.py lies beside this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapparts import Conn, write_parts  # noqa: E402

T0 = 1709625600.0  # 2024-03-05 08:00:00 UTC
SPAN = 5.5 * 3600
# Six files of 55 minutes, replayed one by one as the hours an hourly
# hunt sees.
PARTS = 6
SEED = 20240307


def held(frames, client, sport, server, dport, start, hours, every, up,
         down):
    """A connection held 'hours' with an exchange every 'every' s; returns
    its first and last packet times."""
    c = Conn(frames, client, sport, server, dport)
    t = c.open(start)
    end = start + hours * 3600
    while t + every < end:
        t += every
        c.exchange(t, up, down)
    c.close(t + 1)
    return start, t + 1.04


def main():
    rng = random.Random(SEED)
    frames = []
    first, last = held(frames, "10.20.0.66", 50505, "203.0.113.66", 443,
                       T0 + 300, 5, 30, 120, 160)
    held(frames, "10.20.0.7", 52222, "198.51.100.22", 22, T0 + 10, 5.4, 20,
         48, 48)
    for h in range(3):
        held(frames, "10.20.0.%d" % (30 + h), 40000 + h, "192.0.2.44", 443,
             T0 + 60 + 10 * h, 5, 30, 120, 160)
    for b in range(10):
        client = "10.20.1.%d" % (10 + b)
        t = T0 + rng.uniform(0, 300)
        while t < T0 + SPAN - 60:
            c = Conn(frames, client, rng.randint(30000, 60000),
                     "192.0.2.%d" % rng.randint(80, 84), 443)
            e = c.open(t)
            c.exchange(e + 0.01, 500, 1400)
            c.close(e + rng.uniform(1, 5))
            t += rng.uniform(120, 600)
    frames.sort(key=lambda f: f[0])
    write_parts(sys.argv[1], frames, T0, SPAN, PARTS)
    print(len(frames), int(first), int(last))


if __name__ == "__main__":
    main()
