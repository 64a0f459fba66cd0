/*
 * flowgen.h - deterministic synthetic flows for the writer's test
 * programs (nfh-writefile for the e2e check, nfh-mktree for the
 * benchmark).
 *
 * Everything derives from one 64-bit seed through splitmix64, so a seed
 * gives the same flows on every host. Header-only (static inline)
 * because two small programs share it.
 *
 * fg_traffic() draws "realistic" traffic: a site network (10.0.0.0/12,
 * 2001:db8:100::/48) talking to popular and random outside hosts, about
 * 10% IPv6, TCP/UDP/ICMP in rough Internet proportions, some scanning,
 * heavy-tailed (Pareto) packet counts and durations, two exporters.
 * fg_varied() cycles through every kind of flow the writer encodes, for
 * field-by-field comparisons with nfdump.
 */
#ifndef NFH_TESTS_FLOWGEN_H
#define NFH_TESTS_FLOWGEN_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <nfhunt/flow.h>

typedef struct fg_state {
  uint64_t s;
} fg_state;

static inline uint64_t fg_u64(fg_state *g) {
  uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t fg_below(fg_state *g, uint32_t n) {
  return (uint32_t)(((fg_u64(g) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in (0, 1]. */
static inline double fg_unit(fg_state *g) {
  return ((double)(fg_u64(g) >> 11) + 1.0) / 9007199254740992.0;
}

/* Pareto(xm, alpha), capped: the heavy tail of flow sizes. */
static inline uint64_t fg_pareto(fg_state *g, double xm, double alpha,
                                 uint64_t cap) {
  double v = xm / pow(fg_unit(g), 1.0 / alpha);
  return v >= (double)cap ? cap : (uint64_t)v;
}

/* Index in [0, n) biased to small values: a few hosts are very busy. */
static inline uint32_t fg_popular(fg_state *g, uint32_t n) {
  double u = fg_unit(g);
  uint32_t i = (uint32_t)((double)n * u * u * u);
  return i >= n ? n - 1 : i;
}

static inline void fg_v6(nfh_addr *a, uint64_t hi, uint64_t lo) {
  uint8_t b[16];
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(hi >> (56 - 8 * i));
    b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
  }
  nfh_addr_set_v6(a, b);
}

/* Site hosts: 10.0.0.0/12 and 2001:db8:100::/48. */
static inline void fg_inside(fg_state *g, nfh_addr *a, int v6) {
  uint32_t h = fg_popular(g, 20000);
  if (v6)
    fg_v6(a, 0x20010db801000000ULL | (h >> 8), 0x1000 + (h & 0xff));
  else
    nfh_addr_set_v4(a, 0x0a000000u | (h / 250) << 8 | (1 + h % 250));
}

/* Outside hosts: 3000 popular servers 70% of the time, else anyone.
 * IPv4 addresses are public-looking: first octet 11-222, skipping the
 * private, loopback and documentation blocks this file uses. Returns the
 * host number, from which the AS is derived. */
static inline uint32_t fg_outside(fg_state *g, nfh_addr *a, int v6) {
  uint32_t h =
      fg_below(g, 10) < 7 ? fg_popular(g, 3000) : 3000 + fg_below(g, 1u << 24);
  uint32_t x = h * 2654435761u ^ 0x5bd1e995u;
  if (v6) {
    fg_v6(a, 0x2a00000000000000ULL | (uint64_t)(x & 0xffff) << 32, 0x100 + h);
  } else {
    uint32_t first = 11 + (x >> 24) % 212;
    if (first == 100 || first == 127 || first == 169 || first == 172 ||
        first == 192 || first == 198 || first == 203)
      first++;
    nfh_addr_set_v4(a, first << 24 | (x & 0xffffff));
  }
  return h;
}

/* The bench's two exporters: a NetFlow v9 router and an IPFIX probe. */
static inline nfh_exporter fg_traffic_exporter(int i) {
  nfh_exporter e;
  memset(&e, 0, sizeof(e));
  nfh_addr_set_v4(&e.addr, i == 0 ? 0xc0000201u : 0xc0000202u);
  e.version = i == 0 ? 9 : 10;
  e.id = i == 0 ? 0 : 256;
  e.sysid = (uint16_t)(i + 1);
  return e;
}

static const uint16_t fg_tcp_ports[] = {443,  443,  443, 443,  443,  443, 443,
                                        443,  80,   80,  80,   22,   25,  993,
                                        8080, 3389, 445, 8443, 5223, 1194};
static const uint16_t fg_udp_ports[] = {53,   53,   53,  53,  443,  443,
                                        443,  123,  123, 500, 4500, 1194,
                                        3478, 5353, 161, 514};
static const uint16_t fg_scan_ports[] = {22,   23,   445,  3389, 8080,
                                         5900, 1433, 3306, 6379, 9200};

#define FG_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One flow of realistic traffic ending inside the slot
 * [slot_ms, slot_ms + slot_len_ms). */
static inline void fg_traffic(fg_state *g, nfh_flow *f, uint64_t slot_ms,
                              uint32_t slot_len_ms) {
  memset(f, 0, sizeof(*f));
  int v6 = fg_below(g, 100) < 10;
  uint32_t kind = fg_below(g, 1000);
  nfh_addr inside, outside;
  fg_inside(g, &inside, v6);
  uint32_t host = fg_outside(g, &outside, v6);
  int from_inside; /* the record's source is the site host */
  uint32_t pkt_size;
  f->aggr_flows = 1;
  f->sampling = 1;

  if (kind < 20) {
    /* A scanner probing one port: one SYN, no answer. */
    f->proto = 6;
    from_inside = 0;
    f->src_port = (uint16_t)(32768 + fg_below(g, 28000));
    f->dst_port = fg_scan_ports[fg_below(g, FG_COUNT(fg_scan_ports))];
    f->tcp_flags = 0x02;
    f->packets = 1 + (fg_below(g, 4) == 0);
    pkt_size = 44;
  } else {
    int reply = fg_below(g, 2);
    from_inside = fg_below(g, 10) < 8 ? !reply : reply;
    uint16_t client = (uint16_t)(32768 + fg_below(g, 28232));
    uint16_t server;
    if (kind < 740) {
      f->proto = 6;
      server = fg_tcp_ports[fg_below(g, FG_COUNT(fg_tcp_ports))];
      f->tcp_flags = fg_below(g, 20) == 0 ? 0x14 : (reply ? 0x1b : 0x1f);
      pkt_size = reply ? 400 + fg_below(g, 1100) : 60 + fg_below(g, 500);
    } else if (kind < 970) {
      f->proto = 17;
      server = fg_udp_ports[fg_below(g, FG_COUNT(fg_udp_ports))];
      pkt_size =
          server == 53 ? 60 + fg_below(g, 250) : 100 + fg_below(g, 1300);
    } else if (kind < 995) {
      f->proto = v6 ? 58 : 1;
      uint32_t t = fg_below(g, 10);
      uint8_t type, code = 0;
      if (v6) {
        type = t < 7 ? (reply ? 129 : 128) : (t < 9 ? 1 : 3);
        code = type == 1 ? (uint8_t)fg_below(g, 5) : 0;
      } else {
        type = t < 7 ? (reply ? 0 : 8) : (t < 9 ? 3 : 11);
        code = type == 3 ? (uint8_t)fg_below(g, 4) : 0;
      }
      f->icmp_type = type;
      f->icmp_code = code;
      client = 0;
      server = (uint16_t)(type << 8 | code);
      pkt_size = 64 + fg_below(g, 40);
    } else {
      f->proto = fg_below(g, 2) ? 47 : 50; /* GRE, ESP */
      client = server = 0;
      pkt_size = 100 + fg_below(g, 1300);
    }
    if (f->proto == 1 || f->proto == 58) {
      f->src_port = 0;
      f->dst_port = server;
    } else {
      f->src_port = reply ? server : client;
      f->dst_port = reply ? client : server;
    }
    f->packets = fg_pareto(g, 1.0, 1.1, 20000000);
  }
  f->bytes = f->packets * pkt_size;
  f->src = from_inside ? inside : outside;
  f->dst = from_inside ? outside : inside;

  /* Duration grows with the packets: heavy-tailed gaps of 1 ms and up,
   * cut at nfcapd's usual 300 s active timeout. */
  uint64_t dur = 0;
  if (f->packets > 1) {
    dur = (f->packets - 1) * fg_pareto(g, 1.0, 1.5, 5000) + fg_below(g, 50);
    if (dur > 300000)
      dur = 300000;
  }
  f->last_ms = slot_ms + fg_below(g, slot_len_ms);
  f->first_ms = f->last_ms >= slot_ms + dur ? f->last_ms - dur : slot_ms;
  f->received_ms = f->last_ms + 1000 + fg_below(g, 15000);
  if (fg_below(g, 10) == 0)
    f->tos = 0x2e << 2;

  uint32_t exp = fg_below(g, 10) < 7 ? 0 : 1;
  nfh_exporter e = fg_traffic_exporter((int)exp);
  f->exporter = e.addr;
  f->exporter_id = e.id;
  f->exporter_sysid = e.sysid;
  f->nf_version = (uint8_t)e.version;
  f->input_if = from_inside ? 10 + fg_below(g, 38) : 1 + exp;
  f->output_if = from_inside ? 1 + exp : 10 + fg_below(g, 38);
  uint8_t inside_mask = v6 ? 64 : 24;
  uint8_t outside_mask =
      (uint8_t)(v6 ? 32 + 8 * fg_below(g, 3) : 16 + fg_below(g, 9));
  f->src_mask = from_inside ? inside_mask : outside_mask;
  f->dst_mask = from_inside ? outside_mask : inside_mask;
  uint32_t as = 1000 + host % 60000;
  f->src_as = from_inside ? 0 : as;
  f->dst_as = from_inside ? as : 0;
  if (from_inside) {
    if (v6)
      fg_v6(&f->next_hop, 0x20010db8ff000000ULL, 1 + exp);
    else
      nfh_addr_set_v4(&f->next_hop, 0x0aff0001u + exp);
  }
}

/* The e2e exporters: IPv4 NetFlow v9 and IPv6 IPFIX. */
static inline nfh_exporter fg_varied_exporter(int i) {
  nfh_exporter e;
  memset(&e, 0, sizeof(e));
  if (i == 0) {
    nfh_addr_set_v4(&e.addr, 0xc0000201u); /* 192.0.2.1 */
    e.version = 9;
    e.id = 7;
  } else {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                     0,    0,    0,    0,    0, 0, 0, 1};
    nfh_addr_set_v6(&e.addr, b); /* 2001:db8::1 */
    e.version = 10;
    e.id = 300;
  }
  e.sysid = (uint16_t)(i + 1);
  return e;
}

/* Flow i of the e2e set: kind i % 10, random values otherwise. */
static inline void fg_varied(fg_state *g, nfh_flow *f, uint64_t i,
                             uint64_t base_ms) {
  memset(f, 0, sizeof(*f));
  int kind = (int)(i % 10);
  int v6 = kind == 1 || kind == 3 || kind == 8;
  int exp = v6 ? 1 : 0;
  nfh_exporter e = fg_varied_exporter(exp);
  fg_inside(g, &f->src, v6);
  fg_outside(g, &f->dst, v6);
  f->first_ms = base_ms + i * 13 + fg_below(g, 1000);
  f->last_ms = f->first_ms + fg_below(g, 60000);
  f->received_ms = f->last_ms + fg_below(g, 20000);
  f->packets = fg_pareto(g, 1.0, 1.2, 1000000);
  f->bytes = f->packets * (40 + fg_below(g, 1460));
  f->aggr_flows = 1;
  f->sampling = 1;
  f->exporter = e.addr;
  f->exporter_id = e.id;
  f->exporter_sysid = e.sysid;
  f->nf_version = (uint8_t)e.version;
  f->proto = 6;
  f->src_port = (uint16_t)(1024 + fg_below(g, 64000));
  f->dst_port = fg_tcp_ports[fg_below(g, FG_COUNT(fg_tcp_ports))];
  f->tcp_flags = (uint8_t)fg_below(g, 256);
  f->tos = (uint8_t)fg_below(g, 256);
  switch (kind) {
  case 0: /* plain IPv4 TCP */
    break;
  case 1: /* IPv6 UDP */
    f->proto = 17;
    f->tcp_flags = 0;
    f->dst_port = fg_udp_ports[fg_below(g, FG_COUNT(fg_udp_ports))];
    break;
  case 2: /* ICMP */
    f->proto = 1;
    f->tcp_flags = 0;
    f->src_port = 0;
    f->icmp_type = (uint8_t)fg_below(g, 16);
    f->icmp_code = (uint8_t)fg_below(g, 16);
    f->dst_port = (uint16_t)(f->icmp_type << 8 | f->icmp_code);
    break;
  case 3: /* ICMPv6 */
    f->proto = 58;
    f->tcp_flags = 0;
    f->src_port = 0;
    f->icmp_type = (uint8_t)(128 + fg_below(g, 8));
    f->icmp_code = 0;
    f->dst_port = (uint16_t)(f->icmp_type << 8);
    break;
  case 4: /* sampled 1:100; counters already scaled */
    f->sampling = 100;
    f->flags = NFH_FLOW_SAMPLED;
    f->packets *= 100;
    f->bytes *= 100;
    break;
  case 5: /* bidirectional, aggregated */
    f->out_packets = 1 + fg_below(g, 1000);
    f->out_bytes = f->out_packets * (40 + fg_below(g, 1460));
    f->aggr_flows = 1 + fg_below(g, 5);
    f->flags = NFH_FLOW_HAS_OUT;
    break;
  case 6: /* AS, VLAN, interfaces, masks, direction, ToS */
    f->src_as = fg_below(g, 70000);
    f->dst_as = 4200000000u + fg_below(g, 1000);
    f->src_vlan = 1 + fg_below(g, 4094);
    f->dst_vlan = 1 + fg_below(g, 4094);
    f->input_if = fg_below(g, 1000);
    f->output_if = 1 + fg_below(g, 1000);
    f->src_mask = (uint8_t)(1 + fg_below(g, 32));
    f->dst_mask = (uint8_t)(1 + fg_below(g, 32));
    f->direction = (uint8_t)fg_below(g, 2);
    f->dst_tos = (uint8_t)fg_below(g, 256);
    f->fwd_status = (uint8_t)fg_below(g, 256);
    break;
  case 7: /* IPv4 next hops and router */
    nfh_addr_set_v4(&f->next_hop, 0x0aff0000u + fg_below(g, 65536));
    nfh_addr_set_v4(&f->bgp_next_hop, 0xcb007100u + fg_below(g, 256));
    f->router = e.addr;
    break;
  case 8: /* IPv6 next hops and router */
    fg_v6(&f->next_hop, 0x20010db8ff000000ULL, 1 + fg_below(g, 1000));
    fg_v6(&f->bgp_next_hop, 0x20010db8ffff0000ULL, 1 + fg_below(g, 1000));
    f->router = e.addr;
    f->src_mask = 64;
    f->dst_mask = 48;
    break;
  case 9: /* latency, and a 1:1000 sampled flow of the same exporter */
    f->client_latency_us = fg_below(g, 100000);
    f->server_latency_us = fg_below(g, 100000);
    f->app_latency_us = fg_below(g, 1000000);
    if (i % 20 == 19) {
      f->sampling = 1000;
      f->flags = NFH_FLOW_SAMPLED;
    }
    break;
  }
}

#endif
