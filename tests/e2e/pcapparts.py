"""Writes time-ordered frames as pcaps of equal time spans, for the e2e
tests that replay captures through softflowd one part at a time (see
replay_parts in capd_lib.sh). The framing is written here, so that the
files are the same on every run. Conn builds one TCP connection's
segments."""

import struct

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"




def write_parts(prefix, frames, t0, span, parts):
    """Writes frames, (time, bytes) pairs in time order, into
    PREFIX.00.pcap .. PREFIX.NN.pcap (parts files), each holding the
    frames of its share of [t0, t0 + span)."""
    outs = [open("%s.%02d.pcap" % (prefix, k), "wb") for k in range(parts)]
    for out in outs:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, frame in frames:
        part = min(parts - 1, max(0, int((t - t0) * parts / span)))
        sec = int(t)
        usec = int(round((t - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        outs[part].write(struct.pack("<IIII", sec, usec, len(frame),
                                     len(frame)))
        outs[part].write(frame)
    for out in outs:
        out.close()


class Conn:
    """One TCP connection's frames, with sequence numbers kept."""

    def __init__(self, frames, client, sport, server, dport):
        self.frames = frames
        self.client, self.sport, self.server, self.dport = (client, sport,
                                                            server, dport)
        self.cseq, self.sseq = 1000, 5000

    def seg(self, t, from_client, flags, size=0):
        payload = b"x" * size
        if from_client:
            frame = Ether(src=MAC_A, dst=MAC_B) / IP(
                src=self.client, dst=self.server) / TCP(
                sport=self.sport, dport=self.dport, flags=flags,
                seq=self.cseq, ack=self.sseq) / payload
            self.cseq += size + (1 if "S" in flags or "F" in flags else 0)
        else:
            frame = Ether(src=MAC_B, dst=MAC_A) / IP(
                src=self.server, dst=self.client) / TCP(
                sport=self.dport, dport=self.sport, flags=flags,
                seq=self.sseq, ack=self.cseq) / payload
            self.sseq += size + (1 if "S" in flags or "F" in flags else 0)
        self.frames.append((t, bytes(frame)))

    def open(self, t):
        self.seg(t, True, "S")
        self.seg(t + 0.02, False, "SA")
        self.seg(t + 0.04, True, "A")
        return t + 0.04

    def exchange(self, t, up, down):
        self.seg(t, True, "PA", up)
        self.seg(t + 0.03, False, "PA", down)
        self.seg(t + 0.06, True, "A")

    def close(self, t):
        self.seg(t, True, "FA")
        self.seg(t + 0.02, False, "FA")
        self.seg(t + 0.04, True, "A")
