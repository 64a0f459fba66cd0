/*
 * gen/tree.h - writing the generated records as an nfcapd capture tree.
 *
 * One file per slot, named like nfcapd names them (nfdump's flist.c and
 * nfcapd.c): "nfcapd." followed by the slot start in local time,
 * %Y%m%d%H%M (with %S for slots shorter than a minute, with %z under
 * the 'zone' option, nfcapd's -Z), optionally inside nfcapd's -S
 * sub-hierarchy:
 *   1 %Y/%m/%d   2 %Y/%m/%d/%H   3 %Y/%W/%u   4 %Y/%W/%u/%H
 *   5 %Y/%j      6 %Y/%j/%H      7 %Y-%m-%d   8 %Y-%m-%d/%H
 * Every slot gets a file, an empty one when nothing happened, as nfcapd
 * rotates whether or not flows arrived. Each file is written with
 * nfhunt's writer (atomically, layout 2) and starts with the exporter's
 * ExporterInfo record and, for a sampled run, its Sampler record, as
 * nfcapd seeds every new file. Codecs can rotate from file to file.
 *
 * When local time repeats an hour (the end of daylight saving time), two
 * slots get the same name; nfcapd appends to the existing file, which the
 * writer cannot do, so the second file gets the seconds added to its name
 * (14 digits, a form nfdump and nfexpire accept), and the tree counts it
 * in gen_tree_renamed().
 */
#ifndef NFH_GEN_TREE_H
#define NFH_GEN_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#include "engine.h"

typedef struct gen_tree_options {
  const char *dir;      /* borrowed; created if missing */
  int subdir;           /* 0 flat, 1-8 as nfcapd -S */
  int zone;             /* non-zero: %z suffix, as nfcapd -Z */
  const int *codecs;    /* NFH_WRITER_CODEC_*, used in turn; borrowed */
  size_t n_codecs;      /* 0: no compression */
  int level;            /* codec level, 0 default */
  const char *ident;    /* file ident; NULL "none" */
  nfh_addr exporter;    /* the exporter's address */
  uint32_t exporter_id; /* source id / observation domain */
  uint8_t nf_version;   /* 9 or 10 */
  uint32_t sampling;    /* 1-in-N; 0 or 1 unsampled */
  int64_t sampler_id;   /* the sampler's id (as nfcapd records it) */
  uint16_t sampler_algorithm;
} gen_tree_options;

typedef struct gen_tree gen_tree;

/* Creates the tree writer; options are copied (the strings and codec
 * array must outlive the tree). Creates 'dir'. Returns NFH_OK, NFH_EIO
 * (cannot create the directory; errno set) or NFH_ENOMEM. */
nfh_status gen_tree_create(const gen_tree_options *o, gen_tree **out);

void gen_tree_destroy(gen_tree *tree);

/* The sink to give the engine. */
gen_sink gen_tree_sink(gen_tree *tree);

/* One line about the last failure ("" if none). */
const char *gen_tree_error(const gen_tree *tree);

/* Files written, and files whose name had to get seconds (see above). */
uint64_t gen_tree_files(const gen_tree *tree);
uint64_t gen_tree_renamed(const gen_tree *tree);

/* Converts a record to the flow nfcapd would store, scaling counters by
 * 'sampling' and filling exporter fields from 'o'. Exposed for tests. */
void gen_tree_flow(const gen_tree_options *o, const gen_rec *r, nfh_flow *f);

/* The relative path of a slot's file (sub-hierarchy and name) into buf.
 * Returns buf. */
char *gen_tree_path(const gen_tree_options *o, uint64_t slot_ms,
                    uint32_t slot_len_ms, char *buf, size_t len);

#endif
