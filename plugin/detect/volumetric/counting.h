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
#include <string.h>

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

/* The finaliser of MurmurHash3: spreads every input bit over the word,
 * so that the low bits index a table and the high bits a bitmap. */
static inline uint64_t nfh__vol_fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

/* A 64-bit hash of an address, well mixed: used as the distinct item,
 * as a heavy-hitter key and to index the detector's host tables. Never
 * 0. Inline because every flow hashes both of its addresses. */
static inline uint64_t nfh__vol_addr_hash(const nfh_addr *a) {
  uint64_t hi, lo;
  memcpy(&hi, a->bytes, 8);
  memcpy(&lo, a->bytes + 8, 8);
  uint64_t h = nfh__vol_fmix64(hi ^ 0x9e3779b97f4a7c15ull) ^ lo;
  h = nfh__vol_fmix64(h + a->family);
  return h ? h : 1; /* 0 marks an empty slot */
}

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

/* A distinct counter for one set at a time, reused from set to set
 * without freeing or clearing anything: the slot closer counts the peers
 * of thousands of hosts one after the other with it. Between
 * nfh__vol_dscratch_begin() calls it gives the same answers as an
 * nfh__vol_distinct fed the same items with the same exact_cap and
 * precision: exact up to exact_cap items, then a HyperLogLog sketch of
 * all of them. Fields are private. */
typedef struct nfh__vol_dslot {
  uint64_t hash;
  uint32_t gen; /* the set it belongs to; older generations are empty */
} nfh__vol_dslot;

typedef struct nfh__vol_dscratch {
  nfh__vol_dslot *t;
  uint32_t cap; /* a power of two, at least twice exact_cap + 1 */
  uint32_t gen; /* the current set */
  uint32_t n;   /* items in the current exact set */
  uint32_t exact_cap;
  int sketch; /* the current set moved to hll */
  nfh_hll *hll;
} nfh__vol_dscratch;

/* Allocates the counter: a table of twice exact_cap entries (16 bytes
 * each) and a sketch of 2^precision registers. Returns 0, or -1 when
 * memory runs out (then d holds nothing to free). */
int nfh__vol_dscratch_init(nfh__vol_dscratch *d, uint32_t exact_cap,
                           unsigned precision);

/* Starts a new, empty set (call it before the first add). Cannot
 * fail. */
void nfh__vol_dscratch_begin(nfh__vol_dscratch *d);

/* Adds the item 'hash' to the current set. Cannot fail. */
void nfh__vol_dscratch_add(nfh__vol_dscratch *d, uint64_t hash);

/* The current set's distinct items, and whether that count is exact. */
double nfh__vol_dscratch_count(const nfh__vol_dscratch *d);
int nfh__vol_dscratch_exact(const nfh__vol_dscratch *d);

/* Frees the counter's memory and zeroes it; a zeroed counter is fine. */
void nfh__vol_dscratch_free(nfh__vol_dscratch *d);

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
