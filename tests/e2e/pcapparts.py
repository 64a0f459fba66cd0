"""Writes time-ordered frames as pcaps of equal time spans, for the e2e
tests that replay captures through softflowd one part at a time (see
replay_parts in capd_lib.sh). The framing is written here, so that the
files are the same on every run."""

import struct


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
