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

#endif
