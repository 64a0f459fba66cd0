"""Builds the pcaps of hunt_sampledlook.sh: an office's web sessions
with two probe sweeps, captured whole (probes.00.pcap) and packet-sampled
1 in 10 (sampled.00.pcap), the way a router's sampler keeps packets.

usage: sampledlook.py PREFIX   (writes PREFIX-probes.00.pcap and
PREFIX-sampled.00.pcap; prints one line of counts)

The sweeps are nmap's ACK scan (-sA) and Null scan (-sN): a bare ACK or
a flagless segment, 40 bytes, no data, to every address of a /22 on two
ports, the few live hosts answering with a reset. Every probe is a
record of one packet without SYN, FIN or RST: what a packet sampler
leaves of a session's middle too, so they must not pass for sampling.
The sessions: 1,000 short HTTPS exchanges (2 to 6 requests each)."""

import random
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from pcapparts import MAC_A, MAC_B, Conn, write_parts

T0 = 1709805600.0  # 2024-03-07 10:00 UTC
SPAN = 1500.0


def sessions(rng):
    frames = []
    for k in range(1000):
        client = "10.20.%d.%d" % (k // 200, 10 + k % 200)
        server = "203.0.113.%d" % (1 + k % 90)
        c = Conn(frames, client, 40000 + k, server, 443)
        t = c.open(T0 + rng.uniform(0, SPAN - 120))
        for _ in range(rng.randint(2, 6)):
            t += rng.uniform(0.05, 0.5)
            c.exchange(t, rng.randint(60, 400), 1400)
        c.close(t + 0.2)
    return frames


def sweep(rng, scanner, flags, t):
    """One probe to each address of 10.30.0.0/22 on ports 80 and 443."""
    frames = []
    for port in (80, 443):
        for host in range(1024):
            dst = "10.30.%d.%d" % (host // 256, host % 256)
            t += 0.004
            probe = Ether(src=MAC_A, dst=MAC_B) / IP(src=scanner, dst=dst) / TCP(
                sport=rng.randint(33000, 60000), dport=port, flags=flags,
                seq=rng.getrandbits(32), ack=rng.getrandbits(32) if flags else 0)
            frames.append((t, bytes(probe)))
            if host % 64 == 7:  # a live host: a reset back
                rst = Ether(src=MAC_B, dst=MAC_A) / IP(src=dst, dst=scanner) / TCP(
                    sport=port, dport=probe[TCP].sport, flags="R",
                    seq=probe[TCP].ack)
                frames.append((t + 0.001, bytes(rst)))
    return frames


def main():
    prefix = sys.argv[1]
    rng = random.Random(11)
    web = sessions(rng)
    probes = sweep(rng, "198.51.100.66", "A", T0 + 300) + sweep(
        rng, "198.51.100.67", "", T0 + 900)
    whole = sorted(web + probes)
    write_parts(prefix + "-probes", whole, T0, SPAN, 1)
    keep = random.Random(5)
    sampled = [f for f in sorted(web) if keep.random() < 0.1]
    write_parts(prefix + "-sampled", sampled, T0, SPAN, 1)
    print("%d frames with %d probes; %d of the sessions' %d sampled 1:10"
          % (len(whole), len(probes), len(sampled), len(web)))


if __name__ == "__main__":
    main()
