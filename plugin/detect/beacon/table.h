/*
 * table.h - a bounded hash table of fixed-size records, for the
 * beaconing detector's candidates and destinations.
 *
 * Records live in one slab and are named by a 32-bit slot id. The table
 * never holds more than 'max' records: a full table refuses to add, and
 * the caller evicts first (nfh__bcn_table_sample gives random live slots
 * for an approximated least-valuable eviction, as redis does for LRU:
 * exact ordering would cost a list per table and buy little).
 *
 * Pointers returned by nfh__bcn_table_at are valid until the next add
 * (which may move the slab); slot ids stay valid until removed.
 */
#ifndef NFH_BEACON_TABLE_H
#define NFH_BEACON_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/door.h>

#define NFH__BCN_NIL UINT32_MAX

/* A slot's bookkeeping, kept together so that walking a chain touches
 * one cache line per step (the lookups of every connection are bound by
 * cache misses, not by arithmetic). */
typedef struct nfh__bcn_slot {
  uint64_t hash;
  uint32_t next; /* chain, or free list */
  uint32_t live;
} nfh__bcn_slot;

typedef struct nfh__bcn_table {
  size_t elem;         /* record size */
  uint32_t max;        /* hard cap of live records */
  uint32_t count;      /* live records */
  uint32_t used;       /* slots ever handed out (ids < used) */
  uint32_t cap;        /* slots allocated */
  uint32_t slab_cap;   /* records the slab holds (cap, or more when the
                        * slots failed to grow after it) */
  uint32_t free_head;  /* free slot list through slot[].next */
  uint32_t nbuckets;   /* power of two */
  uint8_t *slab;
  nfh__bcn_slot *slot;
  uint32_t *bucket;
  /* Admission filter of a full table (nfh__bcn_table_admit); created
   * when the table is first full. */
  nfh_door *door;
} nfh__bcn_table;

/* Compares a stored record with a lookup key; non-zero when equal. */
typedef int (*nfh__bcn_eq_fn)(const void *record, const void *key);

/* Sets up an empty table of records of 'elem' bytes, at most 'max' of
 * them. Returns 0, or -1 when out of memory (the table is then empty
 * and safe to free). */
int nfh__bcn_table_init(nfh__bcn_table *t, size_t elem, uint32_t max);

/* Frees the table's memory (not anything the records point to). */
void nfh__bcn_table_free(nfh__bcn_table *t);

/* The slot of the record with this hash for which eq(record, key) holds,
 * or NFH__BCN_NIL. */
uint32_t nfh__bcn_table_find(const nfh__bcn_table *t, uint64_t hash,
                             nfh__bcn_eq_fn eq, const void *key);

/* Adds a zeroed record under 'hash' and returns its slot; NFH__BCN_NIL
 * when the table is full (count == max) or memory ran out, the table
 * then unchanged. */
uint32_t nfh__bcn_table_add(nfh__bcn_table *t, uint64_t hash);

/* Whether a key that is not in the table may take a place in it: always
 * while the table has room; when it is full, only a key seen before at
 * the table's door (nfhunt/door.h, about 'max' cells). Returns 1 (admit:
 * the caller evicts, then adds) or 0 (stopped, remembered at the door).
 * Over high-cardinality traffic this spares the timelines that grow from
 * being evicted for keys seen once. A door that cannot be allocated
 * admits everything. */
int nfh__bcn_table_admit(nfh__bcn_table *t, uint64_t hash);

/* Removes the record in a live slot; the slot id may be reused. */
void nfh__bcn_table_remove(nfh__bcn_table *t, uint32_t id);

/* The record in slot id (live or not: check nfh__bcn_table_live). */
static inline void *nfh__bcn_table_at(const nfh__bcn_table *t, uint32_t id) {
  return t->slab + (size_t)id * t->elem;
}

static inline int nfh__bcn_table_live(const nfh__bcn_table *t, uint32_t id) {
  return id < t->used && t->slot[id].live;
}

/* A random live slot (from *rng, a xorshift state the caller keeps), or
 * NFH__BCN_NIL when the table is empty. */
uint32_t nfh__bcn_table_sample(const nfh__bcn_table *t, uint64_t *rng);

/* Prefetching for a batch of lookups: stage 0 starts fetching the
 * bucket of 'hash', stage 1 (some work later) the slot and record that
 * the bucket names. A lookup in a table far bigger than the caches is
 * three dependent misses; a batch overlaps them. */
static inline void nfh__bcn_table_prefetch(const nfh__bcn_table *t,
                                           uint64_t hash, int stage) {
  if (!t->bucket)
    return;
  const uint32_t *b = &t->bucket[hash & (t->nbuckets - 1)];
  if (stage == 0) {
    __builtin_prefetch(b);
    return;
  }
  uint32_t id = *b;
  if (id != NFH__BCN_NIL && id < t->cap) {
    __builtin_prefetch(&t->slot[id]);
    __builtin_prefetch(nfh__bcn_table_at(t, id));
  } else if (t->door) {
    nfh_door_prefetch(t->door, hash); /* a newcomer, if the table is full */
  }
}

/* Keys stopped at the door so far. */
uint64_t nfh__bcn_table_stopped(const nfh__bcn_table *t);

#endif
