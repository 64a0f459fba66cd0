/*
 * v3record.h - decoding the records of a layout-2 (nfdump 1.7) data
 * block: V3 flow records (type 11) with their typed elements, plus the
 * exporter, exporter stat and sampler records nfcapd mixes in.
 *
 * A block decodes on its own, so blocks can be decoded in parallel.
 */
#ifndef NFH_NFCAPD_V3RECORD_H
#define NFH_NFCAPD_V3RECORD_H

#include <nfhunt/status.h>

#include "block.h"

/* Decodes block->data (block->data_len bytes) holding block->num_records
 * records. Flows, exporters, samplers and exporter stats are appended to
 * the block; unknown record and element types are skipped. Returns
 * NFH_OK, or NFH_ECORRUPT / NFH_ENOMEM with block->status and
 * block->errmsg set. */
nfh_status nfh__v3_decode_block(nfh__block *block);

#endif
