/* records.c - exporter, exporter stat and sampler records; see
 * records.h. */
#include "config.h"

#include <string.h>

#include "block.h"
#include "format.h"
#include "records.h"

/* A u64 half of nfdump's host-order IPv6 ip_addr_t, back to its 8
 * network-order bytes. */
static void store_be64(uint8_t *out, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    out[i] = (uint8_t)v;
    v >>= 8;
  }
}

nfh_status nfh__rec_exporter(const uint8_t *p, size_t size, nfh_exporter *out) {
  static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0xff, 0xff};
  memset(out, 0, sizeof(*out));
  /* Exactly 32 bytes in every nfdump that writes it: a flow record
   * whose type byte turned into 7 read as an exporter of garbage, and
   * its flow vanished without a word (a tester's). */
  if (size != 32)
    return NFH_ECORRUPT;
  out->version = nfh__ld32(p + 4);
  const uint8_t *ip = p + 8;
  uint16_t family = nfh__ld16(p + 24);
  out->sysid = nfh__ld16(p + 26);
  out->id = nfh__ld32(p + 28);
  if (family == OLD_FAMILY_INET) {
    nfh_addr_set_v4(&out->addr, nfh__ld32(ip + 8));
  } else if (family == OLD_FAMILY_INET6) {
    uint8_t bytes[16];
    store_be64(bytes, nfh__ld64(ip));
    store_be64(bytes + 8, nfh__ld64(ip + 8));
    nfh_addr_set_v6(&out->addr, bytes);
  } else if (family == 0) {
    /* nfdump 1.7.8: network-order bytes, IPv4 mapped. */
    if (memcmp(ip, v4_mapped, sizeof(v4_mapped)) == 0)
      nfh_addr_set_v4(&out->addr, (uint32_t)ip[12] << 24 |
                                      (uint32_t)ip[13] << 16 |
                                      (uint32_t)ip[14] << 8 | ip[15]);
    else
      nfh_addr_set_v6(&out->addr, ip);
  }
  /* Any other family value: an address nfhunt cannot interpret; keep the
   * exporter with no address rather than invent one. */
  return NFH_OK;
}

nfh_status nfh__rec_sampler(const uint8_t *p, size_t size, nfh_sampler *out) {
  memset(out, 0, sizeof(*out));
  if (size != 24) /* fixed, as the exporter's */
    return NFH_ECORRUPT;
  out->exporter_sysid = nfh__ld16(p + 4);
  out->algorithm = nfh__ld16(p + 6);
  out->id = (int64_t)nfh__ld64(p + 8);
  out->packet_interval = nfh__ld32(p + 16);
  out->space_interval = nfh__ld32(p + 20);
  return NFH_OK;
}

nfh_status nfh__rec_sampler_legacy(const uint8_t *p, size_t size,
                                   nfh_sampler *out) {
  memset(out, 0, sizeof(*out));
  if (size != 16)
    return NFH_ECORRUPT;
  out->id = (int32_t)nfh__ld32(p + 4);
  uint32_t interval = nfh__ld32(p + 8);
  out->algorithm = nfh__ld16(p + 12);
  out->exporter_sysid = nfh__ld16(p + 14);
  out->packet_interval = 1;
  out->space_interval = interval > 0 ? interval - 1 : 0;
  return NFH_OK;
}

#define EXPORTER_STAT_HEADER 8
#define EXPORTER_STAT_ENTRY 24

nfh_status nfh__rec_exporter_stats(nfh__block *block, const uint8_t *p,
                                   size_t size, uint32_t rec) {
  /* Damage here costs the record, not its block's flows (the caller
   * skips it by its size). */
  if (size < EXPORTER_STAT_HEADER) {
    nfh__block_fault(block,
                     "record %u: exporter stat record of %zu bytes: "
                     "skipped",
                     rec, size);
    return NFH_OK;
  }
  uint32_t count = nfh__ld32(p + 4);
  /* In 64 bits, a u32 count times 24 cannot wrap. */
  uint64_t need = EXPORTER_STAT_HEADER + (uint64_t)count * EXPORTER_STAT_ENTRY;
  if (need > size) {
    nfh__block_fault(
        block,
        "record %u: exporter stat record of %zu bytes "
        "has room for %zu of its %u entries: skipped",
        rec, size, (size - EXPORTER_STAT_HEADER) / EXPORTER_STAT_ENTRY, count);
    return NFH_OK;
  }
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *e =
        p + EXPORTER_STAT_HEADER + (size_t)i * EXPORTER_STAT_ENTRY;
    nfh_exporter_stat st;
    memset(&st, 0, sizeof(st));
    st.sysid = nfh__ld32(e);
    if (st.sysid > UINT16_MAX) {
      nfh__block_fault(block,
                       "record %u: exporter stat entry %u names "
                       "sysid %u (above 65535): skipped",
                       rec, i + 1, st.sysid);
      return NFH_OK;
    }
    st.sequence_failures = nfh__ld32(e + 4);
    st.packets = nfh__ld64(e + 8);
    st.flows = nfh__ld64(e + 16);
    if (nfh__block_add_exporter_stat(block, &st) != NFH_OK)
      return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
  }
  return NFH_OK;
}

void nfh__flow_event_times(nfh_flow *flow, uint64_t event_ms) {
  if (!event_ms)
    return;
  if (flow->first_ms == 0)
    flow->first_ms = event_ms;
  if (flow->last_ms == 0)
    flow->last_ms = event_ms > flow->first_ms ? event_ms : flow->first_ms;
}

nfh_status nfh__rec_shared(nfh__block *block, unsigned type, const uint8_t *p,
                           size_t size, uint32_t rec) {
  switch (type) {
  case NFH__REC_EXPORTER_INFO: {
    nfh_exporter e;
    if (nfh__rec_exporter(p, size, &e) != NFH_OK)
      nfh__block_fault(block,
                       "record %u: exporter record of %zu bytes: "
                       "skipped",
                       rec, size);
    else if (nfh__block_add_exporter(block, &e) != NFH_OK)
      return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
    return NFH_OK;
  }
  case NFH__REC_SAMPLER:
  case NFH__REC_SAMPLER_LEGACY: {
    /* 1.6 writes the legacy form (type 9); nfdump 1.7 reads either in
     * any block, so a converted file may hold both. */
    nfh_sampler s;
    nfh_status rs = type == NFH__REC_SAMPLER
                        ? nfh__rec_sampler(p, size, &s)
                        : nfh__rec_sampler_legacy(p, size, &s);
    if (rs != NFH_OK)
      nfh__block_fault(block,
                       "record %u: sampler record of %zu bytes: "
                       "skipped",
                       rec, size);
    else if (nfh__block_add_sampler(block, &s) != NFH_OK)
      return nfh__block_fail(block, NFH_ENOMEM, "out of memory");
    return NFH_OK;
  }
  case NFH__REC_EXPORTER_STAT:
    return nfh__rec_exporter_stats(block, p, size, rec);
  default:
    /* Types no 1.6 or 1.7 file holds (V4 records of nfdump 1.8, and
     * newer): said, or a file of them read as empty without a word. */
    if ((type > NFH__REC_SAMPLER && type != NFH__REC_SLACK) || type == 0)
      nfh__block_fault(block, "record %u: unknown record type %u: skipped", rec,
                       type);
    return NFH_OK;
  }
}

void nfh__rec_leftover(nfh__block *block, size_t left) {
  /* Records past the count the block header gives: a count of 1 of 1434
   * records lost the block's flows without a word. */
  if (left >= 4)
    nfh__block_fault(block,
                     "%zu bytes follow its %u records (a damaged "
                     "count?): not read, as nfdump does",
                     left, block->num_records);
}

nfh_status nfh__rec_past_end(nfh__block *block, uint32_t rec) {
  nfh__block_fault(block,
                   "its header counts %u records, %u fit (a damaged "
                   "count?): the %u read",
                   block->num_records, rec - 1, rec - 1);
  block->damaged = 1;
  return NFH_OK;
}

nfh_status nfh__rec_bad_size(nfh__block *block, uint32_t rec, unsigned type,
                             size_t size, size_t left) {
  nfh__block_fault(block,
                   "record %u of %u (type %u) has bad size %zu (%zu bytes "
                   "left in block): the block's last %u records lost",
                   rec, block->num_records, type, size, left,
                   block->num_records - rec + 1);
  block->damaged = 1;
  return NFH_OK;
}
