/* layout1.c - nfdump 1.6 (layout 1) data blocks; see layout1.h. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../common/alloc.h"
#include "layout1.h"
#include "records.h"

/* Map ids are u16, so a table of 65536 slots covers every id. */
#define L1_MAX_MAPS 65536u

/* The CommonRecord's fixed part ends at byte 32; the map record's fixed
 * part {type, size, map_id, extension_size} at byte 8. */
#define L1_COMMON_SIZE 32u
#define L1_MAP_HEADER 8u

/* CommonRecord flag bits. Bits 3-5 (IPv6 next hop, BGP next hop,
 * exporter) repeat what the extension ids already say and are unused. */
#define L1_FLAG_IPV6_ADDR 0x01u
#define L1_FLAG_PKG_64 0x02u
#define L1_FLAG_BYTES_64 0x04u
#define L1_FLAG_EVENT 0x40u
#define L1_FLAG_SAMPLED 0x80u

/* The 1.6 extension ids (nfdump's nfx.h names in the comments). Ids 1-3
 * name the required fields every record has; they take no room in the
 * extension area. */
enum {
  L1_EX_IO_SNMP_2 = 4,    /* EX_IO_SNMP_2: u16 input, u16 output */
  L1_EX_IO_SNMP_4 = 5,    /* EX_IO_SNMP_4: u32 input, u32 output */
  L1_EX_AS_2 = 6,         /* EX_AS_2: u16 src, u16 dst */
  L1_EX_AS_4 = 7,         /* EX_AS_4: u32 src, u32 dst */
  L1_EX_MULTIPLE = 8,     /* EX_MULIPLE: dst tos, dir, src/dst mask */
  L1_EX_NEXT_HOP_V4 = 9,  /* u32 host order */
  L1_EX_NEXT_HOP_V6 = 10, /* 2 x u64 host order */
  L1_EX_BGP_NEXT_HOP_V4 = 11,
  L1_EX_BGP_NEXT_HOP_V6 = 12,
  L1_EX_VLAN = 13, /* u16 src, u16 dst */
  L1_EX_OUT_PKG_4 = 14,
  L1_EX_OUT_PKG_8 = 15,
  L1_EX_OUT_BYTES_4 = 16,
  L1_EX_OUT_BYTES_8 = 17,
  L1_EX_AGGR_FLOWS_4 = 18,
  L1_EX_AGGR_FLOWS_8 = 19,
  L1_EX_MAC_1 = 20, /* skipped */
  L1_EX_MAC_2 = 21, /* skipped */
  L1_EX_MPLS = 22,  /* skipped */
  L1_EX_ROUTER_IP_V4 = 23,
  L1_EX_ROUTER_IP_V6 = 24,
  L1_EX_ROUTER_ID = 25, /* engine type/id: skipped */
  L1_EX_BGPADJ = 26,    /* skipped */
  L1_EX_RECEIVED = 27,  /* u64 epoch ms */
  L1_EX_NSEL_COMMON = 37,
  L1_EX_NSEL_XLATE_PORTS = 38,
  L1_EX_NSEL_XLATE_IP_V4 = 39,
  L1_EX_NSEL_XLATE_IP_V6 = 40,
  L1_EX_NSEL_ACL = 41,      /* skipped */
  L1_EX_NSEL_USER = 42,     /* skipped */
  L1_EX_NSEL_USER_MAX = 43, /* skipped */
  L1_EX_LATENCY = 45,       /* 3 x u64 microseconds */
  L1_EX_NEL_COMMON = 46,
  L1_EX_NEL_GLOBAL_IP_V4 = 47, /* nfdump 1.6.10 only, see ext_size */
  L1_EX_PORT_BLOCK_ALLOC = 48, /* skipped */
  L1_EX_LAST = 49
};

/* Bytes each extension id takes in a record, from nfdump's
 * extension_descriptor table (identical in 1.6.13 ... 1.7.x). Reserved
 * ids (28-36, 44, 49) have size 0 there and nfdump accepts them in a map,
 * so they do here. Ids above L1_EX_LAST make nfdump refuse the map.
 *
 * Id 47 is the one inconsistency: the table says 0 but every nfdump
 * reader steps over 8 bytes (two IPv4 addresses). Reading 8 is what the
 * record layout means; map_accepts_size() tolerates either total. */
static const uint8_t ext_size[L1_EX_LAST + 1] = {
    [L1_EX_IO_SNMP_2] = 4,
    [L1_EX_IO_SNMP_4] = 8,
    [L1_EX_AS_2] = 4,
    [L1_EX_AS_4] = 8,
    [L1_EX_MULTIPLE] = 4,
    [L1_EX_NEXT_HOP_V4] = 4,
    [L1_EX_NEXT_HOP_V6] = 16,
    [L1_EX_BGP_NEXT_HOP_V4] = 4,
    [L1_EX_BGP_NEXT_HOP_V6] = 16,
    [L1_EX_VLAN] = 4,
    [L1_EX_OUT_PKG_4] = 4,
    [L1_EX_OUT_PKG_8] = 8,
    [L1_EX_OUT_BYTES_4] = 4,
    [L1_EX_OUT_BYTES_8] = 8,
    [L1_EX_AGGR_FLOWS_4] = 4,
    [L1_EX_AGGR_FLOWS_8] = 8,
    [L1_EX_MAC_1] = 16,
    [L1_EX_MAC_2] = 16,
    [L1_EX_MPLS] = 40,
    [L1_EX_ROUTER_IP_V4] = 4,
    [L1_EX_ROUTER_IP_V6] = 16,
    [L1_EX_ROUTER_ID] = 4,
    [L1_EX_BGPADJ] = 8,
    [L1_EX_RECEIVED] = 8,
    [L1_EX_NSEL_COMMON] = 20,
    [L1_EX_NSEL_XLATE_PORTS] = 4,
    [L1_EX_NSEL_XLATE_IP_V4] = 8,
    [L1_EX_NSEL_XLATE_IP_V6] = 32,
    [L1_EX_NSEL_ACL] = 24,
    [L1_EX_NSEL_USER] = 24,
    [L1_EX_NSEL_USER_MAX] = 72,
    [L1_EX_LATENCY] = 24,
    [L1_EX_NEL_COMMON] = 12,
    [L1_EX_NEL_GLOBAL_IP_V4] = 8,
    [L1_EX_PORT_BLOCK_ALLOC] = 8,
};

/* One extension map: its ids in record order (zero terminator dropped)
 * and the bytes they take together. */
typedef struct l1_map {
  size_t ext_bytes;
  uint16_t count;
  uint16_t ids[];
} l1_map;

struct nfh__l1_maps {
  l1_map **slot; /* L1_MAX_MAPS entries, allocated with the first map */
  uint32_t high; /* every slot at or above this index is NULL */
};

nfh_status nfh__l1_maps_create(nfh__l1_maps **out) {
  *out = nfh__calloc(1, sizeof(**out));
  return *out ? NFH_OK : NFH_ENOMEM;
}

void nfh__l1_maps_clear(nfh__l1_maps *maps) {
  if (!maps || !maps->slot)
    return;
  for (uint32_t i = 0; i < maps->high; i++) {
    nfh__free(maps->slot[i]);
    maps->slot[i] = NULL;
  }
  maps->high = 0;
}

void nfh__l1_maps_destroy(nfh__l1_maps *maps) {
  if (!maps)
    return;
  nfh__l1_maps_clear(maps);
  nfh__free(maps->slot);
  nfh__free(maps);
}

/* Whether a map may declare 'declared' extension bytes when its ids need
 * 'bytes' of which 'compat47' come from id 47 (see ext_size). */
static int map_accepts_size(size_t declared, size_t bytes, size_t compat47) {
  return declared == bytes || (compat47 && declared == bytes - compat47);
}

/* Checks an extension map record and stores it, replacing any map of the
 * same id. The rules are nfdump's VerifyExtensionMap: the size is a
 * multiple of 4 with room for the terminator, the ids end in one zero
 * followed by at most one zero of padding, every id is known, and the
 * declared extension size matches the ids. nfdump stops reading the file
 * on a bad map; here the block fails with NFH_ECORRUPT. */
static nfh_status decode_map(nfh__l1_maps *maps, nfh__block *block,
                             const uint8_t *p, size_t size, uint32_t rec) {
  if (size < L1_MAP_HEADER + 4 || size % 4 != 0)
    return nfh__block_fail(block, NFH_ECORRUPT,
                           "record %u: extension map record of %zu bytes "
                           "(needs a multiple of 4, at least 12)",
                           rec, size);
  unsigned map_id = nfh__ld16(p + 4);
  size_t declared = nfh__ld16(p + 6);
  size_t slots = (size - L1_MAP_HEADER) / 2;
  const uint8_t *ids = p + L1_MAP_HEADER;

  size_t count = 0;
  size_t bytes = 0, compat47 = 0;
  while (count < slots && nfh__ld16(ids + 2 * count) != 0) {
    unsigned id = nfh__ld16(ids + 2 * count);
    if (id > L1_EX_LAST)
      return nfh__block_fail(block, NFH_ECORRUPT,
                             "record %u: extension map %u names unknown "
                             "extension id %u",
                             rec, map_id, id);
    bytes += ext_size[id];
    if (id == L1_EX_NEL_GLOBAL_IP_V4)
      compat47 += ext_size[id];
    count++;
  }
  if (count == slots)
    return nfh__block_fail(block, NFH_ECORRUPT,
                           "record %u: extension map %u has no terminating "
                           "zero",
                           rec, map_id);
  if (count + 2 < slots)
    return nfh__block_fail(block, NFH_ECORRUPT,
                           "record %u: extension map %u ends after %zu of "
                           "%zu id slots",
                           rec, map_id, count, slots - 1);
  if (!map_accepts_size(declared, bytes, compat47))
    return nfh__block_fail(block, NFH_ECORRUPT,
                           "record %u: extension map %u declares %zu "
                           "extension bytes, its ids need %zu",
                           rec, map_id, declared, bytes);

  if (!maps->slot) {
    /* Allocated on the first map so that a reader that never meets a
     * layout-1 file never pays for the table. */
    maps->slot = nfh__calloc(L1_MAX_MAPS, sizeof(*maps->slot));
    if (!maps->slot)
      return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
  }
  l1_map *map = nfh__malloc(sizeof(*map) + count * sizeof(map->ids[0]));
  if (!map)
    return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
  map->ext_bytes = bytes;
  map->count = (uint16_t)count;
  for (size_t i = 0; i < count; i++)
    map->ids[i] = nfh__ld16(ids + 2 * i);

  nfh__free(maps->slot[map_id]);
  maps->slot[map_id] = map;
  if (map_id >= maps->high)
    maps->high = map_id + 1;
  return NFH_OK;
}

/* nfdump keeps an IPv6 address as two host-order u64 halves, each the
 * big-endian reading of 8 network-order bytes. */
static void load_v6(nfh_addr *addr, const uint8_t *p) {
  uint8_t bytes[16];
  for (int half = 0; half < 2; half++) {
    uint64_t v = nfh__ld64(p + 8 * half);
    for (int i = 7; i >= 0; i--) {
      bytes[8 * half + i] = (uint8_t)v;
      v >>= 8;
    }
  }
  nfh_addr_set_v6(addr, bytes);
}

static int is_icmp(uint8_t proto) { return proto == 1 || proto == 58; }

/* Fills 'flow' from the extensions of 'map' that start at 'p'. The caller
 * has checked that map->ext_bytes bytes are there. Returns the NSEL
 * event time in ms, or 0 when the record has none. */
static uint64_t decode_extensions(nfh_flow *flow, const l1_map *map,
                                  const uint8_t *p) {
  uint64_t event_ms = 0;
  for (uint16_t i = 0; i < map->count; i++) {
    unsigned id = map->ids[i];
    switch (id) {
    case L1_EX_IO_SNMP_2:
      flow->input_if = nfh__ld16(p);
      flow->output_if = nfh__ld16(p + 2);
      break;
    case L1_EX_IO_SNMP_4:
      flow->input_if = nfh__ld32(p);
      flow->output_if = nfh__ld32(p + 4);
      break;
    case L1_EX_AS_2:
      flow->src_as = nfh__ld16(p);
      flow->dst_as = nfh__ld16(p + 2);
      break;
    case L1_EX_AS_4:
      flow->src_as = nfh__ld32(p);
      flow->dst_as = nfh__ld32(p + 4);
      break;
    case L1_EX_MULTIPLE:
      flow->dst_tos = p[0];
      flow->direction = p[1];
      flow->src_mask = p[2];
      flow->dst_mask = p[3];
      break;
    case L1_EX_NEXT_HOP_V4:
      nfh_addr_set_v4(&flow->next_hop, nfh__ld32(p));
      break;
    case L1_EX_NEXT_HOP_V6:
      load_v6(&flow->next_hop, p);
      break;
    case L1_EX_BGP_NEXT_HOP_V4:
      nfh_addr_set_v4(&flow->bgp_next_hop, nfh__ld32(p));
      break;
    case L1_EX_BGP_NEXT_HOP_V6:
      load_v6(&flow->bgp_next_hop, p);
      break;
    case L1_EX_VLAN:
      flow->src_vlan = nfh__ld16(p);
      flow->dst_vlan = nfh__ld16(p + 2);
      break;
    case L1_EX_OUT_PKG_4:
      flow->out_packets = nfh__ld32(p);
      flow->flags |= NFH_FLOW_HAS_OUT;
      break;
    case L1_EX_OUT_PKG_8:
      flow->out_packets = nfh__ld64(p);
      flow->flags |= NFH_FLOW_HAS_OUT;
      break;
    case L1_EX_OUT_BYTES_4:
      flow->out_bytes = nfh__ld32(p);
      flow->flags |= NFH_FLOW_HAS_OUT;
      break;
    case L1_EX_OUT_BYTES_8:
      flow->out_bytes = nfh__ld64(p);
      flow->flags |= NFH_FLOW_HAS_OUT;
      break;
    case L1_EX_AGGR_FLOWS_4:
      flow->aggr_flows = nfh__ld32(p);
      break;
    case L1_EX_AGGR_FLOWS_8:
      flow->aggr_flows = nfh__ld64(p);
      break;
    case L1_EX_ROUTER_IP_V4:
      nfh_addr_set_v4(&flow->router, nfh__ld32(p));
      break;
    case L1_EX_ROUTER_IP_V6:
      load_v6(&flow->router, p);
      break;
    case L1_EX_RECEIVED:
      flow->received_ms = nfh__ld64(p);
      break;
    case L1_EX_NSEL_COMMON: {
      /* {u64 event ms, u32 conn id, u16 icmp type<<8|code, u8 fw event,
       * u8 fill, u16 xevent, u16 sgt}. nfdump 1.6 took the ICMP word
       * over dstPort when it was non-zero; 1.7's converter takes it even
       * when zero, which zeroes every non-ICMP NSEL port: not copied. */
      uint16_t icmp = nfh__ld16(p + 12);
      event_ms = nfh__ld64(p);
      if (icmp)
        flow->dst_port = icmp;
      flow->fw_event = p[14];
      flow->flags |= NFH_FLOW_EVENT;
      break;
    }
    case L1_EX_NSEL_XLATE_PORTS:
      flow->nat_src_port = nfh__ld16(p);
      flow->nat_dst_port = nfh__ld16(p + 2);
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case L1_EX_NSEL_XLATE_IP_V4:
    case L1_EX_NEL_GLOBAL_IP_V4:
      /* Id 47 (nfdump 1.6.10: NAT inside/outside) has the same layout. */
      nfh_addr_set_v4(&flow->nat_src, nfh__ld32(p));
      nfh_addr_set_v4(&flow->nat_dst, nfh__ld32(p + 4));
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case L1_EX_NSEL_XLATE_IP_V6:
      load_v6(&flow->nat_src, p);
      load_v6(&flow->nat_dst, p + 16);
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case L1_EX_LATENCY:
      flow->client_latency_us = nfh__ld64(p);
      flow->server_latency_us = nfh__ld64(p + 8);
      flow->app_latency_us = nfh__ld64(p + 16);
      break;
    case L1_EX_NEL_COMMON:
      /* {u8 nat event, u8 flags, u16 fill, u32 egress vrf, u32 ingress
       * vrf}; the VRFs have no place in nfh_flow. */
      flow->nat_event = p[0];
      break;
    default:
      /* MAC, MPLS, router id, BGP adjacency, ACL, user name, port block
       * and the reserved ids: nothing nfh_flow keeps. */
      break;
    }
    p += ext_size[id];
  }
  return event_ms;
}

/* Decodes one CommonRecord (type 10) of 'size' bytes, already checked to
 * lie inside the block, and appends the flow. Any fault leaves no flow
 * behind: every size is checked before the flow is added. A flow that
 * cannot be read is dropped with a fault, the block's other records
 * kept (it lost the block's flows). */
static nfh_status decode_flow(const nfh__l1_maps *maps, nfh__block *block,
                              const uint8_t *p, size_t size, uint32_t rec) {
  if (size < L1_COMMON_SIZE) {
    nfh__block_fault(block,
                     "record %u: flow record of %zu bytes (header "
                     "needs %u): dropped",
                     rec, size, L1_COMMON_SIZE);
    return NFH_OK;
  }
  unsigned rflags = nfh__ld16(p + 4);
  unsigned map_id = nfh__ld16(p + 6);
  const l1_map *map = maps->slot ? maps->slot[map_id] : NULL;
  if (!map) {
    /* nfdump logs "Missing extension map" and skips the record. */
    nfh__block_fault(block,
                     "record %u: extension map %u not defined: "
                     "dropped",
                     rec, map_id);
    return NFH_OK;
  }
  size_t addr_len = (rflags & L1_FLAG_IPV6_ADDR) ? 32 : 8;
  size_t pkts_len = (rflags & L1_FLAG_PKG_64) ? 8 : 4;
  size_t bytes_len = (rflags & L1_FLAG_BYTES_64) ? 8 : 4;
  size_t need =
      L1_COMMON_SIZE + addr_len + pkts_len + bytes_len + map->ext_bytes;
  if (need > size) {
    nfh__block_fault(block,
                     "record %u: flow with extension map %u needs "
                     "%zu bytes, record has %zu: dropped",
                     rec, map_id, need, size);
    return NFH_OK;
  }

  nfh_flow *flow = nfh__block_add_flow(block);
  if (!flow)
    return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
  if (rflags & L1_FLAG_SAMPLED)
    flow->flags |= NFH_FLOW_SAMPLED;
  if (rflags & L1_FLAG_EVENT)
    flow->flags |= NFH_FLOW_EVENT;
  flow->first_ms = (uint64_t)nfh__ld32(p + 12) * 1000 + nfh__ld16(p + 8);
  flow->last_ms = (uint64_t)nfh__ld32(p + 16) * 1000 + nfh__ld16(p + 10);
  flow->fwd_status = p[20];
  flow->tcp_flags = p[21];
  flow->proto = p[22];
  flow->tos = p[23];
  flow->src_port = nfh__ld16(p + 24);
  flow->dst_port = nfh__ld16(p + 26);
  flow->exporter_sysid = nfh__ld16(p + 28);
  flow->biflow_dir = p[30];
  flow->end_reason = p[31];

  const uint8_t *q = p + L1_COMMON_SIZE;
  if (rflags & L1_FLAG_IPV6_ADDR) {
    load_v6(&flow->src, q);
    load_v6(&flow->dst, q + 16);
  } else {
    nfh_addr_set_v4(&flow->src, nfh__ld32(q));
    nfh_addr_set_v4(&flow->dst, nfh__ld32(q + 4));
  }
  q += addr_len;
  flow->packets = pkts_len == 8 ? nfh__ld64(q) : nfh__ld32(q);
  q += pkts_len;
  flow->bytes = bytes_len == 8 ? nfh__ld64(q) : nfh__ld32(q);
  q += bytes_len;

  nfh__flow_event_times(flow, decode_extensions(flow, map, q));
  if (flow->aggr_flows == 0)
    flow->aggr_flows = 1;
  if (is_icmp(flow->proto)) {
    /* The flow model's ICMP convention, the same for both layouts: type
     * and code in dst_port, no source port. */
    flow->icmp_type = (uint8_t)(flow->dst_port >> 8);
    flow->icmp_code = (uint8_t)flow->dst_port;
    flow->src_port = 0;
  }
  return NFH_OK;
}

nfh_status nfh__l1_decode_block(nfh__l1_maps *maps, nfh__block *block) {
  const uint8_t *p = block->data;
  size_t left = block->data_len;
  for (uint32_t n = 0; n < block->num_records; n++) {
    uint32_t rec = n + 1;
    if (left < 4)
      return nfh__rec_past_end(block, rec);
    unsigned type = nfh__ld16(p);
    size_t size = nfh__ld16(p + 2);
    if (size < 4 || size > left)
      return nfh__rec_bad_size(block, rec, type, size, left);
    nfh_status st = NFH_OK;
    switch (type) {
    case NFH__REC_COMMON_V1:
      st = decode_flow(maps, block, p, size, rec);
      break;
    case NFH__REC_EXTENSION_MAP:
      st = decode_map(maps, block, p, size, rec);
      break;
    case NFH__REC_V3:
      /* nfdump 1.7 reads these in any file; nfhunt reads them in layout
       * 2 only: said, not skipped without a word. */
      nfh__block_fault(block,
                       "record %u: V3 record (nfdump 1.7) in a "
                       "layout-1 file: skipped",
                       rec);
      break;
    default:
      /* Exporters, samplers, exporter stats; the pre-1.6.13 flow record
       * (1) that nfdump 1.7 refuses as well, skipped by size. */
      st = nfh__rec_shared(block, type, p, size, rec);
      break;
    }
    if (st != NFH_OK)
      return st;
    p += size;
    left -= size;
  }
  nfh__rec_leftover(block, left);
  return NFH_OK;
}
