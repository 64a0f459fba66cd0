/*
 * map.h - an open-addressing index over records keyed by two addresses.
 *
 * The exfiltration detector keeps several tables whose records start
 * with the same key (an internal and an external address, or one
 * address and a tag): the flow pairs of the run, the destinations and
 * the remembered hosts and pairs. The records live in one dense array
 * each, so that they can be sorted, pruned and written out in one pass;
 * this map only finds the index of a key. It stores the index and 32
 * bits of the hash per slot (8 bytes), and compares keys in the records
 * themselves, which must begin with an nfh__exf_key. Lookups over large
 * tables are bound by cache misses: callers that look up a batch of keys
 * prefetch each key's cell, then its record, a few keys ahead.
 *
 * Deleting single keys is not supported: a table that drops records
 * compacts its array and rebuilds the map (nfh__exf_map_rebuild).
 */
#ifndef NFH_EXFIL_MAP_H
#define NFH_EXFIL_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>

/* The key at the start of every indexed record. For one-address tables
 * 'b' is zero except for its family, used as a tag. */
typedef struct nfh__exf_key {
  nfh_addr a, b;
} nfh__exf_key;

typedef struct nfh__exf_map {
  uint64_t *cell; /* high 32 hash bits | index + 1; 0 = empty */
  uint32_t cap;   /* power of two, 0 before the first insert */
  uint32_t n;
} nfh__exf_map;

/* x as a byte or packet count of the tables: 0 at or below 0 (and for
 * NaN), UINT64_MAX from 2^64 on. A damaged counter near UINT64_MAX,
 * summed or scaled as a double, reaches 2^64, and converting that to
 * uint64_t is undefined. */
static inline uint64_t nfh__exf_count(double x) {
  return !(x > 0) ? 0 : x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}

/* The 64-bit hash of a key. */
uint64_t nfh__exf_key_hash(const nfh__exf_key *k);

/* Whether two keys are equal. */
int nfh__exf_key_equal(const nfh__exf_key *x, const nfh__exf_key *y);

/* The index of the record with key k in the array at 'base' (records of
 * 'stride' bytes), or -1. */
int64_t nfh__exf_map_find(const nfh__exf_map *m, const void *base,
                          size_t stride, const nfh__exf_key *k,
                          uint64_t hash);

/* Starts fetching the cell where the key with this hash is looked up
 * first. */
void nfh__exf_map_prefetch(const nfh__exf_map *m, uint64_t hash);

/* Starts fetching the record that the key's first cell names when its
 * hash bits match (reads the cell: call nfh__exf_map_prefetch first, some
 * work before). */
void nfh__exf_map_prefetch_record(const nfh__exf_map *m, const void *base,
                                  size_t stride, uint64_t hash);

/* Adds index 'idx' (whose record, already in the array, holds a key
 * known to be absent). Growing re-hashes the keys of the first idx
 * records. Returns 0, or -1 when memory runs out (the map is then
 * unchanged). */
int nfh__exf_map_put(nfh__exf_map *m, const void *base, size_t stride,
                     uint64_t hash, uint32_t idx);

/* Rebuilds the map over the first n records of the array. Returns 0 or
 * -1 when memory runs out (the map is then empty: callers treat that as
 * a failure of the run). */
int nfh__exf_map_rebuild(nfh__exf_map *m, const void *base, size_t stride,
                         uint32_t n);

/* Frees the map's memory; the map is then empty and reusable. */
void nfh__exf_map_free(nfh__exf_map *m);

/* Keeps the 'keep' records of the array at 'base' (n records of 'stride'
 * bytes) with the highest rank[i], in their order, and moves them to the
 * front; ties at the cut keep the earlier records. 'drop' (may be NULL)
 * is called on each record left out before it is overwritten. Returns
 * the new count, min(n, keep), or UINT32_MAX when memory runs out (the
 * array is then unchanged). The map is not touched: rebuild it after.
 *
 * Tables prune themselves when full; this finds the cut in linear time
 * and moves each kept record at most once, where sorting the whole
 * array of records cost most of a run over high-cardinality traffic. */
uint32_t nfh__exf_keep_top(void *base, size_t stride, uint32_t n,
                           uint32_t keep, const uint64_t *rank,
                           void (*drop)(void *record));

/* A full table's prune: keeps the 'keep' records of the *n at 'base'
 * with the highest rank(record) (nfh__exf_keep_top), sets *n to how many
 * are left and rebuilds the table's map over them. 0, or -1 when memory
 * runs out (the map may then be empty: callers treat that as a failure
 * of the run). */
int nfh__exf_prune_table(nfh__exf_map *m, void *base, size_t stride,
                         uint32_t *n, uint32_t keep,
                         uint64_t (*rank)(const void *record),
                         void (*drop)(void *record));

#endif
