/*
 * layout1.h - decoding the records of nfdump 1.6 (layout 1) data blocks.
 *
 * A 1.6 flow record (CommonRecord, type 10) is only meaningful with the
 * extension map it names, and maps (type 2) may appear in any earlier
 * block of the same file. The map table therefore lives for one file and
 * blocks are decoded in file order.
 */
#ifndef NFH_NFCAPD_LAYOUT1_H
#define NFH_NFCAPD_LAYOUT1_H

#include <nfhunt/status.h>

#include "block.h"

typedef struct nfh__l1_maps nfh__l1_maps;

/* Creates an empty map table. The 65536-slot index is only allocated
 * when the first map arrives. Returns NFH_OK, or NFH_ENOMEM with *out
 * NULL. */
nfh_status nfh__l1_maps_create(nfh__l1_maps **out);

/* Frees the table; NULL is a no-op. */
void nfh__l1_maps_destroy(nfh__l1_maps *maps);

/* Forgets all maps (and frees them; the index is kept for the next
 * file); call before the first block of each file. NULL is a no-op. */
void nfh__l1_maps_clear(nfh__l1_maps *maps);

/* Decodes block->data (block->data_len bytes, block->num_records records)
 * of a type-2 block: extension maps (type 2) are copied into 'maps',
 * replacing a map of the same id; flows (CommonRecord, type 10),
 * exporters (7), exporter stats (8) and samplers (9, and 15 as nfdump
 * 1.7 accepts it) are appended to the block. Unknown record types are
 * skipped by their size. Flows keep sampling 1, no exporter address and
 * the record's exporter_sysid: the reader resolves those.
 *
 * Returns NFH_OK, or NFH_ECORRUPT / NFH_ENOMEM with block->status and
 * block->errmsg ("record 12: extension map 3 not defined"; records count
 * from 1) set. ECORRUPT covers: a record size below 4 or beyond the
 * block, fewer records than num_records, a map nfdump would refuse (size
 * not a multiple of 4, missing zero terminator, unknown extension id,
 * extension size that does not match its ids), a flow naming an
 * undefined map, a flow shorter than its map needs, an exporter or
 * sampler record too short for its type, and an exporter stat record
 * too short for its count or naming a sysid above 65535. Flows,
 * exporters, samplers and exporter stats decoded before the fault stay
 * in the block, and maps defined before it stay in 'maps'. */
nfh_status nfh__l1_decode_block(nfh__l1_maps *maps, nfh__block *block);

#endif
