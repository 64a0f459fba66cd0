/*
 * test_layout1.c - the nfdump 1.6 (layout 1) record decoder.
 *
 * Hand-built blocks check every field each extension fills and every
 * bounds check; the real 1.6 capture slips-test1-malicious.nfcapd
 * (uncompressed) is then decoded block by block and compared with what
 * nfdump 1.7.1 prints for it (TZ=UTC nfdump -r FILE -o json).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include <nfhunt/flow.h>

#include "../../plugin/common/alloc.h"
#include "../../plugin/nfcapd/block.h"
#include "../../plugin/nfcapd/layout1.h"

#ifndef NFH_SHARED_DATA
#define NFH_SHARED_DATA "../shared/data"
#endif

#define SLIPS_FILE NFH_SHARED_DATA "/slips-test1-malicious.nfcapd"

/* ------------------------------------------------------------ builders */

typedef struct buf {
  uint8_t b[8192];
  size_t len;
} buf;

static void put8(buf *b, unsigned v) { b->b[b->len++] = (uint8_t)v; }
static void put16(buf *b, unsigned v) {
  put8(b, v & 0xff);
  put8(b, (v >> 8) & 0xff);
}
static void put32(buf *b, uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}
static void put64(buf *b, uint64_t v) {
  put32(b, (uint32_t)v);
  put32(b, (uint32_t)(v >> 32));
}
static void putfill(buf *b, unsigned byte, size_t n) {
  while (n--)
    put8(b, byte);
}

/* An IPv6 address the way nfdump 1.6 stores it: two host-order u64s,
 * each the big-endian value of 8 network-order bytes. */
static void put_v6(buf *b, const char *text) {
  nfh_addr a;
  CU_ASSERT_FATAL(nfh_addr_parse(text, &a) == 0);
  for (int half = 0; half < 2; half++) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
      v = v << 8 | a.bytes[8 * half + i];
    put64(b, v);
  }
}

/* IPv4 as a host-order u32 from dotted text. */
static uint32_t v4(const char *text) {
  nfh_addr a;
  CU_ASSERT_FATAL(nfh_addr_parse(text, &a) == 0);
  return nfh_addr_v4(&a);
}

/* Record framing: begin writes {type, 0}, end patches the size. */
static size_t rec_begin(buf *b, unsigned type) {
  size_t at = b->len;
  put16(b, type);
  put16(b, 0);
  return at;
}
static void rec_end(buf *b, size_t at) {
  size_t size = b->len - at;
  b->b[at + 2] = (uint8_t)size;
  b->b[at + 3] = (uint8_t)(size >> 8);
}

/* An extension map record; 'ext_size' is written as given. Pads the id
 * list (with its zero) to 4 bytes as nfcapd does. */
static void put_map(buf *b, unsigned map_id, const uint16_t *ids, size_t n,
                    unsigned ext_size) {
  size_t at = rec_begin(b, 2);
  put16(b, map_id);
  put16(b, ext_size);
  for (size_t i = 0; i < n; i++)
    put16(b, ids[i]);
  put16(b, 0);
  if ((b->len - at) % 4)
    put16(b, 0);
  rec_end(b, at);
}

/* The 32-byte CommonRecord header; returns the record start. */
typedef struct hdr {
  unsigned flags, map, msec_first, msec_last;
  uint32_t first, last;
  unsigned fwd, tcp, proto, tos, sport, dport, sysid, biflow, reason;
} hdr;

static size_t put_common(buf *b, const hdr *h) {
  size_t at = rec_begin(b, 10);
  put16(b, h->flags);
  put16(b, h->map);
  put16(b, h->msec_first);
  put16(b, h->msec_last);
  put32(b, h->first);
  put32(b, h->last);
  put8(b, h->fwd);
  put8(b, h->tcp);
  put8(b, h->proto);
  put8(b, h->tos);
  put16(b, h->sport);
  put16(b, h->dport);
  put16(b, h->sysid);
  put8(b, h->biflow);
  put8(b, h->reason);
  return at;
}

/* Hands a copy of 'b' to the block as its decompressed payload. */
static void load(nfh__block *blk, const buf *b, uint32_t nrec) {
  nfh__block_reset(blk);
  nfh__free(blk->data);
  blk->data = nfh__malloc(b->len ? b->len : 1);
  CU_ASSERT_FATAL(blk->data != NULL);
  memcpy(blk->data, b->b, b->len);
  blk->data_len = b->len;
  blk->data_cap = b->len;
  blk->num_records = nrec;
  blk->type = 2;
}

static int addr_is(const nfh_addr *a, const char *text) {
  nfh_addr want;
  if (nfh_addr_parse(text, &want) != 0)
    return 0;
  if (nfh_addr_compare(a, &want) == 0)
    return 1;
  char got[NFH_ADDR_STRLEN];
  fprintf(stderr, "\n  address %s, expected %s\n",
          nfh_addr_format(a, got, sizeof(got)), text);
  return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_maps_lifecycle(void) {
  nfh__l1_maps *maps = NULL;
  nfh__l1_maps_destroy(NULL);
  nfh__l1_maps_clear(NULL);
  CU_ASSERT_EQUAL(nfh__l1_maps_create(&maps), NFH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(maps);
  nfh__l1_maps_clear(maps); /* empty table: nothing to do */
  nfh__l1_maps_destroy(maps);
}

/* IPv4, 32-bit counters, every 4-byte-or-wider IPv4 extension. */
static void test_ipv4_32bit(void) {
  static const uint16_t ids[] = {5,  7,  8,  9,  11, 13, 14,
                                 16, 18, 23, 25, 27, 20, 45};
  buf b = {.len = 0};
  put_map(&b, 7, ids, sizeof(ids) / sizeof(ids[0]), 100);
  hdr h = {.flags = 0x80,
           .map = 7,
           .msec_first = 123,
           .msec_last = 456,
           .first = 1700000000,
           .last = 1700000005,
           .fwd = 0x40,
           .tcp = 0x1b,
           .proto = 6,
           .tos = 0x10,
           .sport = 443,
           .dport = 51000,
           .sysid = 3,
           .biflow = 1,
           .reason = 2};
  size_t at = put_common(&b, &h);
  put32(&b, v4("10.1.2.3"));
  put32(&b, v4("192.168.200.1"));
  put32(&b, 12345);
  put32(&b, 0xfedcba98u);
  put32(&b, 100000); /* 5: interfaces */
  put32(&b, 200000);
  put32(&b, 4200000001u); /* 7: AS */
  put32(&b, 65001);
  put8(&b, 0x20); /* 8: dst tos, dir, masks */
  put8(&b, 1);
  put8(&b, 24);
  put8(&b, 16);
  put32(&b, v4("10.0.0.254")); /* 9 */
  put32(&b, v4("172.16.0.1")); /* 11 */
  put16(&b, 100);              /* 13: vlans */
  put16(&b, 200);
  put32(&b, 77);               /* 14 */
  put32(&b, 8888);             /* 16 */
  put32(&b, 5);                /* 18 */
  put32(&b, v4("192.0.2.1"));  /* 23 */
  put32(&b, 0x02010000);       /* 25: fill, engine type 1, id 2 */
  put64(&b, 1700000010123ull); /* 27 */
  putfill(&b, 0xaa, 16);       /* 20: MAC */
  put64(&b, 111);              /* 45: latency */
  put64(&b, 222);
  put64(&b, 333);
  rec_end(&b, at);
  CU_ASSERT_EQUAL(b.len - at, 32 + 8 + 4 + 4 + 100);

  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  load(&blk, &b, 2);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.status, NFH_OK);
  CU_ASSERT_EQUAL_FATAL(blk.nflows, 1);
  const nfh_flow *f = &blk.flows[0];
  CU_ASSERT_EQUAL(f->first_ms, 1700000000123ull);
  CU_ASSERT_EQUAL(f->last_ms, 1700000005456ull);
  CU_ASSERT_EQUAL(f->received_ms, 1700000010123ull);
  CU_ASSERT_EQUAL(f->packets, 12345);
  CU_ASSERT_EQUAL(f->bytes, 0xfedcba98u);
  CU_ASSERT_EQUAL(f->out_packets, 77);
  CU_ASSERT_EQUAL(f->out_bytes, 8888);
  CU_ASSERT_EQUAL(f->aggr_flows, 5);
  CU_ASSERT(addr_is(&f->src, "10.1.2.3"));
  CU_ASSERT(addr_is(&f->dst, "192.168.200.1"));
  CU_ASSERT_EQUAL(f->exporter.family, 0);
  CU_ASSERT(addr_is(&f->router, "192.0.2.1"));
  CU_ASSERT(addr_is(&f->next_hop, "10.0.0.254"));
  CU_ASSERT(addr_is(&f->bgp_next_hop, "172.16.0.1"));
  CU_ASSERT_EQUAL(f->exporter_id, 0);
  CU_ASSERT_EQUAL(f->sampling, 1);
  CU_ASSERT_EQUAL(f->input_if, 100000);
  CU_ASSERT_EQUAL(f->output_if, 200000);
  CU_ASSERT_EQUAL(f->src_as, 4200000001u);
  CU_ASSERT_EQUAL(f->dst_as, 65001);
  CU_ASSERT_EQUAL(f->src_vlan, 100);
  CU_ASSERT_EQUAL(f->dst_vlan, 200);
  CU_ASSERT_EQUAL(f->exporter_sysid, 3);
  CU_ASSERT_EQUAL(f->src_port, 443);
  CU_ASSERT_EQUAL(f->dst_port, 51000);
  CU_ASSERT_EQUAL(f->proto, 6);
  CU_ASSERT_EQUAL(f->tcp_flags, 0x1b);
  CU_ASSERT_EQUAL(f->tos, 0x10);
  CU_ASSERT_EQUAL(f->dst_tos, 0x20);
  CU_ASSERT_EQUAL(f->icmp_type, 0);
  CU_ASSERT_EQUAL(f->icmp_code, 0);
  CU_ASSERT_EQUAL(f->src_mask, 24);
  CU_ASSERT_EQUAL(f->dst_mask, 16);
  CU_ASSERT_EQUAL(f->direction, 1);
  CU_ASSERT_EQUAL(f->biflow_dir, 1);
  CU_ASSERT_EQUAL(f->end_reason, 2);
  CU_ASSERT_EQUAL(f->fwd_status, 0x40);
  CU_ASSERT_EQUAL(f->nf_version, 0);
  CU_ASSERT_EQUAL(f->flags, NFH_FLOW_SAMPLED | NFH_FLOW_HAS_OUT);
  CU_ASSERT_EQUAL(f->client_latency_us, 111);
  CU_ASSERT_EQUAL(f->server_latency_us, 222);
  CU_ASSERT_EQUAL(f->app_latency_us, 333);
  CU_ASSERT_EQUAL(f->nat_src.family, 0);
  CU_ASSERT_EQUAL(f->nat_dst.family, 0);
  CU_ASSERT_PTR_NULL(blk.selectors);
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* IPv6, 64-bit counters, 2-byte interface/AS, IPv6 extensions and an
 * NSEL event whose time stands in for a missing first/last. */
static void test_ipv6_64bit_nsel(void) {
  static const uint16_t ids[] = {4, 6, 10, 12, 15, 17, 19, 24, 22, 37, 38, 40};
  buf b = {.len = 0};
  put_map(&b, 65535, ids, sizeof(ids) / sizeof(ids[0]), 176);
  hdr h = {.flags = 0x47, .map = 65535, .proto = 58, .sysid = 65535};
  size_t at = put_common(&b, &h);
  put_v6(&b, "2001:db8::1");
  put_v6(&b, "fe80::1234:5678:9abc:def0");
  put64(&b, 0x100000001ull);
  put64(&b, 0x2000000000002ull);
  put16(&b, 7); /* 4 */
  put16(&b, 8);
  put16(&b, 64512); /* 6 */
  put16(&b, 65535);
  put_v6(&b, "2001:db8:1::fe");   /* 10 */
  put_v6(&b, "2001:db8:2::1");    /* 12 */
  put64(&b, 0x300000000ull);      /* 15 */
  put64(&b, 0x400000000ull);      /* 17 */
  put64(&b, 0);                   /* 19: 0 aggregated = 1 */
  put_v6(&b, "2001:db8:ffff::1"); /* 24 */
  putfill(&b, 0x11, 40);          /* 22: MPLS */
  put64(&b, 1700000020500ull);    /* 37: event time */
  put32(&b, 99);                  /*     conn id */
  put16(&b, 0x8000);              /*     icmp type 128 code 0 */
  put8(&b, 2);                    /*     fw event */
  put8(&b, 0);                    /*     fill */
  put16(&b, 1001);                /*     xevent */
  put16(&b, 0);                   /*     sgt */
  put16(&b, 1024);                /* 38 */
  put16(&b, 2048);
  put_v6(&b, "2001:db8:aaaa::1"); /* 40 */
  put_v6(&b, "2001:db8:bbbb::2");
  rec_end(&b, at);
  CU_ASSERT_EQUAL(b.len - at, 32 + 32 + 8 + 8 + 176);

  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  load(&blk, &b, 2);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(blk.nflows, 1);
  const nfh_flow *f = &blk.flows[0];
  CU_ASSERT(addr_is(&f->src, "2001:db8::1"));
  CU_ASSERT(addr_is(&f->dst, "fe80::1234:5678:9abc:def0"));
  CU_ASSERT_EQUAL(f->packets, 0x100000001ull);
  CU_ASSERT_EQUAL(f->bytes, 0x2000000000002ull);
  CU_ASSERT_EQUAL(f->input_if, 7);
  CU_ASSERT_EQUAL(f->output_if, 8);
  CU_ASSERT_EQUAL(f->src_as, 64512);
  CU_ASSERT_EQUAL(f->dst_as, 65535);
  CU_ASSERT(addr_is(&f->next_hop, "2001:db8:1::fe"));
  CU_ASSERT(addr_is(&f->bgp_next_hop, "2001:db8:2::1"));
  CU_ASSERT_EQUAL(f->out_packets, 0x300000000ull);
  CU_ASSERT_EQUAL(f->out_bytes, 0x400000000ull);
  CU_ASSERT_EQUAL(f->aggr_flows, 1);
  CU_ASSERT(addr_is(&f->router, "2001:db8:ffff::1"));
  CU_ASSERT_EQUAL(f->first_ms, 1700000020500ull);
  CU_ASSERT_EQUAL(f->last_ms, 1700000020500ull);
  CU_ASSERT_EQUAL(f->received_ms, 0);
  CU_ASSERT_EQUAL(f->proto, 58);
  CU_ASSERT_EQUAL(f->src_port, 0);
  CU_ASSERT_EQUAL(f->dst_port, 0x8000);
  CU_ASSERT_EQUAL(f->icmp_type, 128);
  CU_ASSERT_EQUAL(f->icmp_code, 0);
  CU_ASSERT_EQUAL(f->exporter_sysid, 65535);
  CU_ASSERT_EQUAL(f->fw_event, 2);
  CU_ASSERT_EQUAL(f->nat_src_port, 1024);
  CU_ASSERT_EQUAL(f->nat_dst_port, 2048);
  CU_ASSERT(addr_is(&f->nat_src, "2001:db8:aaaa::1"));
  CU_ASSERT(addr_is(&f->nat_dst, "2001:db8:bbbb::2"));
  CU_ASSERT_EQUAL(f->flags,
                  NFH_FLOW_EVENT | NFH_FLOW_HAS_OUT | NFH_FLOW_HAS_NAT);
  CU_ASSERT_EQUAL(f->sampling, 1);
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* ICMP over IPv4 with NAT: type/code from dstPort, ports kept as stored;
 * a map with reserved ids (size 0) and the 1.6.10 id 47 declared either
 * way. */
static void test_icmp_nat_v4(void) {
  static const uint16_t ids1[] = {39, 46, 38, 30};
  static const uint16_t ids2[] = {47, 28};
  buf b = {.len = 0};
  put_map(&b, 1, ids1, 4, 24);
  put_map(&b, 2, ids2, 2, 0); /* nfdump's table: 47 counts 0 */
  put_map(&b, 3, ids2, 2, 8); /* what the record holds */
  hdr h = {.map = 1,
           .first = 1600000000,
           .last = 1600000001,
           .proto = 1,
           .sport = 7,
           .dport = 0x0303,
           .sysid = 2};
  size_t at = put_common(&b, &h);
  put32(&b, v4("10.0.0.1"));
  put32(&b, v4("10.0.0.2"));
  put32(&b, 1);
  put32(&b, 84);
  put32(&b, v4("100.64.0.1")); /* 39 */
  put32(&b, v4("8.8.8.8"));
  put8(&b, 1); /* 46: nat event, flags, fill, vrfs */
  put8(&b, 0);
  put16(&b, 0);
  put32(&b, 5);
  put32(&b, 6);
  put16(&b, 40000); /* 38 */
  put16(&b, 53);
  rec_end(&b, at);
  for (unsigned map = 2; map <= 3; map++) {
    h.map = map;
    h.proto = 17;
    h.dport = 53;
    at = put_common(&b, &h);
    put32(&b, v4("10.0.0.3"));
    put32(&b, v4("10.0.0.4"));
    put32(&b, 2);
    put32(&b, 100);
    put32(&b, v4("198.51.100.7")); /* 47 */
    put32(&b, v4("203.0.113.9"));
    rec_end(&b, at);
  }

  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  load(&blk, &b, 6);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(blk.nflows, 3);
  const nfh_flow *f = &blk.flows[0];
  CU_ASSERT_EQUAL(f->first_ms, 1600000000000ull);
  CU_ASSERT_EQUAL(f->last_ms, 1600000001000ull);
  CU_ASSERT_EQUAL(f->icmp_type, 3);
  CU_ASSERT_EQUAL(f->icmp_code, 3);
  CU_ASSERT_EQUAL(f->dst_port, 0x0303);
  CU_ASSERT_EQUAL(f->src_port, 0); /* ICMP: no source port in the model */
  CU_ASSERT(addr_is(&f->nat_src, "100.64.0.1"));
  CU_ASSERT(addr_is(&f->nat_dst, "8.8.8.8"));
  CU_ASSERT_EQUAL(f->nat_src_port, 40000);
  CU_ASSERT_EQUAL(f->nat_dst_port, 53);
  CU_ASSERT_EQUAL(f->nat_event, 1);
  CU_ASSERT_EQUAL(f->flags, NFH_FLOW_HAS_NAT);
  for (int i = 1; i <= 2; i++) {
    f = &blk.flows[i];
    CU_ASSERT_EQUAL(f->packets, 2);
    CU_ASSERT_EQUAL(f->bytes, 100);
    CU_ASSERT_EQUAL(f->icmp_type, 0);
    CU_ASSERT_EQUAL(f->dst_port, 53);
    CU_ASSERT(addr_is(&f->nat_src, "198.51.100.7"));
    CU_ASSERT(addr_is(&f->nat_dst, "203.0.113.9"));
    CU_ASSERT_EQUAL(f->flags, NFH_FLOW_HAS_NAT);
  }
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* Exporter (7), legacy sampler (9) and exporter stat (8) records are
 * handed on; unknown types are skipped by their size. */
static void test_other_records(void) {
  buf b = {.len = 0};
  size_t at = rec_begin(&b, 7);
  put32(&b, 9);
  putfill(&b, 0, 8);
  put32(&b, v4("147.32.82.62"));
  put32(&b, 0);
  put16(&b, 2); /* AF_INET */
  put16(&b, 1);
  put32(&b, 58);
  rec_end(&b, at);
  at = rec_begin(&b, 9);
  put32(&b, 0xffffffffu);
  put32(&b, 100);
  put16(&b, 0);
  put16(&b, 1);
  rec_end(&b, at);
  at = rec_begin(&b, 8); /* count 0: nothing to hand on */
  put32(&b, 0);
  rec_end(&b, at);
  at = rec_begin(&b, 8); /* two entries, 8 bytes more than they need */
  put32(&b, 2);
  put32(&b, 1);
  put32(&b, 443);
  put64(&b, 9306);
  put64(&b, 4593);
  put32(&b, 2);
  put32(&b, 0);
  put64(&b, 0xffffffffffull);
  put64(&b, 1);
  putfill(&b, 0xee, 8);
  rec_end(&b, at);
  at = rec_begin(&b, 0x4242);
  putfill(&b, 0xee, 10);
  rec_end(&b, at);
  at = rec_begin(&b, 1); /* CommonRecordV0: skipped like nfdump 1.7 */
  putfill(&b, 0, 28);
  rec_end(&b, at);

  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  load(&blk, &b, 6);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.nflows, 0);
  CU_ASSERT_EQUAL_FATAL(blk.nstats, 2);
  CU_ASSERT_EQUAL(blk.stats[0].sysid, 1);
  CU_ASSERT_EQUAL(blk.stats[0].sequence_failures, 443);
  CU_ASSERT_EQUAL(blk.stats[0].packets, 9306);
  CU_ASSERT_EQUAL(blk.stats[0].flows, 4593);
  CU_ASSERT_EQUAL(blk.stats[0].known, 0); /* the reader resolves it */
  CU_ASSERT_EQUAL(blk.stats[1].sysid, 2);
  CU_ASSERT_EQUAL(blk.stats[1].packets, 0xffffffffffull);
  CU_ASSERT_EQUAL(blk.stats[1].flows, 1);
  CU_ASSERT_EQUAL(blk.stat_at[0], 0);
  CU_ASSERT_EQUAL_FATAL(blk.nexporters, 1);
  CU_ASSERT(addr_is(&blk.exporters[0].addr, "147.32.82.62"));
  CU_ASSERT_EQUAL(blk.exporters[0].version, 9);
  CU_ASSERT_EQUAL(blk.exporters[0].sysid, 1);
  CU_ASSERT_EQUAL(blk.exporters[0].id, 58);
  CU_ASSERT_EQUAL_FATAL(blk.nsamplers, 1);
  CU_ASSERT_EQUAL(blk.samplers[0].id, -1);
  CU_ASSERT_EQUAL(blk.samplers[0].exporter_sysid, 1);
  CU_ASSERT_EQUAL(blk.samplers[0].packet_interval, 1);
  CU_ASSERT_EQUAL(blk.samplers[0].space_interval, 99);

  /* A short exporter record is a fault, not silently dropped; the
   * block's other records are kept. */
  b.len = 0;
  at = rec_begin(&b, 7);
  putfill(&b, 0, 12);
  rec_end(&b, at);
  load(&blk, &b, 1);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.faults, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(blk.fault, "exporter record of 16 bytes"));
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* A flow using map 'map' with one AS_2 extension (4 bytes). */
static void put_small_flow(buf *b, unsigned map, uint32_t pkts) {
  hdr h = {.map = map, .proto = 6, .first = 1000};
  size_t at = put_common(b, &h);
  put32(b, v4("1.2.3.4"));
  put32(b, v4("5.6.7.8"));
  put32(b, pkts);
  put32(b, 1000);
  put16(b, 11);
  put16(b, 22);
  rec_end(b, at);
}

/* Decodes b (nrec records) into *blk after an earlier block of the same
 * file defined map 1; returns the decoder's status. The caller frees
 * *blk and destroys *maps. */
static nfh_status decode_after_map1(const buf *b, uint32_t nrec,
                                    nfh__block *blk, nfh__l1_maps **maps) {
  static const uint16_t as2[] = {6};
  CU_ASSERT_FATAL(nfh__l1_maps_create(maps) == NFH_OK);
  buf pre = {.len = 0};
  put_map(&pre, 1, as2, 1, 4);
  load(blk, &pre, 1);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(*maps, blk), NFH_OK);
  load(blk, b, nrec);
  return nfh__l1_decode_block(*maps, blk);
}

static void expect_corrupt(const buf *b, uint32_t nrec, const char *msg,
                           size_t flows_kept) {
  nfh__l1_maps *maps;
  nfh__block blk = {0};
  CU_ASSERT_EQUAL(decode_after_map1(b, nrec, &blk, &maps), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(blk.status, NFH_ECORRUPT);
  CU_ASSERT_EQUAL(blk.nflows, flows_kept);
  if (!strstr(blk.errmsg, msg)) {
    fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", blk.errmsg, msg);
    CU_FAIL("error message");
  }
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* A fault naming 'msg', flows_kept flows kept, the block not failed;
 * 'damaged': whether it must be marked damaged (a record whose size
 * cannot be, or a count past the block's records: the records after it
 * lost; they failed the block, and the reader the file) or must not (a
 * damaged record read past by its size, the block's others kept). */
static void expect_fault(const buf *b, uint32_t nrec, const char *msg,
                         size_t flows_kept, int damaged) {
  nfh__l1_maps *maps;
  nfh__block blk = {0};
  CU_ASSERT_EQUAL(decode_after_map1(b, nrec, &blk, &maps), NFH_OK);
  CU_ASSERT_EQUAL(blk.status, NFH_OK);
  CU_ASSERT(blk.faults >= 1);
  CU_ASSERT_EQUAL(blk.damaged != 0, damaged);
  CU_ASSERT_EQUAL(blk.nflows, flows_kept);
  if (!strstr(blk.fault, msg)) {
    fprintf(stderr, "\n  fault \"%s\" lacks \"%s\"\n", blk.fault, msg);
    CU_FAIL("fault message");
  }
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

static void expect_damaged(const buf *b, uint32_t nrec, const char *msg,
                           size_t flows_kept) {
  expect_fault(b, nrec, msg, flows_kept, 1);
}

static void expect_skipped(const buf *b, uint32_t nrec, const char *msg,
                           size_t flows_kept) {
  expect_fault(b, nrec, msg, flows_kept, 0);
}

/* An ExporterStat record whose count needs more bytes than the record
 * has, or shorter than its count field, is damaged: skipped by its size,
 * the flows around it kept (they were lost with the block). */
static void test_bad_exporter_stats(void) {
  buf b = {.len = 0};
  put_small_flow(&b, 1, 1);
  size_t at = rec_begin(&b, 8);
  put32(&b, 2); /* two entries announced, one present */
  put32(&b, 1);
  put32(&b, 0);
  put64(&b, 10);
  put64(&b, 10);
  rec_end(&b, at);
  put_small_flow(&b, 1, 2); /* 24 bytes the second entry would overlap */
  expect_skipped(&b, 3,
                 "record 2: exporter stat record of 32 bytes has room for 1 "
                 "of its 2 entries",
                 2);

  b.len = 0;
  at = rec_begin(&b, 8);
  put32(&b, 0x0aaaaaab); /* 8 + count * 24 wraps to 16 in 32 bits */
  putfill(&b, 0, 24);
  rec_end(&b, at);
  expect_skipped(&b, 1, "32 bytes has room for 1 of its 178956971 entries", 0);

  b.len = 0;
  at = rec_begin(&b, 8);
  put16(&b, 0); /* 6 bytes: no room for the count */
  rec_end(&b, at);
  expect_skipped(&b, 1, "record 1: exporter stat record of 6 bytes", 0);

  b.len = 0;
  at = rec_begin(&b, 8);
  put32(&b, 1);
  put32(&b, 65536);
  putfill(&b, 0, 20);
  rec_end(&b, at);
  expect_skipped(&b, 1, "entry 1 names sysid 65536 (above 65535)", 0);
}

static void test_record_bounds(void) {
  buf b = {.len = 0};
  put_small_flow(&b, 1, 1);
  size_t good = b.len;
  put_small_flow(&b, 1, 2);

  /* The second record claims more bytes than the block has. */
  buf t = b;
  t.b[good + 2] = 200;
  t.b[good + 3] = 0;
  expect_damaged(&t, 2, "record 2 of 2 (type 10) has bad size 200", 1);
  /* Cut short in the middle of the second record. */
  t = b;
  t.len = good + 20;
  expect_damaged(&t, 2, "has bad size", 1);
  /* Size 0 and 2: smaller than a record header (no endless loop). */
  t = b;
  t.b[good + 2] = 0;
  expect_damaged(&t, 2, "bad size 0", 1);
  t.b[good + 2] = 2;
  expect_damaged(&t, 2, "bad size 2", 1);
  /* More records announced than the block holds. */
  expect_damaged(&b, 3, "its header counts 3 records, 2 fit", 2);
  /* Two bytes of a header left. */
  t = b;
  put16(&t, 10);
  expect_damaged(&t, 3, "its header counts 3 records, 2 fit", 2);
  /* A flow record shorter than the common header: dropped, the next
   * record read. */
  t.len = 0;
  size_t at = rec_begin(&t, 10);
  putfill(&t, 0, 24);
  rec_end(&t, at);
  put_small_flow(&t, 1, 3);
  expect_skipped(&t, 2, "record 1: flow record of 28 bytes", 1);
}

static void test_map_overruns_record(void) {
  static const uint16_t as4[] = {7, 5};
  buf b = {.len = 0};
  put_small_flow(&b, 1, 1);
  put_map(&b, 4, as4, 2, 16);
  /* Map 4 needs 16 extension bytes; this record brings 4. */
  put_small_flow(&b, 4, 1);
  put_small_flow(&b, 1, 2);
  expect_skipped(&b, 4,
                 "record 3: flow with extension map 4 needs 64 bytes, "
                 "record has 52",
                 2);
  /* The 64-bit counter flags grow the fixed part past the record. */
  b.len = 0;
  put_small_flow(&b, 1, 1);
  b.b[4] = 0x06;
  expect_skipped(&b, 1, "needs 60 bytes, record has 52", 0);
  /* IPv6 addresses in a record sized for IPv4. */
  b.b[4] = 0x01;
  expect_skipped(&b, 1, "needs 76 bytes", 0);
}

static void test_undefined_map(void) {
  buf b = {.len = 0};
  put_small_flow(&b, 1, 1);
  put_small_flow(&b, 3, 1);
  put_small_flow(&b, 1, 2);
  /* Dropped as nfdump drops it ("Missing extension map"), the flows
   * around it kept (the block was lost). */
  expect_skipped(&b, 3, "record 2: extension map 3 not defined", 2);

  /* No map at all in the file yet. */
  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  load(&blk, &b, 1);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.nflows, 0);
  CU_ASSERT_STRING_EQUAL(blk.fault,
                         "record 1: extension map 1 not defined: dropped");
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

static void test_bad_maps(void) {
  static const uint16_t as2[] = {6};
  static const uint16_t unknown[] = {6, 50};
  buf b = {.len = 0};
  /* Declared size disagrees with the ids. */
  put_map(&b, 9, as2, 1, 8);
  expect_corrupt(&b, 1,
                 "record 1: extension map 9 declares 8 extension bytes, "
                 "its ids need 4",
                 0);
  /* An id past nfdump's last extension (49). */
  b.len = 0;
  put_map(&b, 9, unknown, 2, 4);
  expect_corrupt(&b, 1, "extension map 9 names unknown extension id 50", 0);
  /* No zero terminator: {6, 6} fills the record. */
  b.len = 0;
  size_t at = rec_begin(&b, 2);
  put16(&b, 9);
  put16(&b, 8);
  put16(&b, 6);
  put16(&b, 6);
  rec_end(&b, at);
  expect_corrupt(&b, 1, "extension map 9 has no terminating zero", 0);
  /* A zero early in the list, then more slots. */
  b.len = 0;
  at = rec_begin(&b, 2);
  put16(&b, 9);
  put16(&b, 4);
  put16(&b, 6);
  putfill(&b, 0, 6);
  rec_end(&b, at);
  expect_corrupt(&b, 1, "extension map 9 ends after 1 of 3 id slots", 0);
  /* Too small, and not a multiple of 4. */
  b.len = 0;
  at = rec_begin(&b, 2);
  put16(&b, 9);
  put16(&b, 0);
  rec_end(&b, at);
  expect_corrupt(&b, 1, "extension map record of 8 bytes", 0);
  b.len = 0;
  at = rec_begin(&b, 2);
  put16(&b, 9);
  put16(&b, 4);
  put16(&b, 6);
  put16(&b, 0);
  put16(&b, 0);
  rec_end(&b, at);
  expect_corrupt(&b, 1, "extension map record of 14 bytes", 0);
}

/* Maps outlive their block, a redefinition replaces the old map, and a
 * clear forgets them all. */
static void test_map_lifetime(void) {
  static const uint16_t as2[] = {6};
  static const uint16_t as4[] = {7};
  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};

  buf b = {.len = 0};
  put_map(&b, 9, as2, 1, 4);
  put_map(&b, 40000, as2, 1, 4);
  load(&blk, &b, 2);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);

  b.len = 0;
  put_small_flow(&b, 9, 1); /* AS 11 -> 22 */
  put_map(&b, 9, as4, 1, 8);
  hdr h = {.map = 9, .proto = 17};
  size_t at = put_common(&b, &h);
  put32(&b, v4("1.1.1.1"));
  put32(&b, v4("2.2.2.2"));
  put32(&b, 3);
  put32(&b, 300);
  put32(&b, 70000);
  put32(&b, 80000);
  rec_end(&b, at);
  put_small_flow(&b, 40000, 4);
  load(&blk, &b, 4);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(blk.nflows, 3);
  CU_ASSERT_EQUAL(blk.flows[0].src_as, 11);
  CU_ASSERT_EQUAL(blk.flows[0].dst_as, 22);
  CU_ASSERT_EQUAL(blk.flows[1].src_as, 70000);
  CU_ASSERT_EQUAL(blk.flows[1].dst_as, 80000);
  CU_ASSERT_EQUAL(blk.flows[2].packets, 4);

  nfh__l1_maps_clear(maps);
  b.len = 0;
  put_small_flow(&b, 40000, 1);
  load(&blk, &b, 1);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.faults, 1); /* the map is gone: dropped */
  CU_ASSERT_EQUAL(blk.nflows, 0);

  /* Usable again after the clear. */
  b.len = 0;
  put_map(&b, 40000, as2, 1, 4);
  put_small_flow(&b, 40000, 5);
  load(&blk, &b, 2);
  CU_ASSERT_EQUAL(nfh__l1_decode_block(maps, &blk), NFH_OK);
  CU_ASSERT_EQUAL(blk.nflows, 1);
  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
}

/* Every allocation failure ends in NFH_ENOMEM, never a crash; the same
 * objects then decode once memory is back. */
static void test_out_of_memory(void) {
  static const uint16_t as2[] = {6};
  buf b = {.len = 0};
  put_map(&b, 1, as2, 1, 4);
  put_small_flow(&b, 1, 1);
  size_t at = rec_begin(&b, 9);
  put32(&b, 1);
  put32(&b, 10);
  put32(&b, 0x00010000);
  rec_end(&b, at);

  int succeeded = 0;
  for (long budget = 0; budget < 20 && !succeeded; budget++) {
    nfh__block blk = {0};
    load(&blk, &b, 3);
    nfh__l1_maps *maps = NULL;
    nfh__alloc_fail_after(budget);
    nfh_status st = nfh__l1_maps_create(&maps);
    if (st == NFH_OK) {
      st = nfh__l1_decode_block(maps, &blk);
      CU_ASSERT(st == NFH_OK || st == NFH_ENOMEM);
      CU_ASSERT_EQUAL(blk.status, st);
      if (st == NFH_OK) {
        CU_ASSERT_EQUAL(blk.nflows, 1);
        CU_ASSERT_EQUAL(blk.nsamplers, 1);
        succeeded = 1;
      }
    } else {
      CU_ASSERT_EQUAL(st, NFH_ENOMEM);
      CU_ASSERT_PTR_NULL(maps);
    }
    nfh__alloc_fail_after(-1);
    nfh__l1_maps_destroy(maps);
    nfh__block_free(&blk);
  }
  CU_ASSERT(succeeded);
}

/* ------------------------------------------------------ the real file */

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return NULL;
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || st.st_size <= 0) {
    fclose(fp);
    return NULL;
  }
  uint8_t *data = malloc((size_t)st.st_size);
  if (data && fread(data, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
    free(data);
    data = NULL;
  }
  fclose(fp);
  *len = (size_t)st.st_size;
  return data;
}

/* The layout-1 framing, parsed here so that the test needs no reader:
 * 140-byte header {u16 magic, u16 version, u32 flags, u32 NumBlocks,
 * char ident[128]}, 136-byte stat record, then blocks with a 12-byte
 * header {u32 NumRecords, u32 size, u16 id, u16 flags}. */
static void test_slips_file(void) {
  size_t len = 0;
  uint8_t *file = read_file(SLIPS_FILE, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(file);
  CU_ASSERT_FATAL(len > 276);
  CU_ASSERT_EQUAL(nfh__ld16(file), 0xa50c);
  CU_ASSERT_EQUAL(nfh__ld16(file + 2), 1);
  CU_ASSERT_EQUAL_FATAL(nfh__ld32(file + 4), 0); /* uncompressed */
  uint32_t nblocks = nfh__ld32(file + 8);

  nfh__l1_maps *maps;
  CU_ASSERT_FATAL(nfh__l1_maps_create(&maps) == NFH_OK);
  nfh__block blk = {0};
  size_t off = 276;
  size_t nflows = 0, nexporters = 0, nudp = 0, nstats = 0;
  uint64_t packets = 0, bytes = 0, max_bytes = 0;
  nfh_flow first = {0}, udp = {0}, last = {0};
  nfh_exporter exporter = {0};
  nfh_exporter_stat stat = {0};
  for (uint32_t i = 0; i < nblocks; i++) {
    CU_ASSERT_FATAL(len - off >= 12);
    uint32_t nrec = nfh__ld32(file + off);
    uint32_t size = nfh__ld32(file + off + 4);
    uint16_t id = nfh__ld16(file + off + 8);
    CU_ASSERT_FATAL(size <= len - off - 12);
    if (id == 2) {
      nfh__block_reset(&blk);
      nfh__free(blk.data);
      blk.data = nfh__malloc(size ? size : 1);
      CU_ASSERT_FATAL(blk.data != NULL);
      memcpy(blk.data, file + off + 12, size);
      blk.data_len = size;
      blk.num_records = nrec;
      blk.index = i;
      nfh_status st = nfh__l1_decode_block(maps, &blk);
      if (st != NFH_OK)
        fprintf(stderr, "\n  block %u: %s\n", i, blk.errmsg);
      CU_ASSERT_EQUAL_FATAL(st, NFH_OK);
      for (size_t k = 0; k < blk.nflows; k++) {
        const nfh_flow *f = &blk.flows[k];
        if (nflows + k == 0)
          first = *f;
        if (nflows + k == 1092)
          udp = *f;
        last = *f;
        packets += f->packets;
        bytes += f->bytes;
        if (f->bytes > max_bytes)
          max_bytes = f->bytes;
        if (f->proto == 17)
          nudp++;
        CU_ASSERT_EQUAL(f->exporter_sysid, 1);
        CU_ASSERT(addr_is(&f->router, "147.32.82.62"));
        CU_ASSERT(addr_is(&f->next_hop, "0.0.0.0"));
        CU_ASSERT_EQUAL(f->flags, 0);
        CU_ASSERT_EQUAL(f->aggr_flows, 1);
      }
      nflows += blk.nflows;
      if (blk.nexporters)
        exporter = blk.exporters[0];
      nexporters += blk.nexporters;
      if (blk.nstats)
        stat = blk.stats[0];
      nstats += blk.nstats;
    }
    off += 12 + (size_t)size;
  }
  /* What nfdump 1.7.1 prints: 4593 flows, 4652 packets, 241025 bytes,
   * 17 UDP flows, the largest 2349 bytes. */
  CU_ASSERT_EQUAL(nflows, 4593);
  CU_ASSERT_EQUAL(packets, 4652);
  CU_ASSERT_EQUAL(bytes, 241025);
  CU_ASSERT_EQUAL(nudp, 17);
  CU_ASSERT_EQUAL(max_bytes, 2349);
  CU_ASSERT_EQUAL(nexporters, 1);
  CU_ASSERT(addr_is(&exporter.addr, "147.32.82.62"));
  CU_ASSERT_EQUAL(exporter.version, 9);
  CU_ASSERT_EQUAL(exporter.sysid, 1);
  /* nfdump -E: "SysID: 1, ..., Sequence failures: 443, packets: 9306,
   * flows: 4593". */
  CU_ASSERT_EQUAL(nstats, 1);
  CU_ASSERT_EQUAL(stat.sysid, 1);
  CU_ASSERT_EQUAL(stat.sequence_failures, 443);
  CU_ASSERT_EQUAL(stat.packets, 9306);
  CU_ASSERT_EQUAL(stat.flows, 4593);

  /* Flow 0: 2018-01-12T15:37:30.942, 147.32.80.119:52324 ->
   * 147.32.82.62:902, TCP ......S., 1 packet, 60 bytes, AS 2852. */
  CU_ASSERT_EQUAL(first.first_ms, 1515771450942ull);
  CU_ASSERT_EQUAL(first.last_ms, 1515771450942ull);
  CU_ASSERT(addr_is(&first.src, "147.32.80.119"));
  CU_ASSERT(addr_is(&first.dst, "147.32.82.62"));
  CU_ASSERT_EQUAL(first.src_port, 52324);
  CU_ASSERT_EQUAL(first.dst_port, 902);
  CU_ASSERT_EQUAL(first.proto, 6);
  CU_ASSERT_EQUAL(first.tcp_flags, 0x02);
  CU_ASSERT_EQUAL(first.packets, 1);
  CU_ASSERT_EQUAL(first.bytes, 60);
  CU_ASSERT_EQUAL(first.src_as, 2852);
  CU_ASSERT_EQUAL(first.dst_as, 2852);
  CU_ASSERT_EQUAL(first.input_if, 0);
  CU_ASSERT_EQUAL(first.output_if, 0);
  CU_ASSERT_EQUAL(first.received_ms, 0);
  /* Flow 1092: 2018-01-12T15:37:41.387, UDP 147.32.82.30:64489 ->
   * 255.255.255.255:5200, 52 bytes, AS 2852 -> 0. */
  CU_ASSERT_EQUAL(udp.first_ms, 1515771461387ull);
  CU_ASSERT_EQUAL(udp.proto, 17);
  CU_ASSERT(addr_is(&udp.src, "147.32.82.30"));
  CU_ASSERT(addr_is(&udp.dst, "255.255.255.255"));
  CU_ASSERT_EQUAL(udp.src_port, 64489);
  CU_ASSERT_EQUAL(udp.dst_port, 5200);
  CU_ASSERT_EQUAL(udp.bytes, 52);
  CU_ASSERT_EQUAL(udp.src_as, 2852);
  CU_ASSERT_EQUAL(udp.dst_as, 0);
  /* Last flow: 2018-01-12T15:38:03.981, 147.32.82.62:902 ->
   * 147.32.80.119:55238, ...A.R.., 40 bytes. */
  CU_ASSERT_EQUAL(last.first_ms, 1515771483981ull);
  CU_ASSERT(addr_is(&last.src, "147.32.82.62"));
  CU_ASSERT(addr_is(&last.dst, "147.32.80.119"));
  CU_ASSERT_EQUAL(last.src_port, 902);
  CU_ASSERT_EQUAL(last.dst_port, 55238);
  CU_ASSERT_EQUAL(last.tcp_flags, 0x14);
  CU_ASSERT_EQUAL(last.bytes, 40);

  nfh__block_free(&blk);
  nfh__l1_maps_destroy(maps);
  free(file);
}

int main(void) {
  struct stat st;
  if (stat(NFH_SHARED_DATA, &st) != 0) {
    fprintf(stderr, "test_layout1: %s missing, skipped\n", NFH_SHARED_DATA);
    return 77;
  }
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("layout1", NULL, NULL);
  if (!s || !CU_add_test(s, "maps lifecycle", test_maps_lifecycle) ||
      !CU_add_test(s, "IPv4, 32-bit counters", test_ipv4_32bit) ||
      !CU_add_test(s, "IPv6, 64-bit counters, NSEL", test_ipv6_64bit_nsel) ||
      !CU_add_test(s, "ICMP and NAT over IPv4", test_icmp_nat_v4) ||
      !CU_add_test(s, "exporter, sampler, skipped records",
                   test_other_records) ||
      !CU_add_test(s, "malformed exporter stats", test_bad_exporter_stats) ||
      !CU_add_test(s, "record bounds", test_record_bounds) ||
      !CU_add_test(s, "map overruns record", test_map_overruns_record) ||
      !CU_add_test(s, "undefined map", test_undefined_map) ||
      !CU_add_test(s, "bad map records", test_bad_maps) ||
      !CU_add_test(s, "map lifetime", test_map_lifetime) ||
      !CU_add_test(s, "out of memory", test_out_of_memory) ||
      !CU_add_test(s, "slips-test1-malicious.nfcapd", test_slips_file)) {
    CU_cleanup_registry();
    return 1;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failed = CU_get_number_of_failures() != 0;
  CU_cleanup_registry();
  return failed;
}
