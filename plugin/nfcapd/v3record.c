/* v3record.c - layout-2 record decoding; see v3record.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "block.h"
#include "format.h"
#include "records.h"
#include "v3record.h"


/* nfdump stores IPv6 addresses as two host-order u64 halves. */
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

/* Drops the flow the record at flow_index began and records the fault
 * (fmt: what was wrong with it); the block's other records are kept. */
static nfh_status drop_record(nfh__block *block, size_t flow_index,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static nfh_status drop_record(nfh__block *block, size_t flow_index,
                              const char *fmt, ...) {
  char why[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  block->nflows = flow_index;
  nfh__block_fault(block, "%s", why);
  return NFH_OK;
}

/* Decodes one V3 record at p (size bytes, size >= V3_HEADER_SIZE). */
static nfh_status decode_v3(nfh__block *block, const uint8_t *p, size_t size,
                            uint32_t record_no) {
  unsigned num_elements = nfh__ld16(p + 4);
  uint8_t rflags = p[10];
  nfh_flow *flow = nfh__block_add_flow(block);
  if (!flow)
    return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
  size_t flow_index = block->nflows - 1;
  flow->exporter_sysid = nfh__ld16(p + 8);
  flow->nf_version = p[11];
  if (rflags & V3_FLAG_SAMPLED)
    flow->flags |= NFH_FLOW_SAMPLED;
  if (rflags & V3_FLAG_EVENT)
    flow->flags |= NFH_FLOW_EVENT;
  if (rflags & V3_FLAG_ANON)
    flow->flags |= NFH_FLOW_ANON;

  /* Both address elements may be present (nfdump blanks duplicates with
   * EXnull, but not always); decide after all elements are seen. */
  const uint8_t *v4 = NULL, *v6 = NULL;
  int ip_version = 0, has_generic = 0, has_layer2 = 0;
  unsigned first_unknown = 0;
  int first_unused = -1; /* the first element type not read here */
  uint64_t event_ms = 0;

  /* A damaged record is dropped, and the block's other records kept:
   * its size was checked against the block, so the next record is
   * found whatever its elements say (one bad record lost a block of
   * 25,000 flows). */
  size_t off = V3_HEADER_SIZE;
  for (unsigned i = 0; i < num_elements; i++) {
    if (size - off < V3_ELEMENT_HEADER_SIZE) {
      return drop_record(block, flow_index,
                         "record %u: element %u of %u beyond record "
                         "end: dropped",
                         record_no, i + 1, num_elements);
    }
    unsigned type = nfh__ld16(p + off);
    size_t len = nfh__ld16(p + off + 2);
    if (len < V3_ELEMENT_HEADER_SIZE || len > size - off) {
      return drop_record(block, flow_index,
                         "record %u: element %u (type %u) has bad "
                         "length %zu: dropped",
                         record_no, i + 1, type, len);
    }
    const uint8_t *e = p + off + V3_ELEMENT_HEADER_SIZE;
    size_t elen = len - V3_ELEMENT_HEADER_SIZE;
    off += len;

    /* An element shorter than its type's layout is skipped, never read
     * past: that covers both damage and older element versions. */
    switch (type) {
    case EX_GENERIC_FLOW:
      if (elen < 48)
        break;
      has_generic = 1;
      flow->first_ms = nfh__ld64(e);
      flow->last_ms = nfh__ld64(e + 8);
      flow->received_ms = nfh__ld64(e + 16);
      flow->packets = nfh__ld64(e + 24);
      flow->bytes = nfh__ld64(e + 32);
      flow->src_port = nfh__ld16(e + 40);
      flow->dst_port = nfh__ld16(e + 42);
      flow->proto = e[44];
      flow->tcp_flags = e[45];
      flow->fwd_status = e[46];
      flow->tos = e[47];
      break;
    /* An address element too short to hold its addresses: no flow to
     * tell (it became one of 0.0.0.0 to 0.0.0.0). */
    case EX_IPV4_FLOW:
      if (elen < 8) {
        return drop_record(block, flow_index,
                           "record %u: IPv4 element of %zu bytes: "
                           "dropped",
                           record_no, elen);
      }
      v4 = e;
      break;
    case EX_IPV6_FLOW:
      if (elen < 32) {
        return drop_record(block, flow_index,
                           "record %u: IPv6 element of %zu bytes: "
                           "dropped",
                           record_no, elen);
      }
      v6 = e;
      break;
    case EX_FLOW_MISC:
      if (elen < 14)
        break;
      flow->input_if = nfh__ld32(e);
      flow->output_if = nfh__ld32(e + 4);
      flow->src_mask = e[8];
      flow->dst_mask = e[9];
      flow->direction = e[10];
      flow->dst_tos = e[11];
      flow->biflow_dir = e[12];
      flow->end_reason = e[13];
      break;
    case EX_CNT_FLOW:
      if (elen < 24)
        break;
      flow->aggr_flows = nfh__ld64(e);
      flow->out_packets = nfh__ld64(e + 8);
      flow->out_bytes = nfh__ld64(e + 16);
      flow->flags |= NFH_FLOW_HAS_OUT;
      break;
    case EX_VLAN:
      if (elen < 8)
        break;
      flow->src_vlan = nfh__ld32(e);
      flow->dst_vlan = nfh__ld32(e + 4);
      break;
    case EX_AS_ROUTING:
      if (elen < 8)
        break;
      flow->src_as = nfh__ld32(e);
      flow->dst_as = nfh__ld32(e + 4);
      break;
    case EX_BGP_NEXT_HOP_V4:
      if (elen >= 4)
        nfh_addr_set_v4(&flow->bgp_next_hop, nfh__ld32(e));
      break;
    case EX_BGP_NEXT_HOP_V6:
      if (elen >= 16)
        load_v6(&flow->bgp_next_hop, e);
      break;
    case EX_IP_NEXT_HOP_V4:
      if (elen >= 4)
        nfh_addr_set_v4(&flow->next_hop, nfh__ld32(e));
      break;
    case EX_IP_NEXT_HOP_V6:
      if (elen >= 16)
        load_v6(&flow->next_hop, e);
      break;
    case EX_IP_RECEIVED_V4:
      if (elen >= 4)
        nfh_addr_set_v4(&flow->router, nfh__ld32(e));
      break;
    case EX_IP_RECEIVED_V6:
      if (elen >= 16)
        load_v6(&flow->router, e);
      break;
    case EX_LATENCY:
      if (elen < 24)
        break;
      flow->client_latency_us = nfh__ld64(e);
      flow->server_latency_us = nfh__ld64(e + 8);
      flow->app_latency_us = nfh__ld64(e + 16);
      break;
    case EX_SAMPLER_INFO: {
      /* 1.7.2 and later: {u64 selectorID, u16 sysid}; before: {i32 id,
       * u32 interval, u16 mode, u16 sysid}. Told apart by length. */
      int64_t selector;
      if (elen >= 16 && len == 20)
        selector = (int64_t)nfh__ld64(e);
      else if (elen >= 12)
        selector = (int32_t)nfh__ld32(e);
      else
        break;
      if (nfh__block_set_selector(block, flow_index, selector) != NFH_OK)
        return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
      break;
    }
    case EX_NSEL_COMMON:
      if (elen < 15)
        break;
      event_ms = nfh__ld64(e);
      flow->fw_event = e[14];
      break;
    case EX_NAT_XLATE_IPV4:
      if (elen < 8)
        break;
      nfh_addr_set_v4(&flow->nat_src, nfh__ld32(e));
      nfh_addr_set_v4(&flow->nat_dst, nfh__ld32(e + 4));
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case EX_NAT_XLATE_IPV6:
      if (elen < 32)
        break;
      load_v6(&flow->nat_src, e);
      load_v6(&flow->nat_dst, e + 16);
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case EX_NAT_XLATE_PORT:
      if (elen < 4)
        break;
      flow->nat_src_port = nfh__ld16(e);
      flow->nat_dst_port = nfh__ld16(e + 2);
      flow->flags |= NFH_FLOW_HAS_NAT;
      break;
    case EX_NAT_COMMON:
      if (elen < 13)
        break;
      if (!event_ms)
        event_ms = nfh__ld64(e);
      /* 1.7.0 had two VRF words before the event byte (length 28). */
      flow->nat_event = elen >= 24 ? e[20] : e[12];
      break;
    case EX_LAYER2:
      has_layer2 = 1;
      if (elen >= 27)
        ip_version = e[26];
      break;
    default:
      /* EXnull (0), elements nfhunt does not use, and types newer than
       * this reader: skipped by their length. */
      if (type > EX_KNOWN_MAX && !first_unknown)
        first_unknown = type;
      if (first_unused < 0)
        first_unused = (int)type;
      break;
    }
  }

  /* The elements fill the record, as nfdump requires ("Record size info
   * not equal sum extensions"): a count of elements too small left the
   * addresses unread and made a flow without them. */
  if (off != size) {
    return drop_record(block, flow_index,
                       "record %u: its %u elements fill %zu of its %zu "
                       "bytes: dropped",
                       record_no, num_elements, off, size);
  }

  /* Every flow nfcapd writes has the generic element (times, ports,
   * protocol, counters), or a NAT event's time. Without either the
   * record is damaged (an element id overwritten): a flow of time 0,
   * protocol 0 and no packets would be silent garbage. */
  if (!has_generic && !event_ms) {
    if (first_unknown)
      return drop_record(block, flow_index,
                         "record %u: no flow element (element type %u "
                         "unknown): dropped",
                         record_no, first_unknown);
    return drop_record(block, flow_index, "record %u: no flow element: dropped",
                       record_no);
  }

  /* No address beside an element of an unknown type: the address
   * element's type damaged (a flipped byte took the addresses off 3,716
   * of 4,919 records, silently). nfdump warns of the unknown element
   * and shows 0.0.0.0; a flow between no hosts is garbage to a hunt. */
  if (!v4 && !v6 && first_unknown)
    return drop_record(block, flow_index,
                       "record %u: no address element (element type %u "
                       "unknown): dropped",
                       record_no, first_unknown);
  /* Nor beside a known type in its place (43, 0: a tester's, 12,500
   * records hunted without addresses, in silence): a flow record of
   * nfcapd's has one, but a layer-2 flow's (MAC addresses only). */
  if (!v4 && !v6 && !has_layer2) {
    if (first_unused >= 0)
      return drop_record(block, flow_index,
                         "record %u: no address element (element type %d in "
                         "its place?): dropped",
                         record_no, first_unused);
    return drop_record(block, flow_index,
                       "record %u: no address element: dropped", record_no);
  }

  if (v4 && v6) {
    /* nfdump's rule: the layer-2 element's IP version decides; without
     * it the flow is IPv4 when the IPv4 element is not all zero. */
    if (ip_version == 6 || (ip_version != 4 && nfh__ld32(v4) == 0 &&
                            nfh__ld32(v4 + 4) == 0))
      v4 = NULL;
    else
      v6 = NULL;
  }
  if (v4) {
    nfh_addr_set_v4(&flow->src, nfh__ld32(v4));
    nfh_addr_set_v4(&flow->dst, nfh__ld32(v4 + 4));
  } else if (v6) {
    load_v6(&flow->src, v6);
    load_v6(&flow->dst, v6 + 16);
  }
  nfh__flow_event_times(flow, event_ms);
  if (flow->aggr_flows == 0)
    flow->aggr_flows = 1;
  if (is_icmp(flow->proto)) {
    flow->icmp_type = (uint8_t)(flow->dst_port >> 8);
    flow->icmp_code = (uint8_t)flow->dst_port;
    flow->src_port = 0;
  }
  return NFH_OK;
}

nfh_status nfh__v3_decode_block(nfh__block *block) {
  const uint8_t *p = block->data;
  size_t left = block->data_len;
  for (uint32_t n = 0; n < block->num_records; n++) {
    if (left < 4)
      return nfh__rec_past_end(block, n + 1);
    unsigned type = nfh__ld16(p);
    size_t size = nfh__ld16(p + 2);
    if (size < 4 || size > left)
      return nfh__rec_bad_size(block, n + 1, type, size, left);
    /* A record whose contents are damaged is skipped by its size, the
     * block's other records kept (an exporter record of 8 bytes lost
     * the block's flows). */
    nfh_status st = NFH_OK;
    switch (type) {
    case NFH__REC_V3:
      if (size < V3_HEADER_SIZE)
        nfh__block_fault(block, "record %u: V3 record of %zu bytes: dropped",
                         n + 1, size);
      else
        st = decode_v3(block, p, size, n + 1);
      break;
    case NFH__REC_EXTENSION_MAP:
    case NFH__REC_COMMON_V1:
      /* nfdump 1.6's records in a layout-2 file: nfdump reads them by
       * the file's extension maps; nfhunt does not (layout 1 only). */
      nfh__block_fault(block,
                       "record %u: nfdump 1.6 record (type %u) in a "
                       "layout-2 file: skipped",
                       n + 1, type);
      break;
    default:
      /* Exporters, samplers, exporter stats; name arrays (types 12-14)
       * and slack, skipped by size. */
      st = nfh__rec_shared(block, type, p, size, n + 1);
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
