/*
 * gen/labels.h - the ground truth of a generated scenario.
 *
 * Every activity the generator runs, injected or benign, is one label:
 * its kind, the detector it should (or, for benign ones, should not)
 * trigger, its hosts, ports, time span, parameters, and what it put into
 * the output: flow records, packets and bytes, counted record by record
 * as the sink takes them (after sampling), so the counts always agree
 * with the files. The labels file is JSON:
 *
 *   { "format": "nfhunt-gen-labels/1", "generator": ..., "seed": ...,
 *     "start": ISO 8601 UTC, "end": ..., "network": {...}, "totals": {...},
 *     "activities": [ {
 *        "id", "name", "kind", "class": "injected" | "benign",
 *        "detector": detector name or null, "trap_for": [detectors],
 *        "src": [addresses or CIDRs], "dst": [...], "dst_ports": [...],
 *        "protos": [...], "first", "last" (ISO 8601 UTC of the first and
 *        last record written), "first_ms", "last_ms",
 *        "params": {...}, "flows", "packets", "bytes",
 *        "match": { "hosts": [...], "peers": [...], "protos": [...],
 *                   "ports": [...] } }, ... ] }
 *
 * "match" tells a test how to find the activity's records in the files:
 * a record belongs to it when one end is in "hosts", the other end is in
 * "peers" (any address when absent), its protocol is in "protos", and,
 * for TCP and UDP, one of its ports is in "ports" (any when absent); its
 * times lie within [first_ms, last_ms]. The generator keeps the match
 * sets of different activities disjoint, so the counts can be checked
 * exactly; the one label without "match" (benign browsing) holds every
 * record no other label claims.
 *
 * Counters are per label in an array, so counting a record costs an
 * index and three additions; 100 million records are no burden.
 */
#ifndef NFH_GEN_LABELS_H
#define NFH_GEN_LABELS_H

#include <stdint.h>

#include <jansson.h>
#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#include "session.h"

typedef struct gen_labels gen_labels;

/* Creates an empty set. Returns NFH_OK or NFH_ENOMEM (*out NULL). */
nfh_status gen_labels_create(gen_labels **out);

/* Frees the set and every label; NULL is a no-op. */
void gen_labels_destroy(gen_labels *labels);

/* Adds a label. 'kind' and 'name' are copied; 'detector' (may be NULL)
 * and 'trap_for' (NULL, or a comma-separated list) likewise. *id gets
 * the label's index, which records carry in gen_rec.activity.
 * Returns NFH_OK or NFH_ENOMEM (nothing added). */
nfh_status gen_labels_add(gen_labels *labels, const char *kind,
                          const char *name, int injected,
                          const char *detector, const char *trap_for,
                          uint32_t *id);

/* Number of labels. */
uint32_t gen_labels_count(const gen_labels *labels);

/* The label's JSON object, borrowed for the life of the set: activities
 * add their "params" through it. */
json_t *gen_labels_object(gen_labels *labels, uint32_t id);

/* Appends to one of the label's string lists: "src", "dst", or
 * "match.hosts" / "match.peers". Text is copied. An address already
 * listed is not added twice only when it is the last one added. */
void gen_labels_list_add(gen_labels *labels, uint32_t id, const char *list,
                         const char *text);
/* The same with an address. */
void gen_labels_list_addr(gen_labels *labels, uint32_t id, const char *list,
                          const nfh_addr *addr);

/* Appends an integer to "dst_ports", "protos", "match.protos" or
 * "match.ports" (no duplicates). */
void gen_labels_int_add(gen_labels *labels, uint32_t id, const char *list,
                        int64_t value);

/* Sets params.key to an integer, a real or a string (copied). */
void gen_labels_param_int(gen_labels *labels, uint32_t id, const char *key,
                          int64_t value);
void gen_labels_param_real(gen_labels *labels, uint32_t id, const char *key,
                           double value);
void gen_labels_param_str(gen_labels *labels, uint32_t id, const char *key,
                          const char *value);

/* Counts one record the sink wrote, with its counters as written
 * (scaled by the sampling rate). */
static inline void gen_labels_tally(gen_labels *labels, const gen_rec *rec,
                                    uint64_t packets, uint64_t bytes);

/* Writes the labels file: 'run' (borrowed; may be NULL) supplies the
 * top-level members (seed, start, network, totals, ...), then
 * "activities". Written to a temporary file and renamed, so a reader
 * never sees half a file. Returns NFH_OK, NFH_ENOMEM or NFH_EIO (errno
 * set). */
nfh_status gen_labels_write(gen_labels *labels, const char *path,
                            json_t *run);

/* ISO 8601 UTC text of epoch milliseconds: "2024-03-04T10:15:00.250Z"
 * (buf: at least 32 bytes). */
char *gen_iso8601(uint64_t ms, char *buf, size_t len);

/* ------------------------------------------------------------ inline */

/* Per-label counters; the array is part of the opaque set, reached
 * through this accessor so the tally stays inline. */
typedef struct gen_label_counts {
  uint64_t flows, packets, bytes;
  uint64_t first_ms, last_ms;
} gen_label_counts;

gen_label_counts *gen_labels_counts(gen_labels *labels);

static inline void gen_labels_tally(gen_labels *labels, const gen_rec *rec,
                                    uint64_t packets, uint64_t bytes) {
  gen_label_counts *c = &gen_labels_counts(labels)[rec->activity];
  c->flows++;
  c->packets += packets;
  c->bytes += bytes;
  if (c->first_ms == 0 || rec->first_ms < c->first_ms)
    c->first_ms = rec->first_ms;
  if (rec->last_ms > c->last_ms)
    c->last_ms = rec->last_ms;
}

#endif
