#!/usr/bin/python3
"""Turn `nfhunt --dump` CSV into the JSON flow files `nfhunt --flow-file`
reads, so that the same flows can be hunted from both kinds of input.

  csv2json.py seed      DUMP.csv OUT.json
      One JSON array of flow objects with NetFlow v9 field names and
      absolute times in epoch milliseconds (FIRST_SWITCHED/LAST_SWITCHED),
      as the seed script's --flow-file input.
  csv2json.py pynetflow DUMP.csv OUT.json.gz
      gzip'd JSON lines as python-netflow's collector writes them,
      {"<time>": {"client": [ip, port], "header": {...}, "flows": [...]}},
      30 flows per export. Even exports are NetFlow v9: FIRST/LAST_SWITCHED
      relative to the header's uptime (chosen near 2^32 ms so that the
      uptime arithmetic wraps), addresses as text. Odd exports are IPFIX:
      addresses as integers (IPv6 ones beyond 64 bits), flowStart/End
      Milliseconds. Each export is its own gzip member, as the collector
      appends them.

Stdlib only.
"""

import csv
import gzip
import ipaddress
import json
import sys


def rows(path):
    with open(path, newline="") as f:
        yield from csv.DictReader(f)


def common(r, ipfix):
    src = ipaddress.ip_address(r["src_addr"])
    dst = ipaddress.ip_address(r["dst_addr"])
    v6 = src.version == 6
    proto = int(r["proto"])
    sampling = int(r["sampling"]) or 1
    packets = int(r["packets"]) // sampling
    octets = int(r["bytes"]) // sampling
    if ipfix:
        o = {
            "sourceIPv6Address" if v6 else "sourceIPv4Address": int(src),
            "destinationIPv6Address" if v6 else "destinationIPv4Address":
                int(dst),
            "protocolIdentifier": proto,
            "sourceTransportPort": int(r["src_port"]),
            "destinationTransportPort": int(r["dst_port"]),
            "packetDeltaCount": packets,
            "octetDeltaCount": octets,
            "tcpControlBits": int(r["tcp_flags"]),
            "ipClassOfService": int(r["tos"]),
            "ingressInterface": int(r["input_if"]),
            "egressInterface": int(r["output_if"]),
            "flowDirection": int(r["direction"]),
        }
        if proto in (1, 58):
            o["icmpTypeCodeIPv6" if v6 else "icmpTypeCodeIPv4"] = int(
                r["dst_port"])
    else:
        o = {
            "IPV6_SRC_ADDR" if v6 else "IPV4_SRC_ADDR": str(src),
            "IPV6_DST_ADDR" if v6 else "IPV4_DST_ADDR": str(dst),
            "PROTOCOL": proto,
            "L4_SRC_PORT": int(r["src_port"]),
            "L4_DST_PORT": int(r["dst_port"]),
            "IN_PKTS": packets,
            "IN_BYTES": octets,
            "TCP_FLAGS": int(r["tcp_flags"]),
            "SRC_TOS": int(r["tos"]),
            "INPUT_SNMP": int(r["input_if"]),
            "OUTPUT_SNMP": int(r["output_if"]),
            "DIRECTION": int(r["direction"]),
        }
        if proto in (1, 58):
            o["ICMP_TYPE"] = int(r["dst_port"])
    if sampling > 1:
        o["samplingInterval" if ipfix else "SAMPLING_INTERVAL"] = sampling
    if int(r["flags"]) & 0x04:
        o["postPacketDeltaCount" if ipfix else "OUT_PKTS"] = (
            int(r["out_packets"]) // sampling)
        o["postOctetDeltaCount" if ipfix else "OUT_BYTES"] = (
            int(r["out_bytes"]) // sampling)
    return o


def seed(src, out):
    flows = []
    for r in rows(src):
        o = common(r, False)
        o["FIRST_SWITCHED"] = int(r["first_ms"])
        o["LAST_SWITCHED"] = int(r["last_ms"])
        flows.append(o)
    with open(out, "w") as f:
        json.dump(flows, f, indent=0)


def pynetflow(src, out):
    batch = []
    n = 0
    with open(out, "wb") as f:
        def flush():
            nonlocal n
            if not batch:
                return
            ipfix = n % 2 == 1
            export_s = max(int(r["last_ms"]) for r in batch) // 1000 + 1
            uptime = (4294960000 + n * 997) % 2**32
            flows = []
            for r in batch:
                o = common(r, ipfix)
                if ipfix:
                    o["flowStartMilliseconds"] = int(r["first_ms"])
                    o["flowEndMilliseconds"] = int(r["last_ms"])
                else:
                    for key, col in (("FIRST_SWITCHED", "first_ms"),
                                     ("LAST_SWITCHED", "last_ms")):
                        ago = export_s * 1000 - int(r[col])
                        o[key] = (uptime - ago) % 2**32
                flows.append(o)
            if ipfix:
                header = {"version": 10, "length": 0,
                          "export_uptime": export_s, "sequence_number": n,
                          "obervation_domain_id": 1}
            else:
                header = {"version": 9, "count": len(flows),
                          "uptime": uptime, "timestamp": export_s,
                          "sequence": n, "source_id": 1}
            entry = {"%d.25" % export_s: {"client": ["192.0.2.200", 2055],
                                          "header": header, "flows": flows}}
            f.write(gzip.compress(json.dumps(entry).encode() + b"\n",
                                  mtime=0))
            batch.clear()
            n += 1

        for r in rows(src):
            batch.append(r)
            if len(batch) == 30:
                flush()
        flush()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("seed", "pynetflow"):
        sys.exit(__doc__)
    {"seed": seed, "pynetflow": pynetflow}[sys.argv[1]](sys.argv[2],
                                                        sys.argv[3])


if __name__ == "__main__":
    main()
