/*
 * nfhunt/flow.h - nfhunt's flow model.
 *
 * Every input (nfcapd layout 1 or 2, later JSON) is converted into
 * nfh_flow records; the detectors see nothing else. The struct is public
 * because detectors read it in their hot loop, in arrays: its size is
 * the arrays' stride, so its layout is part of the plugin ABI's major
 * version (nfhunt/plugin.h), and a change of it (a field added too) bumps
 * NFH_PLUGIN_ABI_MAJOR, which makes the host refuse plugins built
 * before. A detector must not write to a flow it is handed.
 */
#ifndef NFHUNT_FLOW_H
#define NFHUNT_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An IPv4 or IPv6 address in one type. 'bytes' holds the address in
 * network byte order; an IPv4 address is kept in its IPv4-mapped form
 * ::ffff:a.b.c.d so that comparing and hashing the 16 bytes works for both
 * families. 'family' is 4, 6, or 0 for "no address". */
typedef struct nfh_addr {
  uint8_t bytes[16];
  uint8_t family;
} nfh_addr;

/* Longest text nfh_addr_format() writes, NUL included. */
#define NFH_ADDR_STRLEN 46

/* Flag bits of nfh_flow.flags. */
#define NFH_FLOW_SAMPLED 0x01u  /* exporter sampled; counters are estimates */
#define NFH_FLOW_EVENT 0x02u    /* NSEL/NEL event record */
#define NFH_FLOW_HAS_OUT 0x04u  /* out_packets/out_bytes were present */
#define NFH_FLOW_ANON 0x08u     /* addresses anonymised */
#define NFH_FLOW_HAS_NAT 0x10u  /* the nat_* fields are set */

typedef struct nfh_flow {
  uint64_t first_ms;    /* flow start, epoch milliseconds */
  uint64_t last_ms;     /* flow end, epoch milliseconds */
  uint64_t received_ms; /* when the collector received it; 0 if unknown */
  /* Counters as stored by nfcapd: already multiplied by the sampling
   * interval when the exporter announced one. Never scale them again. */
  uint64_t packets;
  uint64_t bytes;
  uint64_t out_packets; /* 0 unless NFH_FLOW_HAS_OUT */
  uint64_t out_bytes;
  uint64_t aggr_flows; /* flows aggregated into this record, at least 1 */
  nfh_addr src;
  nfh_addr dst;
  nfh_addr exporter;     /* exporter address (ExporterInfo), family 0 if none */
  nfh_addr router;       /* address the collector received the flow from */
  nfh_addr next_hop;     /* IP next hop, family 0 if absent */
  nfh_addr bgp_next_hop; /* BGP next hop, family 0 if absent */
  uint32_t exporter_id;  /* engine/source id/observation domain */
  uint32_t sampling;     /* 1-in-N packet sampling interval; 1 = unsampled */
  uint32_t input_if;
  uint32_t output_if;
  uint32_t src_as;
  uint32_t dst_as;
  uint32_t src_vlan;
  uint32_t dst_vlan;
  uint16_t exporter_sysid; /* nfcapd's per-file exporter number, 0 = none */
  uint16_t src_port;       /* 0 for ICMP */
  uint16_t dst_port;       /* for ICMP: type * 256 + code */
  uint8_t proto;
  uint8_t tcp_flags;
  uint8_t tos;      /* source ToS */
  uint8_t dst_tos;
  uint8_t icmp_type; /* valid for ICMP and ICMPv6 */
  uint8_t icmp_code;
  uint8_t src_mask;
  uint8_t dst_mask;
  uint8_t direction;  /* 0 ingress, 1 egress (exporter's view) */
  uint8_t biflow_dir;
  uint8_t end_reason;
  uint8_t fwd_status;
  uint8_t nf_version; /* 1/5/9/10 as the exporter sent it, 0 unknown */
  uint8_t flags;      /* NFH_FLOW_* */
  /* Latency extension (microseconds), 0 if absent. */
  uint64_t client_latency_us;
  uint64_t server_latency_us;
  uint64_t app_latency_us;
  /* NSEL/NAT, valid with NFH_FLOW_HAS_NAT. */
  nfh_addr nat_src;
  nfh_addr nat_dst;
  uint16_t nat_src_port;
  uint16_t nat_dst_port;
  uint8_t nat_event;
  uint8_t fw_event; /* NSEL (Cisco ASA) firewall event: NFH_FW_*, 0 none */
} nfh_flow;

/* nfh_flow.fw_event. An NSEL record's source is the connection's
 * initiator, its bytes the initiator's, its out_bytes the responder's;
 * an ASA exports byte counters only (packets 0). */
#define NFH_FW_CREATED 1 /* flow created (permitted) */
#define NFH_FW_DELETED 2 /* flow torn down, with its counters */
#define NFH_FW_DENIED 3  /* flow denied by an access list or inspection */
#define NFH_FW_ALERT 4
#define NFH_FW_UPDATED 5

/* An exporter as nfcapd recorded it in a file. */
typedef struct nfh_exporter {
  nfh_addr addr;
  uint32_t version; /* NetFlow version 1/5/9/10, 9999 sFlow */
  uint32_t id;      /* engine tag (v5), source id (v9), ODID (IPFIX) */
  uint16_t sysid;   /* per-file number; not stable across files */
} nfh_exporter;

/* A sampler announced by an exporter. The 1-in-N interval is
 * (packet_interval + space_interval) / packet_interval. */
typedef struct nfh_sampler {
  int64_t id; /* selector id; -1 exporter default, -2/-3 nfcapd -s */
  uint32_t packet_interval;
  uint32_t space_interval;
  uint16_t exporter_sysid;
  uint16_t algorithm;
} nfh_sampler;

/* Writes the text form of 'addr' into buf (at least NFH_ADDR_STRLEN
 * bytes): dotted quad for IPv4, RFC 5952 for IPv6, "" for family 0.
 * Returns buf. */
char *nfh_addr_format(const nfh_addr *addr, char *buf, size_t len);

/* Longest text nfh_addr_format_port() writes, NUL included. */
#define NFH_ENDPOINT_STRLEN (NFH_ADDR_STRLEN + 8)

/* Writes addr and port as "192.0.2.9:443", or "[2001:db8::9]:443" for
 * IPv6 (whose colons would run into the port's: "2001:db8::80:80" reads
 * as one address), into buf (at least NFH_ENDPOINT_STRLEN bytes).
 * Returns buf. */
char *nfh_addr_format_port(const nfh_addr *addr, unsigned port, char *buf,
                           size_t len);

/* Parses dotted-quad IPv4 or IPv6 text. Returns 0 on success, -1 on
 * bad text (addr is then zeroed). */
int nfh_addr_parse(const char *text, nfh_addr *addr);

/* Sets addr from an IPv4 address given in host byte order. */
void nfh_addr_set_v4(nfh_addr *addr, uint32_t host_order);

/* Sets addr from 16 bytes in network order. */
void nfh_addr_set_v6(nfh_addr *addr, const uint8_t bytes[16]);

/* The IPv4 address in host order; 0 for non-IPv4. */
uint32_t nfh_addr_v4(const nfh_addr *addr);

/* Three-way compare of family then bytes, for sorting. */
int nfh_addr_compare(const nfh_addr *a, const nfh_addr *b);

/* Whether addr can be one host's: 1, or 0 for family 0, unspecified,
 * loopback, link-local, multicast and the IPv4 limited broadcast (mDNS
 * to ff02::fb or 224.0.0.251 is no conversation with a server). */
int nfh_addr_is_unicast(const nfh_addr *addr);

/* Whether addr is an IPv6 address of NAT64's well-known prefix,
 * 64:ff9b::/96 (RFC 6052), that stands for the IPv4 address in its last
 * four bytes: 1, and *v4 set to that address when v4 is not NULL; else
 * 0. Its /64 is all of IPv4, no one network or host. */
int nfh_addr_nat64(const nfh_addr *addr, nfh_addr *v4);

/* The network of addr: its first 'bits' bits of its own family (0-32 for
 * IPv4, 0-128 for IPv6; more is all of it), the rest zero. An address
 * of no family is returned as it is. */
nfh_addr nfh_addr_network(const nfh_addr *addr, unsigned bits);

/* Parses a network, "ADDR/BITS" or a bare "ADDR" (one host), into *net
 * (ADDR with the bits past the prefix cleared) and *bits (the prefix
 * length: 0-32 for IPv4, 0-128 for IPv6). *host_bits, when host_bits is
 * not NULL, is set to 1 when ADDR had bits set past the prefix
 * (10.0.0.5/16, a copy of an interface's setting: taken as 10.0.0.0/16,
 * as ip(8) does, and worth a word to the writer), else 0. Returns
 * NFH_OK, or NFH_ESYNTAX on bad text (the outputs then untouched). */
nfh_status nfh_cidr_parse(const char *text, nfh_addr *net, unsigned *bits,
                          int *host_bits);

/* Parses a network with an optional port: "CIDR", "CIDR:PORT" (IPv4) or
 * "[CIDR]:PORT", "[CIDR]" (IPv6, whose colons would run into the
 * port's; a bare IPv6 CIDR has no port). As nfh_cidr_parse, and *port
 * set to the port or -1 for none. Returns NFH_OK, or NFH_ESYNTAX on bad
 * text. */
nfh_status nfh_cidr_port_parse(const char *text, nfh_addr *net, unsigned *bits,
                               int *port, int *host_bits);

/* Whether a and b are the same address (family and bytes). Inline, as
 * two words: the stitcher and the detectors compare addresses for every
 * record, where a call to memcmp(3) cost more than the comparison. */
static inline int nfh_addr_equal(const nfh_addr *a, const nfh_addr *b) {
  uint64_t x[2], y[2];
  memcpy(x, a->bytes, 16);
  memcpy(y, b->bytes, 16);
  return a->family == b->family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

#ifdef __cplusplus
}
#endif
#endif /* NFHUNT_FLOW_H */
