/*
 * block.h - one data block of an nfcapd file, as the reader's stages
 * pass it along: raw bytes from the file, the decompressed payload, and
 * what the record decoders made of it.
 *
 * The decoders (v3record.c for layout 2, layout1.c for layout 1) append
 * flows, exporters, samplers and exporter stats here. They resolve
 * nothing that depends on other blocks: the reader later, in file order,
 * maps each flow's exporter sysid to its exporter and its sampler to an
 * interval, and each exporter stat to its exporter.
 */
#ifndef NFH_NFCAPD_BLOCK_H
#define NFH_NFCAPD_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/reader.h>
#include <nfhunt/status.h>

/* No EXsamplerInfo element in this flow. */
#define NFH__NO_SELECTOR INT64_MIN

typedef struct nfh__block {
  /* Set by the reader. */
  uint64_t index;  /* block number in the file, from 0 */
  uint64_t offset; /* file offset of the block header */
  uint32_t num_records;
  uint16_t type;
  uint8_t *raw; /* payload as stored in the file */
  size_t raw_len, raw_cap;
  uint8_t *data; /* payload after decompression */
  size_t data_len, data_cap;

  /* Filled by the decoders. */
  nfh_flow *flows;
  size_t nflows, flows_cap;
  int64_t *selectors; /* parallel to flows once any flow has a selector */
  nfh_exporter *exporters;
  size_t nexporters, exporters_cap;
  nfh_sampler *samplers;
  size_t nsamplers, samplers_cap;
  /* One per ExporterStat entry, counters only (known 0). */
  nfh_exporter_stat *stats;
  size_t nstats, stats_cap;
  /* How many flows the block held when each exporter, sampler or stat
   * record came: nfcapd applied a sampler to the flows after its record,
   * so the reader resolves them in that order. */
  size_t *exporter_at;
  size_t *sampler_at;
  size_t *stat_at;

  nfh_status status;
  char errmsg[192];
  /* Damage that left the rest of the block readable (a record dropped,
   * the block skipped): counted, the first one described. The reader
   * reports it after the file's last flow. */
  uint32_t faults;
  char fault[160];
  /* Its payload was damaged (did not decompress, or a record's size was
   * impossible): the blocks after it are read only while their headers
   * are data blocks' (the reader). */
  uint8_t damaged;
  /* A layout-2 block that holds nfdump 1.6 records (nfdump -J of a 1.6
   * file keeps them): the reader decodes it with the file's extension
   * maps, in file order, as it does a layout-1 file's blocks. */
  uint8_t v1_records;
} nfh__block;

/* Empties the decoded part (flows, exporters, samplers, exporter stats,
 * status) and keeps the allocations for reuse. */
void nfh__block_reset(nfh__block *block);

/* Frees all buffers; the struct itself belongs to the caller. */
void nfh__block_free(nfh__block *block);

/* Appends a zeroed flow (sampling 1, aggr_flows 1) and returns it, or NULL
 * on out of memory. The pointer is valid until the next append. */
nfh_flow *nfh__block_add_flow(nfh__block *block);

/* Records flow 'flow_index's selector id (EXsamplerInfo). Returns NFH_OK
 * or NFH_ENOMEM. */
nfh_status nfh__block_set_selector(nfh__block *block, size_t flow_index,
                                   int64_t selector);

/* Appends a copy. Return NFH_OK or NFH_ENOMEM. */
nfh_status nfh__block_add_exporter(nfh__block *block, const nfh_exporter *e);
nfh_status nfh__block_add_sampler(nfh__block *block, const nfh_sampler *s);
nfh_status nfh__block_add_exporter_stat(nfh__block *block,
                                        const nfh_exporter_stat *s);

/* Sets block->status and a printf-style detail; returns the status so a
 * decoder can write `return nfh__block_fail(b, NFH_ECORRUPT, ...)`. */
nfh_status nfh__block_fail(nfh__block *block, nfh_status status,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Notes damage the block's other records survive (see 'faults'). */
void nfh__block_fault(nfh__block *block, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Little-endian (host order of every nfcapd file seen) loads that accept
 * unaligned pointers: records are only 4-byte aligned in layout 1 and
 * not at all after variable-length elements in layout 2. */
static inline uint16_t nfh__ld16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t nfh__ld32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t nfh__ld64(const uint8_t *p) {
  return (uint64_t)nfh__ld32(p) | (uint64_t)nfh__ld32(p + 4) << 32;
}

#endif
