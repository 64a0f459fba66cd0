#!/usr/bin/python3
"""real_net.py - the helpers of real_net.sh: small servers and clients
run inside the test's network namespaces, the retiming of a capture,
and the checks of the hunt's findings.

  serve tcp|udp ADDR PORT          answer every TCP request or UDP datagram
  loops SPEC...                    client loops, one thread each; SPEC is
                                   kind,src,dst,port,period_s,jitter,count,bytes
  upload SRC DST PORT MBYTES       one TCP connection that sends MBYTES MB
  retime IN OUT FACTOR BASE        stretch the gaps between connections
  merge OUT IN...                  captures of several links as one
  span PCAP                        its first and last packet times
  roles IN OUT EDIT...             the roles with drop=, srcs=, max= edits
  check FINDINGS.ndjson ROLES.json the findings against the roles

Nothing here sends a packet outside the namespaces: every address is the
test's own (10.99.0.0/24 at home, 198.18.0.0/15 outside, both on veth
pairs that lead nowhere else)."""
import json
import random
import socket
import sys
import threading
import time


def serve(kind, addr, port):
    port = int(port)
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data[:48], peer)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(256)

    def answer(c):
        try:
            c.settimeout(10)
            data = c.recv(1 << 16)
            while data:
                c.sendall(b"ok\n")
                data = c.recv(1 << 16)
        except OSError:
            pass
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c,), daemon=True).start()


def tcp_once(src, dst, port, payload):
    try:
        c = socket.socket()
        c.settimeout(3)
        c.bind((src, 0))
        c.connect((dst, port))
        c.sendall(payload)
        try:
            c.recv(1 << 16)
        except OSError:
            pass
        c.close()
    except OSError:
        pass


def udp_once(src, dst, port, payload):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.bind((src, 0))
        s.sendto(payload, (dst, port))
        try:
            s.recv(2048)
        except OSError:
            pass
        s.close()
    except OSError:
        pass


def one_loop(spec):
    kind, src, dst, port, period, jitter, count, size = spec.split(",")
    port, period, jitter = int(port), float(period), float(jitter)
    rnd = random.Random(spec)
    payload = b"x" * int(size)
    send = tcp_once if kind == "tcp" else udp_once
    time.sleep(rnd.uniform(0, period))
    for _ in range(int(count)):
        t0 = time.time()
        send(src, dst, port, payload)
        gap = period * (1 + rnd.uniform(-jitter, jitter))
        time.sleep(max(0.0, gap - (time.time() - t0)))


def loops(*specs):
    threads = [threading.Thread(target=one_loop, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def upload(src, dst, port, mbytes):
    c = socket.socket()
    c.bind((src, 0))
    c.connect((dst, int(port)))
    block = b"z" * (1 << 16)
    for _ in range(int(mbytes) * 16):
        c.sendall(block)
    c.shutdown(socket.SHUT_WR)
    c.recv(100)
    c.close()


def retime(inp, out, factor, base):
    """Each connection (its 5-tuple, both directions) starts at base +
    factor x its offset in the capture, and keeps its own packet timing:
    two minutes of real sockets become a day, sessions stay sessions."""
    from scapy.all import IP, TCP, UDP, rdpcap, wrpcap
    factor, base = float(factor), float(base)
    packets = [p for p in rdpcap(inp) if IP in p]
    t0 = float(packets[0].time)
    start = {}
    for p in packets:
        ip = p[IP]
        l4 = TCP if TCP in p else UDP if UDP in p else None
        a = (ip.src, ip[l4].sport if l4 else 0)
        b = (ip.dst, ip[l4].dport if l4 else 0)
        key = (ip.proto,) + (a + b if a < b else b + a)
        t = float(p.time)
        s = start.setdefault(key, t)
        p.time = base + (s - t0) * factor + (t - s)
    packets.sort(key=lambda p: p.time)
    wrpcap(out, packets)


def merge(out, *inputs):
    """The captures of several links as one, in time order."""
    from scapy.all import rdpcap, wrpcap
    packets = []
    for f in inputs:
        packets.extend(rdpcap(f))
    packets.sort(key=lambda p: float(p.time))
    wrpcap(out, packets)


def span(inp):
    """The first and last packet times of a capture, whole seconds."""
    from scapy.all import PcapReader
    first = last = None
    for p in PcapReader(inp):
        last = float(p.time)
        if first is None:
            first = last
    print(int(first), int(last))


def roles(inp, out, *edits):
    """A copy of the roles with edits: drop=NEEDS leaves out what needs
    NEEDS, srcs=A,B keeps what these sources do, max=N sets the bound,
    says=TEXT asks every expected finding's summary to hold TEXT."""
    r = json.load(open(inp))
    for edit in edits:
        key, _, value = edit.partition("=")
        if key == "drop":
            r["expect"] = [w for w in r["expect"] if w.get("needs") != value]
        elif key == "srcs":
            keep = value.split(",")
            r["expect"] = [w for w in r["expect"] if w.get("src") in keep]
        elif key == "max":
            r["max_findings"] = int(value)
        elif key == "says":
            for w in r["expect"]:
                w["says"] = value
        else:
            sys.exit("roles: unknown edit " + edit)
    json.dump(r, open(out, "w"))


def check(findings_path, roles_path):
    """One PASS/FAIL line per expectation; the roles name addresses only,
    the findings are judged by type, hosts and severity."""
    roles = json.load(open(roles_path))
    rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
    found = [json.loads(l) for l in open(findings_path) if l.strip()]
    ok = 0
    bad = 0

    def say(good, text):
        nonlocal ok, bad
        print(("PASS: " if good else "FAIL: ") + text)
        ok += good
        bad += not good

    def show(f):
        return "%s %s %s: %s" % (f["severity"], f["type"], f.get("key", ""),
                                 f["summary"])

    def match(want):
        return [f for f in found if f["type"] == want["type"]
                and ("src" not in want or f.get("src") == want["src"])
                and ("dst" not in want or f.get("dst") == want["dst"])
                and ("dst_port" not in want
                     or f.get("dst_port") == want["dst_port"])]

    asked = set()
    for want in roles["expect"]:
        hits = match(want)
        asked.update((f["type"], f.get("key") or f["id"]) for f in hits)
        best = max(hits, key=lambda f: rank[f["severity"]], default=None)
        good = best is not None and \
            rank[best["severity"]] >= rank[want["min_severity"]] and \
            want.get("says", "") in best["summary"]
        say(good, "%s: %s" % (want["what"],
                              show(best) if best else "no finding"))
    benign = set(roles["benign"])
    noisy = [f for f in found if rank[f["severity"]] >= rank["low"]
             and (f.get("src") in benign or f.get("dst") in benign)]
    say(not noisy, "benign hosts raise nothing at low or above%s" %
        "".join("; " + show(f) for f in noisy))
    # Distinct findings: hourly runs with a state report one again as
    # "ongoing" under its key; that is one finding for a person to read.
    limit = roles["max_findings"]
    shown = {(f["type"], f.get("key") or f["id"]) for f in found
             if rank[f["severity"]] >= rank["low"]}
    others = [show(f) for f in found if rank[f["severity"]] >= rank["low"]
              and (f["type"], f.get("key") or f["id"]) not in asked]
    say(len(shown) <= limit, "%d distinct findings at low or above "
        "(at most %d)%s" % (len(shown), limit,
                            "" if len(shown) <= limit else
                            "; not asked: " + "; ".join(sorted(set(others)))))
    return 1 if bad else 0


if __name__ == "__main__":
    cmds = {"serve": serve, "loops": loops, "upload": upload,
            "retime": retime, "merge": merge, "span": span, "roles": roles,
            "check": check}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))
