/*
 * counting.h - bounded counting for the volumetric detector: distinct
 * peers and heavy hitters per host and time slot.
 *
 * An attacker chooses how many sources a flood comes from, so a counter
 * of distinct sources must not grow with them. nfh__vol_distinct counts
 * exactly up to a cap (small hosts, the common case, cost a few hundred
 * bytes) and then switches to a HyperLogLog sketch (nfhunt/hll.h) seeded
 * with the exact set: 2^precision bytes, whatever the flood. nfh__vol_top
 * keeps the k heaviest keys of a weighted stream (Space-Saving, Metwally
 * et al., 2005) so that a flood's target port or target host can be
 * named without a table per host.
 */
#ifndef NFH_VOLUMETRIC_COUNTING_H
#define NFH_VOLUMETRIC_COUNTING_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/hll.h>

/* A distinct counter. Zero-initialise it; it allocates on first use.
 * Fields are private. */
typedef struct nfh__vol_distinct {
  uint64_t *set;    /* exact phase: open-addressing set, 0 = empty slot */
  nfh_hll *hll;     /* sketch phase */
  uint32_t n;       /* items in the exact set */
  uint32_t set_cap; /* slots of the set (a power of two) */
} nfh__vol_distinct;

/* A 64-bit hash of an address, well mixed: used as the distinct item
 * and as a heavy-hitter key. Never 0. */
uint64_t nfh__vol_addr_hash(const nfh_addr *addr);

/* Adds the item 'hash'. The set holds at most exact_cap items; the next
 * new item moves the counter to a sketch of 2^precision registers.
 * Returns 0, or -1 when memory runs out (the counter then keeps what it
 * had and stays usable). */
int nfh__vol_distinct_add(nfh__vol_distinct *d, uint64_t hash,
                          uint32_t exact_cap, unsigned precision);

/* The number of distinct items: exact in the set phase, an estimate in
 * the sketch phase. */
double nfh__vol_distinct_count(const nfh__vol_distinct *d);

/* Whether the count is exact (still in the set phase). */
int nfh__vol_distinct_exact(const nfh__vol_distinct *d);

/* Frees the counter's memory and zeroes it. */
void nfh__vol_distinct_free(nfh__vol_distinct *d);

/* Heavy hitters: the NFH_VOL_TOP_K heaviest keys of a weighted stream.
 * Zero-initialise. A key may carry an address (targets) or not (ports,
 * whose key is the value itself). */
#define NFH_VOL_TOP_K 3

typedef struct nfh__vol_top_entry {
  uint64_t key;   /* 0 = unused */
  double weight;  /* counted weight, an overestimate by at most 'error' */
  double error;
  nfh_addr addr;  /* the key's address, when the key is an address */
} nfh__vol_top_entry;

typedef struct nfh__vol_top {
  nfh__vol_top_entry e[NFH_VOL_TOP_K];
} nfh__vol_top;

/* Adds 'weight' to 'key' (non-zero). 'addr' may be NULL; it is copied.
 * Cannot fail. */
void nfh__vol_top_add(nfh__vol_top *t, uint64_t key, const nfh_addr *addr,
                      double weight);

/* The heaviest entry and a guaranteed lower bound of its weight, or NULL
 * when nothing was added. */
const nfh__vol_top_entry *nfh__vol_top_best(const nfh__vol_top *t,
                                            double *lower);

#endif
