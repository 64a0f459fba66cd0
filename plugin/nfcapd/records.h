/*
 * records.h - the non-flow records that both layouts share: exporter
 * info (type 7), exporter stat (type 8), sampler (type 15) and legacy
 * sampler (type 9). 'p' points at the record header {u16 type, u16 size}
 * and 'size' is the record's size as checked against its block.
 */
#ifndef NFH_NFCAPD_RECORDS_H
#define NFH_NFCAPD_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#include "block.h"

#define NFH__REC_EXTENSION_MAP 2
#define NFH__REC_EXPORTER_INFO 7
#define NFH__REC_EXPORTER_STAT 8
#define NFH__REC_SAMPLER_LEGACY 9
#define NFH__REC_COMMON_V1 10
#define NFH__REC_V3 11
#define NFH__REC_SAMPLER 15
#define NFH__REC_V4 16
#define NFH__REC_SLACK 256
#define NFH__REC_IDENT 0x8001
#define NFH__REC_STAT 0x8002

/* ExporterInfo in either IP encoding (nfdump <= 1.7.7 host-order
 * ip_addr_t + sa_family, or 1.7.8's 16 network-order bytes). Returns
 * NFH_OK or NFH_ECORRUPT for a record shorter than 32 bytes. */
nfh_status nfh__rec_exporter(const uint8_t *p, size_t size, nfh_exporter *out);

/* Sampler (type 15, 24 bytes). NFH_OK or NFH_ECORRUPT. */
nfh_status nfh__rec_sampler(const uint8_t *p, size_t size, nfh_sampler *out);

/* Legacy sampler (type 9, 16 bytes), converted to packet_interval 1,
 * space_interval interval-1 as nfdump does. NFH_OK or NFH_ECORRUPT. */
nfh_status nfh__rec_sampler_legacy(const uint8_t *p, size_t size,
                                   nfh_sampler *out);

/* ExporterStat (type 8): u32 count at offset 4, then count entries of
 * {u32 sysid, u32 sequence_failure, u64 packets, u64 flows}, 24 bytes
 * each. Appends every entry to the block (nfh__block_add_exporter_stat)
 * in record order. A record longer than its entries need is accepted;
 * the bytes after them are not read. 'rec' is the record's number in the
 * block (from 1), for the message.
 *
 * A record shorter than 8 bytes or than 8 + 24 * count, or an entry
 * whose sysid is above 65535 (exporter records carry a u16 sysid, and
 * nfdump refuses such ids too), is a fault of the block ("record 7:
 * exporter stat record of 32 bytes has room for 1 of its 2 entries:
 * skipped"), the rest of the record skipped; entries before a bad one
 * stay in the block. Returns NFH_OK, or NFH_ENOMEM with the block
 * failed. */
nfh_status nfh__rec_exporter_stats(nfh__block *block, const uint8_t *p,
                                   size_t size, uint32_t rec);

/* A record that both layouts hold alike, at p ('size' checked against
 * its block; 'rec' its number from 1): exporter info, sampler, legacy
 * sampler and exporter stat records go into the block; a type no file of
 * nfdump 1.6 or 1.7 holds (above 15, slack aside) is a fault; the others
 * (name arrays, slack, the pre-1.6.13 flow record) are passed over. A
 * record of damaged contents is skipped with a fault, the block's other
 * records kept. Returns NFH_OK, or NFH_ENOMEM with the block failed. */
nfh_status nfh__rec_shared(nfh__block *block, unsigned type, const uint8_t *p,
                           size_t size, uint32_t rec);

/* After the records a block's header counts: 'left' bytes still in it,
 * a fault when they can hold a record (a damaged count: read as it says,
 * as nfdump reads it). */
void nfh__rec_leftover(nfh__block *block, size_t left);

/* Record 'rec' of a block lies past its end (the header's count is
 * larger than the records in it): the records before it are kept, the
 * block marked damaged. Returns NFH_OK: the decoder stops there. */
nfh_status nfh__rec_past_end(nfh__block *block, uint32_t rec);

/* Record 'rec' has a size that cannot be ('left' bytes were left): the
 * records after it cannot be found, those before it are kept, the block
 * marked damaged. Returns NFH_OK: the decoder stops there. One damaged
 * size lost its block and every block after it (nfdump keeps the
 * records before it and stops the file). */
nfh_status nfh__rec_bad_size(nfh__block *block, uint32_t rec, unsigned type,
                             size_t size, size_t left);

/* Sets a flow's missing times from its event time (NSEL, NEL; 0: none):
 * an event without times happened at that instant, and a firewall's
 * teardown, which gives its creation time as the start and no end,
 * ended then. */
void nfh__flow_event_times(nfh_flow *flow, uint64_t event_ms);

#endif
